import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { SchemaRegistry, SchemaType } from '@kafkajs/confluent-schema-registry';
import { describe, expect, inject, it } from 'vitest';
import { serdes, start, topology } from '../../lib/index.ts';
import { runCli } from './helpers/cli.ts';
import { brokers, createTopic, groupProgress, produce, readAllSettled, recordCount, uniqueName, withAdmin } from './helpers/kafka.ts';
import { alertSchema, readingSchema } from '../../examples/avro-alerts.ts';
import { useRunners } from './helpers/runners.ts';
import { reservePorts } from './setup/ports.ts';
import { registryScript } from './setup/schema-registry.ts';

const run = promisify(execFile);
const topicExists = async (topic: string) => withAdmin(async (admin) => (await admin.listTopics()).includes(topic));

/*
 * The registry serdes against a real schema registry (test/e2e/setup/schema-registry.ts) and a
 * real broker. Records going in are encoded, and records coming out decoded, by
 * @kafkajs/confluent-schema-registry's own encode and decode, not by the serde under test.
 */
const registryUrl = (): string => inject('schemaRegistryUrl');
const client = () => new SchemaRegistry({ host: registryUrl() });
const header = (r: { headers: Record<string, unknown> | undefined }, name: string) => String(r.headers?.[`streamrun.${name}`] ?? '');

const orderV1 = { type: 'record', name: 'Order', namespace: 'e2e', fields: [{ name: 'id', type: 'string' }, { name: 'total', type: 'int' }] } as const;
// Compatible (BACKWARD): a field added with a default.
const orderV2 = { ...orderV1, fields: [...orderV1.fields, { name: 'currency', type: 'string', default: 'EUR' }] } as const;
// Incompatible: a field added without a default, which v2's records cannot fill in.
const orderV3 = { ...orderV1, fields: [...orderV2.fields, { name: 'channel', type: 'string' }] } as const;

async function registerWithClient(subject: string, schema: object): Promise<number> {
  const { id } = await client().register({ type: SchemaType.AVRO, schema: JSON.stringify(schema) }, { subject });
  return id;
}

describe('registry serdes on a real registry', () => {
  const startRunner = useRunners();

  it('read Avro another client wrote, and write Avro whose schema id the registry knows and that client decodes', async () => {
    const input = uniqueName('readings');
    const output = uniqueName('alerts');
    const appId = uniqueName('alerts-app');
    await createTopic(input, 3);
    const writerId = await registerWithClient(`${input}-value`, readingSchema);
    const readings = Array.from({ length: 300 }, (_, i) => ({ sensor: `s${i % 7}`, celsius: (i % 50) + 0.5 }));
    const theirs = client();
    // Waiting before the runner starts, as a backlog would.
    await produce(input, await Promise.all(readings.map(async (r, i) => ({ key: `k${i}`, value: await theirs.encode(writerId, r) }))));

    await startRunner(
      topology(appId)
        .stream(input, { key: serdes.string, value: serdes.registry({ registry: registryUrl(), subject: `${input}-value`, schema: readingSchema }) })
        .filter((r) => r.celsius >= 30)
        .mapValues((r) => ({ sensor: r.sensor, fahrenheit: r.celsius * 1.8 + 32, level: r.celsius >= 40 ? ('hot' as const) : ('warm' as const) }))
        .to(output, { value: serdes.registry({ registry: registryUrl(), subject: `${output}-value`, schema: alertSchema }) }),
    );

    const outputs = await readAllSettled(output, { group: appId, inputs: [input] });
    // The truth, from the readings alone.
    const expected = readings
      .map((r, i) => ({ key: `k${i}`, r }))
      .filter(({ r }) => r.celsius >= 30)
      .map(({ key, r }) => ({ key, sensor: r.sensor, fahrenheit: r.celsius * 1.8 + 32, level: r.celsius >= 40 ? 'hot' : 'warm' }));
    expect(outputs).toHaveLength(expected.length);
    expect(expected.length).toBe(120);
    // The wire format, byte by byte: a zero, then one schema id for every record.
    expect(new Set(outputs.map((r) => r.valueBytes![0]))).toEqual(new Set([0]));
    const ids = new Set(outputs.map((r) => r.valueBytes!.readInt32BE(1)));
    expect(ids.size).toBe(1);
    const [id] = ids;
    // The registry knows the id, under the output's subject, as the Alert schema.
    const byId = (await (await fetch(`${registryUrl()}/schemas/ids/${id}`)).json()) as { schema: string };
    expect(JSON.parse(byId.schema)).toMatchObject({ type: 'record', name: 'Alert', fields: alertSchema.fields.map(({ name }) => expect.objectContaining({ name })) });
    const latest = (await (await fetch(`${registryUrl()}/subjects/${output}-value/versions/latest`)).json()) as { id: number; version: number };
    expect([latest.id, latest.version]).toEqual([id, 1]);
    const decoded = await Promise.all(outputs.map(async (r) => ({ key: r.key, ...(await client().decode(r.valueBytes!)) })));
    const byKey = (a: { key: string | null }, b: { key: string | null }) => String(a.key).localeCompare(String(b.key));
    expect(decoded.sort(byKey)).toEqual(expected.sort(byKey));
  });

  it('old and new topologies read across a compatible change; an incompatible one is refused at start', async () => {
    const input = uniqueName('orders');
    await createTopic(input, 1);
    const subject = `${input}-value`;
    const v1 = await registerWithClient(subject, orderV1);
    const v2 = await registerWithClient(subject, orderV2);
    expect(v2).not.toBe(v1);
    const theirs = client();
    await produce(input, [
      { key: 'a', value: await theirs.encode(v1, { id: 'a', total: 1 }) },
      { key: 'b', value: await theirs.encode(v2, { id: 'b', total: 2, currency: 'USD' }) },
      { key: 'c', value: await theirs.encode(v1, { id: 'c', total: 3 }) },
      { key: 'd', value: await theirs.encode(v2, { id: 'd', total: 4, currency: 'GBP' }) },
    ]);
    const run = (appId: string, output: string, schema: object) =>
      runCli(['start', 'test/e2e/fixtures/registry-orders.ts', '--brokers', brokers()], {
        APP_ID: appId,
        INPUT_TOPIC: input,
        OUTPUT_TOPIC: output,
        ORDER_SCHEMA: JSON.stringify(schema),
        SCHEMA_REGISTRY_URL: registryUrl(),
      });

    const read = async (schema: object) => {
      const appId = uniqueName('orders-app');
      const output = uniqueName('orders-read');
      const cli = run(appId, output, schema);
      try {
        const records = await readAllSettled(output, { group: appId, inputs: [input] });
        return records.map((r) => JSON.parse(r.value!) as object);
      } finally {
        cli.child.kill('SIGTERM');
        expect(await cli.exited).toBe(0);
      }
    };
    // The old topology drops the field it does not know; the new one fills in its default.
    expect(await read(orderV1)).toEqual([
      { id: 'a', total: 1 },
      { id: 'b', total: 2 },
      { id: 'c', total: 3 },
      { id: 'd', total: 4 },
    ]);
    expect(await read(orderV2)).toEqual([
      { id: 'a', total: 1, currency: 'EUR' },
      { id: 'b', total: 2, currency: 'USD' },
      { id: 'c', total: 3, currency: 'EUR' },
      { id: 'd', total: 4, currency: 'GBP' },
    ]);

    // v3 cannot read v2's records: the registry refuses it, and the start stops before the group.
    const refused = run(uniqueName('orders-app'), uniqueName('orders-read'), orderV3);
    expect(await refused.exited).toBe(1);
    const lines = refused.stderr().trim().split('\n').filter((l) => /cannot register/.test(l));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(new RegExp(`schema registry ${registryUrl().replace(/[.]/g, '\\.')}: cannot register the schema under subject "${subject}": .*(HTTP 409)`));
    const versions = (await (await fetch(`${registryUrl()}/subjects/${subject}/versions`)).json()) as number[];
    expect(versions).toEqual([1, 2]);
    // The same from code: start() rejects with the code.
    await expect(
      start(topology(uniqueName('orders-app')).stream(input, { key: serdes.string, value: serdes.registry({ registry: registryUrl(), subject, schema: orderV3 }) }).to(uniqueName('x')), {
        brokers: [brokers()],
      }),
    ).rejects.toMatchObject({ code: 'SCHEMA_REGISTRY' });
  });

  it('read and write JSON Schema values in the wire format, and dead-letter one its schema refuses', async () => {
    const input = uniqueName('json-in');
    const output = uniqueName('json-out');
    const appId = uniqueName('json-app');
    await createTopic(input, 1);
    const order = { type: 'object', properties: { id: { type: 'string' }, total: { type: 'number' } }, required: ['id', 'total'] };
    const doubled = { type: 'object', properties: { id: { type: 'string' }, twice: { type: 'number' } }, required: ['id', 'twice'] };
    const { id } = await client().register({ type: SchemaType.JSON, schema: JSON.stringify(order) }, { subject: `${input}-value` });
    const theirs = client();
    const header5 = Buffer.alloc(5);
    header5.writeInt32BE(id, 1);
    await produce(input, [
      { key: 'a', value: await theirs.encode(id, { id: 'a', total: 2 }) },
      // Framed with the schema's id, but no `total`: the schema refuses it on the way in.
      { key: 'b', value: Buffer.concat([header5, Buffer.from('{"id":"b"}')]) },
      { key: 'c', value: await theirs.encode(id, { id: 'c', total: 5 }) },
    ]);
    await startRunner(
      topology(appId)
        .stream(input, { key: serdes.string, value: serdes.registry<{ id: string; total: number }>({ registry: registryUrl(), subject: `${input}-value`, format: 'json', schema: order }) })
        .mapValues((o) => ({ id: o.id, twice: o.total * 2 }))
        .to(output, { value: serdes.registry({ registry: registryUrl(), subject: `${output}-value`, format: 'json', schema: doubled }) }),
    );
    const outputs = await readAllSettled(output, { group: appId, inputs: [input] });
    expect(await Promise.all(outputs.map(async (r) => [r.key, await client().decode(r.valueBytes!)]))).toEqual([
      ['a', { id: 'a', twice: 4 }],
      ['c', { id: 'c', twice: 10 }],
    ]);
    expect(outputs.map((r) => r.valueBytes!.subarray(5).toString())).toEqual(['{"id":"a","twice":4}', '{"id":"c","twice":10}']);
    const outputId = outputs[0]!.valueBytes!.readInt32BE(1);
    const registered = (await (await fetch(`${registryUrl()}/schemas/ids/${outputId}`)).json()) as { schema: string; schemaType: string };
    expect([registered.schemaType, JSON.parse(registered.schema)]).toEqual(['JSON', doubled]);
    const letters = await readAllSettled(`${appId}-dlq`, { group: appId, inputs: [input] });
    expect(letters.map((r) => [r.key, header(r, 'error.message')])).toEqual([['b', `bytes are not a value of JSON Schema id ${id}: value: must have required property 'total'`]]);
  });

  it('stop the runner, dead-lettering nothing and committing nothing past, when a new schema cannot be fetched', async () => {
    // A registry of this test's own, to take away mid-stream.
    const dataDir = await mkdtemp(join(tmpdir(), 'streamrun-test-registry-'));
    const [port] = await reservePorts(1);
    const env = { ...process.env, REGISTRY_PORT: String(port), REGISTRY_DATA_DIR: dataDir };
    const registry = (command: 'start' | 'stop') => run('bash', [registryScript, command], { env });
    await registry('start');
    try {
      const url = `http://127.0.0.1:${port}/apis/ccompat/v7`;
      const theirs = new SchemaRegistry({ host: url });
      const input = uniqueName('outage');
      const output = uniqueName('outage-out');
      const appId = uniqueName('outage-app');
      await createTopic(input, 1);
      const subject = `${input}-value`;
      const v1 = (await theirs.register({ type: SchemaType.AVRO, schema: JSON.stringify(orderV1) }, { subject })).id;
      await produce(input, await Promise.all([1, 2, 3].map(async (n) => ({ key: `k${n}`, value: await theirs.encode(v1, { id: `o${n}`, total: n }) }))));
      const runner = await startRunner(
        topology(appId)
          .stream(input, { key: serdes.string, value: serdes.registry({ registry: url, subject, schema: orderV1 }) })
          .mapValues((o) => o.id)
          .to(output, { value: serdes.string }),
      );
      expect((await readAllSettled(output, { group: appId, inputs: [input] })).map((r) => r.value)).toEqual(['o1', 'o2', 'o3']);

      // A producer moves on to v2 (registered while the registry was up), then the registry goes.
      const v2 = (await theirs.register({ type: SchemaType.AVRO, schema: JSON.stringify(orderV2) }, { subject })).id;
      const newer = await theirs.encode(v2, { id: 'o4', total: 4, currency: 'USD' });
      await registry('stop');
      await produce(input, [{ key: 'k4', value: newer }]);

      const stopped = await runner.finished.then(
        () => undefined,
        (error: unknown) => error as Error & { code: string },
      );
      expect(stopped?.code).toBe('SCHEMA_REGISTRY');
      expect(stopped?.message).toMatch(new RegExp(`^schema registry ${url.replace(/[.]/g, '\\.')}: cannot fetch schema id ${v2}: `));
      const [progress] = await groupProgress(appId, [input]);
      expect([progress!.committed, progress!.end]).toEqual([3n, 4n]);
      expect(await recordCount(output)).toBe(3);
      expect(await topicExists(`${appId}-dlq`) ? await recordCount(`${appId}-dlq`) : 0).toBe(0);
    } finally {
      await registry('stop');
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  it('dead-letter the records that do not decode, with the decode error, and process the rest', async () => {
    const input = uniqueName('mixed');
    const output = uniqueName('mixed-out');
    const appId = uniqueName('mixed-app');
    await createTopic(input, 1);
    const id = await registerWithClient(`${input}-value`, readingSchema);
    const theirs = client();
    const good = async (sensor: string) => theirs.encode(id, { sensor, celsius: 21 });
    const framed = (schemaId: number, payload: Buffer) => {
      const header = Buffer.alloc(5);
      header.writeInt32BE(schemaId, 1);
      return Buffer.concat([header, payload]);
    };
    await produce(input, [
      { key: 'good-1', value: await good('s1') },
      { key: 'json', value: '{"sensor":"s2","celsius":21}' },
      { key: 'unknown-id', value: framed(2_000_000_000, Buffer.from([2, 0x61])) },
      { key: 'truncated', value: (await good('s3')).subarray(0, 7) },
      { key: 'good-2', value: await good('s4') },
    ]);
    await startRunner(
      topology(appId)
        .stream(input, { key: serdes.string, value: serdes.registry({ registry: registryUrl(), subject: `${input}-value`, schema: readingSchema }) })
        .mapValues((r) => r.sensor)
        .to(output, { value: serdes.string }),
    );
    const outputs = await readAllSettled(output, { group: appId, inputs: [input] });
    expect(outputs.map((r) => [r.key, r.value])).toEqual([
      ['good-1', 's1'],
      ['good-2', 's4'],
    ]);
    const letters = await readAllSettled(`${appId}-dlq`, { group: appId, inputs: [input] });
    expect(letters.map((r) => [r.key, header(r, 'original.offset'), header(r, 'node'), header(r, 'attempts')])).toEqual([
      ['json', '1', 'source-0', '1'],
      ['unknown-id', '2', 'source-0', '1'],
      ['truncated', '3', 'source-0', '1'],
    ]);
    expect(letters.map((r) => header(r, 'error.message'))).toEqual([
      "bytes are not in the schema registry's wire format: first byte 0x7b, expected 0x00 and a 4-byte schema id (it looks like JSON, written without a registry)",
      `schema id 2000000000 is not in schema registry ${registryUrl()}`,
      'bytes are not Avro sensors.Reading: truncated buffer',
    ]);
    // The bytes are the record's own, for a replay once the producer is fixed.
    expect(letters[1]!.valueBytes).toEqual(framed(2_000_000_000, Buffer.from([2, 0x61])));
  });
});
