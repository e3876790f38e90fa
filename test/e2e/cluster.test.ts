import { ConfigResourceTypes } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import { serdes, topology, type Runner } from '../../lib/index.ts';
import { startCluster, waitForIsr, type Cluster } from './helpers/cluster.ts';
import {
  createTopic,
  endOffsets,
  groupProgress,
  openProducer,
  readAll,
  readAllSettled,
  recordCount,
  uniqueName,
  useBrokers,
  withAdmin,
  type ReadRecord,
  type TestProducer,
} from './helpers/kafka.ts';
import { collectingLogger } from './helpers/logger.ts';
import { useRunners } from './helpers/runners.ts';
import { waitFor } from './helpers/wait.ts';

const NODES = 3;
const PARTITIONS = 4;
/** Keys per partition. */
const KEYS = 10;
/** The load: 25 records every 50 ms at most (about 500 a second), each send acknowledged by all in-sync replicas. */
const PER_SEND = 25;
const SEND_EVERY_MS = 50;

/**
 * Numbered records sent one batch after the other, until stopped; `acked()` says how many were
 * acknowledged. Each batch goes to one partition, the next to the next: a send spanning leaders
 * can lose records in KafkaJS (see openProducer), and the load must not.
 */
function load(producer: TestProducer, topic: string): { acked(): number; stop(): Promise<void> } {
  let acked = 0;
  let stopped = false;
  const running = (async () => {
    for (let send = 0; !stopped; send++) {
      // Pacing only: the next send waits for this one's acknowledgement anyway.
      const paced = new Promise((resolve) => setTimeout(resolve, SEND_EVERY_MS));
      const partition = send % PARTITIONS;
      await producer.send(
        topic,
        Array.from({ length: PER_SEND }, (_, i) => ({ partition, key: `key-${partition}-${i % KEYS}`, value: `record ${acked + i}` })),
      );
      acked += PER_SEND;
      await paced;
    }
  })();
  running.catch(() => {});
  return {
    acked: () => acked,
    async stop() {
      stopped = true;
      await running;
    },
  };
}

/** Per key, how many of `records` have it. */
function perKey(records: readonly ReadRecord[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const r of records) counts.set(r.key!, (counts.get(r.key!) ?? 0) + 1);
  return counts;
}

/** Per key, the last count written (a key keeps its partition, so offset order is its order). */
function lastCounts(records: readonly ReadRecord[]): Map<string, number> {
  return new Map(records.map((r) => [r.key!, Number(r.value)]));
}

async function minInsync(topic: string): Promise<string | undefined> {
  return withAdmin(async (admin) => {
    const { resources } = await admin.describeConfigs({
      includeSynonyms: false,
      resources: [{ type: ConfigResourceTypes.TOPIC, name: topic, configNames: ['min.insync.replicas'] }],
    });
    return resources[0]?.configEntries.find((e) => e.configName === 'min.insync.replicas')?.configValue;
  });
}

async function replicaCounts(topic: string): Promise<number[]> {
  return withAdmin(async (admin) => (await admin.fetchTopicMetadata({ topics: [topic] })).topics[0]!.partitions.map((p) => p.replicas.length));
}

describe(`a ${NODES}-broker cluster`, () => {
  let cluster: Cluster | undefined;
  beforeAll(async () => {
    cluster = await startCluster(NODES);
    useBrokers(cluster.brokers);
  });
  afterAll(async () => {
    useBrokers(undefined);
    await cluster?.close();
  });
  const startRunner = useRunners();

  it('broker kill and rolling restart under load, counts exact', { timeout: 300_000 }, async () => {
    const nodes = cluster!;
    const appId = uniqueName('cluster');
    const input = uniqueName('cluster-in');
    const upper = uniqueName('cluster-upper');
    const counted = uniqueName('cluster-counts');
    const changelog = `${appId}-counts-changelog`;
    await createTopic(input, PARTITIONS, { replicationFactor: 3, config: { 'min.insync.replicas': '2' } });

    // One source, two outputs in the same commit: a replayed record shows up in both.
    const app = topology(appId);
    const records = app.stream(input, { key: serdes.string, value: serdes.string });
    records.mapValues((v) => v.toUpperCase()).to(upper);
    records.groupByKey().count({ name: 'counts' }).toStream().to(counted, { value: serdes.json<number>() });
    const logger = collectingLogger();
    onTestFailed(() => console.error(logger.lines.filter((l) => !l.startsWith('info')).join('\n')));
    const runner: Runner = await startRunner(app, { logger });

    // streamrun's own topics (and the outputs it created) got three copies, two in sync.
    for (const topic of [changelog, upper, counted]) {
      expect(await replicaCounts(topic)).toEqual(Array(PARTITIONS).fill(3));
      expect(await minInsync(topic)).toBe('2');
    }
    const watched = [input, upper, counted, changelog, '__consumer_offsets'];

    const producer = await openProducer({ retryForever: true });
    const sending = load(producer, input);
    const resumes: Record<string, number> = {};
    /**
     * Does `disrupt`, then waits until the runner committed, on every input partition, past
     * where the input ended just after it: the time that takes is how long it held processing up.
     */
    const measured = async (label: string, disrupt: () => Promise<void>) => {
      const began = Date.now();
      await disrupt();
      const ends = await waitFor('the input end offsets', () => endOffsets(input));
      await waitFor(
        `the runner to commit past the input's ends after ${label}`,
        async () => (await groupProgress(appId, [input])).every((p) => p.committed >= ends.get(p.partition)!),
        { timeoutMs: 90_000, intervalMs: 100 },
      );
      resumes[label] = Date.now() - began;
    };
    try {
      await waitFor('the first outputs', async () => (await recordCount(upper)) > 1000, { timeoutMs: 60_000 });

      await measured('SIGKILL of node 2', () => nodes.kill(2));
      await waitForIsr(watched, 2, 'out');
      await nodes.start(2);
      await waitForIsr(watched, 2, 'in');

      for (let node = 1; node <= NODES; node++) {
        await measured(`clean stop of node ${node}`, () => nodes.stop(node));
        await nodes.start(node);
        await waitForIsr(watched, node, 'in');
      }
    } finally {
      await sending.stop();
      await producer.close();
    }
    const acked = sending.acked();

    const inputs = await readAll(input, acked);
    const outputs = await readAllSettled(upper, { group: appId, inputs: [input] });
    const counts = await readAllSettled(counted, { group: appId, inputs: [input] });

    // Every acknowledged record is in the input (some twice, where the load's producer retried a send that had landed).
    const numbered = Array.from({ length: acked }, (_, i) => `record ${i}`);
    expect([...new Set(inputs.map((r) => r.value))].sort()).toEqual([...numbered].sort());
    // Nothing lost: every input is in the output.
    expect([...new Set(outputs.map((r) => r.value))].sort()).toEqual(numbered.map((v) => v.toUpperCase()).sort());
    // At least once: a record processed again (its partition moved before the commit) is mapped,
    // and counted, once more, in the same commit. So each key's final count is exactly how often
    // it was mapped: its inputs plus its replays.
    expect(lastCounts(counts)).toEqual(perKey(outputs));

    // The same runner all along: it never failed for good.
    const state = await Promise.race([
      runner.finished.then(
        () => 'finished',
        (error: Error) => `failed: ${error.message}`,
      ),
      new Promise((resolve) => setImmediate(() => resolve('running'))),
    ]);
    expect(state).toBe('running');
    expect(runner.stats().consumed).toBe(outputs.length);
    const logged = (text: string) => logger.lines.filter((l) => l.includes(text)).length;
    const restarts = logged('consumer failed and restarts');
    const duplicates = outputs.length - inputs.length;
    console.info(
      `${acked} records (${inputs.length - acked} written twice by the load) under a broker kill and a rolling restart: 0 lost, ${duplicates} replayed, ` +
        `${restarts} consumer restarts, ${logged('sending them again')} sends of skipped records, ${logged('with a new producer')} producers replaced; ` +
        `processing held up ${JSON.stringify(resumes)} ms`,
    );
  });
});
