import { describe, expect, it } from 'vitest';
import { serdes } from '../../../lib/index.ts';
import { MemoryKeyValueStore } from '../../../lib/state/memory-store.ts';

const store = () => new MemoryKeyValueStore<string, { n: number }>('s', { key: serdes.string, value: serdes.json<{ n: number }>() });
const all = async <K, V>(s: MemoryKeyValueStore<K, V>, options = {}) => {
  const out: [K, V][] = [];
  for await (const { key, value } of s.range(options)) out.push([key, value]);
  return out;
};

describe('MemoryKeyValueStore (as the LevelDB store behaves)', () => {
  it('keeps values serialized: changing an object after put changes nothing stored', () => {
    const s = store();
    const value = { n: 1 };
    s.put('a', value);
    value.n = 2;
    expect(s.get('a')).toEqual({ n: 1 });
    expect(s.get('a')).not.toBe(value);
  });

  it('reads pending writes and deletes before flushed ones; range sees only what was flushed', async () => {
    const s = store();
    s.put('b', { n: 2 });
    s.put('a', { n: 1 });
    expect(await all(s)).toEqual([]);
    s.flush();
    expect(await all(s)).toEqual([
      ['a', { n: 1 }],
      ['b', { n: 2 }],
    ]);
    s.delete('a');
    s.put('b', { n: 3 });
    expect([s.get('a'), s.get('b')]).toEqual([undefined, { n: 3 }]);
    expect(s.changes().map((c) => [c.key.toString(), c.value?.toString() ?? null])).toEqual([
      ['a', null],
      ['b', '{"n":3}'],
    ]);
    s.discardPending();
    expect([s.get('a'), s.get('b')]).toEqual([{ n: 1 }, { n: 2 }]);
    s.delete('a');
    s.flush();
    expect(s.get('a')).toBeUndefined();
    expect(await all(s)).toEqual([['b', { n: 2 }]]);
    expect(s.changes()).toEqual([]);
  });

  it('ranges by key bytes, bounds included, up to a limit', async () => {
    const s = store();
    for (const k of ['d', 'a', 'c', 'b', 'e']) s.put(k, { n: k.charCodeAt(0) });
    s.flush();
    expect((await all(s, { from: 'b', to: 'd' })).map(([k]) => k)).toEqual(['b', 'c', 'd']);
    expect((await all(s, { from: 'b', limit: 2 })).map(([k]) => k)).toEqual(['b', 'c']);
    expect((await all(s, { to: 'b' })).map(([k]) => k)).toEqual(['a', 'b']);
  });
});
