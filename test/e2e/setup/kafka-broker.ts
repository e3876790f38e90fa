import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  export interface ProvidedContext {
    kafkaBrokers: string;
  }
}

const run = promisify(execFile);
const script = new URL('../../../docker/kafka/kafka.sh', import.meta.url).pathname;

/**
 * Uses `KAFKA_BROKERS` when set; otherwise starts a broker of its own on free ports with a fresh
 * data dir, so a test run never meets a user's broker or an earlier run's topics, and stops it.
 */
export default async function setup(project: TestProject): Promise<(() => Promise<void>) | undefined> {
  const given = process.env['KAFKA_BROKERS'];
  if (given) {
    project.provide('kafkaBrokers', given);
    return undefined;
  }
  const dataDir = await mkdtemp(join(tmpdir(), 'streamrun-test-kafka-'));
  const env = {
    ...process.env,
    KAFKA_PORT: String(await freePort()),
    KAFKA_CONTROLLER_PORT: String(await freePort()),
    KAFKA_DATA_DIR: dataDir,
  };
  const started = await run('bash', [script, 'start'], { env });
  process.stdout.write(started.stdout);
  project.provide('kafkaBrokers', `127.0.0.1:${env.KAFKA_PORT}`);
  return async () => {
    await run('bash', [script, 'stop'], { env });
    await rm(dataDir, { recursive: true, force: true });
  };
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}
