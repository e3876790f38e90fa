import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { TestProject } from 'vitest/node';
import { reservePorts } from './ports.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The Confluent-compatible API's base URL, e.g. http://127.0.0.1:8081/apis/ccompat/v7. */
    schemaRegistryUrl: string;
  }
}

const run = promisify(execFile);
export const registryScript = new URL('../../../docker/registry/registry.sh', import.meta.url).pathname;

/**
 * Uses `SCHEMA_REGISTRY_URL` when set; otherwise starts the bundled registry on a free port with
 * in-memory storage, so no run meets an earlier run's subjects, and stops it. A port can still be
 * taken between the check and the registry's bind: then it starts again on another port.
 */
export default async function setup(project: TestProject): Promise<(() => Promise<void>) | undefined> {
  const given = process.env['SCHEMA_REGISTRY_URL'];
  if (given) {
    project.provide('schemaRegistryUrl', given.replace(/\/+$/, ''));
    return undefined;
  }
  let lastError: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    const dataDir = await mkdtemp(join(tmpdir(), 'streamrun-test-registry-'));
    const [port] = await reservePorts(1);
    const env = { ...process.env, REGISTRY_PORT: String(port), REGISTRY_DATA_DIR: dataDir };
    try {
      const started = await run('bash', [registryScript, 'start'], { env });
      process.stdout.write(started.stdout);
    } catch (error) {
      lastError = error;
      await rm(dataDir, { recursive: true, force: true });
      continue;
    }
    project.provide('schemaRegistryUrl', `http://127.0.0.1:${port}/apis/ccompat/v7`);
    return async () => {
      await run('bash', [registryScript, 'stop'], { env });
      await rm(dataDir, { recursive: true, force: true });
    };
  }
  throw lastError;
}
