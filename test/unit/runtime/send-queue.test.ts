import { describe, expect, it } from 'vitest';
import type { OutputProducer, OutputRecord } from '../../../lib/kafka/client.ts';
import { SendQueue } from '../../../lib/runtime/send-queue.ts';

const record = (value: string): OutputRecord => ({ key: null, value: Buffer.from(value) });
const values = (lanes: ReadonlyMap<string, readonly OutputRecord[]>) =>
  Object.fromEntries([...lanes].map(([topic, records]) => [topic, records.map((r) => r.value!.toString())]));

/** A producer whose sends finish when the test says so. */
function heldProducer() {
  const sends: { lanes: ReadonlyMap<string, readonly OutputRecord[]>; finish: (error?: Error) => void }[] = [];
  const producer: OutputProducer = {
    send: (lanes) =>
      new Promise((resolve, reject) => {
        sends.push({ lanes, finish: (error) => (error ? reject(error) : resolve([])) });
      }),
    close: async () => {},
  };
  return { producer, sends };
}

describe('SendQueue', () => {
  it('sends at once when idle, and merges what arrives meanwhile into the next send, in order', async () => {
    const { producer, sends } = heldProducer();
    const queue = new SendQueue(producer);
    const first = queue.send(new Map([['a', [record('1')]]]));
    const second = queue.send(new Map([['a', [record('2')]], ['b', [record('x')]]]));
    const third = queue.send(new Map([['a', [record('3')]]]));
    expect(sends.map((s) => values(s.lanes))).toEqual([{ a: ['1'] }]);
    sends[0]!.finish();
    await first;
    await new Promise((resolve) => setImmediate(resolve));
    expect(sends.map((s) => values(s.lanes))).toEqual([{ a: ['1'] }, { a: ['2', '3'], b: ['x'] }]);
    sends[1]!.finish();
    await Promise.all([second, third]);
  });

  it('rejects every send of a failed request, and goes on with later ones', async () => {
    const { producer, sends } = heldProducer();
    const queue = new SendQueue(producer);
    const first = queue.send(new Map([['a', [record('1')]]]));
    const second = queue.send(new Map([['a', [record('2')]]]));
    const third = queue.send(new Map([['a', [record('3')]]]));
    sends[0]!.finish();
    await first;
    await new Promise((resolve) => setImmediate(resolve));
    sends[1]!.finish(new Error('broker gone'));
    await expect(second).rejects.toThrow('broker gone');
    await expect(third).rejects.toThrow('broker gone');
    const fourth = queue.send(new Map([['a', [record('4')]]]));
    expect(values(sends[2]!.lanes)).toEqual({ a: ['4'] });
    sends[2]!.finish();
    await fourth;
  });

  it('drops a send whose signal aborts while it waits, rejecting it with the reason; one in flight is rejected but still goes', async () => {
    const { producer, sends } = heldProducer();
    const queue = new SendQueue(producer);
    const inFlight = new AbortController();
    const waiting = new AbortController();
    const first = queue.send(new Map([['a', [record('1')]]]), inFlight.signal);
    const second = queue.send(new Map([['a', [record('2')]]]), waiting.signal);
    const third = queue.send(new Map([['a', [record('3')]]]));
    waiting.abort(new Error('too late'));
    inFlight.abort(new Error('waited enough'));
    await expect(second).rejects.toThrow('too late');
    await expect(first).rejects.toThrow('waited enough');
    sends[0]!.finish();
    await new Promise((resolve) => setImmediate(resolve));
    expect(sends.map((s) => values(s.lanes))).toEqual([{ a: ['1'] }, { a: ['3'] }]);
    sends[1]!.finish();
    await third;
    await expect(queue.send(new Map([['a', [record('4')]]]), AbortSignal.abort(new Error('already')))).rejects.toThrow('already');
  });
});
