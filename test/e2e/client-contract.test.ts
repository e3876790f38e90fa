import { Kafka, logLevel } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { serdes, topology } from '../../lib/index.ts';
import { committedOffsets } from './helpers/claims.ts';
import { runCli } from './helpers/cli.ts';
import { counterRun } from './helpers/counter-run.ts';
import { brokers, createTopic, endOffsets, latestByKey, produce, produceWithKcat, readAll, readAllSettled, readTopicUpTo, uniqueName } from './helpers/kafka.ts';
import { useRunners } from './helpers/runners.ts';
import { keyedRecords } from './helpers/topologies.ts';
import { waitFor } from './helpers/wait.ts';

const text = { key: serdes.string, value: serdes.string };

/** What the Kafka client under the runner must get right, whichever it is; checked on the broker. */
describe('the Kafka client under the runner', () => {
  const startRunner = useRunners();

  it('puts each key where Kafka’s Java client does: a relay writes every record to the partition kcat’s murmur2 chose for it', async () => {
    const input = uniqueName('murmur-in');
    const output = `${input}-out`;
    await createTopic(input, 6);
    await createTopic(output, 6);
    const records = Array.from({ length: 300 }, (_, i) => ({ key: `key-${i}-${'x'.repeat(i % 13)}`, value: `v${i}` }));
    await produceWithKcat(input, records, ['-X', 'partitioner=murmur2_random']);
    const app = topology(uniqueName('murmur'));
    app.stream(input, text).to(output, text);
    const runner = await startRunner(app);
    const written = await readAllSettled(output, { group: runner.appId, inputs: [input] });
    const read = await readAll(input, records.length);
    const partitionOf = new Map(read.map((r) => [r.key, r.partition]));
    expect(written.length).toBe(records.length);
    expect(written.filter((r) => r.partition !== partitionOf.get(r.key)).map((r) => r.key)).toEqual([]);
    // Not all in one partition: the check above would pass for any constant partitioner otherwise.
    expect(new Set(read.map((r) => r.partition)).size).toBe(6);
  });

  it('hands each partition’s records over in offset order to a slow topology, each once, and a clean stop commits every partition to its end', async () => {
    const input = uniqueName('order-in');
    await createTopic(input, 4);
    await produce(input, Array.from({ length: 20_000 }, (_, i) => ({ key: `k${i % 97}`, value: String(i) })));
    const seen = new Map<number, number[]>();
    const app = topology(uniqueName('order'));
    app
      .stream(input, text)
      .peek((_, __, context) => {
        // About 1 ms per record: the client fetches far ahead of the topology.
        const until = process.hrtime.bigint() + 1_000_000n;
        while (process.hrtime.bigint() < until);
        const list = seen.get(context.partition) ?? [];
        list.push(Number(context.offset));
        seen.set(context.partition, list);
      })
      .to(uniqueName('order-out'), text);
    const runner = await startRunner(app);
    await waitFor('every record processed', () => runner.stats().consumed === 20_000, { timeoutMs: 150_000 });
    await runner.stop();
    const ends = await endOffsets(input);
    for (const [partition, offsets] of seen) {
      expect(offsets, `partition ${partition} in offset order, each once`).toEqual(Array.from({ length: Number(ends.get(partition)) }, (_, i) => i));
    }
    expect([...seen.values()].reduce((n, o) => n + o.length, 0)).toBe(20_000);
    expect(await committedOffsets(runner.appId, input)).toEqual([0, 1, 2, 3].map((p) => Number(ends.get(p))));
  });

  it('loses no offset to a commit racing new progress: 400 records sent one by one while it commits, all out, committed to the end', async () => {
    const input = uniqueName('race-in');
    const output = `${input}-out`;
    await createTopic(input, 2);
    const app = topology(uniqueName('race'));
    app.stream(input, text).to(output, text);
    const runner = await startRunner(app);
    const sent: string[] = [];
    for (let i = 0; i < 400; i++) {
      sent.push(`v${i}`);
      await produce(input, [{ key: `k${i % 5}`, value: `v${i}` }]);
    }
    const written = await readAllSettled(output, { group: runner.appId, inputs: [input] });
    expect(written.map((r) => r.value).sort()).toEqual(sent.sort());
    const ends = await endOffsets(input);
    expect(await committedOffsets(runner.appId, input)).toEqual([0, 1].map((p) => Number(ends.get(p))));
  });

  it('reads a topic written in transactions: only committed records, in order, and committed past the last marker (lag 0)', async () => {
    const input = uniqueName('txn-in');
    const output = `${input}-out`;
    await createTopic(input, 2);
    // KafkaJS's transactional producer as the writer: a client the runner under test may not be.
    const kafka = new Kafka({ clientId: 'txn-writer', brokers: brokers().split(','), logLevel: logLevel.NOTHING });
    const producer = kafka.producer({ transactionalId: uniqueName('txn-writer'), idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    const kept: string[] = [];
    try {
      for (let t = 0; t < 6; t++) {
        const txn = await producer.transaction();
        const messages = Array.from({ length: 50 }, (_, i) => ({ key: `k${i % 7}`, value: `t${t}-${i}` }));
        await txn.send({ topic: input, messages });
        // Every third transaction aborts: its records stay in the log but must never be read.
        if (t % 3 === 1) await txn.abort();
        else {
          await txn.commit();
          kept.push(...messages.map((m) => m.value));
        }
      }
    } finally {
      await producer.disconnect();
    }
    const app = topology(uniqueName('txn'));
    app.stream(input, text).to(output, text);
    const runner = await startRunner(app);
    const written = await readAllSettled(output, { group: runner.appId, inputs: [input] });
    expect(written.map((r) => r.value).sort()).toEqual([...kept].sort());
    // Within a key (one partition), the order the writer committed them in.
    for (const key of new Set(written.map((r) => r.key))) {
      const values = written.filter((r) => r.key === key).map((r) => r.value!);
      expect(values).toEqual(kept.filter((v) => values.includes(v)));
    }
    const ends = await endOffsets(input);
    // The end offsets count the markers: 6 per partition that got records of all six transactions.
    expect(await committedOffsets(runner.appId, input)).toEqual([0, 1].map((p) => Number(ends.get(p))));
  });

  it('keeps every record and each key’s order when one of two instances leaves mid-stream', async () => {
    const input = uniqueName('leave-in');
    const output = `${input}-out`;
    await createTopic(input, 6);
    await createTopic(output, 6);
    const appId = uniqueName('leave');
    const relay = () => {
      const app = topology(appId);
      app
        .stream(input, text)
        .peek(() => {
          const until = process.hrtime.bigint() + 100_000n;
          while (process.hrtime.bigint() < until);
        })
        .to(output, text);
      return app;
    };
    const first = await startRunner(relay());
    const second = await startRunner(relay());
    await waitFor('both instances hold tasks', () => first.tasks().length > 0 && second.tasks().length > 0);
    const records = Array.from({ length: 12_000 }, (_, i) => ({ key: `k${i % 40}`, value: String(i) }));
    await produce(input, records.slice(0, 6_000));
    await waitFor('the second instance is mid-stream', () => second.stats().consumed > 500);
    await second.stop();
    await produce(input, records.slice(6_000));
    const written = await readAllSettled(output, { group: appId, inputs: [input] });
    // At least once: every record, some perhaps twice (those the leaver had not committed).
    expect(new Set(written.map((r) => r.value)).size).toBe(records.length);
    expect(first.tasks().length).toBe(6);
    for (const [key, values] of valuesByKey(written)) {
      // A replay starts again from a committed offset: dropping repeats leaves the sent order.
      const firsts = [...new Set(values)];
      expect(firsts, `order of ${key}`).toEqual([...firsts].sort((a, b) => Number(a) - Number(b)));
    }
  });

  it('after a SIGKILL, misses nothing before the committed offsets in its output', async () => {
    const { appId, input, output, env: counterEnv } = await counterRun('kill', 3);
    const records = keyedRecords(6_000, 30);
    await produce(input, records);
    const env = { ...counterEnv, COUNTER_BUSY_MICROS: '500' };
    const stateDir = `/tmp/${uniqueName('kill-state')}`;
    const cli = runCli(['start', 'test/e2e/fixtures/counter.ts', '--state-dir', stateDir], env);
    // Offsets, not outputs: outputs are acknowledged before their offsets are committed, and on a
    // busy machine a kill can land between the two, with nothing committed to check against.
    const someCommitted = async () => (await committedOffsets(appId, input)).some((offset) => offset > 0);
    await waitFor('some offsets committed', someCommitted, { timeoutMs: 90_000 });
    cli.child.kill('SIGKILL');
    await cli.exited;
    const committed = await committedOffsets(appId, input);
    const read = await readTopicUpTo(input, committed);
    expect(read.length).toBeGreaterThan(0);
    expect(read.length).toBeLessThan(records.length);
    // Each key's count in the output must reach what the committed records of that key add up to.
    const needed = new Map<string, number>();
    for (const r of read) needed.set(r.key!, (needed.get(r.key!) ?? 0) + 1);
    const counted = await latestByKey(output);
    for (const [key, n] of needed) expect(Number(counted.get(key) ?? 0), key).toBeGreaterThanOrEqual(n);
  });
});

function valuesByKey(records: readonly { key: string | null; value: string | null }[]): Map<string, string[]> {
  const byKey = new Map<string, string[]>();
  for (const r of records) {
    const list = byKey.get(r.key!) ?? [];
    list.push(r.value!);
    byKey.set(r.key!, list);
  }
  return byKey;
}
