import { describe, expect, it } from 'vitest';
import { StreamrunError } from '../../../lib/errors/streamrun-error.ts';
import { serdes } from '../../../lib/serde/builtin.ts';

describe('serdes.string', () => {
  it('round-trips UTF-8 text', () => {
    const bytes = serdes.string.serialize('héllo ✓');
    expect(bytes).toEqual(Buffer.from('héllo ✓', 'utf8'));
    expect(serdes.string.deserialize(bytes)).toBe('héllo ✓');
  });

  it('is named for describe()', () => {
    expect(serdes.string.name).toBe('string');
  });
});

describe('serdes.buffer', () => {
  it('passes bytes through untouched', () => {
    const bytes = Buffer.from([0, 255, 7]);
    expect(serdes.buffer.serialize(bytes)).toBe(bytes);
    expect(serdes.buffer.deserialize(bytes)).toBe(bytes);
  });
});

describe('serdes.json', () => {
  it('round-trips JSON values', () => {
    const json = serdes.json<{ id: string; tags: string[] }>();
    const value = { id: 'a', tags: ['x', 'y'] };
    const bytes = json.serialize(value);
    expect(bytes.toString('utf8')).toBe('{"id":"a","tags":["x","y"]}');
    expect(json.deserialize(bytes)).toEqual(value);
  });

  it('returns one shared serde, so merged streams agree on it', () => {
    expect(serdes.json<number>()).toBe(serdes.json<string>());
    expect(serdes.json().name).toBe('json');
  });

  it('throws DESERIALIZATION with the parser message on invalid bytes', () => {
    const error = catchError(() => serdes.json().deserialize(Buffer.from('{oops')));
    expect(error).toBeInstanceOf(StreamrunError);
    expect(error).toMatchObject({ code: 'DESERIALIZATION', retriable: false });
    expect((error as Error).message).toMatch(/^bytes are not valid JSON: .+/);
    expect((error as Error).cause).toBeInstanceOf(SyntaxError);
  });

  it('throws DESERIALIZATION on empty bytes', () => {
    expect(() => serdes.json().deserialize(Buffer.alloc(0))).toThrow(/not valid JSON/);
  });

  it('refuses to write what JSON cannot represent', () => {
    expect(() => serdes.json().serialize(undefined)).toThrow('cannot write undefined as JSON');
    expect(() => serdes.json().serialize(1n)).toThrow(/cannot write value as JSON: /);
    const error = catchError(() => serdes.json().serialize(() => 1));
    expect(error).toMatchObject({ code: 'PROCESSING', message: 'cannot write a function as JSON' });
  });
});

describe('serdes.auto', () => {
  it('writes a Buffer as-is', () => {
    const bytes = Buffer.from([1, 2, 3]);
    expect(serdes.auto.serialize(bytes)).toBe(bytes);
  });

  it('writes a Uint8Array as its bytes', () => {
    const whole = new Uint8Array([9, 1, 2, 3, 9]);
    expect(serdes.auto.serialize(whole.subarray(1, 4))).toEqual(Buffer.from([1, 2, 3]));
  });

  it('writes a string as UTF-8, not as a JSON string', () => {
    expect(serdes.auto.serialize('hi ✓').toString('utf8')).toBe('hi ✓');
  });

  it('writes anything else as JSON', () => {
    expect(serdes.auto.serialize({ n: 1 }).toString('utf8')).toBe('{"n":1}');
    expect(serdes.auto.serialize(42).toString('utf8')).toBe('42');
    expect(serdes.auto.serialize(true).toString('utf8')).toBe('true');
  });

  it('reads the UTF-8 text back, unparsed', () => {
    expect(serdes.auto.deserialize(Buffer.from('{"n":1}'))).toBe('{"n":1}');
    expect(serdes.auto.deserialize(serdes.auto.serialize('42'))).toBe('42');
  });
});

it('serdes cannot be replaced by accident', () => {
  expect(Object.isFrozen(serdes)).toBe(true);
  expect(Object.isFrozen(serdes.string)).toBe(true);
});

function catchError(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected a throw');
}
