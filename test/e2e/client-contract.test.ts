import { describe, expect, it } from 'vitest';
import { serdes, topology } from '../../lib/index.ts';
import { committedOffsets } from './helpers/claims.ts';
import { createTopic, endOffsets, produce, produceWithKcat, readAll, readAllSettled, uniqueName } from './helpers/kafka.ts';
import { useRunners } from './helpers/runners.ts';
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
});
