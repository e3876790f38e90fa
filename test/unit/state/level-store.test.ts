import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { serdes } from '../../../lib/index.ts';
import type { InputRecord } from '../../../lib/kafka/client.ts';
import type { RangeOptions } from '../../../lib/state/key-value-store.ts';
import { LevelKeyValueStore } from '../../../lib/state/level-store.ts';

let dir: string;
const open: LevelKeyValueStore<unknown, unknown>[] = [];

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'streamrun-level-'));
});
afterEach(async () => {
  await Promise.allSettled(open.splice(0).map((s) => s.close()));
  await rm(dir, { recursive: true, force: true });
});

async function jsonStore(directory = join(dir, 'db')) {
  const store = await LevelKeyValueStore.open('counts', directory, { key: serdes.string, value: serdes.json<{ n: number }>() });
  open.push(store as LevelKeyValueStore<unknown, unknown>);
  return store;
}

async function all<K, V>(store: LevelKeyValueStore<K, V>, options?: RangeOptions<K>): Promise<[K, V][]> {
  const out: [K, V][] = [];
  for await (const { key, value } of store.range(options)) out.push([key, value]);
  return out;
}

const record = (key: string | null, value: string | null, offset: number): InputRecord => ({
  key: key === null ? null : Buffer.from(key),
  value: value === null ? null : Buffer.from(value),
  timestamp: '0',
  offset: String(offset),
});

describe('LevelKeyValueStore', () => {
  it('has the name it was opened with; a fresh store is empty', async () => {
    const store = await jsonStore();
    expect(store.name).toBe('counts');
    expect(store.get('a')).toBeUndefined();
    expect(store.pendingCount).toBe(0);
    expect(store.changes()).toEqual([]);
    expect(await all(store)).toEqual([]);
  });

  it('keeps writes pending until flush: get sees them, range and the disk do not', async () => {
    const store = await jsonStore();
    store.put('a', { n: 1 });
    store.put('b', { n: 2 });
    store.put('a', { n: 3 });
    expect(store.get('a')).toEqual({ n: 3 });
    expect(store.pendingCount).toBe(2);
    expect(await all(store)).toEqual([]);
    await commitWrites(store);
    expect(store.pendingCount).toBe(0);
    expect(store.changes()).toEqual([]);
    expect(await all(store)).toEqual([
      ['a', { n: 3 }],
      ['b', { n: 2 }],
    ]);
    // Now read from disk, not from the pending writes.
    expect(store.get('a')).toEqual({ n: 3 });
    expect(store.get('c')).toBeUndefined();
  });

  it('hands the pending writes to the changelog, one per key (the latest), deletes as null', async () => {
    const store = await jsonStore();
    store.put('a', { n: 1 });
    store.put('b', { n: 2 });
    store.delete('a');
    expect(store.changes()).toEqual([
      { key: Buffer.from('a'), value: null },
      { key: Buffer.from('b'), value: Buffer.from('{"n":2}') },
    ]);
  });

  it('a pending delete hides the stored value; flushed, it removes it from disk', async () => {
    const store = await jsonStore();
    store.put('a', { n: 1 });
    store.put('b', { n: 2 });
    await commitWrites(store);
    store.delete('a');
    expect(store.get('a')).toBeUndefined();
    expect(store.pendingCount).toBe(1);
    expect(await all(store)).toEqual([
      ['a', { n: 1 }],
      ['b', { n: 2 }],
    ]);
    await commitWrites(store);
    expect(store.get('a')).toBeUndefined();
    expect(await all(store)).toEqual([['b', { n: 2 }]]);
  });

  it('keeps values serialized: changing an object after put changes nothing pending', async () => {
    const store = await jsonStore();
    const value = { n: 1 };
    store.put('a', value);
    value.n = 2;
    await commitWrites(store);
    expect(store.get('a')).toEqual({ n: 1 });
  });

  it('discardPending forgets the writes not flushed; the flushed state stays', async () => {
    const store = await jsonStore();
    store.put('a', { n: 1 });
    await commitWrites(store);
    store.put('a', { n: 2 });
    store.delete('b');
    store.discardPending();
    expect(store.pendingCount).toBe(0);
    expect(store.changes()).toEqual([]);
    expect(store.get('a')).toEqual({ n: 1 });
    await commitWrites(store);
    expect(await all(store)).toEqual([['a', { n: 1 }]]);
  });

  it('flush without pending writes leaves the store as it was', async () => {
    const store = await jsonStore();
    store.put('a', { n: 1 });
    await commitWrites(store);
    await commitWrites(store);
    expect(await all(store)).toEqual([['a', { n: 1 }]]);
  });

  it('ranges in key-byte order, both bounds included, up to a limit', async () => {
    const store = await jsonStore();
    for (const k of ['d', 'a', 'c', 'e', 'b']) store.put(k, { n: k.charCodeAt(0) });
    await commitWrites(store);
    const keys = async (options?: RangeOptions<string>) => (await all(store, options)).map(([k]) => k);
    expect(await keys()).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(await keys({})).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(await keys({ from: 'b', to: 'd' })).toEqual(['b', 'c', 'd']);
    expect(await keys({ from: 'c' })).toEqual(['c', 'd', 'e']);
    expect(await keys({ to: 'b' })).toEqual(['a', 'b']);
    expect(await keys({ limit: 2 })).toEqual(['a', 'b']);
    expect(await keys({ from: 'b', limit: 1 })).toEqual(['b']);
    expect(await all(store, { from: 'e' })).toEqual([['e', { n: 101 }]]);
  });

  it('stores keys and values as raw bytes, also bytes that are not UTF-8', async () => {
    const store = await LevelKeyValueStore.open('raw', join(dir, 'raw'), { key: serdes.buffer, value: serdes.buffer });
    open.push(store as LevelKeyValueStore<unknown, unknown>);
    const k1 = Buffer.from([0xff]);
    const k2 = Buffer.from([0xfe]);
    store.put(k1, Buffer.from([0x80, 0x00, 0xff]));
    store.put(k2, Buffer.from([0xc3]));
    expect(store.get(k1)).toEqual(Buffer.from([0x80, 0x00, 0xff]));
    expect(store.get(k2)).toEqual(Buffer.from([0xc3]));
    await commitWrites(store);
    const got = store.get(k1);
    expect(Buffer.isBuffer(got)).toBe(true);
    expect(got).toEqual(Buffer.from([0x80, 0x00, 0xff]));
    expect(store.get(k2)).toEqual(Buffer.from([0xc3]));
    const entries = await all(store);
    expect(entries).toEqual([
      [k2, Buffer.from([0xc3])],
      [k1, Buffer.from([0x80, 0x00, 0xff])],
    ]);
    expect(entries.every(([k, v]) => Buffer.isBuffer(k) && Buffer.isBuffer(v))).toBe(true);
  });

  it('applies changelog records as whole values: a null value deletes, a null key is skipped', async () => {
    const store = await jsonStore();
    store.put('gone', { n: 0 });
    await commitWrites(store);
    await store.apply([
      record('a', '{"n":1}', 0),
      record(null, '{"n":9}', 1),
      record('b', '{"n":2}', 2),
      record('a', '{"n":3}', 3),
      record('gone', null, 4),
    ]);
    expect(store.pendingCount).toBe(0);
    expect(store.get('a')).toEqual({ n: 3 });
    expect(store.get('gone')).toBeUndefined();
    expect(await all(store)).toEqual([
      ['a', { n: 3 }],
      ['b', { n: 2 }],
    ]);
  });

  it('persists what was flushed across close and reopen, but not what was pending', async () => {
    const directory = join(dir, 'db');
    const first = await jsonStore(directory);
    first.put('a', { n: 1 });
    await commitWrites(first);
    first.put('b', { n: 2 });
    await first.close();
    open.splice(0);
    const second = await jsonStore(directory);
    expect(second.get('a')).toEqual({ n: 1 });
    expect(second.get('b')).toBeUndefined();
  });
});

/** What a commit does to a store: its writes go to the changelog (staged), then to disk. */
async function commitWrites(store: LevelKeyValueStore<unknown, unknown>): Promise<void> {
  store.changes();
  await store.flush();
}
