import avsc from 'avsc';
import { StreamrunError, invalidOptions } from '../errors/streamrun-error.ts';
import type { AvroSchema } from './avro-schema.ts';
import type { Serde } from './serde.ts';
import { messageOf } from '../errors/message-of.ts';

export type AvroType = avsc.Type;

/** Parses a schema, or says in one line why it is not one. */
export function avroType(schema: AvroSchema | string): AvroType {
  try {
    // A registry's schema is JSON text (`"string"`, `{...}`); a bare name (`string`) is not JSON.
    const parsed: unknown = typeof schema === 'string' && /^\s*["{[]/.test(schema) ? JSON.parse(schema) : schema;
    return avsc.Type.forSchema(parsed as avsc.Schema);
  } catch (error) {
    throw invalidOptions(`not an Avro schema: ${messageOf(error)}`);
  }
}

/** The name `describe()` shows: the record's (or enum's, fixed's) full name, else the type. */
export function avroName(type: AvroType): string {
  return type.name ?? type.typeName;
}

/**
 * Avro binary of `value`; a value the schema does not describe throws a PROCESSING error that
 * names the fields at fault, as `sensor: expected "string", got 12`.
 */
export function writeAvro(type: AvroType, value: unknown): Buffer {
  try {
    return type.toBuffer(value);
  } catch (error) {
    const faults: string[] = [];
    type.isValid(value, {
      errorHook: (path, found, fieldType) => faults.push(`${path.join('.') || 'value'}: expected ${describe(fieldType)}, got ${JSON.stringify(found) ?? String(found)}`),
    });
    const why = faults.length > 0 ? faults.join('; ') : messageOf(error);
    // No cause: a dead letter's reason is the innermost error's, and avsc's says less than this.
    throw new StreamrunError('PROCESSING', `cannot write value as Avro ${avroName(type)}: ${why}`);
  }
}

/** Reads Avro binary written with `writer` as `reader` (the same type unless the schema evolved). */
export function readAvro(reader: AvroType, data: Buffer, resolver?: avsc.Resolver): unknown {
  try {
    return reader.fromBuffer(data, resolver);
  } catch (error) {
    throw new StreamrunError('DESERIALIZATION', `bytes are not Avro ${avroName(reader)}: ${messageOf(error)}`);
  }
}

/**
 * Avro binary with the schema in code, no registry: producers and consumers must agree on the
 * schema out of band. Bytes that do not decode throw a DESERIALIZATION error.
 */
export function avroSerde<T>(schema: AvroSchema): Serde<T> {
  const type = avroType(schema);
  return Object.freeze({
    name: `avro(${avroName(type)})`,
    serialize: (value: T) => writeAvro(type, value),
    deserialize: (data: Buffer) => readAvro(type, data) as T,
  });
}

function describe(type: unknown): string {
  if (type instanceof avsc.Type) return JSON.stringify(type.name ?? type.typeName);
  return 'a valid value';
}
