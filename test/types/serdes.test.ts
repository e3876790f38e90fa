/*
 * Type tests for the Avro and registry serdes: `npx tsc --noEmit` checks them (each
 * @ts-expect-error must be an error). Nothing connects: the serdes are only built.
 */
import { describe, expect, expectTypeOf, it } from 'vitest';
import { serdes, topology, type AvroSchema, type AvroValue, type Serde } from '../../lib/index.ts';

const reading = {
  type: 'record',
  name: 'Reading',
  fields: [
    { name: 'sensor', type: 'string' },
    { name: 'value', type: 'double' },
    { name: 'count', type: 'long' },
    { name: 'unit', type: ['null', 'string'], default: null },
    { name: 'kind', type: { type: 'enum', name: 'Kind', symbols: ['temperature', 'humidity'] } },
    { name: 'tags', type: { type: 'array', items: 'string' } },
    { name: 'extra', type: { type: 'map', values: 'int' } },
    { name: 'raw', type: 'bytes' },
    { name: 'at', type: { type: 'long', logicalType: 'timestamp-millis' } },
    { name: 'ok', type: 'boolean' },
  ],
} as const;

interface Reading {
  sensor: string;
  value: number;
  count: number;
  unit: string | null;
  kind: 'temperature' | 'humidity';
  tags: string[];
  extra: Record<string, number>;
  raw: Buffer;
  at: number;
  ok: boolean;
}

describe('serdes.avro', () => {
  it('gives the value type of the schema', () => {
    expectTypeOf<AvroValue<typeof reading>>().toEqualTypeOf<Reading>();
    expectTypeOf(serdes.avro(reading)).toEqualTypeOf<Serde<Reading>>();
    // Without `as const` too: the schema parameter is a const type parameter.
    const point = serdes.avro({ type: 'record', name: 'Point', fields: [{ name: 'x', type: 'int' }, { name: 'y', type: ['null', 'int'] }] });
    expectTypeOf(point).toEqualTypeOf<Serde<{ x: number; y: number | null }>>();
    expectTypeOf(serdes.avro('string')).toEqualTypeOf<Serde<string>>();
  });

  it('types the stream read with it', () => {
    topology('t')
      .stream('readings', { key: serdes.string, value: serdes.avro(reading) })
      .mapValues((r) => {
        expectTypeOf(r.kind).toEqualTypeOf<'temperature' | 'humidity'>();
        // @ts-expect-error the schema has no field `missing`
        return r.missing;
      });
  });
});

describe('serdes.registry', () => {
  it('infers Avro values from the schema, and takes a type for JSON Schema and for no schema', () => {
    expectTypeOf(serdes.registry({ registry: 'http://localhost:8081', subject: 'r-value', schema: reading })).toEqualTypeOf<Serde<Reading>>();
    const json = serdes.registry<{ id: string }>({ registry: 'http://localhost:8081', subject: 'j-value', format: 'json', schema: { type: 'object' } });
    expectTypeOf(json).toEqualTypeOf<Serde<{ id: string }>>();
    expectTypeOf(serdes.registry({ registry: 'http://localhost:8081', subject: 'any-value' })).toEqualTypeOf<Serde<unknown>>();
    // @ts-expect-error a subject is required
    expect(() => serdes.registry({ registry: 'http://localhost:8081' })).toThrow('subject');
  });
});

describe('a schema known only as AvroSchema', () => {
  it('gives unknown values, not an endless type', () => {
    const loaded = JSON.parse('{"type":"record","name":"R","fields":[]}') as AvroSchema;
    expectTypeOf(serdes.avro(loaded)).toEqualTypeOf<Serde<unknown>>();
    expectTypeOf(serdes.registry({ registry: 'http://localhost:8081', subject: 'r-value', schema: loaded })).toEqualTypeOf<Serde<unknown>>();
  });
});
