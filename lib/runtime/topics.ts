import type { Subtopology } from '../graph/subtopologies.ts';
import type { StreamClient, TopicSpec } from './client.ts';
import type { Logger } from './logger.ts';

/**
 * Creates the topics a topology needs and lacks. A missing source topic gets `sourcePartitions`
 * (and a warning: a typo in a topic name should not pass unseen); a missing output topic gets
 * as many partitions as its sub-topology's widest source, so keys keep their partition.
 * Returns the partition count of every topic involved.
 */
export async function ensureTopics(
  client: StreamClient,
  subtopologies: readonly Subtopology[],
  sourcePartitions: number,
  logger: Logger,
): Promise<Map<string, number>> {
  const sources = unique(subtopologies.flatMap((s) => s.sourceTopics));
  const sinks = unique(subtopologies.flatMap((s) => s.sinkTopics));
  const counts = await client.partitionCounts(unique([...sources, ...sinks]));

  const missingSources: TopicSpec[] = sources
    .filter((topic) => !counts.has(topic))
    .map((topic) => ({ topic, partitions: sourcePartitions }));
  for (const spec of missingSources) {
    logger.warn(`source topic ${spec.topic} did not exist: creating it with ${spec.partitions} partition(s)`);
    counts.set(spec.topic, spec.partitions);
  }

  const missingSinks: TopicSpec[] = [];
  for (const sub of subtopologies) {
    const partitions = Math.max(...sub.sourceTopics.map((t) => counts.get(t) ?? sourcePartitions));
    for (const topic of sub.sinkTopics) {
      if (counts.has(topic)) continue;
      logger.info(`creating output topic ${topic} with ${partitions} partition(s)`);
      counts.set(topic, partitions);
      missingSinks.push({ topic, partitions });
    }
  }

  await client.createTopics([...missingSources, ...missingSinks]);
  return counts;
}

function unique(items: readonly string[]): string[] {
  return [...new Set(items)];
}
