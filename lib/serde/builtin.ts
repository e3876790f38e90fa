import { StreamrunError } from '../errors/streamrun-error.ts';
import type { Serde } from './serde.ts';
import { avroSerde } from './avro.ts';
import type { AvroSchema, AvroValue } from './avro-schema.ts';
import { registrySerde, type JsonSchemaDocument, type RegistrySerdeOptions } from './registry-serde.ts';
import { messageOf } from '../errors/message-of.ts';

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
  /**
   * Avro binary with the schema in code, no registry. The value type comes from the schema.
   * Bytes that do not decode throw a `StreamrunError` with code `'DESERIALIZATION'`.
   *
   * @example
   * const reading = serdes.avro({ type: 'record', name: 'Reading', fields: [{ name: 'sensor', type: 'string' }, { name: 'value', type: 'double' }] });
   * topology('app').stream('readings', { key: serdes.string, value: reading }); // Stream<string, { sensor: string; value: number }>
   */
  avro<const S extends AvroSchema>(schema: S): Serde<AvroValue<S>>;
  /**
   * Avro or JSON Schema through a schema registry (Confluent's, Apicurio's, any with Confluent's
   * API), in its wire format: a zero byte, the schema id, the value. The schema is registered
   * when the runner starts (a change the subject's compatibility rule refuses stops the start);
   * each schema id a record names is fetched once and kept. A record that does not decode, or
   * names an id the registry does not have, is dead-lettered as any unreadable one. For Avro
   * the value type comes from the schema.
   *
   * @example
   * const orders = serdes.registry({ registry: 'http://localhost:8081', subject: 'orders-value', schema: orderSchema });
   * topology('app').stream('orders', { key: serdes.string, value: orders });
   */
  registry<const S extends AvroSchema>(options: RegistrySerdeOptions & { readonly format?: 'avro'; readonly schema: S }): Serde<AvroValue<S>>;
  registry<T = unknown>(options: RegistrySerdeOptions & { readonly format: 'json'; readonly schema?: JsonSchemaDocument }): Serde<T>;
  registry<T = unknown>(options: RegistrySerdeOptions & { readonly schema?: undefined }): Serde<T>;
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
 * The built-in serdes: `string`, `buffer`, `json<T>()`, `auto`, `avro(schema)` and `registry(options)`.
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
  // The schema's value type is the signature's business: the implementations take any schema.
  avro: avroSerde as unknown as BuiltinSerdes['avro'],
  registry: registrySerde as unknown as BuiltinSerdes['registry'],
});
