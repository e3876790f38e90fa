/**
 * npm run bench [-- --quick] [--events N] [--runs N] [--scenarios a,b] [--pipeline-events N]
 *
 * Every scenario on the same local broker, the same events and the same machine, in one run:
 * ceilings of the raw clients, streamrun stateless and windowed, the Kafka Streams twin, the
 * bundled pipeline into PostgreSQL, and its HTTP API. Prints a markdown table, writes
 * bench/results/latest.json and latest.svg (quick.json and quick.svg for --quick).
 */
import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { chartSvg } from './lib/chart.ts';
import { readyLine, type BenchFormat } from './lib/events.ts';
import { httpIngest, httpQueries, type HttpResult } from './lib/http.ts';
import { BenchKafka } from './lib/kafka.ts';
import { LatencyReader } from './lib/latency.ts';
import { median, timeRun, type RunResult } from './lib/measure.ts';
import { dropDatabase, launchPipeline, preparePipeline } from './lib/pipeline.ts';
import { repoRoot, startProcessor } from './lib/processes.ts';
import { produceEvents } from './produce.ts';
import { markdown, ratios, type BenchResults, type ScenarioResult } from './lib/report.ts';
import { scenarios, type Scenario } from './lib/scenarios.ts';

interface Flags {
  events: number;
  runs: number;
  scenarios?: string;
  quick: boolean;
  pipelineEvents?: number;
  latencySeconds: number;
  load: number;
  httpSeconds: number;
  brokers: string;
}

const extraScenarios = ['pipeline', 'http'] as const;
const allNames = [...scenarios.map((s) => s.name), ...extraScenarios];

const flags = new Command()
  .option('--events <n>', 'events per scenario', int, 1_000_000)
  .option('--runs <n>', 'timed runs per scenario (the median is reported)', int, 3)
  .option('--scenarios <list>', `comma-separated, of: ${allNames.join(', ')}`)
  .option('--quick', 'a smoke run of about a minute: 20,000 events, 1 run, short latency and HTTP phases', false)
  .option('--pipeline-events <n>', 'events for the PostgreSQL pipeline (default: events / 5)', int)
  .option('--latency-seconds <n>', 'length of each fixed-load latency phase', int, 20)
  .option('--load <fraction>', 'the latency phase\'s load, as a fraction of the median rate', Number.parseFloat, 0.5)
  .option('--http-seconds <n>', 'length of each HTTP phase', int, 20)
  .option('--brokers <list>', 'the broker', process.env['KAFKA_BROKERS'] ?? '127.0.0.1:9092')
  .parse()
  .opts<Flags>();
if (flags.quick) Object.assign(flags, { events: 20_000, runs: 1, latencySeconds: 3, httpSeconds: 3 });
const selected = flags.scenarios?.split(',').map((s) => s.trim()) ?? allNames;
for (const name of selected) if (!allNames.includes(name)) fail(`unknown scenario ${name}; known: ${allNames.join(', ')}`);

const log = (line: string) => process.stderr.write(`${line}\n`);
const stamp = `${Date.now().toString(36)}`;
const kafka = new BenchKafka(flags.brokers);
await kafka.connect().catch((error: unknown) => fail(`cannot reach Kafka at ${flags.brokers} (npm run kafka:start): ${(error as Error).message}`));
const timeoutFor = (events: number) => Math.max(120_000, events / 2);

const results: ScenarioResult[] = [];
const http: HttpResult[] = [];
const inputs = new Map<string, string>();
const topic = async (name: string) => {
  await kafka.createTopic(name);
  return name;
};

try {
  for (const scenario of scenarios.filter((s) => selected.includes(s.name))) {
    log(`\n${scenario.name} (${scenario.implementation})`);
    const events = Math.min(flags.events, scenario.maxEvents ?? flags.events);
    const input = scenario.kind === 'producer' ? '' : await inputOf(events, scenario.input);
    const runs: RunResult[] = [];
    for (let run = 1; run <= flags.runs; run++) runs.push(await throughputRun(scenario, input, events, `${stamp}-${run}`));
    const result: ScenarioResult = summarize(scenario.name, scenario.implementation, events, runs);
    const rate = Math.max(1, Math.round(result.eventsPerSecond * flags.load));
    results.push(scenario.expectedOutputs === undefined ? result : { ...result, latency: { ...(await latencyRun(scenario, rate)), rate } });
  }
  if (selected.includes('pipeline')) await pipelineScenario();
  if (selected.includes('http')) await httpScenario();
} finally {
  // Every topic of this run carries the stamp, internal ones too: a local broker does not fill up.
  await kafka.deleteTopicsMarked(stamp);
  await kafka.disconnect();
}

const report: BenchResults = {
  date: new Date().toISOString(),
  machine: machine(),
  options: { events: flags.events, runs: flags.runs, quick: flags.quick },
  scenarios: results,
  http,
  ratios: ratios(results),
};
await mkdir(join(repoRoot, 'bench/results'), { recursive: true });
// A smoke run's numbers mean little: they do not replace the last full run's.
const name = flags.quick ? 'quick' : 'latest';
await writeFile(join(repoRoot, `bench/results/${name}.json`), `${JSON.stringify(report, null, 2)}\n`);
await writeFile(join(repoRoot, `bench/results/${name}.svg`), chartSvg(report));
process.stdout.write(`\n${markdown(report)}\n\nmachine: ${JSON.stringify(report.machine)}\nwritten: bench/results/${name}.json, bench/results/${name}.svg\n`);

/** A topic of the first `events` bench events, filled on first use and shared by every scenario reading that many in that format. */
async function inputOf(events: number, format: BenchFormat = 'json'): Promise<string> {
  const key = `${events}-${format}`;
  let name = inputs.get(key);
  if (name === undefined) {
    name = await topic(`bench-input-${events === flags.events ? '' : `${events}-`}${format === 'json' ? '' : `${format}-`}${stamp}`);
    await fill(name, events, undefined, format);
    inputs.set(key, name);
  }
  return name;
}

async function fill(name: string, events: number, rate?: number, format?: BenchFormat): Promise<void> {
  const started = performance.now();
  await produceEvents({ brokers: flags.brokers, topic: name, events, rate, ...(format === undefined ? {} : { format }) });
  if (rate === undefined) log(`  filled ${name} with ${events.toLocaleString('en-US')} events in ${((performance.now() - started) / 1000).toFixed(1)} s`);
}

function processorEnv(input: string, output: string, group: string, stateDir: string, events: number): Record<string, string> {
  return {
    BENCH_BROKERS: flags.brokers,
    BENCH_INPUT: input,
    BENCH_OUTPUT: output,
    BENCH_GROUP: group,
    BENCH_EVENTS: String(events),
    BENCH_STATE_DIR: stateDir,
  };
}

async function throughputRun(scenario: Scenario, input: string, events: number, id: string): Promise<RunResult> {
  const group = `bench-${scenario.name}-${id}`;
  const target = scenario.kind === 'producer' ? await topic(`bench-produced-${scenario.name}-${id}`) : input;
  const output = scenario.kind === 'processor' ? await topic(`bench-out-${scenario.name}-${id}`) : `bench-unused-${id}`;
  const launch = await scenario.launch(log);
  const stateDir = await mkdtemp(join(tmpdir(), 'streamrun-bench-'));
  const processor = startProcessor(launch.command, launch.args, { ...processorEnv(target, output, group, stateDir, events), ...launch.env }, launch.ready);
  try {
    await withTimeout(processor.ready, 120_000, `${scenario.name} to say ${readyLine}`);
    const progress = scenario.kind === 'producer' ? () => kafka.size(target) : () => kafka.committed(group, input);
    return await timeRun(scenario.name, processor, events, progress, timeoutFor(events));
  } finally {
    const code = await processor.stop();
    if (code !== 0 && scenario.kind !== 'producer') log(`  ${scenario.name} exited with ${code}`);
  }
}

/** The scenario at a fixed load of `rate` events/s: how long from an event's production to its output. */
async function latencyRun(scenario: Scenario, rate: number) {
  const id = `${stamp}-latency`;
  const input = await topic(`bench-latency-in-${scenario.name}-${id}`);
  const output = await topic(`bench-latency-out-${scenario.name}-${id}`);
  const launch = await scenario.launch(log);
  const stateDir = await mkdtemp(join(tmpdir(), 'streamrun-bench-'));
  const processor = startProcessor(launch.command, launch.args, { ...processorEnv(input, output, `bench-${scenario.name}-${id}`, stateDir, flags.events), ...launch.env }, launch.ready);
  const reader = new LatencyReader(kafka, output);
  try {
    await withTimeout(processor.ready, 120_000, `${scenario.name} to say ${readyLine}`);
    await reader.start();
    const events = rate * flags.latencySeconds;
    log(`  latency at ${rate.toLocaleString('en-US')} events/s for ${flags.latencySeconds} s`);
    await fill(input, events, rate);
    const expected = scenario.expectedOutputs!(events);
    const deadline = Date.now() + 60_000;
    while (reader.count < expected && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
    if (reader.count < expected) log(`  only ${reader.count} of ${expected} outputs arrived`);
    return await reader.stop();
  } finally {
    await processor.stop();
  }
}

/** events.raw → topologies/events.ts → PostgreSQL, timed by the offsets it commits (rows land before them). */
async function pipelineScenario(): Promise<void> {
  const events = flags.pipelineEvents ?? Math.max(1, Math.round(flags.events / 5));
  log(`\npipeline (streamrun → PostgreSQL), ${events.toLocaleString('en-US')} events`);
  const runs: RunResult[] = [];
  for (let run = 1; run <= flags.runs; run++) {
    const prepared = await preparePipeline(`${stamp}${run}`);
    await topic(prepared.input);
    await fill(prepared.input, events);
    const pipeline = await launchPipeline(flags.brokers, prepared);
    try {
      await withTimeout(pipeline.processor.ready, 120_000, 'the pipeline to run');
      runs.push(await timeRun('pipeline', pipeline.processor, events, () => kafka.committed(prepared.group, prepared.input), timeoutFor(events)));
    } finally {
      await pipeline.processor.stop();
      await dropDatabase(prepared.databaseUrl);
    }
  }
  results.push(summarize('pipeline → PostgreSQL', 'streamrun', events, runs));
}

/** The pipeline's API under 100 connections: ingest, then (once the backlog is processed) queries. */
async function httpScenario(): Promise<void> {
  log(`\nhttp: ${flags.httpSeconds} s per phase, 100 connections`);
  const prepared = await preparePipeline(`${stamp}http`);
  await topic(prepared.input);
  const pipeline = await launchPipeline(flags.brokers, prepared);
  try {
    await withTimeout(pipeline.processor.ready, 120_000, 'the pipeline to run');
    const url = pipeline.url();
    http.push(await httpIngest(url, flags.httpSeconds));
    const size = await kafka.size(prepared.input);
    log(`  waiting for the pipeline to store the ${size.toLocaleString('en-US')} ingested events`);
    const deadline = Date.now() + 300_000;
    while ((await kafka.committed(prepared.group, prepared.input)) < size && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    http.push(...(await httpQueries(url, flags.httpSeconds)));
  } finally {
    await pipeline.processor.stop();
    await dropDatabase(prepared.databaseUrl);
  }
}

function summarize(name: string, implementation: string, events: number, runs: readonly RunResult[]): ScenarioResult {
  return {
    name,
    implementation,
    events,
    runs,
    eventsPerSecond: median(runs.map((r) => r.eventsPerSecond)),
    cpuSecondsPerMillion: median(runs.map((r) => r.cpuSecondsPerMillion)),
    peakRssMb: median(runs.map((r) => r.peakRssMb)),
  };
}

function machine(): Record<string, string | number> {
  // `java -version` writes to stderr.
  const java = spawnSync('java', ['-version'], { encoding: 'utf8' }).stderr?.split('\n')[0]?.trim() || 'not found';
  return {
    cpu: cpus()[0]?.model ?? 'unknown',
    cpus: cpus().length,
    memoryGb: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    java,
    kafka: '4.4.0 (one KRaft node on this machine)',
  };
}

async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([promise, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

function int(value: string): number {
  const n = Number.parseInt(value, 10);
  if (!Number.isInteger(n) || n < 1) throw new Error(`expected a positive whole number, got ${value}`);
  return n;
}

function fail(message: string): never {
  process.stderr.write(`bench: ${message}\n`);
  process.exit(1);
}
