import type { ChangelogReader, StreamClient } from '../kafka/client.ts';

/**
 * Counts the records a read_committed reader finds in a topic. Under exactly-once a topic's
 * offsets are not its records: every transaction leaves a marker in each partition it wrote,
 * and an aborted one leaves records nobody reads. So the records are read, each once: a count
 * goes on from where the last one ended, and starts again where retention removed that.
 */
export interface RecordCounter {
  /** The committed records of each partition of `topic`; none when it does not exist. */
  count(topic: string): Promise<Map<number, number>>;
  close(): Promise<void>;
}

export function committedRecordCounter(client: StreamClient): RecordCounter {
  const readers = new Map<string, Promise<ChangelogReader>>();
  const counted = new Map<string, { at: bigint; records: number }>();
  let counting = Promise.resolve();
  return {
    count(topic) {
      // One count at a time: two would read the same range and add it twice.
      const result = counting.then(async () => {
        const records = new Map<number, number>();
        if (!(await client.partitionCounts([topic])).has(topic)) return records;
        let reader = readers.get(topic);
        if (reader === undefined) {
          reader = client.changelogReader([topic]);
          readers.set(topic, reader);
          reader.catch(() => readers.delete(topic));
        }
        for (const [partition, { low, high }] of await client.offsets(topic)) {
          const key = `${topic}:${partition}`;
          let known = counted.get(key);
          if (known === undefined || known.at < BigInt(low)) known = { at: BigInt(low), records: 0 };
          if (known.at < BigInt(high)) {
            let read = known.records;
            await (await reader).read(topic, partition, known.at.toString(), high, async (batch) => void (read += batch.length));
            known = { at: BigInt(high), records: read };
          }
          counted.set(key, known);
          records.set(partition, known.records);
        }
        return records;
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
