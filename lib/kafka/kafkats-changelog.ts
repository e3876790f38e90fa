import { setTimeout as sleep } from 'node:timers/promises';
import { KafkaProtocolError, type Cluster } from '@kafkats/client';
import type { ChangelogReader } from './client.ts';
import { fetchOnce } from './kafkats-fetch.ts';
import { retriable } from './kafkats-errors.ts';
import { leaderMoved } from './kafkats-offsets.ts';

/** Reads changelog ranges straight from each partition's leader: no group, no assignment to wait for. */
export function kafkatsChangelogReader(cluster: Cluster): ChangelogReader {
  return {
    async read(topic, partition, from, until, onRecords) {
      const end = BigInt(until);
      let at = BigInt(from);
      for (let attempt = 0; at < end; ) {
        try {
          const leader = cluster.getMetadata()?.topics.get(topic)?.partitions.get(partition)?.leaderId ?? -1;
          if (leader < 0) throw new KafkaProtocolError(5, `no leader known for ${topic}-${partition}`);
          const broker = await cluster.getBroker(leader);
          const [answer] = await fetchOnce(broker, [{ topic, partition, offset: at }], { maxWaitMs: 100, partitionMaxBytes: 4 * 1024 * 1024, verifyCrc: true });
          if (answer === undefined || leaderMoved.has(answer.errorCode)) throw new KafkaProtocolError(answer?.errorCode ?? 5, `fetch ${topic}-${partition}`);
          if (answer.errorCode !== 0) throw new KafkaProtocolError(answer.errorCode, `reading ${topic}-${partition} from ${at}`);
          attempt = 0;
          // The log ends short of `until` (records of an aborted write): nothing more will come.
          if (answer.lastOffset < at && answer.end <= at) return;
          if (answer.lastOffset < at) continue;
          // Only the answer that reaches `until` has records to leave out: no per-record check before it.
          const records = answer.lastOffset < end ? answer.records : answer.records.filter((r) => BigInt(r.offset) < end);
          if (records.length > 0) await onRecords(records);
          at = answer.lastOffset + 1n;
        } catch (error) {
          const code = (error as { errorCode?: unknown }).errorCode;
          if (!retriable(error) && !(typeof code === 'number' && leaderMoved.has(code))) throw error;
          await sleep(Math.min(100 * 2 ** attempt++, 2_000));
          await cluster.refreshMetadata([topic]).catch(() => {});
        }
      }
    },
    close: async () => {},
  };
}
