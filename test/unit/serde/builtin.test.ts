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

describe('serdes.json: what cannot be written', () => {
  it('a value whose toJSON throws: PROCESSING with the error\'s message, the error as its cause', () => {
    const thrown = new Error('nope');
    const error = catchError(() => serdes.json().serialize({ toJSON: () => { throw thrown; } }));
    expect(error).toBeInstanceOf(StreamrunError);
    expect(error).toMatchObject({ code: 'PROCESSING', message: 'cannot write value as JSON: nope' });
    expect((error as Error).cause).toBe(thrown);
  });

  it('a thrown value that is not an Error is shown as a string', () => {
    const error = catchError(() => serdes.json().serialize({ toJSON: () => { throw 'raw'; } }));
    expect(error).toMatchObject({ code: 'PROCESSING', message: 'cannot write value as JSON: raw', cause: 'raw' });
  });

  it('a BigInt, through json and auto alike', () => {
    for (const serde of [serdes.json(), serdes.auto]) {
      const error = catchError(() => serde.serialize(1n));
      expect(error).toMatchObject({ code: 'PROCESSING' });
      expect((error as Error).cause).toBeInstanceOf(TypeError);
    }
  });

  it('a symbol', () => {
    expect(catchError(() => serdes.json().serialize(Symbol('s')))).toMatchObject({ code: 'PROCESSING', message: 'cannot write a symbol as JSON' });
  });

  it('writes non-ASCII text as UTF-8', () => {
    expect(serdes.json().serialize({ s: 'é✓' })).toEqual(Buffer.from('{"s":"é✓"}', 'utf8'));
    expect(serdes.auto.serialize({ s: 'é' })).toEqual(Buffer.from([0x7b, 0x22, 0x73, 0x22, 0x3a, 0x22, 0xc3, 0xa9, 0x22, 0x7d]));
  });
});

describe('the built-in serdes by name', () => {
  it('are named string, buffer, json and auto', () => {
    expect([serdes.string.name, serdes.buffer.name, serdes.json().name, serdes.auto.name]).toEqual(['string', 'buffer', 'json', 'auto']);
    expect(Object.isFrozen(serdes.buffer)).toBe(true);
    expect(Object.isFrozen(serdes.json())).toBe(true);
    expect(Object.isFrozen(serdes.auto)).toBe(true);
  });

  it('string and auto write strings as UTF-8 bytes', () => {
    expect(serdes.string.serialize('é')).toEqual(Buffer.from([0xc3, 0xa9]));
    expect(serdes.auto.serialize('é')).toEqual(Buffer.from([0xc3, 0xa9]));
    expect(serdes.string.deserialize(Buffer.from([0xc3, 0xa9]))).toBe('é');
  });

  it('auto writes a Uint8Array as a view on the same bytes', () => {
    const whole = new Uint8Array([9, 1, 2, 3, 9]);
    const written = serdes.auto.serialize(whole.subarray(1, 4));
    whole[2] = 7;
    expect([...written]).toEqual([1, 7, 3]);
  });
});
