import { createServer } from 'node:net';
import { SchemaType } from '@kafkajs/confluent-schema-registry';
import { describe, expect, it } from 'vitest';
import { serdes, type Serde } from '../../../lib/index.ts';
import { TestSchemaRegistry } from '../../../lib/testing/index.ts';

const v1 = {
  type: 'record',
  name: 'Order',
  fields: [
    { name: 'id', type: 'string' },
    { name: 'total', type: 'int' },
  ],
} as const;
// A field added with a default: backward compatible.
const v2 = { ...v1, fields: [...v1.fields, { name: 'currency', type: 'string', default: 'EUR' }] } as const;
// A field added without one: a reader of v3 cannot read what v2 wrote.
const v3 = { ...v1, fields: [...v2.fields, { name: 'channel', type: 'string' }] } as const;

async function opened<T>(serde: Serde<T>): Promise<Serde<T>> {
  await serde.open!();
  return serde;
}

/** Reads as the runtime does: the serde fetches what the bytes need, then decodes. */
async function read<T>(serde: Serde<T>, bytes: Buffer): Promise<T> {
  await serde.prepare?.(bytes);
  return serde.deserialize(bytes);
}

describe('serdes.registry (Avro)', () => {
  it('registers its schema on open and frames each value: zero byte, 4-byte schema id, Avro binary', async () => {
    const registry = new TestSchemaRegistry();
    await registry.register({ type: SchemaType.AVRO, schema: '"string"' }, { subject: 'other' });
    const serde = await opened(serdes.registry({ registry, subject: 'orders-value', schema: v1 }));
    expect(registry.versions('orders-value')).toEqual([2]);
    // id 2; "o1" = 0x04 'o' '1'; 7 = zig-zag 0x0e.
    expect(serde.serialize({ id: 'o1', total: 7 })).toEqual(Buffer.from([0, 0, 0, 0, 2, 0x04, 0x6f, 0x31, 0x0e]));
    expect({ ...(await read(serde, Buffer.from([0, 0, 0, 0, 2, 0x04, 0x6f, 0x31, 0x0e]))) }).toEqual({ id: 'o1', total: 7 });
    expect(serde.name).toBe('registry(avro, orders-value)');
  });

  it('reads across a compatible change both ways: old readers drop the new field, new readers fill in its default', async () => {
    const registry = new TestSchemaRegistry();
    const old = await opened(serdes.registry({ registry, subject: 'orders-value', schema: v1 }));
    const updated = await opened(serdes.registry({ registry, subject: 'orders-value', schema: v2 }));
    expect(registry.versions('orders-value')).toEqual([1, 2]);
    const fromOld = old.serialize({ id: 'a', total: 1 });
    const fromNew = updated.serialize({ id: 'b', total: 2, currency: 'USD' });
    expect(fromOld.readInt32BE(1)).toBe(1);
    expect(fromNew.readInt32BE(1)).toBe(2);
    expect({ ...(await read(updated, fromOld)) }).toEqual({ id: 'a', total: 1, currency: 'EUR' });
    expect({ ...(await read(old, fromNew)) }).toEqual({ id: 'b', total: 2 });
    // A reader opened later with no schema of its own reads each record as it was written.
    const any = await opened(serdes.registry({ registry, subject: 'orders-value', register: false }));
    expect({ ...((await read(any, fromNew)) as object) }).toEqual({ id: 'b', total: 2, currency: 'USD' });
    // ...and writes with the latest.
    expect(any.serialize({ id: 'c', total: 3, currency: 'GBP' }).readInt32BE(1)).toBe(2);
  });

  it('stops at open when the registry refuses an incompatible change, saying why', async () => {
    const registry = new TestSchemaRegistry();
    await opened(serdes.registry({ registry, subject: 'orders-value', schema: v2 }));
    await expect(serdes.registry({ registry, subject: 'orders-value', schema: v3 }).open!()).rejects.toMatchObject({
      code: 'SCHEMA_REGISTRY',
      message:
        'the schema registry: cannot register the schema under subject "orders-value": Schema being registered is incompatible with an earlier schema for subject "orders-value": no matching field for default-less Order.channel (HTTP 409)',
    });
    expect(registry.versions('orders-value')).toEqual([1]);
  });

  it('with register: false, opens only when the schema is registered', async () => {
    const registry = new TestSchemaRegistry();
    await expect(serdes.registry({ registry, subject: 'orders-value', schema: v1, register: false }).open!()).rejects.toMatchObject({
      code: 'SCHEMA_REGISTRY',
      message: 'the schema registry: cannot find the schema under subject "orders-value" (register: false): Subject "orders-value" not found (HTTP 404)',
    });
    await opened(serdes.registry({ registry, subject: 'orders-value', schema: v1 }));
    await expect(opened(serdes.registry({ registry, subject: 'orders-value', schema: v1, register: false }))).resolves.toBeDefined();
  });

  it('throws DESERIALIZATION for an id the registry lacks, bytes outside the wire format and bad Avro', async () => {
    const registry = new TestSchemaRegistry();
    const serde = await opened(serdes.registry({ registry, subject: 'orders-value', schema: v1 }));
    const unknownId = Buffer.from([0, 0, 0, 0, 99, 0x02, 0x61, 0x02]);
    await expect(read(serde, unknownId)).rejects.toMatchObject({ code: 'DESERIALIZATION', message: 'schema id 99 is not in the schema registry' });
    await expect(read(serde, Buffer.from('{"id":"a"}'))).rejects.toMatchObject({
      code: 'DESERIALIZATION',
      message: "bytes are not in the schema registry's wire format: first byte 0x7b, expected 0x00 and a 4-byte schema id (it looks like JSON, written without a registry)",
    });
    await expect(read(serde, Buffer.from([0, 0, 0, 0, 1, 0x09]))).rejects.toMatchObject({ code: 'DESERIALIZATION', message: expect.stringMatching(/^bytes are not Avro Order: /) });
  });

  it('reads a record of another subject only if its schema resolves to its own', async () => {
    const registry = new TestSchemaRegistry();
    const other = await opened(serdes.registry({ registry, subject: 'clicks-value', schema: { type: 'record', name: 'Click', fields: [{ name: 'x', type: 'int' }] } }));
    const serde = await opened(serdes.registry({ registry, subject: 'orders-value', schema: v1 }));
    await expect(read(serde, other.serialize({ x: 1 }))).rejects.toMatchObject({
      code: 'DESERIALIZATION',
      message: expect.stringMatching(/^a record written with schema id 1 cannot be read as Order: /),
    });
  });

  it('asks to be opened when used to write before it was', () => {
    const serde = serdes.registry({ registry: new TestSchemaRegistry(), subject: 'orders-value', schema: v1 });
    expect(() => serde.serialize({ id: 'a', total: 1 })).toThrow('registry(avro, orders-value) is not open: await serde.open() before writing with it outside a runner or test driver');
  });

  it('refuses bad options in one line', () => {
    expect(() => serdes.registry({ registry: 'not a url', subject: 's' })).toThrow('serdes.registry: registry: expected a URL such as http://localhost:8081, got "not a url"');
    expect(() => serdes.registry({ registry: 'http://localhost:8081', subject: ' ' })).toThrow('serdes.registry: subject: expected a non-empty string such as "orders-value"');
    expect(() => serdes.registry({ registry: 'http://localhost:8081', subject: 's', format: 'xml' as 'json' })).toThrow('serdes.registry: format: expected "avro" or "json", got "xml"');
  });

  it('names the registry (without its password) when it cannot be reached', async () => {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    await new Promise((resolve) => server.close(resolve));
    const serde = serdes.registry({ registry: `http://me:secret@127.0.0.1:${port}`, subject: 'orders-value', schema: v1 });
    const error = await serde.open!().then(() => undefined, (e: unknown) => e as Error & { code: string });
    expect(error?.code).toBe('SCHEMA_REGISTRY');
    expect(error?.message).toMatch(new RegExp(`^schema registry http://127\\.0\\.0\\.1:${port}: cannot register the schema under subject "orders-value": .*ECONNREFUSED`));
    expect(error?.message).not.toContain('secret');
  });
});

describe('serdes.registry (JSON Schema)', () => {
  const schema = { type: 'object', properties: { id: { type: 'string' }, total: { type: 'number' } }, required: ['id'] };

  it('frames JSON text and checks values against the schema both ways', async () => {
    const registry = new TestSchemaRegistry();
    const serde = await opened(serdes.registry<{ id: string; total?: number }>({ registry, subject: 'j-value', format: 'json', schema }));
    const bytes = serde.serialize({ id: 'a', total: 2 });
    expect(bytes).toEqual(Buffer.concat([Buffer.from([0, 0, 0, 0, 1]), Buffer.from('{"id":"a","total":2}')]));
    expect(await read(serde, bytes)).toEqual({ id: 'a', total: 2 });
    expect(() => serde.serialize({ total: 2 } as never)).toThrow("value does not match the JSON Schema: value: must have required property 'id'");
    const wrong = Buffer.concat([Buffer.from([0, 0, 0, 0, 1]), Buffer.from('{"id":5}')]);
    await expect(read(serde, wrong)).rejects.toMatchObject({ code: 'DESERIALIZATION', message: 'bytes are not a value of JSON Schema id 1: /id: must be string' });
  });

  it('will not open on a subject whose latest schema is Avro', async () => {
    const registry = new TestSchemaRegistry();
    await opened(serdes.registry({ registry, subject: 'orders-value', schema: v1 }));
    await expect(serdes.registry({ registry, subject: 'orders-value', format: 'json' }).open!()).rejects.toMatchObject({
      code: 'SCHEMA_REGISTRY',
      message: 'schema id 1 in the schema registry is Avro, and this serde reads JSON Schema',
    });
  });

  it('will not read Avro as JSON', async () => {
    const registry = new TestSchemaRegistry();
    const avro = await opened(serdes.registry({ registry, subject: 'a-value', schema: v1 }));
    const json = await opened(serdes.registry({ registry, subject: 'j-value', format: 'json', schema }));
    await expect(read(json, avro.serialize({ id: 'a', total: 1 }))).rejects.toMatchObject({
      code: 'DESERIALIZATION',
      message: 'schema id 1 in the schema registry is Avro, and this serde reads JSON Schema',
    });
  });
});
