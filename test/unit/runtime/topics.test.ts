import { describe, expect, it } from 'vitest';
import { graphOf } from '../../../lib/dsl/topology.ts';
import { subtopologies } from '../../../lib/graph/subtopologies.ts';
import { serdes, topology } from '../../../lib/index.ts';
import type { StreamClient, TopicSpec } from '../../../lib/kafka/client.ts';
import type { Logger } from '../../../lib/runtime/logger.ts';
import { ensureTopic, ensureTopics, replication } from '../../../lib/runtime/topics.ts';
import type { StartupStep } from '../../../lib/runtime/startup-retry.ts';
import { changelogConfig } from '../../../lib/state/changelog.ts';

const quiet: Logger = { error: () => {}, warn: () => {}, info: () => {}, debug: () => {} };
const once: StartupStep = (_step, attempt) => attempt();

/** A cluster of `brokers` with no topics yet; keeps what it was asked to create, and how often it was asked its size. */
function cluster(brokers: number) {
  const created: TopicSpec[] = [];
  let counted = 0;
  const client = {
    brokerCount: async () => (counted++, brokers),
    partitionCounts: async () => new Map(),
    createTopics: async (specs: readonly TopicSpec[]) => void created.push(...specs),
  } as Partial<StreamClient> as StreamClient;
  return { client, created, counted: () => counted };
}

describe('replication of the topics streamrun creates', () => {
  it('is three copies, two in sync, from three brokers up; the broker default below', () => {
    expect(replication(1)).toEqual({});
    expect(replication(2)).toEqual({});
    expect(replication(3)).toEqual({ replicationFactor: 3, config: { 'min.insync.replicas': '2' } });
    expect(replication(5)).toEqual({ replicationFactor: 3, config: { 'min.insync.replicas': '2' } });
  });

  const relay = subtopologies(graphOf(topology('relay').stream('in', { key: serdes.string, value: serdes.string }).to('out')));
  const changelogsOf = () => ['relay-store-changelog'];

  it('on three brokers: source, output and changelog get it, the changelog keeping its own config', async () => {
    const { client, created, counted } = cluster(3);
    await ensureTopics(client, once, relay, changelogsOf, 4, quiet);
    expect(created).toEqual([
      { topic: 'in', partitions: 4, replicationFactor: 3, config: { 'min.insync.replicas': '2' } },
      { topic: 'out', partitions: 4, replicationFactor: 3, config: { 'min.insync.replicas': '2' } },
      { topic: 'relay-store-changelog', partitions: 4, replicationFactor: 3, config: { ...changelogConfig, 'min.insync.replicas': '2' } },
    ]);
    expect(counted()).toBe(1);
  });

  it('on one broker: no replication factor asked, the changelog config as it is', async () => {
    const { client, created } = cluster(1);
    await ensureTopics(client, once, relay, changelogsOf, 4, quiet);
    expect(created).toEqual([
      { topic: 'in', partitions: 4, config: {} },
      { topic: 'out', partitions: 4, config: {} },
      { topic: 'relay-store-changelog', partitions: 4, config: changelogConfig },
    ]);
  });

  it('a dead-letter topic (ensureTopic) gets it too', async () => {
    const { client, created } = cluster(3);
    await ensureTopic(client, once, 'relay-dlq', 2, quiet);
    expect(created).toEqual([{ topic: 'relay-dlq', partitions: 2, replicationFactor: 3, config: { 'min.insync.replicas': '2' } }]);
  });

  it('does not ask the cluster its size when every topic exists', async () => {
    const { client, counted } = cluster(3);
    client.partitionCounts = async (topics) => new Map(topics.map((t) => [t, 4]));
    await ensureTopics(client, once, relay, changelogsOf, 4, quiet);
    expect(counted()).toBe(0);
  });
});
