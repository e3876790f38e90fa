import { describe, expect, it } from 'vitest';
import { hopping, serdes, session, topology, tumbling } from '../../lib/index.ts';
import { createTopic, produce, readAllSettled, uniqueName } from './helpers/kafka.ts';
import { useRunners } from './helpers/runners.ts';
import { goldenCase, goldenOutput } from '../golden/golden.ts';

// Ten records, out of order and late: [key, event time in seconds].
const events: [string, number][] = [
  ['a', 1], ['a', 4], ['b', 3], ['a', 12], ['a', 9], ['b', 16], ['a', 8], ['a', 21], ['b', 26], ['a', 40],
];

// Record timestamps lie this far after the event times the values carry, so the windows
// computed from each show which time a node used. A recent hour, not 1970: the broker's retention
// would delete records that old before the runner reads them.
const recordTimeShift = Math.floor(Date.now() / 3_600_000) * 3_600_000;

/** `a[0,10)=3` for key a, window [0 s, 10 s) after `base` ms, value 3. */
const show = (base: number) => (r: { key: string | null; value: string | null }) => {
  const w = JSON.parse(r.key!) as { key: string; start: number; end: number };
  return `${w.key}[${(w.start - base) / 1000},${(w.end - base) / 1000})=${r.value}`;
};

describe('windowed counts over a fixed data set with out-of-order and late records', () => {
  const startRunner = useRunners();

  it('yield exactly what Kafka Streams yields for tumbling and hopping windows, emit update and final', async () => {
    const input = uniqueName('win-in');
    const out = (name: string) => `${input}-${name}`;
    await createTopic(input, 1);
    const app = topology(uniqueName('windows'));
    const grouped = app.stream(input, { key: serdes.string, value: serdes.string }).groupByKey();
    const tumbles = tumbling(10_000).grace(5_000);
    grouped.windowedBy(tumbles).count({ name: 'tumbling-update' }).toStream().to(out('tu'));
    grouped.windowedBy(tumbles).count({ name: 'tumbling-final', emit: 'final' }).toStream().to(out('tf'));
    // The hopping windows take event time from the value, the tumbling ones from the record.
    const byValue = { timestamp: (v: string) => Number(v) };
    const hops = hopping(10_000, 5_000).grace(5_000);
    grouped.windowedBy(hops, byValue).count({ name: 'hopping-update' }).toStream().to(out('hu'));
    grouped.windowedBy(hops, byValue).count({ name: 'hopping-final', emit: 'final' }).toStream().to(out('hf'));

    const runner = await startRunner(app);
    await produce(
      input,
      events.map(([key, s]) => ({ key, value: String(s * 1000), timestamp: String(s * 1000 + recordTimeShift) })),
    );

    // The expectations are Kafka Streams' own output on the same records (test/golden, e2e-*).
    const kafkaStreams = (name: string) => goldenOutput(name).map((r) => show(0)({ key: JSON.stringify(r.key), value: r.value }));
    const settled = (topic: string) => readAllSettled(topic, { group: runner.appId, inputs: [input] });
    expect((await settled(out('tu'))).map(show(recordTimeShift))).toEqual(kafkaStreams('e2e-tumbling-update'));
    expect((await settled(out('tf'))).map(show(recordTimeShift))).toEqual(kafkaStreams('e2e-tumbling-final'));
    expect((await settled(out('hu'))).map(show(0))).toEqual(kafkaStreams('e2e-hopping-update'));
    expect((await settled(out('hf'))).map(show(0))).toEqual(kafkaStreams('e2e-hopping-final'));
    // a@8 s is late for the tumbling window [0,10) (closed at 15 s once stream time reached 16 s),
    // but not for the hopping window [5,15).
    expect(runner.stats().consumed).toBe(10);
    expect(runner.stats().lateRecords).toBe(2);
  });

  it('yield exactly what Kafka Streams yields for session windows (gap 5 s, grace 5 s), merging and closing, in both emit modes', async () => {
    const input = uniqueName('session-in');
    await createTopic(input, 1);
    const app = topology(uniqueName('sessions'));
    const grouped = app.stream(input, { key: serdes.string, value: serdes.string }).groupByKey();
    const sessions = session(5_000).grace(5_000);
    grouped.windowedBy(sessions).count({ name: 'session-update' }).toStream().to(`${input}-su`);
    grouped.windowedBy(sessions).count({ name: 'session-final', emit: 'final' }).toStream().to(`${input}-sf`);
    const runner = await startRunner(app);
    await produce(input, events.map(([key, s]) => ({ key, value: 'x', timestamp: String(s * 1000 + recordTimeShift) })));

    // Kafka Streams on the same records (test/golden, e2e-session-*): a@9 s bridges [1 s, 4 s]
    // and [12 s, 12 s] into one session; a@8 s joins it, as a session closes at end + gap + grace.
    const kafkaStreams = (name: string) => goldenOutput(name).map((r) => show(0)({ key: JSON.stringify(r.key), value: r.value }));
    const settled = (topic: string) => readAllSettled(topic, { group: runner.appId, inputs: [input] });
    expect((await settled(`${input}-su`)).map(show(recordTimeShift))).toEqual(kafkaStreams('e2e-session-update'));
    expect((await settled(`${input}-sf`)).map(show(recordTimeShift))).toEqual(kafkaStreams('e2e-session-final'));
    expect(runner.stats().consumed).toBe(10);
    expect(runner.stats().lateRecords).toBe(0);
  });

  it('make one session of four from views 10 s apart with session(60 s) and no grace, stamped as Kafka Streams stamps it', async () => {
    const input = uniqueName('session-minimal-in');
    await createTopic(input, 1);
    const app = topology(uniqueName('session-minimal'));
    app
      .stream(input, { key: serdes.string, value: serdes.string })
      .groupByKey()
      .windowedBy(session(60_000))
      .count({ name: 'visits', emit: 'final' })
      .toStream()
      .mapValues(String)
      .to(`${input}-out`);
    const runner = await startRunner(app);
    const spec = goldenCase<{ kind: string }>('session-gap-no-grace');
    await produce(input, spec.input.map((r) => ({ key: r.key, value: r.value, timestamp: String(r.timestamp + recordTimeShift) })));
    const out = await readAllSettled(`${input}-out`, { group: runner.appId, inputs: [input] });
    // Kafka Streams' own output (test/golden/expected/session-gap-no-grace.json), shifted to the recent hour.
    const shifted = goldenOutput('session-gap-no-grace').map((r) => {
      const w = r.key as { key: string; start: number; end: number };
      return { key: { key: w.key, start: w.start + recordTimeShift, end: w.end + recordTimeShift }, value: r.value, timestamp: r.timestamp + recordTimeShift };
    });
    expect(out.map((r) => ({ key: JSON.parse(r.key!), value: r.value, timestamp: Number(r.timestamp) }))).toEqual(shifted);
    expect(shifted[0]).toMatchObject({ key: { key: 'u', start: recordTimeShift, end: recordTimeShift + 30_000 }, value: '4' });
    expect(runner.stats().lateRecords).toBe(0);
  });
});
