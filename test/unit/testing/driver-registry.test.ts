import { SchemaType } from '@kafkajs/confluent-schema-registry';
import { describe, expect, it } from 'vitest';
import { deadLetterHeaders as h, serdes } from '../../../lib/index.ts';
import { TestSchemaRegistry, TopologyTestDriver } from '../../../lib/testing/index.ts';
import { avroAlerts } from '../../../examples/avro-alerts.ts';

const dlq = 'avro-alerts-dlq';

describe('TopologyTestDriver with a registry serde', () => {
  it("registers the topology's schemas when it opens, and reads and writes the registry's wire format", async () => {
    const registry = new TestSchemaRegistry();
    const driver = new TopologyTestDriver(avroAlerts(registry));
    await driver.input('readings').pipeInputs([
      { key: 's1', value: { sensor: 's1', celsius: 20, unit: null }, timestamp: 1 },
      { key: 's2', value: { sensor: 's2', celsius: 35, unit: null }, timestamp: 2 },
      { key: 's3', value: { sensor: 's3', celsius: 45, unit: null }, timestamp: 3 },
    ]);
    expect(registry.subjects().sort()).toEqual(['alerts-value', 'readings-value']);
    const written = driver.output('alerts', { value: serdes.buffer }).readOutputs();
    const alertId = registry.versions('alerts-value')[0]!;
    expect(written.map((r) => [r.value![0], r.value!.readInt32BE(1)])).toEqual([
      [0, alertId],
      [0, alertId],
    ]);
    const reader = serdes.registry({ registry, subject: 'alerts-value', register: false });
    await reader.open!();
    expect(written.map((r) => ({ ...(reader.deserialize(r.value!) as object) }))).toEqual([
      { sensor: 's2', fahrenheit: 95, level: 'warm' },
      { sensor: 's3', fahrenheit: 113, level: 'hot' },
    ]);
    await driver.close();
  });

  it('dead-letters a record that does not decode, with the reason, and goes on', async () => {
    const registry = new TestSchemaRegistry();
    const driver = new TopologyTestDriver(avroAlerts(registry));
    const raw = driver.input('readings', { value: serdes.buffer });
    await raw.pipeInput('plain', Buffer.from('{"sensor":"s9","celsius":50}'), { timestamp: 1 });
    await raw.pipeInput('unknown-id', Buffer.from([0, 0, 0, 0, 42, 1, 2]), { timestamp: 2 });
    await driver.input('readings').pipeInput('s4', { sensor: 's4', celsius: 31, unit: null }, { timestamp: 3 });
    const letters = driver.output(dlq, { key: serdes.string, value: serdes.buffer }).readOutputs();
    expect(letters.map((r) => [r.key, r.headers[h.node], r.headers[h.errorMessage]])).toEqual([
      ['plain', 'source-0', "bytes are not in the schema registry's wire format: first byte 0x7b, expected 0x00 and a 4-byte schema id (it looks like JSON, written without a registry)"],
      ['unknown-id', 'source-0', 'schema id 42 is not in the schema registry'],
    ]);
    expect(letters[0]!.value!.toString()).toBe('{"sensor":"s9","celsius":50}');
    expect(driver.output('alerts').readOutputs().map((r) => r.key)).toEqual(['s4']);
    expect(driver.stats()).toMatchObject({ consumed: 3, deserializationErrors: 2, deadLettered: 2 });
    await driver.close();
  });

  it('fails the first pipe when the registry refuses a schema the topology writes with', async () => {
    const registry = new TestSchemaRegistry();
    await registry.register({ type: SchemaType.AVRO, schema: JSON.stringify({ type: 'record', name: 'Alert', namespace: 'sensors', fields: [{ name: 'sensor', type: 'string' }] }) }, { subject: 'alerts-value' });
    // Alert as the topology writes it adds two fields without defaults: not backward compatible.
    const driver = new TopologyTestDriver(avroAlerts(registry));
    await expect(driver.input('readings').pipeInput('s1', { sensor: 's1', celsius: 50, unit: null })).rejects.toMatchObject({
      code: 'SCHEMA_REGISTRY',
      message: expect.stringMatching(/^the schema registry: cannot register the schema under subject "alerts-value": Schema being registered is incompatible/),
    });
    await driver.close();
  });
});
