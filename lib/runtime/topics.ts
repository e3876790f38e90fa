import type { Subtopology } from '../graph/subtopologies.ts';
import type { StreamClient, TopicSpec } from '../kafka/client.ts';
import { changelogConfig } from '../state/changelog.ts';
import type { Logger } from './logger.ts';
import type { StartupStep } from './startup-retry.ts';

/**
 * Creates the topics a topology needs and lacks. A missing source topic gets `sourcePartitions`
 * (and a warning: a typo in a topic name should not pass unseen); a missing output topic gets
 * as many partitions as its sub-topology's widest source, so keys keep their partition; so does
 * a changelog (one partition per task), compacted. Returns the partition count of every topic.
 * Each request to the broker is a start-up step: transient answers are retried.
 */
export async function ensureTopics(
  client: StreamClient,
  step: StartupStep,
  subtopologies: readonly Subtopology[],
  changelogsOf: (sub: Subtopology) => readonly string[],
  sourcePartitions: number,
  logger: Logger,
): Promise<Map<string, number>> {
  const sources = unique(subtopologies.flatMap((s) => s.sourceTopics));
  const sinks = unique(subtopologies.flatMap((s) => s.sinkTopics));
  const changelogs = new Set(subtopologies.flatMap((s) => changelogsOf(s)));
  const wanted = unique([...sources, ...sinks, ...changelogs]);
  const counts = await step('describe topics', () => client.partitionCounts(wanted));

  // A repartition topic is a source too, but its writer's sub-topology decides its partitions.
  const internal = new Set(
    subtopologies.flatMap((s) => s.nodes).flatMap((n) => ((n.kind === 'source' || n.kind === 'sink') && n.internal ? [n.topic] : [])),
  );
  const missingSources: TopicSpec[] = sources
    .filter((topic) => !counts.has(topic) && !internal.has(topic))
    .map((topic) => ({ topic, partitions: sourcePartitions }));
  for (const spec of missingSources) {
    logger.warn(`source topic ${spec.topic} did not exist: creating it with ${spec.partitions} partition(s)`);
    counts.set(spec.topic, spec.partitions);
  }

  const missingSinks: TopicSpec[] = [];
  for (const sub of subtopologies) {
    const partitions = Math.max(...sub.sourceTopics.map((t) => counts.get(t) ?? sourcePartitions));
    for (const topic of [...sub.sinkTopics, ...changelogsOf(sub)]) {
      if (counts.has(topic)) continue;
      const changelog = changelogs.has(topic);
      const what = changelog ? 'changelog' : internal.has(topic) ? 'repartition' : 'output';
      logger.info(`creating ${what} topic ${topic} with ${partitions} partition(s)`);
      counts.set(topic, partitions);
      missingSinks.push(changelog ? { topic, partitions, config: changelogConfig } : { topic, partitions });
    }
  }

  const missing = await replicated(client, step, [...missingSources, ...missingSinks]);
  await step(`create topics ${names(missing)}`, () => client.createTopics(missing));
  return counts;
}

/**
 * How the topics streamrun creates are replicated. With three brokers or more: on three, and a
 * write (acks=all) needs two of them, so one broker down (killed, or restarting in a rolling
 * restart) loses no acknowledged record and stops no write. With fewer, the broker's default,
 * which a single development broker must keep at one.
 */
export function replication(brokers: number): Pick<TopicSpec, 'replicationFactor' | 'config'> {
  return brokers >= 3 ? { replicationFactor: 3, config: { 'min.insync.replicas': '2' } } : {};
}

/** The specs with the replication the cluster's size calls for; the broker count is asked only when there is something to create. */
async function replicated(client: StreamClient, step: StartupStep, specs: readonly TopicSpec[]): Promise<TopicSpec[]> {
  if (specs.length === 0) return [];
  const chosen = replication(await step('count the brokers', () => client.brokerCount()));
  return specs.map((s) => ({ ...s, ...chosen, config: { ...s.config, ...chosen.config } }));
}

function unique(items: readonly string[]): string[] {
  return [...new Set(items)];
}

function names(specs: readonly TopicSpec[]): string {
  return specs.map((s) => s.topic).join(', ');
}

/** Creates one topic unless it exists; returns its partition count either way. */
export async function ensureTopic(
  client: StreamClient,
  step: StartupStep,
  topic: string,
  partitions: number,
  logger: Logger,
): Promise<number> {
  const existing = (await step(`describe topic ${topic}`, () => client.partitionCounts([topic]))).get(topic);
  if (existing !== undefined) return existing;
  logger.info(`creating topic ${topic} with ${partitions} partition(s)`);
  const specs = await replicated(client, step, [{ topic, partitions }]);
  await step(`create topic ${topic}`, () => client.createTopics(specs));
  return partitions;
}
