import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { TestProject } from 'vitest/node';
import { reservePorts } from './ports.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    kafkaBrokers: string;
  }
}

const run = promisify(execFile);
export const kafkaScript = new URL('../../../docker/kafka/kafka.sh', import.meta.url).pathname;

/**
 * Uses `KAFKA_BROKERS` when set; otherwise starts a broker of its own with a fresh data dir, so a
 * test run never meets a user's broker or an earlier run's topics, and stops it. A port can still
 * be taken between the check and the broker's bind: then it starts again on other ports.
 */
export default async function setup(project: TestProject): Promise<(() => Promise<void>) | undefined> {
  const given = process.env['KAFKA_BROKERS'];
  if (given) {
    project.provide('kafkaBrokers', given);
    return undefined;
  }
  let lastError: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    const dataDir = await mkdtemp(join(tmpdir(), 'streamrun-test-kafka-'));
    const [port, controllerPort] = await reservePorts(2);
    const env = { ...process.env, KAFKA_PORT: String(port), KAFKA_CONTROLLER_PORT: String(controllerPort), KAFKA_DATA_DIR: dataDir };
    try {
      const started = await run('bash', [kafkaScript, 'start'], { env });
      process.stdout.write(started.stdout);
    } catch (error) {
      lastError = error;
      await rm(dataDir, { recursive: true, force: true });
      continue;
    }
    project.provide('kafkaBrokers', `127.0.0.1:${port}`);
    return async () => {
      await run('bash', [kafkaScript, 'stop'], { env });
      await rm(dataDir, { recursive: true, force: true });
    };
  }
  throw lastError;
}
