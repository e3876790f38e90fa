import { describe, expect, it } from 'vitest';
import { joinWindows, serdes, topology, type Runner, type RunnerStats, type Topology } from '../../lib/index.ts';
import { TopologyTestDriver, type TestRecord } from '../../lib/testing/index.ts';
import { createTopic, produce, readAllSettled, uniqueName, type ReadRecord } from './helpers/kafka.ts';
import { useRunners } from './helpers/runners.ts';
import { waitFor } from './helpers/wait.ts';

// A recent hour: the broker's retention deletes records timestamped long ago.
const base = Math.floor(Date.now() / 3_600_000) * 3_600_000;
const text = { key: serdes.string, value: serdes.string };

/** A record to send, the same to the broker and to the driver: text as it is, the time from `base`. */
interface Send {
  readonly topic: string;
  readonly key: string | null;
  readonly value: string | null;
  readonly ms: number;
  readonly headers?: Readonly<Record<string, string>>;
}

/** What either side wrote to a topic, in one shape: text, time from `base`, headers as text. */
interface Written {
  readonly key: string | null;
  readonly value: string | null;
  readonly ms: number;
  readonly headers: Readonly<Record<string, string>>;
}

/** When a dead letter was written, and the stack of its error, differ from run to run; the rest is the record's. */
const varying = new Set(['streamrun.dead.lettered.at', 'streamrun.error.stack']);
const headersOf = (headers: Readonly<Record<string, unknown>> | undefined) =>
  Object.fromEntries(Object.entries(headers ?? {}).flatMap(([k, v]) => (varying.has(k) ? [] : [[k, String(v)]])));
const fromBroker = (r: ReadRecord): Written => ({ key: r.key, value: r.value, ms: Number(r.timestamp) - base, headers: headersOf(r.headers) });
const fromDriver = (r: TestRecord<string, string>): Written => ({ key: r.key, value: r.value, ms: r.timestamp - base, headers: headersOf(r.headers) });

/** Each key's records in order (keys may sit in different partitions of the broker's topic). */
function byKey(records: readonly Written[]): Record<string, Written[]> {
  const keys = new Map<string, Written[]>();
  for (const r of records) keys.set(String(r.key), [...(keys.get(String(r.key)) ?? []), r]);
  return Object.fromEntries([...keys].sort(([a], [b]) => a.localeCompare(b)));
}

/** The counters that say what happened to records (the rest count batches, commits and watermarks, which differ). */
const outcomes = ({ lateRecords, deadLettered, processingErrors, deserializationErrors }: RunnerStats) => ({ lateRecords, deadLettered, processingErrors, deserializationErrors });

interface Case {
  readonly app: Topology;
  /** Input topics and their partitions. */
  readonly inputs: Readonly<Record<string, number>>;
  /** Topics the topology reads besides its inputs (repartition topics): the broker's run is done once it committed their ends too. */
  readonly internal?: readonly string[];
  readonly outputs: readonly string[];
  /** Groups of records: each group is sent at once, and the runner has consumed it before the next. */
  readonly steps: readonly (readonly Send[])[];
  readonly errors?: { retries: number; backoff: { initialMs: number } };
}

describe('the TopologyTestDriver against the broker', () => {
  const startRunner = useRunners();

  /**
   * Runs the case on the broker and in the driver with the same records and returns both
   * sides' outputs, per topic and key, and their counters.
   */
  async function bothWays(c: Case) {
    for (const [topic, partitions] of Object.entries(c.inputs)) await createTopic(topic, partitions);
    const runner: Runner = await startRunner(c.app, c.errors === undefined ? {} : { errors: c.errors });
    let sent = 0;
    for (const step of c.steps) {
      for (const topic of new Set(step.map((s) => s.topic))) {
        const records = step.filter((s) => s.topic === topic);
        await produce(topic, records.map((s) => ({ key: s.key, value: s.value, timestamp: String(base + s.ms), ...(s.headers ? { headers: s.headers } : {}) })));
      }
      sent += step.length;
      // Repartition topics count in `consumed` too: the steps of a case that has some are one group.
      if (c.internal === undefined) await waitFor(`${sent} records consumed`, () => runner.stats().consumed === sent);
    }
    const settled = { group: runner.appId, inputs: [...Object.keys(c.inputs), ...(c.internal ?? [])] };
    const broker: Record<string, Record<string, Written[]>> = {};
    for (const topic of c.outputs) broker[topic] = byKey((await readAllSettled(topic, settled)).map(fromBroker));

    const driver = new TopologyTestDriver(c.app, c.errors === undefined ? {} : { errors: c.errors });
    for (const s of c.steps.flat()) {
      await driver.input(s.topic, text).pipeInput(s.key, s.value, { timestamp: base + s.ms, ...(s.headers ? { headers: s.headers } : {}) });
    }
    const inDriver: Record<string, Record<string, Written[]>> = {};
    for (const topic of c.outputs) inDriver[topic] = byKey(driver.output(topic, text).readOutputs().map(fromDriver));
    const counters = { broker: outcomes(runner.stats()), driver: outcomes(driver.stats()) };
    await driver.close();
    return { broker, driver: inDriver, counters };
  }

  /** Records per topic, for the report: what was compared. */
  const count = (outputs: Record<string, Record<string, Written[]>>) =>
    Object.fromEntries(Object.entries(outputs).map(([topic, keys]) => [topic, Object.values(keys).flat().length]));

  /** Sets the names an example reads from the environment, then loads it: each example gets topics of its own. */
  async function example(names: Record<string, string>, load: () => Promise<{ default: Topology }>): Promise<Topology> {
    Object.assign(process.env, names);
    try {
      return (await load()).default;
    } finally {
      for (const name of Object.keys(names)) delete process.env[name];
    }
  }

  it('wordcount (examples/wordcount.ts): every count of every word, with its time', async () => {
    const names = { APP_ID: uniqueName('wordcount'), INPUT_TOPIC: uniqueName('text-lines'), OUTPUT_TOPIC: uniqueName('word-counts') };
    const app = await example(names, () => import('../../examples/wordcount.ts'));
    const lines = ['The quick brown fox', "jumps over the lazy dog's back", '', 'THE END, the end!', 'Ça va? Ça va.', 'the fox, the dog and the end'];
    const run = await bothWays({
      app,
      inputs: { [names.INPUT_TOPIC]: 1 },
      internal: [`${names.APP_ID}-counts-repartition`],
      outputs: [names.OUTPUT_TOPIC],
      steps: [lines.map((line, i) => ({ topic: names.INPUT_TOPIC, key: `line-${i}`, value: line, ms: i * 1000 }))],
    });
    expect(run.driver).toEqual(run.broker);
    expect(run.driver[names.OUTPUT_TOPIC]!['the']!.map((r) => [r.value, r.ms])).toEqual([['1', 0], ['2', 1000], ['3', 3000], ['4', 3000], ['5', 5000], ['6', 5000], ['7', 5000]]);
    expect(count(run.driver)).toEqual({ [names.OUTPUT_TOPIC]: 25 });
  });

  it('sensor windows (examples/sensor-windows.ts): each closed window once, the late reading counted', async () => {
    const names = { APP_ID: uniqueName('sensor-windows'), INPUT_TOPIC: uniqueName('sensor-readings'), OUTPUT_TOPIC: uniqueName('sensor-stats') };
    const app = await example(names, () => import('../../examples/sensor-windows.ts'));
    const reading = (sensorId: string, value: number, ms: number) => ({ topic: names.INPUT_TOPIC, key: 'gw', value: JSON.stringify({ sensorId, value, ts: base + ms }), ms });
    const run = await bothWays({
      app,
      inputs: { [names.INPUT_TOPIC]: 1 },
      internal: [`${names.APP_ID}-sensor-totals-repartition`],
      outputs: [names.OUTPUT_TOPIC],
      steps: [
        [
          reading('s1', 20, 1_000),
          reading('s2', 5, 2_000),
          reading('s1', 24, 9_999),
          reading('s1', 22, 5_000),
          reading('s2', 7, 11_000),
          reading('s1', 30, 16_000),
          reading('s1', 99, 3_000),
          reading('s2', 1, 26_000),
        ],
      ],
    });
    expect(run.driver).toEqual(run.broker);
    expect(Object.values(run.driver[names.OUTPUT_TOPIC]!).flat().map((r) => [JSON.parse(r.value!).count, r.ms])).toEqual([[3, 9_999], [1, 16_000], [1, 2_000], [1, 11_000]]);
    expect(run.counters.driver).toEqual(run.counters.broker);
    expect(run.counters.driver.lateRecords).toBe(1);
  });

  it("sensor alerts (the README's topology): alerts by branch, readings in Fahrenheit, unreadable bytes dead-lettered", async () => {
    const names = {
      APP_ID: uniqueName('sensor-alerts'),
      INPUT_TOPIC: uniqueName('temperatures'),
      ALERTS_TOPIC: uniqueName('sensor-alerts'),
      FAHRENHEIT_TOPIC: uniqueName('temperatures-f'),
    };
    const app = await example(names, () => import('../../examples/sensor-alerts.ts'));
    const reading = (sensorId: string, celsius: unknown, ms: number) => ({ topic: names.INPUT_TOPIC, key: 'gateway-1', value: JSON.stringify({ sensorId, celsius, ts: ms }), ms });
    const run = await bothWays({
      app,
      inputs: { [names.INPUT_TOPIC]: 1 },
      outputs: [names.ALERTS_TOPIC, names.FAHRENHEIT_TOPIC, `${names.APP_ID}-dlq`],
      steps: [[reading('s1', 31.5, 1), reading('s2', 20, 2), reading('s3', -4, 3), reading('s4', 'warm', 4), { topic: names.INPUT_TOPIC, key: 'gateway-1', value: 'not json', ms: 5, headers: { trace: 'abc' } }, reading('s1', 30, 6)]],
    });
    expect(run.driver).toEqual(run.broker);
    expect(count(run.driver)).toEqual({ [names.ALERTS_TOPIC]: 3, [names.FAHRENHEIT_TOPIC]: 4, [`${names.APP_ID}-dlq`]: 1 });
    expect(run.counters.driver).toEqual(run.counters.broker);
  });

  it('a stream–table join (2 partitions): each click with the user as the table holds it then', async () => {
    const users = uniqueName('users');
    const clicks = uniqueName('clicks');
    const enriched = uniqueName('enriched');
    const app = topology(uniqueName('join'));
    const table = app.table(users, text, { name: 'users' });
    app.stream(clicks, text).join(table, (page, country, id) => `${id} from ${country} saw ${page}`).to(enriched, text);
    const send = (topic: string, key: string, value: string | null, ms: number) => ({ topic, key, value, ms });
    const run = await bothWays({
      app,
      inputs: { [users]: 2, [clicks]: 2 },
      outputs: [enriched],
      steps: [
        [send(users, 'ann', 'NO', 1), send(users, 'bob', 'PT', 2)],
        [send(clicks, 'ann', '/home', 3), send(clicks, 'bob', '/cart', 4), send(clicks, 'eve', '/home', 5)],
        [send(users, 'ann', 'SE', 6), send(users, 'bob', null, 7)],
        [send(clicks, 'ann', '/pay', 8), send(clicks, 'bob', '/pay', 9)],
      ],
    });
    expect(run.driver).toEqual(run.broker);
    expect(count(run.driver)).toEqual({ [enriched]: 3 });
  });

  it("a stream–stream left join (the README's): a payment in the window joins, an order without one goes out with null once its window closed", async () => {
    const orders = uniqueName('orders');
    const payments = uniqueName('payments');
    const paid = uniqueName('paid');
    const app = topology(uniqueName('stream-join'));
    app.stream(orders, text).leftJoin(app.stream(payments, text), (o, p) => `${o}+${p}`, joinWindows(5_000).grace(1_000), { name: 'paid' }).to(paid, text);
    // One record at a time: a broker reads two topics side by side, not in the order they were written.
    const one = (topic: string, key: string, value: string, seconds: number) => [{ topic, key, value, ms: seconds * 1000 }];
    const run = await bothWays({
      app,
      inputs: { [orders]: 1, [payments]: 1 },
      outputs: [paid],
      steps: [one(orders, 'a', 'o1', 1), one(orders, 'b', 'o2', 2), one(payments, 'a', 'p1', 3), one(payments, 'c', 'p2', 8), one(payments, 'c', 'p3', 9)],
    });
    expect(run.driver).toEqual(run.broker);
    expect(Object.values(run.driver[paid]!).flat().map((r) => `${r.key}=${r.value}@${r.ms}`)).toEqual(['a=o1+p1@3000', 'b=o2+null@2000']);
  });

  it('a table–table left join: rows recomputed on either side, ended by deletes', async () => {
    const users = uniqueName('users');
    const cities = uniqueName('cities');
    const profiles = uniqueName('profiles');
    const app = topology(uniqueName('table-join'));
    app
      .table(users, text, { name: 'users' })
      .leftJoin(app.table(cities, text, { name: 'cities' }), (user, city) => `${user} in ${city ?? '?'}`, { name: 'profiles', value: serdes.string })
      .toStream()
      .to(profiles, text);
    const one = (topic: string, key: string, value: string | null, ms: number) => [{ topic, key, value, ms }];
    const run = await bothWays({
      app,
      inputs: { [users]: 2, [cities]: 2 },
      outputs: [profiles],
      steps: [one(users, 'ann', 'Ann', 1), one(users, 'bob', 'Bob', 2), one(cities, 'ann', 'Oslo', 3), one(cities, 'bob', 'Rome', 1), one(users, 'ann', null, 5), one(cities, 'ann', 'Bergen', 6)],
    });
    expect(run.driver).toEqual(run.broker);
    expect(count(run.driver)).toEqual({ [profiles]: 5 });
  });

  it('dead letters: a record that throws after its retries and bytes that do not parse, with the same headers', async () => {
    const input = uniqueName('bad-in');
    const output = uniqueName('bad-out');
    const appId = uniqueName('bad');
    const app = topology(appId)
      .stream(input, { key: serdes.string, value: serdes.json<{ n: number }>() })
      .mapValues((v) => {
        if (v.n === 13) throw new RangeError('thirteen is unlucky');
        return { doubled: v.n * 2 };
      })
      .to(output, { value: serdes.json<{ doubled: number }>() });
    const good = (n: number, ms: number) => ({ topic: input, key: `k${n}`, value: JSON.stringify({ n }), ms });
    const run = await bothWays({
      app,
      inputs: { [input]: 1 },
      outputs: [output, `${appId}-dlq`],
      errors: { retries: 3, backoff: { initialMs: 5 } },
      steps: [
        [
          ...Array.from({ length: 5 }, (_, i) => good(i, i)),
          { topic: input, key: 'bad', value: '{not json', ms: 5, headers: { trace: 'abc' } },
          { topic: input, key: 'empty', value: '', ms: 6 },
          good(13, 7),
          ...Array.from({ length: 5 }, (_, i) => good(100 + i, 8 + i)),
        ],
      ],
    });
    expect(run.driver).toEqual(run.broker);
    expect(count(run.driver)).toEqual({ [output]: 10, [`${appId}-dlq`]: 3 });
    expect(run.driver[`${appId}-dlq`]!['k13']![0]!.headers).toMatchObject({ 'streamrun.attempts': '4', 'streamrun.error.class': 'RangeError', 'streamrun.original.offset': '7' });
    expect(run.counters.driver).toEqual(run.counters.broker);
  });
});
