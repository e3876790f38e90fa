import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach } from 'vitest';
import { runCli, type CliRun } from './cli.ts';
import { brokers, uniqueName } from './kafka.ts';
import { dropDatabase, postgresUrl } from './postgres.ts';
import { connectPostgres } from '../../../lib/connectors/postgres.ts';

export interface Pipeline {
  readonly url: string;
  readonly appId: string;
  readonly run: CliRun;
  /** SIGTERM; resolves with the exit code. */
  stop(): Promise<number | string>;
}

export interface PipelineSetup {
  /** Topic prefix: each test reads and writes its own `events.raw`. */
  readonly prefix: string;
  /** DATABASE_URL for the pipeline: a fresh database on the real server, or '' for the embedded one. */
  readonly databaseUrl: string;
  readonly stateDir: string;
  /**
   * Starts `streamrun start topologies/events.ts` with these and waits until it runs, or with
   * `until: 'listening'` only until its HTTP server listens (it may still be joining its group).
   */
  start(options?: { appId?: string; env?: Record<string, string>; args?: readonly string[]; until?: 'running' | 'listening' }): Promise<Pipeline>;
}

/** A fresh database on the test server, named after the test. */
export async function freshDatabase(): Promise<string> {
  const name = uniqueName('events').replace(/-/g, '_');
  const admin = connectPostgres(postgresUrl(), 1);
  try {
    await admin.none(`CREATE DATABASE ${name}`);
  } finally {
    await admin.$pool.end();
  }
  const url = new URL(postgresUrl());
  url.pathname = `/${name}`;
  return url.toString();
}

/**
 * Pipelines started through the returned setup are stopped after each test, passed or failed;
 * then their databases are dropped and their state dirs removed.
 */
export function usePipelines(): (backend: 'postgres' | 'pglite') => Promise<PipelineSetup> {
  const running = new Set<Pipeline>();
  const leftovers: (() => Promise<void>)[] = [];
  afterEach(async () => {
    await Promise.all([...running].map((p) => p.stop()));
    running.clear();
    await Promise.all(leftovers.splice(0).map((remove) => remove()));
  });
  return async (backend) => {
    const prefix = `${uniqueName('t')}.`;
    const databaseUrl = backend === 'postgres' ? await freshDatabase() : '';
    if (databaseUrl !== '') leftovers.push(() => dropDatabase(databaseUrl));
    const stateDir = await mkdtemp(join(tmpdir(), 'streamrun-events-'));
    leftovers.push(() => rm(stateDir, { recursive: true, force: true }));
    return {
      prefix,
      databaseUrl,
      stateDir,
      async start({ appId = uniqueName('events'), env = {}, args = ['--port', '0'], until = 'running' } = {}) {
        const run = runCli(['start', 'topologies/events.ts', '--app-id', appId, '--state-dir', stateDir, '--brokers', brokers(), ...args], {
          EVENTS_TOPIC_PREFIX: prefix,
          DATABASE_URL: databaseUrl,
          MQTT_URL: '',
          STREAMRUN_API_TOKEN: '',
          ...env,
        });
        const line = until === 'running' ? new RegExp(`${appId} running`) : /http server listening/;
        await run.waitForOutput(line, 90_000).catch((error: unknown) => {
          run.child.kill('SIGKILL');
          throw new Error(`${(error as Error).message}\n${run.stderr()}`);
        });
        const url = /http server listening.*"url":"([^"]+)"/.exec(run.stderr())?.[1];
        if (url === undefined) throw new Error(`no http url in:\n${run.stderr()}`);
        const pipeline: Pipeline = {
          url,
          appId,
          run,
          async stop() {
            running.delete(pipeline);
            if (run.child.exitCode === null) run.child.kill('SIGTERM');
            return run.exited;
          },
        };
        running.add(pipeline);
        return pipeline;
      },
    };
  };
}
