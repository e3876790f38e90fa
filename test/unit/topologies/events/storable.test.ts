import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../../../topologies/events/event.ts';
import { checkStorable, maxDepth, nestsTooDeep, unstorableText } from '../../../../topologies/events/storable.ts';

const refusal = (value: unknown, field = 'payload') => {
  try {
    checkStorable(value, field);
  } catch (error) {
    if (error instanceof ValidationError) return { field: error.field, message: error.message };
    throw error;
  }
  return undefined;
};
const nested = (depth: number) => '['.repeat(depth) + ']'.repeat(depth);

describe('unstorableText', () => {
  it.each([
    ['a\u0000b', 'contains a NUL character (U+0000), which PostgreSQL cannot store'],
    ['a\uD800', 'contains a lone surrogate, which is not Unicode text'],
    ['\uDC00a', 'contains a lone surrogate, which is not Unicode text'],
    ['\uDC00\uD800', 'contains a lone surrogate, which is not Unicode text'],
  ])('refuses %j', (text, why) => {
    expect(unstorableText(text)).toBe(why);
  });

  it.each(['', 'plain', 'emoji \uD83D\uDE00', 'ü \u00A0 \u2028', '\\u0000 as text'])('takes %j', (text) => {
    expect(unstorableText(text)).toBeUndefined();
  });
});

describe('checkStorable', () => {
  it('names the string, key or number PostgreSQL cannot store by its path', () => {
    expect(refusal({ a: [1, { b: 'x\u0000' }] })).toEqual({ field: 'payload.a[1].b', message: 'payload.a[1].b: contains a NUL character (U+0000), which PostgreSQL cannot store' });
    expect(refusal({ ok: 1, 'a\u0000b': 1 })).toEqual({ field: 'payload', message: 'payload: a key contains a NUL character (U+0000), which PostgreSQL cannot store' });
    expect(refusal({ 'two words': ['\uD800'] })).toEqual({ field: 'payload["two words"][0]', message: 'payload["two words"][0]: contains a lone surrogate, which is not Unicode text' });
    expect(refusal([0, JSON.parse('1e400')], '[3].payload')).toEqual({ field: '[3].payload[1]', message: '[3].payload[1]: a number out of range' });
    expect(refusal(Number.NaN)).toEqual({ field: 'payload', message: 'payload: a number out of range' });
  });

  it(`takes ${maxDepth} levels of nesting and refuses ${maxDepth + 1}, at any depth without overflowing`, () => {
    expect(refusal(JSON.parse(nested(maxDepth)))).toBeUndefined();
    expect(refusal(JSON.parse(nested(maxDepth + 1)))?.message).toBe(`payload${'[0]'.repeat(maxDepth)}: nested deeper than ${maxDepth} levels`);
    expect(refusal(JSON.parse(nested(100_000)))?.field).toBe(`payload${'[0]'.repeat(maxDepth)}`);
  });

  it('takes what PostgreSQL stores', () => {
    expect(refusal({ a: [1.5, -0, 1e308, null, true, 'text', { 'ü-key': '\uD83D\uDE00' }] })).toBeUndefined();
  });
});

describe('nestsTooDeep', () => {
  it(`counts arrays and objects, up to ${maxDepth}`, () => {
    expect(nestsTooDeep(nested(maxDepth))).toBe(false);
    expect(nestsTooDeep(nested(maxDepth + 1))).toBe(true);
    expect(nestsTooDeep('{"a":'.repeat(maxDepth + 1) + '1' + '}'.repeat(maxDepth + 1))).toBe(true);
    expect(nestsTooDeep(`[${nested(maxDepth - 1)},${nested(maxDepth - 1)}]`)).toBe(false);
  });

  it('does not count brackets inside strings, escaped quotes included', () => {
    expect(nestsTooDeep(JSON.stringify({ a: '['.repeat(1000) }))).toBe(false);
    expect(nestsTooDeep(JSON.stringify(['"[[[', '\\', '{'.repeat(1000)]))).toBe(false);
  });
});
