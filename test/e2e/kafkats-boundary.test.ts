import { execFile } from 'node:child_process';
import { createServer } from 'node:net';
import { promisify } from 'node:util';
import { Cluster, Producer } from '@kafkats/client';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OutputProducer, OutputRecord } from '../../lib/kafka/client.ts';
import { kafkatsAdmin, metadata, type KafkatsAdmin } from '../../lib/kafka/kafkats-admin.ts';
import { kafkatsTransient } from '../../lib/kafka/kafkats-errors.ts';
import { openKafkatsProducer } from '../../lib/kafka/kafkats-producer.ts';
import { openKafkatsTransactionalProducer } from '../../lib/kafka/kafkats-transactional-producer.ts';
import type { TransactionalProducer } from '../../lib/kafka/client.ts';
import { partitionOfKey } from '../../lib/kafka/murmur2.ts';
import { useCluster } from './helpers/cluster.ts';
import { brokers, byPartition, createTopic, produce, produceWithKcat, readAll, uniqueName, withAdmin } from './helpers/kafka.ts';
import { collectingLogger } from './helpers/logger.ts';
import { waitFor } from './helpers/wait.ts';

/** The kafkats implementation of the StreamClient boundary, admin and producer, on the broker; KafkaJS and kcat as witnesses. */

const run = promisify(execFile);
const logger = collectingLogger();
const clusters: Cluster[] = [];

function cluster(list: readonly string[] = brokers().split(',')): Cluster {
  const c = new Cluster({ brokers: [...list], clientId: uniqueName('kafkats-test'), connectionTimeoutMs: 3000 });
  clusters.push(c);
  return c;
}

/** A port nothing listens on: bound once, then closed. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}


describe('the kafkats admin', () => {
  let admin: KafkatsAdmin;
  let shared: Cluster;

  beforeAll(async () => {
    shared = cluster();
    admin = kafkatsAdmin(shared, { brokers: brokers().split(','), logger });
    await admin.connect();
  });
  afterAll(async () => {
    await Promise.all(clusters.map((c) => c.disconnect().catch(() => {})));
  });

  it('fails fast, BROKER_UNREACHABLE and retriable, when no broker answers; the cause is a transient connection error', async () => {
    const address = [`127.0.0.1:${await closedPort()}`];
    const down = kafkatsAdmin(cluster(address), { brokers: address, logger });
    const started = Date.now();
    const error = await down.connect().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(Date.now() - started).toBeLessThan(5000);
    expect(error).toMatchObject({ code: 'BROKER_UNREACHABLE', retriable: true });
    expect((error as Error).message).toContain(address[0]);
    expect(kafkatsTransient(error)).toBe('ConnectionError');
    // A second try fails the same way, not on what the first left behind.
    await expect(down.connect()).rejects.toMatchObject({ code: 'BROKER_UNREACHABLE' });
  });

  it('asks a topic’s leader for offsets right after connecting, concurrently, without kafkats’s race on a broker still learning its API versions', async () => {
    for (let i = 0; i < 5; i++) {
      const fresh = kafkatsAdmin(cluster(), { brokers: brokers().split(','), logger });
      await fresh.connect();
      // Created after the connect, so every request for it looks its leader up on its own.
      const topic = uniqueName('kt-fresh');
      await createTopic(topic, 3);
      expect([...(await fresh.offsets(topic)).keys()]).toEqual([0, 1, 2]);
    }
  });

  it('answers ping and counts the brokers', async () => {
    await admin.ping();
    expect(await admin.brokerCount()).toBe(1);
  });

  it('creates topics, tolerates creating them again, and counts their partitions; a missing topic is absent', async () => {
    const a = uniqueName('kt-create-a');
    const b = uniqueName('kt-create-b');
    const specs = [
      { topic: a, partitions: 3 },
      { topic: b, partitions: 1, config: { 'cleanup.policy': 'compact' } },
    ];
    await admin.createTopics(specs);
    await admin.createTopics(specs);
    const missing = uniqueName('kt-missing');
    expect(await admin.partitionCounts([a, b, missing])).toEqual(new Map([[a, 3], [b, 1]]));
    const config = await withAdmin((k) => k.describeConfigs({ includeSynonyms: false, resources: [{ type: 2, name: b, configNames: ['cleanup.policy'] }] }));
    expect(config.resources[0]?.configEntries[0]?.configValue).toBe('compact');
    // Created with the broker's default number of copies: one, on this one-node broker.
    const described = await withAdmin((k) => k.fetchTopicMetadata({ topics: [a] }));
    expect(described.topics[0]?.partitions.map((p) => p.replicas.length)).toEqual([1, 1, 1]);
  });

  it('names UNKNOWN_TOPIC_OR_PARTITION as transient for a topic that does not exist yet', async () => {
    const missing = uniqueName('kt-not-yet');
    const offsets = await admin.offsets(missing).catch((e: unknown) => e);
    expect(kafkatsTransient(offsets)).toBe('UNKNOWN_TOPIC_OR_PARTITION');
    const committed = await admin.committedOffsets(uniqueName('group'), missing).catch((e: unknown) => e);
    expect(kafkatsTransient(committed)).toBe('UNKNOWN_TOPIC_OR_PARTITION');
  });

  it('gives each partition’s low and high watermark after producing', async () => {
    const topic = uniqueName('kt-offsets');
    await createTopic(topic, 3);
    await produce(topic, [
      ...Array.from({ length: 5 }, (_, i) => ({ partition: 0, value: `a${i}` })),
      ...Array.from({ length: 2 }, (_, i) => ({ partition: 2, value: `c${i}` })),
    ]);
    expect(await admin.offsets(topic)).toEqual(
      new Map([
        [0, { low: '0', high: '5' }],
        [1, { low: '0', high: '0' }],
        [2, { low: '0', high: '2' }],
      ]),
    );
    await withAdmin(async (k) => {
      await k.fetchTopicMetadata({ topics: [topic] });
      await k.deleteTopicRecords({ topic, partitions: [{ partition: 0, offset: '3' }] });
    });
    expect((await admin.offsets(topic)).get(0)).toEqual({ low: '3', high: '5' });
  });

  it('gives the high watermark up to the last stable offset, as KafkaJS’s admin does: an open transaction’s records are not counted yet', async () => {
    const topic = uniqueName('kt-stable');
    await createTopic(topic, 1);
    await produce(topic, [{ value: 'before' }]);
    const kafka = new Kafka({ clientId: uniqueName('kt-tx'), brokers: brokers().split(','), logLevel: logLevel.NOTHING });
    const transactional = kafka.producer({ transactionalId: uniqueName('kt-tx'), idempotent: true, maxInFlightRequests: 1 });
    await transactional.connect();
    try {
      const tx = await transactional.transaction();
      await tx.send({ topic, messages: [{ value: 'open' }, { value: 'open' }] });
      const kafkajs = async () => new Map((await withAdmin((k) => k.fetchTopicOffsets(topic))).map((o) => [o.partition, { low: o.low, high: o.high }]));
      expect(await admin.offsets(topic)).toEqual(new Map([[0, { low: '0', high: '1' }]]));
      expect(await admin.offsets(topic)).toEqual(await kafkajs());
      await tx.commit();
      // Two records and the commit marker, once the coordinator wrote it.
      await waitFor('the commit marker', async () => (await admin.offsets(topic)).get(0)?.high === '4');
      expect(await admin.offsets(topic)).toEqual(await kafkajs());
    } finally {
      await transactional.disconnect();
    }
  });

  it('gives the offsets a group committed, without the partitions it never committed', async () => {
    const topic = uniqueName('kt-committed');
    const groupId = uniqueName('kt-group');
    await createTopic(topic, 4);
    await produce(topic, Array.from({ length: 20 }, (_, i) => ({ partition: i % 4, value: String(i) })));
    await withAdmin((k) =>
      k.setOffsets({
        groupId,
        topic,
        partitions: [
          { partition: 0, offset: '4' },
          { partition: 2, offset: '1' },
        ],
      }),
    );
    expect(await admin.committedOffsets(groupId, topic)).toEqual(
      new Map([
        [0, '4'],
        [2, '1'],
      ]),
    );
    expect(await admin.committedOffsets(uniqueName('kt-no-commits'), topic)).toEqual(new Map());
  });
});

describe('the kafkats producer', () => {
  let shared: Cluster;
  let producer: OutputProducer;

  beforeAll(async () => {
    shared = cluster();
    await kafkatsAdmin(shared, { brokers: brokers().split(','), logger }).connect();
    producer = await openKafkatsProducer(shared, logger);
  });
  afterAll(async () => {
    await producer.close();
    await Promise.all(clusters.map((c) => c.disconnect().catch(() => {})));
  });

  it('writes keys, values, headers and timestamps as given, and returns where each partition’s records start', async () => {
    const topic = uniqueName('kt-contents');
    await createTopic(topic, 3);
    const records: OutputRecord[] = [
      { partition: 1, key: Buffer.from('a'), value: Buffer.from('one'), timestamp: '1700000000123', headers: { h: 'x', b: Buffer.from([0, 255]) } },
      { partition: 1, key: null, value: Buffer.from('two'), timestamp: '1700000000124', headers: { only: ['once'] } },
      { partition: 2, key: Buffer.from('c'), value: null, timestamp: '1' },
      { partition: 1, key: Buffer.from('d'), value: Buffer.alloc(0), timestamp: '1700000000000' },
    ];
    const first = await producer.send(new Map([[topic, records]]));
    expect(sorted(first)).toEqual([
      { topic, partition: 1, baseOffset: '0' },
      { topic, partition: 2, baseOffset: '0' },
    ]);
    const second = await producer.send(new Map([[topic, [records[0]!, records[2]!]]]));
    expect(sorted(second)).toEqual([
      { topic, partition: 1, baseOffset: '3' },
      { topic, partition: 2, baseOffset: '1' },
    ]);
    const read = await readAll(topic, 6);
    expect(read.map((r) => [r.partition, r.offset, r.key, r.valueBytes === null ? null : r.valueBytes.toString('hex'), r.timestamp])).toEqual([
      [1, '0', 'a', Buffer.from('one').toString('hex'), '1700000000123'],
      [1, '1', null, Buffer.from('two').toString('hex'), '1700000000124'],
      [1, '2', 'd', '', '1700000000000'],
      [1, '3', 'a', Buffer.from('one').toString('hex'), '1700000000123'],
      [2, '0', 'c', null, '1'],
      [2, '1', 'c', null, '1'],
    ]);
    expect(read[0]!.headers).toEqual({ h: Buffer.from('x'), b: Buffer.from([0, 255]) });
    expect(read[1]!.headers).toEqual({ only: Buffer.from('once') });
    expect(read[2]!.headers).toEqual({});
  });

  it('refuses a record with a repeated header or one without a value (kafkats cannot write them), writing nothing of the send', async () => {
    const topic = uniqueName('kt-headers');
    await createTopic(topic, 1);
    const fine: OutputRecord = { key: Buffer.from('k'), value: Buffer.from('v') };
    await expect(producer.send(new Map([[topic, [fine, { ...fine, headers: { twice: ['a', 'b'] } }]]]))).rejects.toMatchObject({ code: 'REJECTED' });
    await expect(producer.send(new Map([[topic, [fine, { ...fine, headers: { none: undefined } }]]]))).rejects.toMatchObject({ code: 'REJECTED' });
    expect(await producer.send(new Map([[topic, [fine]]]))).toEqual([{ topic, partition: 0, baseOffset: '0' }]);
  });

  it('puts each key where kcat’s murmur2 puts it, a partition key instead of the key when given, and kafkats’s own murmur2 agrees', async () => {
    const byKcat = uniqueName('kt-kcat');
    const ours = uniqueName('kt-ours');
    const theirs = uniqueName('kt-kafkats');
    for (const t of [byKcat, ours, theirs]) await createTopic(t, 6);
    const keys = Array.from({ length: 300 }, (_, i) => `key-${i}-${'x'.repeat(i % 13)}`);
    await produceWithKcat(byKcat, keys.map((key) => ({ key, value: 'v' })), ['-X', 'partitioner=murmur2_random']);
    await producer.send(
      new Map([
        [
          ours,
          keys.map((key, i) => (i % 2 === 0 ? { key: Buffer.from(key), value: null } : { key: Buffer.from(`other-${i}`), partitionKey: Buffer.from(key), value: Buffer.from(key) })),
        ],
      ]),
    );
    const raw = new Producer(shared, { partitioner: 'murmur2' });
    await raw.send(theirs, keys.map((key) => ({ key: Buffer.from(key), value: Buffer.from('v') })));
    await raw.disconnect();
    const kcatPartition = new Map((await readAll(byKcat, keys.length)).map((r) => [r.key, r.partition]));
    const ourPartition = new Map((await readAll(ours, keys.length)).map((r) => [r.value ?? r.key, r.partition]));
    const theirPartition = new Map((await readAll(theirs, keys.length)).map((r) => [r.key, r.partition]));
    expect(keys.filter((k) => ourPartition.get(k) !== kcatPartition.get(k))).toEqual([]);
    expect(keys.filter((k) => theirPartition.get(k) !== kcatPartition.get(k))).toEqual([]);
    expect(keys.filter((k) => partitionOfKey(Buffer.from(k), 6) !== kcatPartition.get(k))).toEqual([]);
    expect(new Set(kcatPartition.values()).size).toBe(6);
  });

  it('spreads records without a key over the partitions in turn, as KafkaJS does', async () => {
    const topic = uniqueName('kt-no-key');
    await createTopic(topic, 4);
    await producer.send(new Map([[topic, Array.from({ length: 40 }, (_, i) => ({ key: null, value: Buffer.from(String(i)) }))]]));
    const counts = [...byPartition(await readAll(topic, 40))].map(([, list]) => list.length);
    expect(counts).toEqual([10, 10, 10, 10]);
  });

  it('keeps each partition’s records in order over 50,000 records in sends of 2,000, with contiguous offsets from each base', async () => {
    const topic = uniqueName('kt-order');
    await createTopic(topic, 4);
    const bases = new Map<number, bigint[]>();
    for (let start = 0; start < 50_000; start += 2000) {
      const records = Array.from({ length: 2000 }, (_, i) => ({ key: Buffer.from(`k${(start + i) % 97}`), value: Buffer.from(String(start + i)) }));
      for (const ack of await producer.send(new Map([[topic, records]]))) bases.set(ack.partition, [...(bases.get(ack.partition) ?? []), BigInt(ack.baseOffset)]);
    }
    const read = await readAll(topic, 50_000);
    expect(read.length).toBe(50_000);
    for (const [partition, list] of byPartition(read)) {
      const values = list.map((r) => Number(r.value));
      expect(values, `partition ${partition} in send order`).toEqual([...values].sort((a, b) => a - b));
      expect(list.every((r) => partitionOfKey(Buffer.from(r.key!), 4) === partition)).toBe(true);
      // Each send's first record for the partition sits at the base it was acknowledged with.
      const starts = list.filter((r, i) => i === 0 || Math.floor(Number(r.value) / 2000) !== Math.floor(Number(list[i - 1]!.value) / 2000));
      expect(starts.map((r) => BigInt(r.offset))).toEqual(bases.get(partition));
    }
  });

  it('takes sends from several tasks at once: each send’s records of a partition together and in order, none lost or doubled', async () => {
    const topic = uniqueName('kt-concurrent');
    await createTopic(topic, 2);
    const sends = Array.from({ length: 10 }, (_, s) =>
      producer.send(new Map([[topic, Array.from({ length: 2000 }, (_, i) => ({ partition: i % 2, key: Buffer.from(`s${s}`), value: Buffer.from(String(i)) }))]])),
    );
    const acks = await Promise.all(sends);
    const read = await readAll(topic, 20_000);
    expect(read.length).toBe(20_000);
    for (const [partition, list] of byPartition(read)) {
      for (const [s, ack] of acks.entries()) {
        const base = Number(ack.find((a) => a.partition === partition)!.baseOffset);
        const mine = list.slice(base, base + 1000);
        expect(mine.map((r) => r.key), `send ${s} contiguous in partition ${partition}`).toEqual(Array(1000).fill(`s${s}`));
        expect(mine.map((r) => Number(r.value))).toEqual(Array.from({ length: 1000 }, (_, i) => 2 * i + partition));
      }
    }
  });

  it('sends a partition’s records in pieces the broker takes when one send holds more than a batch may, in order, acknowledging the first', async () => {
    const topic = uniqueName('kt-large');
    await createTopic(topic, 2);
    const value = Buffer.alloc(1000, 'v');
    const records = Array.from({ length: 3000 }, (_, i) => ({ partition: 0, key: Buffer.from(String(i)), value }));
    expect(await producer.send(new Map([[topic, [...records, { partition: 1, key: null, value }]]]))).toEqual([
      { topic, partition: 0, baseOffset: '0' },
      { topic, partition: 1, baseOffset: '0' },
    ]);
    const read = (await readAll(topic, 3001)).filter((r) => r.partition === 0);
    expect(read.map((r) => r.key)).toEqual(records.map((r) => r.key.toString()));
  });

  it('rejects a send to a topic that does not exist with a transient answer', async () => {
    const error = await producer.send(new Map([[uniqueName('kt-nowhere'), [{ key: null, value: Buffer.from('v') }]]])).catch((e: unknown) => e);
    expect(kafkatsTransient(error)).toBe('UNKNOWN_TOPIC_OR_PARTITION');
  });
});

function sorted<T extends { partition: number }>(list: readonly T[]): T[] {
  return [...list].sort((a, b) => a.partition - b.partition);
}


describe('the kafkats transactional producer', () => {
  let shared: Cluster;
  let admin: KafkatsAdmin;

  beforeAll(async () => {
    shared = cluster();
    admin = kafkatsAdmin(shared, { brokers: brokers().split(','), logger });
    await admin.connect();
  });
  afterAll(async () => {
    await Promise.all(clusters.map((c) => c.disconnect().catch(() => {})));
  });

  const ends = async (topic: string) => [...(await admin.offsets(topic)).values()].map((o) => o.high);
  const records = (values: readonly string[]): OutputRecord[] => values.map((v, i) => ({ partition: i % 2, key: Buffer.from(v), value: Buffer.from(v) }));
  /** A transaction's three names and topics (output: 2 partitions), and a transactional producer, closed after `use`. */
  const inTransactions = async (
    name: string,
    inputPartitions: number,
    use: (t: { output: string; input: string; groupId: string; producer: TransactionalProducer }) => Promise<void>,
  ) => {
    const output = uniqueName(`${name}-out`);
    const input = uniqueName(`${name}-in`);
    const groupId = uniqueName(`${name}-group`);
    await createTopic(output, 2);
    await createTopic(input, inputPartitions);
    const producer = await openKafkatsTransactionalProducer(shared, uniqueName('kt-tx'), logger);
    try {
      await use({ output, input, groupId, producer });
    } finally {
      await producer.close();
    }
  };

  it('shows a transaction’s records and commits its offsets only once it commits', () =>
    inTransactions('kt-tx', 2, async ({ output, input, groupId, producer }) => {
      await producer.begin();
      const acks = await producer.send(new Map([[output, records(['a', 'b', 'c', 'd'])]]));
      expect(sorted(acks)).toEqual([
        { topic: output, partition: 0, baseOffset: '0' },
        { topic: output, partition: 1, baseOffset: '0' },
      ]);
      await producer.sendOffsets([{ topic: input, partition: 1, offset: '7' }], { groupId, generationId: -1, memberId: '' });
      // Written, but not stable yet: read_committed readers stop before them.
      expect(await ends(output)).toEqual(['0', '0']);
      expect(await admin.committedOffsets(groupId, input)).toEqual(new Map());
      await producer.commit();
      await waitFor('the commit markers', async () => (await ends(output)).join() === '3,3');
      expect((await readAll(output, 6)).map((r) => r.value)).toEqual(['a', 'c', 'b', 'd']);
      expect(await admin.committedOffsets(groupId, input)).toEqual(new Map([[1, '7']]));
    }));

  it('drops an aborted transaction’s records and offsets; the next transaction goes through', () =>
    inTransactions('kt-abort', 1, async ({ output, input, groupId, producer }) => {
      await producer.begin();
      await producer.send(new Map([[output, records(['x1', 'x2'])]]));
      await producer.sendOffsets([{ topic: input, partition: 0, offset: '3' }], { groupId, generationId: -1, memberId: '' });
      await producer.abort();
      await producer.begin();
      await producer.send(new Map([[output, records(['y1', 'y2'])]]));
      await producer.sendOffsets([{ topic: input, partition: 0, offset: '5' }], { groupId, generationId: -1, memberId: '' });
      await producer.commit();
      // Per partition: the aborted record, its marker, the committed record, its marker.
      await waitFor('both transactions’ markers', async () => (await ends(output)).join() === '4,4');
      expect((await readAll(output, 8)).map((r) => r.value)).toEqual(['y1', 'y2']);
      expect(await admin.committedOffsets(groupId, input)).toEqual(new Map([[0, '5']]));
    }));

  it('passes the group’s generation and member with the offsets (KIP-447): a member the group does not know cannot commit', () =>
    inTransactions('kt-zombie', 1, async ({ output, input, groupId, producer }) => {
      await producer.begin();
      await producer.send(new Map([[output, records(['z'])]]));
      await producer.sendOffsets([{ topic: input, partition: 0, offset: '1' }], { groupId, generationId: 3, memberId: 'gone-member' });
      await expect(producer.commit()).rejects.toThrow();
      await waitFor('the abort marker', async () => (await ends(output))[0] === '2');
      expect(await admin.committedOffsets(groupId, input)).toEqual(new Map());
      // The KafkaJS reader waits for a record that never comes here; kcat reads to the end and stops.
      const { stdout } = await run('kcat', ['-b', brokers(), '-C', '-t', output, '-o', 'beginning', '-e', '-q', '-X', 'isolation.level=read_committed', '-f', '%s\\n']);
      expect(stdout).toBe('');
    }));
});

describe('the kafkats client on a three-broker cluster', () => {
  const nodes = useCluster(3, async () => void (await Promise.all(clusters.map((c) => c.disconnect().catch(() => {})))));

  it('counts a partition whose only broker is down, which kafkats’s own metadata leaves out, and reaches that broker once it is back', { timeout: 180_000 }, async () => {
    const topic = uniqueName('kt-leaderless');
    await createTopic(topic, 6, { replicationFactor: 1 });
    await nodes().kill(3);
    let down = true;
    try {
      const witness = cluster();
      await witness.connect();
      const leaders = async () => (await metadata(witness, [topic])).topics[0]!.partitions.map((p) => p.leaderId);
      await waitFor('the partitions of broker 3 without a leader', async () => (await leaders()).some((l) => l < 0), { timeoutMs: 60_000 });
      const fresh = cluster();
      const admin = kafkatsAdmin(fresh, { brokers: brokers().split(','), logger });
      await admin.connect();
      expect((await fresh.refreshMetadata([topic])).topics.get(topic)!.partitions.size).toBeLessThan(6);
      expect(await admin.partitionCounts([topic])).toEqual(new Map([[topic, 6]]));
      // The admin's cached metadata lists no broker 3: asking it for offsets must re-read the brokers.
      await nodes().start(3);
      down = false;
      await waitFor('broker 3 leading again', async () => (await leaders()).includes(3), { timeoutMs: 60_000 });
      expect([...(await admin.offsets(topic)).keys()].sort()).toEqual([0, 1, 2, 3, 4, 5]);
    } finally {
      if (down) await nodes().start(3);
    }
  });

  it('loses no record and writes none twice while a broker is killed and comes back under sends', { timeout: 420_000 }, async () => {
    const topic = uniqueName('kt-failover');
    await createTopic(topic, 6, { replicationFactor: 3, config: { 'min.insync.replicas': '2' } });
    const shared = cluster();
    await kafkatsAdmin(shared, { brokers: brokers().split(','), logger }).connect();
    const producer = await openKafkatsProducer(shared, logger);
    let acknowledged = 0;
    let stop = false;
    const failures: string[] = [];
    const sending = (async () => {
      for (let n = 0; !stop; n++) {
        const records = Array.from({ length: 2000 }, (_, i) => ({ key: Buffer.from(`k${i % 61}`), value: Buffer.from(String(n * 2000 + i)) }));
        try {
          await producer.send(new Map([[topic, records]]));
          acknowledged = (n + 1) * 2000;
        } catch (error) {
          failures.push((error as Error).message);
          break;
        }
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    })();
    try {
      await waitFor('a few sends', () => acknowledged >= 20_000);
      await nodes().kill(2);
      const before = acknowledged;
      // Until the controller takes broker 2 for dead (its session, 9 s) nothing moves; then 40,000
      // go: ~12 s on a quiet machine, more than 45 s with both cores busy (test:busy).
      await waitFor('sends going on without broker 2', () => acknowledged >= before + 40_000, { timeoutMs: 150_000 });
      await nodes().start(2);
      const back = acknowledged;
      await waitFor('sends going on with broker 2 back', () => acknowledged >= back + 20_000, { timeoutMs: 150_000 });
    } finally {
      stop = true;
      await sending;
      await producer.close();
    }
    expect(failures).toEqual([]);
    const read = await readAll(topic, acknowledged);
    expect(read.length).toBe(acknowledged);
    expect(new Set(read.map((r) => r.value)).size).toBe(acknowledged);
    for (const [partition, list] of byPartition(read)) {
      const values = list.map((r) => Number(r.value));
      expect(values, `partition ${partition} in send order`).toEqual([...values].sort((a, b) => a - b));
    }
  });
});
