import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectPostgres } from '../../lib/connectors/postgres.ts';
import { repoRoot, startProcessor, type Processor } from './processes.ts';

/** The bundled event pipeline (topologies/events.ts) on its own topics and a fresh database. */
export interface PipelineProcess {
  readonly processor: Processor;
  readonly input: string;
  readonly group: string;
  readonly databaseUrl: string;
  /** Where its API answers. */
  url(): string;
}

const adminUrl = process.env['DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';

/** Names the run's topics and creates its database; the caller fills the input, then launches. */
export async function preparePipeline(stamp: string): Promise<{ prefix: string; input: string; group: string; databaseUrl: string }> {
  const prefix = `bench-${stamp}.`;
  const database = `bench_${stamp.replace(/[^a-z0-9]/gi, '_')}`;
  const admin = connectPostgres(adminUrl, 1);
  try {
    await admin.none(`CREATE DATABASE ${database}`);
  } finally {
    await admin.$pool.end();
  }
  const url = new URL(adminUrl);
  url.pathname = `/${database}`;
  return { prefix, input: `${prefix}events.raw`, group: `${prefix}events`, databaseUrl: url.toString() };
}

/** Drops a run's database once its pipeline stopped. */
export async function dropDatabase(databaseUrl: string): Promise<void> {
  const admin = connectPostgres(adminUrl, 1);
  try {
    await admin.none('DROP DATABASE IF EXISTS $1:name', [new URL(databaseUrl).pathname.slice(1)]);
  } finally {
    await admin.$pool.end();
  }
}

/** Starts `streamrun start topologies/events.ts`; its API takes a free port (the module's default is 8080). */
export async function launchPipeline(
  brokers: string,
  run: { prefix: string; input: string; group: string; databaseUrl: string },
): Promise<PipelineProcess> {
  const stateDir = await mkdtemp(join(tmpdir(), 'streamrun-bench-'));
  const processor = startProcessor(
    process.execPath,
    [join(repoRoot, 'bin/streamrun.js'), 'start', join(repoRoot, 'topologies/events.ts'), '--brokers', brokers, '--state-dir', stateDir, '--port', '0'],
    { EVENTS_TOPIC_PREFIX: run.prefix, DATABASE_URL: run.databaseUrl, MQTT_URL: '', STREAMRUN_API_TOKEN: '' },
    /events running/,
  );
  return {
    processor,
    ...run,
    url() {
      const url = /"http":"([^"]+)"/.exec(processor.stderr())?.[1];
      if (url === undefined) throw new Error(`the pipeline did not say where its API is:\n${processor.stderr()}`);
      return url;
    },
  };
}
