import { mkdir, mkdtemp, readFile, rm, stat, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { serdes } from '../../../lib/index.ts';
import type { ChangelogReader, InputRecord, PartitionOffsets, ProducedOffset, TopicPartitionOffset } from '../../../lib/kafka/client.ts';
import type { LogFields, Logger } from '../../../lib/runtime/logger.ts';
import { OutputBuffer } from '../../../lib/runtime/output-buffer.ts';
import { TaskStores, type StoreSpec, type TaskStoresOptions } from '../../../lib/state/task-stores.ts';
import type { Serde } from '../../../lib/serde/serde.ts';
import { timestampedSerde, windowKeySerde } from '../../../lib/state/window-store.ts';

const PARTITION = 1;
const COUNTS = 'app-counts-changelog';

/** Stands in for the broker: changelog partitions as arrays, read by offset range in batches of two. */
class FakeChangelog implements ChangelogReader {
  readonly #logs = new Map<string, { low: number; records: InputRecord[] }>();
  readonly reads: { topic: string; partition: number; from: string; until: string }[] = [];
  failOn: string | undefined;
  onRead: (() => void) | undefined;

  #log(topic: string, partition: number) {
    const id = `${topic}/${partition}`;
    let log = this.#logs.get(id);
    if (log === undefined) this.#logs.set(id, (log = { low: 0, records: [] }));
    return log;
  }

  append(topic: string, partition: number, key: Buffer | string | null, value: Buffer | string | null): string {
    const log = this.#log(topic, partition);
    const offset = String(log.low + log.records.length);
    const bytes = (x: Buffer | string | null) => (typeof x === 'string' ? Buffer.from(x) : x);
    log.records.push({ key: bytes(key), value: bytes(value), timestamp: '0', offset });
    return offset;
  }

  /** Retention or compaction took the records below `low`. */
  truncate(topic: string, partition: number, low: number): void {
    const log = this.#log(topic, partition);
    log.records = log.records.filter((r) => Number(r.offset) >= low);
    log.low = low;
  }

  /** What a producer does with the outputs: appends each lane, answers with the base offsets. */
  produce(outputs: OutputBuffer): ProducedOffset[] {
    const acks: ProducedOffset[] = [];
    for (const [topic, lane] of outputs.lanes) {
      const first = new Map<number, string>();
      for (const r of lane) {
        const offset = this.append(topic, r.partition!, r.key, r.value);
        if (!first.has(r.partition!)) first.set(r.partition!, offset);
      }
      for (const [partition, baseOffset] of first) acks.push({ topic, partition, baseOffset });
    }
    outputs.clear();
    return acks;
  }

  async read(topic: string, partition: number, from: string, until: string, onRecords: (records: readonly InputRecord[]) => Promise<void>) {
    this.reads.push({ topic, partition, from, until });
    if (topic === this.failOn) throw new Error(`cannot read ${topic}`);
    this.onRead?.();
    const records = this.#log(topic, partition).records.filter((r) => BigInt(r.offset) >= BigInt(from) && BigInt(r.offset) < BigInt(until));
    for (let i = 0; i < records.length; i += 2) await onRecords(records.slice(i, i + 2));
  }

  async close() {}

  offsets = async (topic: string): Promise<Map<number, PartitionOffsets>> => {
    const map = new Map<number, PartitionOffsets>();
    for (const [id, log] of this.#logs) {
      const [t, p] = id.split('/');
      if (t === topic) map.set(Number(p), { low: String(log.low), high: String(log.low + log.records.length) });
    }
    return map;
  };
}

interface Logged {
  level: string;
  message: string;
  fields: LogFields | undefined;
}
function collectingLogger(into: Logged[]): Logger {
  const at = (level: string) => (message: string, fields?: LogFields) => void into.push({ level, message, fields });
  return { error: at('error'), warn: at('warn'), info: at('info'), debug: at('debug') };
}

const countsSpec: StoreSpec = { store: 'counts', changelog: COUNTS, serdes: { key: serdes.string, value: serdes.json() } };
const usersSpec: StoreSpec = { store: 'users', changelog: 'users', serdes: { key: serdes.string, value: serdes.json() }, sourceTopic: true };
const windowSerde = windowKeySerde(serdes.string);
const windowSpec: StoreSpec = {
  store: 'w',
  changelog: 'app-w-changelog',
  serdes: { key: windowSerde as StoreSpec['serdes']['key'], value: timestampedSerde(serdes.json() as Serde<unknown>) as StoreSpec['serdes']['value'] },
  window: { grace: 5, key: serdes.string },
};

let root: string;
let taskDir: string;
let changelog: FakeChangelog;
let logged: Logged[];
/** Per store restored, in order: the records read back, and the offsets left after each report. */
let restores: Map<string, { records: number; remaining: bigint[] }>;
/** Records read back per store restored, in order. */
const restoredCounts = () => [...restores.values()].map((r) => r.records);
const opened: TaskStores[] = [];

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'streamrun-task-stores-'));
  taskDir = join(root, 'app', '0_1');
  changelog = new FakeChangelog();
  logged = [];
  restores = new Map();
});
afterEach(async () => {
  vi.restoreAllMocks();
  await Promise.allSettled(opened.splice(0).map((s) => s.close()));
  await rm(root, { recursive: true, force: true });
});

function options(specs: readonly StoreSpec[], overrides: Partial<TaskStoresOptions> = {}): TaskStoresOptions {
  return {
    directory: taskDir,
    taskId: '0_1',
    partition: PARTITION,
    specs,
    reader: changelog,
    changelogOffsets: changelog.offsets,
    logger: collectingLogger(logged),
    onRestore: (store, records, remaining) => {
      const restore = restores.get(store) ?? { records: 0, remaining: [] };
      restore.records += records;
      restore.remaining.push(remaining);
      restores.set(store, restore);
    },
    ...overrides,
  };
}

async function openStores(specs: readonly StoreSpec[] = [countsSpec], overrides: Partial<TaskStoresOptions> = {}) {
  changelog.reads.length = 0;
  restores.clear();
  logged.length = 0;
  const stores = await TaskStores.open(options(specs, overrides));
  opened.push(stores);
  return stores;
}

async function closeStores(stores: TaskStores) {
  await stores.close();
  opened.splice(opened.indexOf(stores), 1);
}

const checkpointOf = async (store: string) => JSON.parse(await readFile(join(taskDir, `${store}.checkpoint`), 'utf8')) as unknown;
const json = (v: unknown) => JSON.stringify(v);

/** Six changelog records for `counts` on the task's partition: a=3, b deleted, c=1; a null key is skipped. */
function fillCounts() {
  changelog.append(COUNTS, PARTITION, 'a', json(1));
  changelog.append(COUNTS, PARTITION, 'b', json(7));
  changelog.append(COUNTS, PARTITION, null, json(99));
  changelog.append(COUNTS, PARTITION, 'a', json(3));
  changelog.append(COUNTS, PARTITION, 'b', null);
  changelog.append(COUNTS, PARTITION, 'c', json(1));
  // Another task's partition of the same changelog.
  changelog.append(COUNTS, 0, 'zz', json(5));
}

/** A key only the store's files hold, as if written and flushed without the changelog: shows whether the files survived. */
async function plantLocalOnlyKey(stores: TaskStores) {
  const store = stores.get('counts');
  store.put('local-only', 1);
  store.changes();
  await store.flush();
}

describe('TaskStores.open: restoring from the changelog', () => {
  it('restores a new store from the changelog start up to its end, then checkpoints the end', async () => {
    fillCounts();
    const stores = await openStores();
    expect(changelog.reads).toEqual([{ topic: COUNTS, partition: PARTITION, from: '0', until: '6' }]);
    const counts = stores.get('counts');
    expect([counts.get('a'), counts.get('b'), counts.get('c'), counts.get('zz')]).toEqual([3, undefined, 1, undefined]);
    expect(restoredCounts()).toEqual([6]);
    // 6 to go, then what each chunk left, then nothing.
    expect(restores.get('counts')!.remaining.at(0)).toBe(6n);
    expect(restores.get('counts')!.remaining.at(-1)).toBe(0n);
    expect(await checkpointOf('counts')).toEqual({ offset: '6' });
    expect(stores.names()).toEqual(['counts']);
  });

  it('logs what it restored, how long it took and how fast', async () => {
    fillCounts();
    let now = 1_000_000;
    vi.spyOn(Date, 'now').mockImplementation(() => now);
    changelog.onRead = () => (now += 250);
    await openStores();
    vi.restoreAllMocks();
    expect(logged).toEqual([
      {
        level: 'info',
        message: 'restored store counts of task 0_1',
        fields: { records: 6, fromOffset: '0', toOffset: '6', ms: 250, recordsPerSecond: 24 },
      },
    ]);
  });

  it('reports the record count as the rate when the restore took no measurable time', async () => {
    fillCounts();
    vi.spyOn(Date, 'now').mockImplementation(() => 5_000);
    await openStores();
    vi.restoreAllMocks();
    expect(logged[0]!.fields).toMatchObject({ records: 6, ms: 0, recordsPerSecond: 6 });
  });

  it('after a restart restores only the tail past the checkpoint, keeping the files', async () => {
    fillCounts();
    const first = await openStores();
    await plantLocalOnlyKey(first);
    await closeStores(first);
    changelog.append(COUNTS, PARTITION, 'c', json(2));
    changelog.append(COUNTS, PARTITION, 'd', json(4));
    const second = await openStores();
    expect(changelog.reads).toEqual([{ topic: COUNTS, partition: PARTITION, from: '6', until: '8' }]);
    expect(restoredCounts()).toEqual([2]);
    const counts = second.get('counts');
    expect([counts.get('a'), counts.get('c'), counts.get('d'), counts.get('local-only')]).toEqual([3, 2, 4, 1]);
    expect(await checkpointOf('counts')).toEqual({ offset: '8' });
    expect(logged[0]!.fields).toMatchObject({ records: 2, fromOffset: '6', toOffset: '8' });
  });

  it('a checkpoint at the end of the changelog restores nothing', async () => {
    fillCounts();
    await closeStores(await openStores());
    const again = await openStores();
    expect(changelog.reads).toEqual([{ topic: COUNTS, partition: PARTITION, from: '6', until: '6' }]);
    expect(restoredCounts()).toEqual([0]);
    expect(again.get('counts').get('a')).toBe(3);
  });

  it('a checkpoint exactly at the changelog start is still usable', async () => {
    fillCounts();
    const first = await openStores();
    await plantLocalOnlyKey(first);
    await closeStores(first);
    changelog.append(COUNTS, PARTITION, 'e', json(5));
    changelog.truncate(COUNTS, PARTITION, 6);
    const second = await openStores();
    expect(changelog.reads).toEqual([{ topic: COUNTS, partition: PARTITION, from: '6', until: '7' }]);
    const counts = second.get('counts');
    expect([counts.get('a'), counts.get('e'), counts.get('local-only')]).toEqual([3, 5, 1]);
  });

  it('a checkpoint below the changelog start (records lost) wipes the files and restores from the start', async () => {
    fillCounts();
    const first = await openStores();
    await plantLocalOnlyKey(first);
    await closeStores(first);
    changelog.append(COUNTS, PARTITION, 'e', json(5));
    changelog.append(COUNTS, PARTITION, 'f', json(6));
    changelog.truncate(COUNTS, PARTITION, 7);
    const second = await openStores();
    expect(changelog.reads).toEqual([{ topic: COUNTS, partition: PARTITION, from: '7', until: '8' }]);
    expect(restoredCounts()).toEqual([1]);
    const counts = second.get('counts');
    expect([counts.get('a'), counts.get('e'), counts.get('f'), counts.get('local-only')]).toEqual([undefined, undefined, 6, undefined]);
    expect(await checkpointOf('counts')).toEqual({ offset: '8' });
  });

  it('a checkpoint beyond the changelog end wipes the files and restores from the start', async () => {
    fillCounts();
    const first = await openStores();
    await plantLocalOnlyKey(first);
    await closeStores(first);
    await writeFile(join(taskDir, 'counts.checkpoint'), json({ offset: '7' }));
    const second = await openStores();
    expect(changelog.reads).toEqual([{ topic: COUNTS, partition: PARTITION, from: '0', until: '6' }]);
    expect(restoredCounts()).toEqual([6]);
    const counts = second.get('counts');
    expect([counts.get('a'), counts.get('local-only')]).toEqual([3, undefined]);
    expect(await checkpointOf('counts')).toEqual({ offset: '6' });
  });

  it('files without a checkpoint are wiped and rebuilt from the changelog', async () => {
    fillCounts();
    const first = await openStores();
    await plantLocalOnlyKey(first);
    await closeStores(first);
    await unlink(join(taskDir, 'counts.checkpoint'));
    const second = await openStores();
    expect(changelog.reads).toEqual([{ topic: COUNTS, partition: PARTITION, from: '0', until: '6' }]);
    expect([second.get('counts').get('a'), second.get('counts').get('local-only')]).toEqual([3, undefined]);
  });

  it('a checkpoint without the store files it speaks of is ignored', async () => {
    fillCounts();
    await mkdir(taskDir, { recursive: true });
    await writeFile(join(taskDir, 'counts.checkpoint'), json({ offset: '4' }));
    const stores = await openStores();
    expect(changelog.reads).toEqual([{ topic: COUNTS, partition: PARTITION, from: '0', until: '6' }]);
    expect(stores.get('counts').get('a')).toBe(3);
    expect(await checkpointOf('counts')).toEqual({ offset: '6' });
  });

  it('a changelog partition the broker does not report counts as empty: offsets 0 to 0', async () => {
    changelog.append(COUNTS, 0, 'other', json(1));
    const stores = await openStores();
    expect(changelog.reads).toEqual([{ topic: COUNTS, partition: PARTITION, from: '0', until: '0' }]);
    expect(restoredCounts()).toEqual([0]);
    expect(await checkpointOf('counts')).toEqual({ offset: '0' });
    expect((await stat(join(taskDir, 'counts'))).isDirectory()).toBe(true);
    expect(stores.get('counts').get('other')).toBeUndefined();
  });

  it('restores every store, each from its own changelog, with a count each', async () => {
    fillCounts();
    changelog.append('users', PARTITION, 'u1', json({ name: 'Ann' }));
    const stores = await openStores([countsSpec, usersSpec]);
    expect(stores.names()).toEqual(['counts', 'users']);
    expect(changelog.reads.map((r) => r.topic)).toEqual([COUNTS, 'users']);
    expect(restoredCounts()).toEqual([6, 1]);
    expect(stores.get('users').get('u1')).toEqual({ name: 'Ann' });
    expect(await checkpointOf('users')).toEqual({ offset: '1' });
  });

  it('a failed restore rejects, and closes the stores it opened (their directories open again)', async () => {
    fillCounts();
    changelog.failOn = 'users';
    await expect(TaskStores.open(options([countsSpec, usersSpec]))).rejects.toThrow('cannot read users');
    changelog.failOn = COUNTS;
    await expect(TaskStores.open(options([countsSpec]))).rejects.toThrow(`cannot read ${COUNTS}`);
    changelog.failOn = undefined;
    const stores = await openStores([countsSpec, usersSpec]);
    expect(stores.get('counts').get('a')).toBe(3);
  });
});

describe('TaskStores: lookups', () => {
  it('finds stores and window states by name, and says which it lacks', async () => {
    const stores = await openStores([countsSpec, windowSpec]);
    expect(stores.names()).toEqual(['counts', 'w']);
    expect(stores.get('counts').name).toBe('counts');
    expect(stores.get('w').name).toBe('w');
    expect(() => stores.get('nope')).toThrow('no store nope in this task');
    expect(() => stores.windows('nope')).toThrow('no store nope in this task');
    expect(() => stores.windows('counts')).toThrow('store counts is not a window store');
    expect(stores.windows('w').windowsOf('k')).toEqual([]);
  });

  it('a window store reads its open windows back after the restore; stream time resumes from their newest record', async () => {
    const w = (key: string, start: number, end: number) => windowSerde.serialize({ key, start, end });
    const at = (value: number, timestamp: number) => timestampedSerde(serdes.json() as Serde<unknown>).serialize({ value, timestamp });
    changelog.append('app-w-changelog', PARTITION, w('k', 0, 10), at(1, 9));
    changelog.append('app-w-changelog', PARTITION, w('k', 10, 20), at(2, 19));
    changelog.append('app-w-changelog', PARTITION, w('j', 30, 40), at(3, 33));
    changelog.append('app-w-changelog', PARTITION, w('k', 0, 10), null);
    const stores = await openStores([windowSpec]);
    const windows = stores.windows('w');
    expect(windows.windowsOf('k')).toEqual([{ key: 'k', start: 10, end: 20 }]);
    expect(windows.windowsOf('j')).toEqual([{ key: 'j', start: 30, end: 40 }]);
    expect(windows.streamTime).toBe(33);
    expect(windows.get({ key: 'j', start: 30, end: 40 })).toEqual({ value: 3, timestamp: 33 });
  });

  it('an indexed store hands the keys it restored to its node once, in key order', async () => {
    const indexed: StoreSpec = { ...countsSpec, indexed: true };
    changelog.append(COUNTS, PARTITION, 'b', json(1));
    changelog.append(COUNTS, PARTITION, 'a', json(2));
    changelog.append(COUNTS, PARTITION, 'c', json(3));
    changelog.append(COUNTS, PARTITION, 'c', null);
    const stores = await openStores([indexed, usersSpec]);
    expect(stores.takeKeys('counts')).toEqual(['a', 'b']);
    expect(stores.takeKeys('counts')).toEqual([]);
    expect(() => stores.takeKeys('users')).toThrow('store users is not an indexed store');
  });
});

describe('TaskStores: commits', () => {
  it('stages each store’s pending writes for its changelog partition, not a source-topic table’s', async () => {
    const stores = await openStores([countsSpec, usersSpec]);
    stores.get('counts').put('a', 1);
    stores.get('counts').put('b', 2);
    stores.get('counts').put('a', 3);
    stores.get('users').put('u1', { name: 'Ann' });
    const outputs = new OutputBuffer();
    stores.stageChangelog(outputs);
    expect([...outputs.lanes.keys()]).toEqual([COUNTS]);
    expect(outputs.lanes.get(COUNTS)).toEqual([
      { partition: PARTITION, key: Buffer.from('a'), value: Buffer.from('3') },
      { partition: PARTITION, key: Buffer.from('b'), value: Buffer.from('2') },
    ]);
    expect(outputs.size).toBe(2);
  });

  it('flush writes the stores to disk, then checkpoints the acknowledged base offset plus the staged records', async () => {
    fillCounts();
    const stores = await openStores();
    const counts = stores.get('counts');
    counts.put('a', 10);
    counts.put('x', 1);
    counts.delete('c');
    const outputs = new OutputBuffer();
    stores.stageChangelog(outputs);
    const acks = changelog.produce(outputs);
    expect(acks).toEqual([{ topic: COUNTS, partition: PARTITION, baseOffset: '6' }]);
    await flushAcknowledged(stores, acks, []);
    expect(counts.pendingCount).toBe(0);
    expect(await checkpointOf('counts')).toEqual({ offset: '9' });
    // The checkpoint is the changelog's end: a restart restores nothing and has the new state.
    await closeStores(stores);
    const again = await openStores();
    expect(changelog.reads).toEqual([{ topic: COUNTS, partition: PARTITION, from: '9', until: '9' }]);
    expect([again.get('counts').get('a'), again.get('counts').get('x'), again.get('counts').get('c')]).toEqual([10, 1, undefined]);
  });

  it('takes the acknowledgement of its own changelog and partition', async () => {
    const stores = await openStores();
    stores.get('counts').put('a', 1);
    stores.get('counts').put('b', 1);
    stores.stageChangelog(new OutputBuffer());
    await flushAcknowledged(stores, 
      [
        { topic: COUNTS, partition: PARTITION + 1, baseOffset: '50' },
        { topic: 'app-other-changelog', partition: PARTITION, baseOffset: '90' },
        { topic: COUNTS, partition: PARTITION, baseOffset: '10' },
      ],
      [],
    );
    expect(await checkpointOf('counts')).toEqual({ offset: '12' });
  });

  it('fails without an acknowledgement for the staged records, and writes neither store nor checkpoint', async () => {
    const stores = await openStores();
    const counts = stores.get('counts');
    counts.put('a', 1);
    stores.stageChangelog(new OutputBuffer());
    await expect(flushAcknowledged(stores, [], [])).rejects.toThrow(`no acknowledgement for ${COUNTS}[${PARTITION}]`);
    await expect(flushAcknowledged(stores, [{ topic: COUNTS, partition: 0, baseOffset: '3' }], [])).rejects.toThrow(
      `no acknowledgement for ${COUNTS}[${PARTITION}]`,
    );
    expect(counts.pendingCount).toBe(1);
    expect(await checkpointOf('counts')).toEqual({ offset: '0' });
  });

  it('a store with nothing staged needs no acknowledgement and keeps its checkpoint', async () => {
    fillCounts();
    const stores = await openStores();
    await flushAcknowledged(stores, [], []);
    expect(await checkpointOf('counts')).toEqual({ offset: '6' });
    // Staged records count once: the next flush without new writes needs no acknowledgement.
    stores.get('counts').put('a', 1);
    const outputs = new OutputBuffer();
    stores.stageChangelog(outputs);
    await flushAcknowledged(stores, changelog.produce(outputs), []);
    expect(await checkpointOf('counts')).toEqual({ offset: '7' });
    await flushAcknowledged(stores, [], []);
    expect(await checkpointOf('counts')).toEqual({ offset: '7' });
  });

  it('a source-topic table checkpoints the committed position in its topic, and waits for one', async () => {
    changelog.append('users', PARTITION, 'u1', json({ name: 'Ann' }));
    const stores = await openStores([usersSpec]);
    const users = stores.get('users');
    users.put('u2', { name: 'Bob' });
    const outputs = new OutputBuffer();
    stores.stageChangelog(outputs);
    // Its topic is its changelog: nothing is written to one.
    expect(outputs.size).toBe(0);
    await flushAcknowledged(stores, [], [{ topic: 'orders', partition: PARTITION, offset: '77' }]);
    expect(users.pendingCount).toBe(1);
    expect(await checkpointOf('users')).toEqual({ offset: '1' });
    await flushAcknowledged(stores, 
      [],
      [
        { topic: 'orders', partition: PARTITION, offset: '77' },
        { topic: 'users', partition: PARTITION, offset: '31' },
      ],
    );
    expect(users.pendingCount).toBe(0);
    expect(await checkpointOf('users')).toEqual({ offset: '31' });
    const entries: unknown[] = [];
    for await (const { key } of users.range()) entries.push(key);
    expect(entries).toEqual(['u1', 'u2']);
  });

  it('discardPending forgets the pending writes and what was staged of them', async () => {
    fillCounts();
    const stores = await openStores([countsSpec, usersSpec]);
    stores.get('counts').put('a', 100);
    stores.get('users').put('u9', { name: 'Zed' });
    stores.stageChangelog(new OutputBuffer());
    stores.discardPending();
    expect(stores.get('counts').get('a')).toBe(3);
    expect(stores.get('counts').pendingCount).toBe(0);
    expect(stores.get('users').pendingCount).toBe(0);
    await flushAcknowledged(stores, [], []);
    expect(await checkpointOf('counts')).toEqual({ offset: '6' });
  });

  it('close closes every store: their directories open again', async () => {
    fillCounts();
    const stores = await openStores([countsSpec, usersSpec]);
    await closeStores(stores);
    const again = await openStores([countsSpec, usersSpec]);
    expect(again.get('counts').get('a')).toBe(3);
  });
});

/** What a commit does: the acknowledgement, then the flush. */
async function flushAcknowledged(stores: TaskStores, acks: readonly ProducedOffset[], positions: readonly TopicPartitionOffset[]): Promise<void> {
  stores.acknowledge(acks, positions);
  await stores.flush();
}
