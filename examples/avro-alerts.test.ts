import { SchemaType } from '@kafkajs/confluent-schema-registry';
import { expect, it } from 'vitest';
import { serdes } from '../lib/index.ts';
import { TestSchemaRegistry, TopologyTestDriver } from '../lib/testing/index.ts';
import { alertSchema, avroAlerts, readingSchema, topics } from './avro-alerts.ts';

it('turns hot readings into alerts, in Avro through the registry', async () => {
  const registry = new TestSchemaRegistry();
  const driver = new TopologyTestDriver(avroAlerts(registry));
  await driver.input(topics.input).pipeInputs([
    { key: 's1', value: { sensor: 's1', celsius: 21, unit: null }, timestamp: 1 },
    { key: 's2', value: { sensor: 's2', celsius: 35, unit: 'C' }, timestamp: 2 },
    { key: 's3', value: { sensor: 's3', celsius: 40, unit: null }, timestamp: 3 },
  ]);
  expect(driver.output(topics.output).readOutputs().map((r) => [r.key, { ...(r.value as object) }])).toEqual([
    ['s2', { sensor: 's2', fahrenheit: 95, level: 'warm' }],
    ['s3', { sensor: 's3', fahrenheit: 104, level: 'hot' }],
  ]);
  expect(registry.subjects().sort()).toEqual([`${topics.output}-value`, `${topics.input}-value`].sort());
  await driver.close();
});

it('reads readings written before `unit` existed, as unit null', async () => {
  const registry = new TestSchemaRegistry();
  // A producer still on the first version of the schema, registered first.
  const first = { ...readingSchema, fields: [readingSchema.fields[0], readingSchema.fields[1]] } as const;
  await registry.register({ type: SchemaType.AVRO, schema: JSON.stringify(first) }, { subject: `${topics.input}-value` });
  const old = serdes.registry({ registry, subject: `${topics.input}-value`, schema: first });
  await old.open!();
  const driver = new TopologyTestDriver(avroAlerts(registry));
  await driver.input(topics.input, { value: old }).pipeInput('s9', { sensor: 's9', celsius: 50 }, { timestamp: 1 });
  const alerts = serdes.registry({ registry, subject: `${topics.output}-value`, schema: alertSchema });
  await alerts.open!();
  expect(driver.output(topics.output, { value: alerts }).readOutputs().map((r) => ({ ...r.value }))).toEqual([{ sensor: 's9', fahrenheit: 122, level: 'hot' }]);
  expect(registry.versions(`${topics.input}-value`)).toEqual([1, 2]);
  await driver.close();
});
