import { describe, expect, it } from 'vitest';
import { serdes } from '../../../lib/index.ts';
import { OutputBuffer } from '../../../lib/runtime/output-buffer.ts';
import { MemoryStores } from '../../../lib/state/memory-stores.ts';
import type { StoreSpec } from '../../../lib/state/task-stores.ts';
import type { Serde } from '../../../lib/serde/serde.ts';
import { timestampedSerde, windowKeySerde } from '../../../lib/state/window-store.ts';

const specs: StoreSpec[] = [
  { store: 'counts', changelog: 'app-counts-changelog', serdes: { key: serdes.string, value: serdes.json() } },
  { store: 'users', changelog: 'users', serdes: { key: serdes.string, value: serdes.json() }, sourceTopic: true },
  {
    store: 'w',
    changelog: 'app-w-changelog',
    serdes: {
      key: windowKeySerde(serdes.string) as StoreSpec['serdes']['key'],
      value: timestampedSerde(serdes.json() as Serde<unknown>) as StoreSpec['serdes']['value'],
    },
    window: { grace: 0, key: serdes.string },
  },
];

describe('MemoryStores', () => {
  it('tableValues reads a table bare, and an aggregate without the time kept beside each value', async () => {
    const aggregate: StoreSpec = {
      store: 'totals',
      changelog: 'app-totals-changelog',
      serdes: { key: serdes.string, value: timestampedSerde(serdes.json() as Serde<unknown>) as StoreSpec['serdes']['value'] },
      timestamped: true,
    };
    const stores = await MemoryStores.open([...specs, aggregate], 0);
    stores.get('users').put('u', { name: 'Ann' });
    stores.get('totals').put('t', { value: 7, timestamp: 123 });
    expect([stores.tableValues('users')('u'), stores.tableValues('users')('nobody')]).toEqual([{ name: 'Ann' }, undefined]);
    expect([stores.tableValues('totals')('t'), stores.tableValues('totals')('nobody')]).toEqual([7, undefined]);
  });

  it('opens a store per spec, found by name, with window state for window stores', async () => {
    const stores = await MemoryStores.open(specs, 2);
    expect(stores.names()).toEqual(['counts', 'users', 'w']);
    expect(stores.get('counts').name).toBe('counts');
    expect(stores.get('users').name).toBe('users');
    expect(stores.windows('w').windowsOf('k')).toEqual([]);
    expect(() => stores.get('nope')).toThrow('no store nope in this task');
    expect(() => stores.windows('nope')).toThrow('no store nope in this task');
    expect(() => stores.windows('counts')).toThrow('store counts is not a window store');
    await expect(stores.close()).resolves.toBeUndefined();
  });

  it('stages pending writes for the task partition of each changelog, not for a source-topic table', async () => {
    const stores = await MemoryStores.open(specs, 2);
    stores.get('counts').put('a', 1);
    stores.get('counts').delete('b');
    stores.get('users').put('u', { name: 'Ann' });
    stores.windows('w').put({ key: 'k', start: 0, end: 10 }, 5, 3);
    const outputs = new OutputBuffer();
    stores.stageChangelog(outputs);
    expect([...outputs.lanes.keys()]).toEqual(['app-counts-changelog', 'app-w-changelog']);
    expect(outputs.lanes.get('app-counts-changelog')).toEqual([
      { partition: 2, key: Buffer.from('a'), value: Buffer.from('1') },
      { partition: 2, key: Buffer.from('b'), value: null },
    ]);
    expect(outputs.lanes.get('app-w-changelog')).toEqual([
      {
        partition: 2,
        key: windowKeySerde(serdes.string).serialize({ key: 'k', start: 0, end: 10 }),
        // [timestamp 3 as int64][the aggregate's JSON]
        value: Buffer.concat([Buffer.from([0, 0, 0, 0, 0, 0, 0, 3]), Buffer.from('5')]),
      },
    ]);
    expect(outputs.size).toBe(3);
  });

  it('flush makes every store’s pending writes its state; discardPending forgets them in every store', async () => {
    const stores = await MemoryStores.open(specs, 0);
    const keys = async (name: string) => {
      const out: unknown[] = [];
      for await (const { key } of stores.get(name).range()) out.push(key);
      return out;
    };
    stores.get('counts').put('a', 1);
    stores.get('users').put('u', { name: 'Ann' });
    await stores.flush();
    expect(await keys('counts')).toEqual(['a']);
    expect(await keys('users')).toEqual(['u']);
    stores.get('counts').put('a', 2);
    stores.get('users').delete('u');
    stores.discardPending();
    expect(stores.get('counts').get('a')).toBe(1);
    expect(stores.get('users').get('u')).toEqual({ name: 'Ann' });
    expect(stores.get('counts').changes()).toEqual([]);
    expect(stores.get('users').changes()).toEqual([]);
    await stores.flush();
    expect(await keys('counts')).toEqual(['a']);
    expect(stores.get('counts').get('a')).toBe(1);
  });
});
