import { serdes, topology, type SchemaRegistryClient } from 'streamrun';

// Names from the environment, these by default: several copies can share a broker.
const env = (name: string, otherwise: string) => process.env[name] || otherwise;
export const topics = { input: env('INPUT_TOPIC', 'readings'), output: env('OUTPUT_TOPIC', 'alerts') };

/** A sensor reading, as Avro. `unit` came later, with a default: readers of either version read both. */
export const readingSchema = {
  type: 'record',
  name: 'Reading',
  namespace: 'sensors',
  fields: [
    { name: 'sensor', type: 'string' },
    { name: 'celsius', type: 'double' },
    { name: 'unit', type: ['null', 'string'], default: null },
  ],
} as const;

export const alertSchema = {
  type: 'record',
  name: 'Alert',
  namespace: 'sensors',
  fields: [
    { name: 'sensor', type: 'string' },
    { name: 'fahrenheit', type: 'double' },
    { name: 'level', type: { type: 'enum', name: 'Level', symbols: ['warm', 'hot'] } },
  ],
} as const;

/**
 * Reads Avro readings through the schema registry and writes an Avro alert for each at 30 °C or
 * more. `registry` is the registry's URL, or in tests the driver's TestSchemaRegistry.
 */
export function avroAlerts(registry: string | SchemaRegistryClient) {
  return topology(env('APP_ID', 'avro-alerts'))
    .stream(topics.input, { key: serdes.string, value: serdes.registry({ registry, subject: `${topics.input}-value`, schema: readingSchema }) })
    .filter((r) => r.celsius >= 30)
    .mapValues((r) => ({ sensor: r.sensor, fahrenheit: r.celsius * 1.8 + 32, level: r.celsius >= 40 ? ('hot' as const) : ('warm' as const) }))
    .to(topics.output, { value: serdes.registry({ registry, subject: `${topics.output}-value`, schema: alertSchema }) });
}

export default avroAlerts(env('SCHEMA_REGISTRY_URL', 'http://localhost:8081'));
