import { StreamrunError } from '../errors/streamrun-error.ts';
import type { Serde } from './serde.ts';

/** The serdes streamrun ships with. */
export interface BuiltinSerdes {
  /**
   * UTF-8 text.
   *
   * @example
   * topology('app').stream('lines', { key: serdes.string, value: serdes.string });
   */
  readonly string: Serde<string>;
  /**
   * Raw bytes, untouched both ways.
   *
   * @example
   * topology('app').stream('images', { key: serdes.string, value: serdes.buffer });
   */
  readonly buffer: Serde<Buffer>;
  /**
   * JSON text in UTF-8. `T` is a promise the bytes keep, not a check: validate in a `filter`
   * or `mapValues` if the producers cannot be trusted. Bytes that are not JSON throw a
   * `StreamrunError` with code `'DESERIALIZATION'`. Every call returns the same serde, so
   * streams read with `serdes.json()` keep agreeing after a `merge`.
   *
   * @example
   * interface Order { id: string; total: number }
   * topology('app').stream('orders', { key: serdes.string, value: serdes.json<Order>() });
   */
  json<T = unknown>(): Serde<T>;
  /**
   * The fallback a sink writes with when neither the call nor the stream gives a serde (after
   * `map`, say). Writes a Buffer or Uint8Array as-is, a string as UTF-8 and anything else as
   * JSON. Reads back the UTF-8 text, never parsed: a string and the JSON of an object would
   * otherwise be told apart by guessing.
   *
   * @example
   * stream.map((v, k) => ({ key: k, value: { length: v.length } })).to('lengths'); // JSON
   */
  readonly auto: Serde<unknown>;
}

const string: Serde<string> = Object.freeze({
  name: 'string',
  serialize: (value: string) => Buffer.from(value, 'utf8'),
  deserialize: (data: Buffer) => data.toString('utf8'),
});

const buffer: Serde<Buffer> = Object.freeze({
  name: 'buffer',
  serialize: (value: Buffer) => value,
  deserialize: (data: Buffer) => data,
});

function writeJson(value: unknown): Buffer {
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch (error) {
    throw new StreamrunError('PROCESSING', `cannot write value as JSON: ${messageOf(error)}`, {
      cause: error,
    });
  }
  // JSON.stringify returns undefined for undefined, functions and symbols.
  if (text === undefined) {
    const what = value === undefined ? 'undefined' : `a ${typeof value}`;
    throw new StreamrunError('PROCESSING', `cannot write ${what} as JSON`);
  }
  return Buffer.from(text, 'utf8');
}

const json: Serde<unknown> = Object.freeze({
  name: 'json',
  serialize: writeJson,
  deserialize: (data: Buffer): unknown => {
    try {
      return JSON.parse(data.toString('utf8'));
    } catch (error) {
      throw new StreamrunError('DESERIALIZATION', `bytes are not valid JSON: ${messageOf(error)}`, {
        cause: error,
      });
    }
  },
});

const auto: Serde<unknown> = Object.freeze({
  name: 'auto',
  serialize: (value: unknown): Buffer => {
    if (Buffer.isBuffer(value)) return value;
    if (typeof value === 'string') return Buffer.from(value, 'utf8');
    // A view, not a copy: the record is written before anyone can change the bytes.
    if (value instanceof Uint8Array) {
      return Buffer.from(value.buffer, value.byteOffset, value.byteLength);
    }
    return writeJson(value);
  },
  deserialize: (data: Buffer): unknown => data.toString('utf8'),
});

/**
 * The built-in serdes: `string`, `buffer`, `json<T>()` and `auto`.
 *
 * @example
 * topology('app')
 *   .stream('in', { key: serdes.string, value: serdes.json<{ n: number }>() })
 *   .mapValues((v) => v.n * 2)
 *   .to('out', { value: serdes.json<number>() });
 */
export const serdes: BuiltinSerdes = Object.freeze({
  string,
  buffer,
  json: <T = unknown>(): Serde<T> => json as Serde<T>,
  auto,
});

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
