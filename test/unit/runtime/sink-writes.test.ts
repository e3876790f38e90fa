import { describe, expect, it } from 'vitest';
import { createBreaker } from '../../../lib/errors/breaker.ts';
import type { ExternalSinkNode } from '../../../lib/graph/nodes.ts';
import type { Failed, Settled } from '../../../lib/runtime/failures.ts';
import { writeSinkBatch, type SinkBatch, type SinkItem } from '../../../lib/runtime/sink-writes.ts';

class BadValue extends Error {}

/** A sink that refuses a batch holding a value starting with 'bad', and fails while `down` is set. */
function fakeSink() {
  const writes: string[][] = [];
  const stored: string[] = [];
  const state = { down: false };
  const rejects = (error: unknown) => error instanceof BadValue;
  const node: ExternalSinkNode = {
    kind: 'externalSink',
    name: 'db',
    parents: [],
    breaker: { failures: 3, halfOpenAfterMs: 1000 },
    sink: {
      name: 'fake',
      async write(records) {
        const values = records.map((r) => String(r.value));
        writes.push(values);
        if (state.down) throw new Error('connection refused');
        if (values.some((v) => v.startsWith('bad'))) throw new BadValue(`refused ${values.join(',')}`);
        stored.push(...values);
      },
      rejects,
    },
  };
  const batch: SinkBatch = { node, breaker: createBreaker(node.breaker, (e) => !rejects(e)), items: [] };
  return { batch, writes, stored, state };
}

const items = (values: readonly string[]): SinkItem[] =>
  values.map((value, i) => {
    const record = { key: null, value: Buffer.from(value), timestamp: '0', offset: String(i) };
    return {
      key: null,
      value,
      context: { topic: 'in', partition: 0, offset: String(i), timestamp: 0, headers: {}, rawTimestamp: '0', writer: 0, watermark: undefined },
      source: { topic: 'in', partition: 0, record },
    };
  });

/** Settles as `answer` says, keeping what it was given. */
function settler(answer: Settled = 'done') {
  const failed: Failed[] = [];
  return { failed, settle: async (f: Failed) => (failed.push(f), answer) };
}

const values16 = Array.from({ length: 16 }, (_, i) => (i === 5 || i === 12 ? `bad${i}` : `v${i}`));

describe('writeSinkBatch', () => {
  it('splits a refused batch in halves until the refused records stand alone, and writes the rest once', async () => {
    const { batch, writes, stored } = fakeSink();
    const { failed, settle } = settler();
    expect(await writeSinkBatch(batch, items(values16), settle)).toBe('done');
    const range = (from: number, to: number) => values16.slice(from, to + 1);
    expect(writes).toEqual([
      range(0, 15),
      range(0, 7),
      range(0, 3),
      range(4, 7),
      range(4, 5),
      range(4, 4),
      range(5, 5),
      range(6, 7),
      range(8, 15),
      range(8, 11),
      range(12, 15),
      range(12, 13),
      range(12, 12),
      range(13, 13),
      range(14, 15),
    ]);
    expect(stored).toEqual(values16.filter((v) => !v.startsWith('bad')));
    // Each refused record goes to the policy alone, as refused: it is dead-lettered without retries.
    expect(failed.map((f) => [f.error.code, f.error.context.offset, f.sources?.map((s) => s.record.offset)])).toEqual([
      ['REJECTED', '5', ['5']],
      ['REJECTED', '12', ['12']],
    ]);
  });

  it('hands a batch that fails for the sink to the policy whole, and its retry writes it whole', async () => {
    const { batch, writes, stored, state } = fakeSink();
    const { failed, settle } = settler();
    state.down = true;
    expect(await writeSinkBatch(batch, items(values16), settle)).toBe('done');
    expect(writes).toEqual([values16]);
    expect(failed.map((f) => [f.error.code, f.sources?.length])).toEqual([['PROCESSING', 16]]);
    state.down = false;
    // The whole batch holds the refused records: its retry is refused as a whole again.
    await expect(failed[0]!.retry()).rejects.toMatchObject({ code: 'REJECTED' });
    expect(stored).toEqual([]);
  });

  it('stops at the first refused record whose settling does not end in done', async () => {
    const { batch, writes, stored } = fakeSink();
    const { failed, settle } = settler('aborted');
    expect(await writeSinkBatch(batch, items(values16), settle)).toBe('aborted');
    expect(writes.at(-1)).toEqual(['bad5']);
    expect(stored).toEqual(['v0', 'v1', 'v2', 'v3', 'v4']);
    expect(failed.map((f) => f.error.context.offset)).toEqual(['5']);
  });
});
