import { randomUUID } from 'node:crypto';
import { SchemaRegistry, SchemaType } from '@kafkajs/confluent-schema-registry';
import { describe, expect, inject, it } from 'vitest';

/**
 * The registry itself, checked the way registry serdes rely on it: the Confluent API's
 * registration, lookup by id, compatibility and wire format. No Kafka is involved.
 */
const url = inject('schemaRegistryUrl');
const contentType = 'application/vnd.schemaregistry.v1+json';

interface Reply {
  status: number;
  body: unknown;
}

async function call(method: 'GET' | 'POST' | 'PUT', path: string, body?: unknown): Promise<Reply> {
  const response = await fetch(`${url}${path}`, {
    method,
    headers: { accept: contentType, ...(body === undefined ? {} : { 'content-type': contentType }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: response.status, body: await response.json() };
}

/** Registers `schema` (an object, sent as compact text) under `subject` and returns the reply. */
function register(subject: string, schema: object, schemaType?: 'JSON'): Promise<Reply> {
  return call('POST', `/subjects/${subject}/versions`, { schema: JSON.stringify(schema), ...(schemaType ? { schemaType } : {}) });
}

function idOf(reply: Reply): number {
  expect(reply.status).toBe(200);
  const { id } = reply.body as { id: unknown };
  expect(Number.isInteger(id) && (id as number) > 0, `an id in ${JSON.stringify(reply.body)}`).toBe(true);
  return id as number;
}

const user = { type: 'record', name: 'User', namespace: 'dev.streamrun.test', fields: [{ name: 'name', type: 'string' }] };
const userWithAge = { ...user, fields: [...user.fields, { name: 'age', type: 'int', default: 0 }] };

describe('schema registry', () => {
  it('registers an Avro schema, serves it by id and answers the same id for the same schema again', async () => {
    const subject = `${randomUUID()}-value`;
    const id = idOf(await register(subject, user));
    expect(await call('GET', `/schemas/ids/${id}`)).toEqual({
      status: 200,
      body: { schema: JSON.stringify(user), schemaType: 'AVRO', references: [] },
    });
    expect(idOf(await register(subject, user))).toBe(id);
    expect(await call('GET', `/subjects/${subject}/versions`)).toEqual({ status: 200, body: [1] });
  });

  it('takes a BACKWARD-compatible change as version 2 with a new id, and refuses incompatible ones with 409', async () => {
    const subject = `${randomUUID()}-value`;
    // Whatever the registry's default is (Apicurio's own is NONE), this subject checks BACKWARD.
    expect((await call('PUT', `/config/${subject}`, { compatibility: 'BACKWARD' })).status).toBe(200);
    expect(await call('GET', `/config/${subject}`)).toEqual({ status: 200, body: { compatibilityLevel: 'BACKWARD' } });
    const first = idOf(await register(subject, user));
    const second = idOf(await register(subject, userWithAge));
    expect(second).not.toBe(first);
    expect(await call('GET', `/subjects/${subject}/versions/2`)).toEqual({
      status: 200,
      body: { subject, version: 2, id: second, schema: JSON.stringify(userWithAge), schemaType: 'AVRO', references: [] },
    });

    // A new field without a default: readers of the new schema cannot read old records.
    const withEmail = { ...userWithAge, fields: [...userWithAge.fields, { name: 'email', type: 'string' }] };
    // A field's type changed: string does not read as int.
    const nameAsInt = { ...userWithAge, fields: [{ name: 'name', type: 'int' }, userWithAge.fields[1]] };
    for (const incompatible of [withEmail, nameAsInt]) {
      const refused = await register(subject, incompatible);
      expect(refused.status).toBe(409);
      expect(refused.body).toEqual({ error_code: 409, message: expect.stringMatching(/incompatible/i) });
    }
    expect(await call('GET', `/subjects/${subject}/versions`)).toEqual({ status: 200, body: [1, 2] });
  });

  it('registers a JSON Schema with schemaType JSON', async () => {
    const subject = `${randomUUID()}-value`;
    const schema = { type: 'object', properties: { name: { type: 'string' } }, required: ['name'] };
    const id = idOf(await register(subject, schema, 'JSON'));
    expect(await call('GET', `/schemas/ids/${id}`)).toEqual({
      status: 200,
      body: { schema: JSON.stringify(schema), schemaType: 'JSON', references: [] },
    });
  });

  it("answers unknown ids and subjects with 404 and the registry's error codes", async () => {
    expect(await call('GET', '/schemas/ids/2147483647')).toEqual({
      status: 404,
      body: { error_code: 40403, message: expect.any(String) },
    });
    expect(await call('GET', `/subjects/${randomUUID()}-value/versions`)).toEqual({
      status: 404,
      body: { error_code: 40401, message: expect.any(String) },
    });
  });

  it('@kafkajs/confluent-schema-registry registers, encodes in the wire format and decodes against it', async () => {
    const subject = `${randomUUID()}-value`;
    const registry = new SchemaRegistry({ host: url });
    const { id } = await registry.register({ type: SchemaType.AVRO, schema: JSON.stringify(user) }, { subject });
    const value = { name: 'Ada' };
    const encoded = await registry.encode(id, value);
    expect(encoded[0]).toBe(0);
    expect(encoded.readInt32BE(1)).toBe(id);
    expect(await registry.decode(encoded)).toEqual(value);
    // A client that has never seen the id fetches its schema from the registry.
    expect(await new SchemaRegistry({ host: url }).decode(encoded)).toEqual(value);

    // The library set the subject's level when it first registered; a second registration
    // compares against it and goes through.
    expect(await call('GET', `/config/${subject}`)).toEqual({ status: 200, body: { compatibilityLevel: 'BACKWARD' } });
    const evolved = await registry.register({ type: SchemaType.AVRO, schema: JSON.stringify(userWithAge) }, { subject });
    expect(evolved.id).not.toBe(id);
    expect(await registry.decode(await registry.encode(evolved.id, { name: 'Ada', age: 36 }))).toEqual({ name: 'Ada', age: 36 });
    expect(await registry.getLatestSchemaId(subject)).toBe(evolved.id);
  });
});
