import type { ChangelogReader, StreamClient } from '../kafka/client.ts';

/**
 * Counts the records a read_committed reader finds in a topic. Under exactly-once a topic's
 * offsets are not its records: every transaction leaves a marker in each partition it wrote,
 * and an aborted one leaves records nobody reads. So the records are read, each once: a count
 * goes on from where the last one ended, and starts again where retention removed that.
 */
export function committedRecordCounter(client: StreamClient): { count(topic: string): Promise<number>; close(): Promise<void> } {
  const readers = new Map<string, Promise<ChangelogReader>>();
  const counted = new Map<string, { at: bigint; records: number }>();
  let counting = Promise.resolve();
  return {
    count(topic) {
      // One count at a time: two would read the same range and add it twice.
      const result = counting.then(async () => {
        if (!(await client.partitionCounts([topic])).has(topic)) return 0;
        let reader = readers.get(topic);
        if (reader === undefined) {
          reader = client.changelogReader([topic]);
          readers.set(topic, reader);
          reader.catch(() => readers.delete(topic));
        }
        let total = 0;
        for (const [partition, { low, high }] of await client.offsets(topic)) {
          const key = `${topic}:${partition}`;
          let known = counted.get(key);
          if (known === undefined || known.at < BigInt(low)) known = { at: BigInt(low), records: 0 };
          if (known.at < BigInt(high)) {
            let records = known.records;
            await (await reader).read(topic, partition, known.at.toString(), high, async (batch) => void (records += batch.length));
            known = { at: BigInt(high), records };
          }
          counted.set(key, known);
          total += known.records;
        }
        return total;
      });
      counting = result.then(
        () => {},
        () => {},
      );
      return result;
    },
    async close() {
      await Promise.all([...readers.values()].map(async (r) => (await r.catch(() => undefined))?.close()));
    },
  };
}
