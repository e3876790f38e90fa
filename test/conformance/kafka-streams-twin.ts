import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { TestProject } from 'vitest/node';
import { conformanceCases } from './cases.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Where Kafka Streams' output for each conformance case lies, `<name>.json`. */
    kafkaStreamsOutputs: string;
  }
}

const generate = new URL('../golden/generate.sh', import.meta.url).pathname;

/**
 * Runs every conformance case through Kafka Streams itself once, before the tests: the cases
 * are written out, test/golden/generate.sh runs them through TopologyTestDriver (its Maven build
 * is cached), and the tests compare streamrun's output with what it wrote.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const dir = await mkdtemp(join(tmpdir(), 'streamrun-conformance-'));
  const cases = join(dir, 'cases');
  const outputs = join(dir, 'kafka-streams');
  await mkdir(cases);
  for (const c of conformanceCases()) await writeFile(join(cases, `${c.name}.json`), JSON.stringify(c));
  await promisify(execFile)('bash', [generate, cases, outputs], { maxBuffer: 64 * 1024 * 1024 });
  project.provide('kafkaStreamsOutputs', outputs);
  return () => rm(dir, { recursive: true, force: true });
}

/** What Kafka Streams emitted for a case. */
export async function kafkaStreamsOutput(dir: string, name: string): Promise<unknown[]> {
  return (JSON.parse(await readFile(join(dir, `${name}.json`), 'utf8')) as { output: unknown[] }).output;
}
