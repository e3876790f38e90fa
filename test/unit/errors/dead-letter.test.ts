import { describe, expect, it } from 'vitest';
import { deadLetterHeaders, deadLetterRecord, maxStackLength } from '../../../lib/errors/dead-letter.ts';
import { StreamrunError } from '../../../lib/errors/streamrun-error.ts';

const source = {
  topic: 'orders',
  partition: 3,
  record: { key: Buffer.from('k'), value: Buffer.from('v'), timestamp: '1700000000000', offset: '41', headers: { trace: 'abc' } },
};

/** A dead letter for an error whose stack is exactly `stack`. */
function stackHeader(stack: string): string {
  const cause = new RangeError('boom');
  cause.stack = stack;
  const failure = new StreamrunError('PROCESSING', 'boom', { cause, context: { node: 'price' } });
  const header = deadLetterRecord(source, failure, 4, 'shop', 1, 1234).headers![deadLetterHeaders.errorStack];
  return String(header);
}

describe('the streamrun.error.stack header', () => {
  it('is cut at 4 KiB: a stack of 4,096 bytes stays whole, one of 4,097 loses its last byte', () => {
    expect(maxStackLength).toBe(4096);
    const exact = 'RangeError: boom\n' + 'x'.repeat(4096 - 17);
    expect(exact).toHaveLength(4096);
    expect(stackHeader(exact)).toBe(exact);
    expect(stackHeader(`${exact}y`)).toBe(exact);
    expect(stackHeader(`${exact}${'z'.repeat(10_000)}`)).toBe(exact);
    expect(stackHeader('RangeError: boom\n    at short')).toBe('RangeError: boom\n    at short');
  });

  it('counts bytes, not characters, and never splits a character', () => {
    // 'é' is 2 bytes in UTF-8, '€' 3: 4,096 characters of them are far over 4 KiB.
    const wide = 'é'.repeat(3000);
    const header = stackHeader(wide);
    expect(Buffer.byteLength(header)).toBe(4096);
    expect(header).toBe('é'.repeat(2048));
    const odd = `a${'€'.repeat(2000)}`;
    const cut = stackHeader(odd);
    // 1 + 3 × 1365 = 4,096 bytes; a 1,366th '€' would not fit.
    expect(cut).toBe(`a${'€'.repeat(1365)}`);
    expect(Buffer.byteLength(cut)).toBe(4096);
    const odder = `ab${'€'.repeat(2000)}`;
    // 2 + 3 × 1364 = 4,094 bytes: the next '€' would make 4,097.
    expect(stackHeader(odder)).toBe(`ab${'€'.repeat(1364)}`);
  });

  it('comes from the innermost error, with the rest of the headers about where the record came from', () => {
    const inner = new TypeError('inner');
    inner.stack = 'TypeError: inner\n    at here';
    const failure = new StreamrunError('PROCESSING', 'outer', { cause: new Error('middle', { cause: inner }), context: { node: 'price' } });
    const letter = deadLetterRecord(source, failure, 4, 'shop', 1, 1234);
    expect(letter).toEqual({
      partition: 1,
      key: source.record.key,
      value: source.record.value,
      timestamp: '1700000000000',
      headers: {
        trace: 'abc',
        'streamrun.original.topic': 'orders',
        'streamrun.original.partition': '3',
        'streamrun.original.offset': '41',
        'streamrun.original.timestamp': '1700000000000',
        'streamrun.node': 'price',
        'streamrun.attempts': '4',
        'streamrun.error.class': 'TypeError',
        'streamrun.error.message': 'inner',
        'streamrun.error.stack': 'TypeError: inner\n    at here',
        'streamrun.app.id': 'shop',
        'streamrun.dead.lettered.at': '1234',
      },
    });
  });
});

describe('dead-letter headers for unusual errors', () => {
  it('names the error class by its constructor, even when the error calls itself something else', () => {
    // pg's DatabaseError calls itself 'error'.
    class DatabaseError extends Error {
      override name = 'error';
    }
    const failure = new StreamrunError('PROCESSING', 'outer', { cause: new DatabaseError('duplicate key'), context: { node: 'db' } });
    const headers = deadLetterRecord(source, failure, 1, 'shop', 0, 5).headers!;
    expect(headers[deadLetterHeaders.errorClass]).toBe('DatabaseError');
    expect(headers[deadLetterHeaders.errorMessage]).toBe('duplicate key');
  });

  it('falls back to the error\'s name when its class has none', () => {
    const Anonymous = (() => class extends Error {})();
    expect(Anonymous.name).toBe('');
    const cause = new Anonymous('nameless');
    cause.name = 'Nameless';
    const failure = new StreamrunError('PROCESSING', 'outer', { cause });
    expect(deadLetterRecord(source, failure, 1, 'shop', 0, 5).headers![deadLetterHeaders.errorClass]).toBe('Nameless');
  });

  it('uses the StreamrunError itself when it has no cause, an empty node without one, and an empty stack without one', () => {
    const failure = new StreamrunError('DESERIALIZATION', 'bytes are not valid JSON');
    failure.stack = undefined;
    const letter = deadLetterRecord(source, failure, 1, 'shop', 2, 99);
    expect(letter.partition).toBe(2);
    expect(letter.headers).toMatchObject({
      'streamrun.node': '',
      'streamrun.attempts': '1',
      'streamrun.error.class': 'StreamrunError',
      'streamrun.error.message': 'bytes are not valid JSON',
      'streamrun.error.stack': '',
      'streamrun.dead.lettered.at': '99',
    });
  });

  it('keeps a stack that fits exactly as it is, code unit for code unit', () => {
    // A lone surrogate would become U+FFFD if the text went through UTF-8 and back.
    const short = 'RangeError: boom \ud800';
    expect(stackHeader(short)).toBe(short);
    // 4,093 + 3 bytes: exactly the limit.
    const exact = `${'x'.repeat(4093)}\ud800`;
    expect(Buffer.byteLength(exact)).toBe(4096);
    expect(stackHeader(exact)).toBe(exact);
  });

  it('lists the header names', () => {
    expect(deadLetterHeaders).toEqual({
      topic: 'streamrun.original.topic',
      partition: 'streamrun.original.partition',
      offset: 'streamrun.original.offset',
      timestamp: 'streamrun.original.timestamp',
      node: 'streamrun.node',
      attempts: 'streamrun.attempts',
      errorClass: 'streamrun.error.class',
      errorMessage: 'streamrun.error.message',
      errorStack: 'streamrun.error.stack',
      appId: 'streamrun.app.id',
      deadLetteredAt: 'streamrun.dead.lettered.at',
      window: 'streamrun.window',
      streamTime: 'streamrun.stream.time',
    });
  });
});
