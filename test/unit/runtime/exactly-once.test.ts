import { describe, expect, it, vi } from 'vitest';
import { serdes, topology } from '../../../lib/index.ts';
import type { GroupMetadata, InputBatch, OutputRecord, TopicPartitionOffset, TransactionalProducer } from '../../../lib/kafka/client.ts';
import { ExactlyOnce, isRolledBack } from '../../../lib/runtime/exactly-once.ts';
import { Counters } from '../../../lib/runtime/stats.ts';
import type { Task } from '../../../lib/runtime/task.ts';
import { newTask } from './new-task.ts';

/** What a transactional producer was asked, in order; `fail` makes the next call of that name reject. */
function recordingProducer(name: string, log: string[], fail: Set<string>): TransactionalProducer {
  const step = async (what: string) => {
    log.push(`${name}.${what}`);
    if (fail.delete(what)) throw Object.assign(new Error(`${what} failed`), what === 'fenced' ? { errorCode: 90 } : {});
  };
  return {
    begin: () => step('begin'),
    async send(records: ReadonlyMap<string, readonly OutputRecord[]>) {
      await step('send');
      if (fail.delete('fenced')) throw Object.assign(new Error('fenced'), { errorCode: 90 });
      return [...records.keys()].map((topic) => ({ topic, partition: 0, baseOffset: '0' }));
    },
    async sendOffsets(offsets: readonly TopicPartitionOffset[], group: GroupMetadata) {
      await step(`sendOffsets(${offsets.map((o) => `${o.topic}:${o.partition}@${o.offset}`).join(',')} gen ${group.generationId})`);
    },
    commit: () => step('commit'),
    abort: () => step('abort'),
    close: () => step('close'),
  };
}

const batch = (offsets: number[]): InputBatch => ({
  topic: 'in',
  partition: 0,
  records: offsets.map((o) => ({ key: Buffer.from('k'), value: Buffer.from(`v${o}`), timestamp: String(1000 + o), offset: String(o) })),
  lastOffset: String(offsets.at(-1)),
});

async function setUp(intervalMs: number) {
  const log: string[] = [];
  const fail = new Set<string>();
  let producers = 0;
  const rollBack = vi.fn(async () => {
    log.push('rollBack');
  });
  const { task } = await newTask(
    topology('app')
      .stream('in', { key: serdes.string, value: serdes.string })
      .mapValues((v) => v.toUpperCase())
      .to('out'),
  );
  const stats = new Counters();
  const eos = await ExactlyOnce.open({
    open: async () => recordingProducer(`p${++producers}`, log, fail),
    group: () => ({ groupId: 'app', generationId: 7, memberId: 'm' }),
    intervalMs,
    rollBack,
    current: (t: Task) => t === task,
    fatal: () => {},
    stats,
    logger: { error() {}, warn() {}, info() {}, debug() {} },
  });
  /** Processes the records as a batch's chunk and hands it to the transaction, as processBatch does. */
  const chunk = (offsets: number[]) => {
    const b = batch(offsets);
    task.process(b, 0, 10_000);
    // The offsets go with the transaction, not through the committer.
    return eos.commit(task, { commit: () => Promise.reject(new Error('not under exactly-once')) }, { topic: b.topic, partition: b.partition, records: offsets.length });
  };
  return { log, fail, rollBack, task, eos, chunk, consumed: () => stats.snapshot().consumed };
}

describe('ExactlyOnce', () => {
  it('holds chunks in one transaction until the interval went by, then sends their latest offsets with the generation and commits', async () => {
    const { log, eos, chunk, consumed } = await setUp(60_000);
    await chunk([0, 1]);
    await chunk([2]);
    expect(log).toEqual(['p1.begin', 'p1.send', 'p1.send']);
    // Counted once the transaction holding them commits.
    expect(consumed()).toBe(0);
    await eos.onRevoke();
    expect(log.slice(3)).toEqual(['p1.sendOffsets(in:0@3 gen 7)', 'p1.commit']);
    expect(consumed()).toBe(3);
    // Nothing open: a second revoke commits nothing.
    await eos.onRevoke();
    expect(log).toHaveLength(5);
  });

  it('commits at the first chunk once the interval is over, and opens the next transaction with the next send', async () => {
    const { log, chunk } = await setUp(0);
    await chunk([0]);
    await chunk([1]);
    expect(log).toEqual(['p1.begin', 'p1.send', 'p1.sendOffsets(in:0@1 gen 7)', 'p1.commit', 'p1.begin', 'p1.send', 'p1.sendOffsets(in:0@2 gen 7)', 'p1.commit']);
  });

  it('commits on a timer when no chunk comes', async () => {
    const { log, chunk } = await setUp(30);
    await chunk([0]);
    await vi.waitFor(() => expect(log).toContain('p1.commit'));
  });

  it('a failed commit aborts, rolls back, and refuses sends until the rollback is over', async () => {
    const { log, fail, rollBack, chunk, consumed } = await setUp(0);
    fail.add('commit');
    const first = chunk([0]);
    await expect(first).rejects.toSatisfy(isRolledBack);
    await vi.waitFor(() => expect(rollBack).toHaveBeenCalledOnce());
    expect(log).toEqual(['p1.begin', 'p1.send', 'p1.sendOffsets(in:0@1 gen 7)', 'p1.commit', 'p1.abort', 'rollBack']);
    expect(consumed()).toBe(0);
    // Afterwards the same producer opens the next transaction.
    await chunk([0]);
    expect(log.slice(6)).toEqual(['p1.begin', 'p1.send', 'p1.sendOffsets(in:0@1 gen 7)', 'p1.commit']);
    // The record aborted with the first transaction counts once, with the one that committed it.
    expect(consumed()).toBe(1);
  });

  it('a producer that cannot abort, or was fenced, is replaced by a new one before the rollback', async () => {
    const { log, fail, rollBack, chunk } = await setUp(0);
    fail.add('commit');
    fail.add('abort');
    await expect(chunk([0])).rejects.toSatisfy(isRolledBack);
    await vi.waitFor(() => expect(rollBack).toHaveBeenCalledOnce());
    expect(log.slice(4)).toEqual(['p1.abort', 'p1.close', 'rollBack']);
    fail.add('fenced');
    await expect(chunk([0])).rejects.toSatisfy(isRolledBack);
    await vi.waitFor(() => expect(rollBack).toHaveBeenCalledTimes(2));
    // Fenced: no abort is tried with the old epoch; a new producer takes over.
    expect(log.slice(7)).toEqual(['p2.begin', 'p2.send', 'p2.close', 'rollBack']);
    await chunk([0]);
    expect(log.slice(11)).toEqual(['p3.begin', 'p3.send', 'p3.sendOffsets(in:0@1 gen 7)', 'p3.commit']);
  });

  it('offsets the consumer moved past on its own go with the open transaction', async () => {
    const { log, eos } = await setUp(60_000);
    await eos.commitPast([{ topic: 'in', partition: 1, offset: '42' }]);
    await eos.onRevoke();
    expect(log).toEqual(['p1.begin', 'p1.sendOffsets(in:1@42 gen 7)', 'p1.commit']);
  });

  it('discard drops what the task holds and marks it to be opened afresh', async () => {
    const { task, eos } = await setUp(60_000);
    task.process(batch([0]), 0, 10_000);
    expect(task.outputs.size).toBe(1);
    eos.discard(task);
    expect([task.outputs.size, task.takePositions(), task.dirty]).toEqual([0, [], true]);
  });
});
