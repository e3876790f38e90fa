import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WINDOW_MS } from './chaos-shape.ts';
import { clean, judge, type ChaosVerdict } from './chaos-check.ts';
import { countCommitted, readCommitted, writePlain } from './kcat.ts';
import { runCli, type CliRun } from './cli.ts';
import { brokers, createTopic, endOffsets, groupProgress, openProducer, uniqueName, waitForEndsToSettle } from './kafka.ts';
import { waitFor } from './wait.ts';

/**
 * The chaos harness: the chaos topology (test/e2e/fixtures/chaos.ts) run by `streamrun start`
 * while its input arrives in paced slices and a loop SIGKILLs the runner at random moments,
 * restarting it each time on the same state dir; then every output is read read-committed with
 * kcat and judged against the input alone (see chaos-check.ts).
 */

export interface ChaosPlan {
  readonly guarantee: 'exactly-once' | 'at-least-once';
  /** Input records, numbered 0..records-1; record i has key `key-<i % keys>`. */
  readonly records: number;
  readonly keys: number;
  readonly partitions: number;
  /** For the input topic (the runner picks its own topics' replication). */
  readonly replicationFactor?: number;
  /** SIGKILLs at least this many; more while the input is still coming. */
  readonly minKills: number;
  /** Over how long the input is produced, in slices every `sliceEveryMs`. */
  readonly produceOverMs: number;
  readonly sliceEveryMs?: number;
  /** CPU per record in the topology (µs), so a kill lands mid-batch. */
  readonly busyMicros: number;
  /** Done to the cluster at `atMs` after the start, while the kills go on (a broker's SIGKILL). */
  readonly disruptions?: readonly Disruption[];
}

/**
 * Done to the cluster (a broker's SIGKILL, its restart) once `atMs` has passed, at the first
 * moment after it that the runner is seen writing outputs; the runner's kills wait while it
 * runs, and go on between two disruptions (so runners start while a broker is down).
 */
export interface Disruption {
  readonly atMs: number;
  readonly label: string;
  run(): Promise<void>;
}

export interface ChaosResult {
  /** The application id: its group, and the prefix of every topic of the run. */
  readonly appId: string;
  readonly verdict: ChaosVerdict;
  readonly clean: boolean;
  /** Milliseconds since the start of each SIGKILL of the runner. */
  readonly kills: readonly number[];
  /** Each disruption's label with when it began and ended (ms since the start). */
  readonly disruptions: readonly string[];
  /** Per output partition, how long a plain marker took to be read back read-committed (ms), or `stuck`. */
  readonly markers: Readonly<Record<string, number | 'stuck'>>;
  readonly durations: Readonly<Record<string, number>>;
  /**
   * Records in `mapped` a read_uncommitted reader sees: past the committed ones, what aborted
   * transactions wrote (kills mid-transaction), or under at-least-once nothing more.
   */
  readonly mappedUncommitted: number;
}

const fixture = 'test/e2e/fixtures/chaos.ts';
/** Records' timestamps step by this much, so the run spans records × 2 ms of event time: 10 windows for 50,000. */
const TS_STEP_MS = 2;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const sum = (ends: Map<number, bigint>) => [...ends.values()].reduce((a, b) => a + b, 0n);

export async function runChaos(plan: ChaosPlan): Promise<ChaosResult> {
  const started = Date.now();
  const since = () => Date.now() - started;
  const durations: Record<string, number> = {};
  const appId = uniqueName('chaos');
  const topics = { input: `${appId}-in`, mapped: `${appId}-mapped`, counts: `${appId}-counts`, windows: `${appId}-windows` };
  const rf = plan.replicationFactor;
  await createTopic(topics.input, plan.partitions, rf === undefined ? {} : { replicationFactor: rf, config: { 'min.insync.replicas': String(Math.min(2, rf)) } });
  const stateDir = await mkdtemp(join(tmpdir(), 'streamrun-chaos-'));
  const env = {
    KAFKA_BROKERS: brokers(),
    STREAMRUN_CLIENT: 'kafkats',
    APP_ID: appId,
    INPUT_TOPIC: topics.input,
    MAPPED_TOPIC: topics.mapped,
    COUNTS_TOPIC: topics.counts,
    WINDOWS_TOPIC: topics.windows,
    CHAOS_BUSY_MICROS: String(plan.busyMicros),
  };
  const guarantee = ['--guarantee', plan.guarantee];
  // Every run's log is kept until the run ended clean, to say what a failing run did.
  const logDir = join(tmpdir(), 'streamrun-chaos-logs', appId);
  await mkdir(logDir, { recursive: true });
  let runs = 0;
  let keepLogs = true;
  const logWrites: Promise<void>[] = [];
  const startRunner = () => {
    const cli = runCli(['start', fixture, '--state-dir', stateDir, ...guarantee], env);
    const file = join(logDir, `run-${++runs}.log`);
    const began = since();
    logWrites.push(cli.exited.then((code) => writeFile(file, `started at ${began} ms, exited ${code} at ${since()} ms\n${cli.stderr()}${cli.stdout()}`)));
    return cli;
  };
  console.log(`chaos: ${appId}, runner logs in ${logDir}`);
  let run: CliRun | undefined;
  try {
    const producing = produceSlices(topics.input, plan);
    // A failure shows at the await below; until then the kills go on.
    producing.done.catch(() => {});
    const pending = [...(plan.disruptions ?? [])].sort((x, y) => x.atMs - y.atMs);
    const disrupted: string[] = [];

    const kills: number[] = [];
    run = startRunner();
    while (kills.length < plan.minKills || !producing.finished() || pending.length > 0) {
      await progressOf(run, topics.mapped, async () => producing.finished() && (await inputCommitted(appId, topics.input)));
      const due = pending[0] !== undefined && pending[0].atMs <= since() ? pending.shift() : undefined;
      if (due !== undefined) {
        const began = since();
        console.log(`chaos: ${due.label}: begins at ${began} ms`);
        await due.run();
        disrupted.push(`${due.label} at ${began}-${since()} ms`);
        console.log(`chaos: ${due.label}: done at ${since()} ms`);
        continue;
      }
      // A random moment while it works through what came in during its downtime.
      await sleep(Math.random() * 1500);
      run.child.kill('SIGKILL');
      await run.exited;
      kills.push(since());
      run = startRunner();
    }
    await producing.done;
    durations['produce'] = producing.tookMs();
    durations['kills'] = since();

    // The last run finishes: its group committed the input's end, and every output has at least
    // what the truth has. If outputs never get there the verdict says what is missing.
    await waitFor('the runner to commit the input to its end', () => inputCommitted(appId, topics.input), { timeoutMs: 180_000, intervalMs: 500 });
    await waitFor(
      'every output to hold at least one record per input record',
      async () => {
        for (const t of [topics.mapped, topics.counts, topics.windows]) if ((await countCommitted(brokers(), t)) < plan.records) return false;
        return true;
      },
      { timeoutMs: 120_000, intervalMs: 2000 },
    ).catch((error: unknown) => console.log(`chaos: ${(error as Error).message}; judging what is there`));
    for (const t of [topics.mapped, topics.counts, topics.windows]) await waitForEndsToSettle(t, { quietMs: 3000, timeoutMs: 60_000 });
    durations['settle'] = since();

    const [input, mapped, counts, windows] = await Promise.all([topics.input, topics.mapped, topics.counts, topics.windows].map((t) => readCommitted(brokers(), t)));
    const verdict = judge(input!, mapped!, counts!, windows!);
    const mappedUncommitted = await countCommitted(brokers(), topics.mapped, { uncommitted: true });
    // The truth is the input as it stands (a producer retry across a broker's loss may have
    // written a record twice: then it is processed twice), but it must hold every record sent.
    const sent = new Set(input!.map((r) => r.payload));
    if (sent.size !== plan.records) throw new Error(`the input holds ${sent.size} distinct records, ${plan.records} were sent`);

    // A clean stop, then nothing may be left open: a plain write to every output partition is
    // readable read-committed within 10 s (a hanging transaction holds the partition's LSO back).
    run.child.kill('SIGTERM');
    const code = await run.exited;
    if (code !== 0) throw new Error(`the last runner exited ${code} on SIGTERM: ${run.stderr().slice(-2000)}`);
    run = undefined;
    durations['stop'] = since();
    const markers = await checkMarkers([topics.mapped, topics.counts, topics.windows], plan.partitions);
    durations['total'] = since();

    const result: ChaosResult = { appId, verdict, clean: clean(verdict), kills, disruptions: disrupted, markers, durations, mappedUncommitted };
    report(plan, result);
    // At least once, a doubled record is what is expected.
    const expected = plan.guarantee === 'at-least-once' || result.clean;
    if (expected && Object.values(markers).every((m) => m !== 'stuck')) keepLogs = false;
    return result;
  } finally {
    if (run !== undefined) {
      run.child.kill('SIGKILL');
      await run.exited;
    }
    await rm(stateDir, { recursive: true, force: true });
    await Promise.all(logWrites);
    if (!keepLogs) await rm(logDir, { recursive: true, force: true });
    else console.log(`chaos: runner logs kept in ${logDir}`);
  }
}

interface Production {
  readonly done: Promise<void>;
  finished(): boolean;
  tookMs(): number;
}

/**
 * Sends records 0..records-1 in equal slices every `sliceEveryMs`, timestamps set explicitly
 * (windows follow from the data alone). Each record goes to partition `(i % keys) % partitions`,
 * one send per partition: KafkaJS may lose part of a send spanning leaders when one changes.
 */
function produceSlices(topic: string, plan: ChaosPlan): Production {
  const every = plan.sliceEveryMs ?? 500;
  const slices = Math.max(1, Math.round(plan.produceOverMs / every));
  const size = Math.ceil(plan.records / slices);
  // In the past, aligned to a window: brokers refuse timestamps over an hour ahead.
  const base = Math.floor((Date.now() - 3_600_000) / WINDOW_MS) * WINDOW_MS;
  const began = Date.now();
  let ended: number | undefined;
  const done = (async () => {
    const producer = await openProducer({ retryForever: true });
    try {
      for (let first = 0, slice = 0; first < plan.records; first += size, slice++) {
        await sleep(began + slice * every - Date.now());
        const byPartition = new Map<number, { key: string; value: string; partition: number; timestamp: string }[]>();
        for (let i = first; i < Math.min(first + size, plan.records); i++) {
          const partition = (i % plan.keys) % plan.partitions;
          const list = byPartition.get(partition) ?? [];
          list.push({ key: `key-${i % plan.keys}`, value: String(i), partition, timestamp: String(base + i * TS_STEP_MS) });
          byPartition.set(partition, list);
        }
        for (const messages of byPartition.values()) await producer.send(topic, messages);
      }
    } finally {
      await producer.close();
      ended = Date.now();
    }
  })();
  return { done, finished: () => ended !== undefined, tookMs: () => (ended ?? Date.now()) - began };
}

async function inputCommitted(appId: string, input: string): Promise<boolean> {
  return (await groupProgress(appId, [input])).every((p) => p.committed === p.end);
}

/**
 * Waits until `run` wrote something to `topic` (its end offsets moved since now), or `idle()`
 * says there is nothing left to do; fails if the runner exits on its own meanwhile.
 */
async function progressOf(run: CliRun, topic: string, idle: () => Promise<boolean>): Promise<void> {
  const at = await endOffsets(topic).then(sum, () => 0n);
  let exited: number | string | undefined;
  void run.exited.then((code) => (exited = code));
  await waitFor(
    'the restarted runner to write outputs',
    async () => {
      if (exited !== undefined) throw new Error(`the runner exited ${exited} by itself: ${run.stderr().slice(-3000)}`);
      return (await endOffsets(topic).then(sum, () => 0n)) > at || (await idle());
    },
    { timeoutMs: 120_000, intervalMs: 100 },
  ).catch((error: unknown) => {
    throw new Error(`${(error as Error).message}\n${run.stderr().slice(-3000)}`);
  });
}

async function checkMarkers(topics: readonly string[], partitions: number): Promise<Record<string, number | 'stuck'>> {
  const markers: Record<string, number | 'stuck'> = {};
  for (const topic of topics) {
    for (let p = 0; p < partitions; p++) {
      const id = uniqueName('marker');
      const began = Date.now();
      await writePlain(brokers(), topic, p, id, 'marker');
      markers[`${topic}/${p}`] = await waitFor(
        `marker ${id} read back from ${topic}/${p}`,
        async () => (await readCommitted(brokers(), topic, p, '-3')).some((r) => r.key === id) && Date.now() - began,
        { timeoutMs: 10_000, intervalMs: 200 },
      ).catch(() => 'stuck' as const);
    }
  }
  return markers;
}

function report(plan: ChaosPlan, r: ChaosResult): void {
  const line = (name: string, c: ChaosVerdict['mapped']) =>
    `  ${name}: expected ${c.expected}, seen ${c.seen}, duplicates ${c.duplicates}, unexpected ${c.unexpected}, missing ${c.missing}, finals wrong ${c.finalsWrong}` +
    (c.examples.length > 0 ? `\n    ${c.examples.join('\n    ')}` : '');
  const stuck = Object.entries(r.markers).filter(([, v]) => v === 'stuck').map(([k]) => k);
  const slowest = Math.max(0, ...Object.values(r.markers).filter((v): v is number => v !== 'stuck'));
  console.log(
    [
      `chaos ${plan.guarantee}: ${plan.records} records over ${plan.keys} keys, ${plan.partitions} partitions, ${r.kills.length} SIGKILLs at ${r.kills.join(', ')} ms`,
      ...(r.disruptions.length > 0 ? [`  disruptions: ${r.disruptions.join('; ')}`] : []),
      `  input read back: ${r.verdict.inputRecords}`,
      line('mapped', r.verdict.mapped),
      `  mapped read uncommitted: ${r.mappedUncommitted} (${r.mappedUncommitted - r.verdict.mapped.seen} more than committed: written by aborted transactions)`,
      line('counts', r.verdict.counts),
      line('windows', r.verdict.windows),
      `  markers: ${Object.keys(r.markers).length} read back, slowest ${slowest} ms, stuck: ${stuck.join(', ') || 'none'}`,
      `  durations (ms since start): ${JSON.stringify(r.durations)}`,
    ].join('\n'),
  );
}
