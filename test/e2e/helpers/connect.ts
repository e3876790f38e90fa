import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { reservePorts } from '../setup/ports.ts';
import { brokers } from './kafka.ts';

const run = promisify(execFile);
const connectDir = new URL('../../../docker/connect/', import.meta.url).pathname;
const connectScript = join(connectDir, 'connect.sh');

/** A standalone Kafka Connect worker started with docker/connect/connect.sh. */
export interface ConnectWorker {
  /** Its REST API. */
  readonly url: string;
  /** The end of its log, for a failure's message. */
  logTail(lines?: number): Promise<string>;
  /** SIGTERM (SIGKILL after the script's bound); a worker already stopped is fine. */
  stop(): Promise<void>;
}

/**
 * A connector's .properties in `dir`: the shipped example `docker/connect/<example>` with
 * `overrides` replacing (or adding) its settings, so the test runs what users copy.
 */
export async function connectorFile(dir: string, example: string, overrides: Readonly<Record<string, string>>): Promise<string> {
  const left = new Map(Object.entries(overrides));
  const lines = (await readFile(join(connectDir, example), 'utf8')).split('\n').map((line) => {
    const key = /^\s*([^#!\s=:][^=:\s]*)\s*[=:]/.exec(line)?.[1];
    const value = key === undefined ? undefined : left.get(key);
    if (key === undefined || value === undefined) return line;
    left.delete(key);
    return `${key}=${value}`;
  });
  const path = join(dir, example);
  await writeFile(path, [...lines, ...[...left].map(([key, value]) => `${key}=${value}`), ''].join('\n'));
  return path;
}

/**
 * Starts a worker against the test's brokers on a free REST port, with `dataDir` for its offsets,
 * pid and log, and waits (as the script does) until each connector and its tasks run. A port can
 * still be taken between the check and the worker's bind: then it starts again on another.
 */
export async function startConnect({ dataDir, connectors }: { dataDir: string; connectors: readonly string[] }): Promise<ConnectWorker> {
  let lastError: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    const [port] = await reservePorts(1);
    const env = { ...process.env, KAFKA_BROKERS: brokers(), CONNECT_PORT: String(port), CONNECT_DATA_DIR: dataDir };
    const connect = async (...args: string[]) => void (await run('bash', [connectScript, ...args], { env }));
    const worker: ConnectWorker = {
      url: `http://127.0.0.1:${port}`,
      logTail: async (lines = 40) => (await readFile(join(dataDir, 'connect.log'), 'utf8').catch(() => '')).split('\n').slice(-lines).join('\n'),
      stop: () => connect('stop'),
    };
    try {
      await connect('start', ...connectors);
      return worker;
    } catch (error) {
      lastError = error;
      await worker.stop();
      if (!/is taken by another process|Address already in use/.test(String((error as { stderr?: unknown }).stderr))) break;
    }
  }
  throw lastError;
}
