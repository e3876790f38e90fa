import { serdes } from 'streamrun';

/**
 * The benchmark's events: JSON of about 200 bytes, keyed by one of 1,000 sensors. Every
 * implementation (streamrun, raw clients, the Kafka Streams twin) reads and writes these.
 */
export interface BenchEvent {
  readonly id: string;
  readonly sensor: string;
  readonly type: string;
  /** Uniform in [-10, 40): the stateless scenario keeps the 80 % at or above 0. */
  readonly value: number;
  readonly ts: number;
  readonly note: string;
}

export const sensorCount = 1000;
const note = 'lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor';
const types = ['temperature', 'humidity', 'pressure', 'power'] as const;

/** How the bench's events are written: JSON text, or Avro binary of `benchEventSchema`. */
export type BenchFormat = 'json' | 'avro';

/** The events as Avro (the streamrun-stateless-avro scenario): the same fields as the JSON. */
export const benchEventSchema = {
  type: 'record',
  name: 'BenchEvent',
  fields: [
    { name: 'id', type: 'string' },
    { name: 'sensor', type: 'string' },
    { name: 'type', type: 'string' },
    { name: 'value', type: 'double' },
    { name: 'ts', type: 'long' },
    { name: 'note', type: 'string' },
  ],
} as const;

/** What the stateless step writes, as Avro. */
export const processedEventSchema = { ...benchEventSchema, name: 'ProcessedEvent', fields: [...benchEventSchema.fields, { name: 'fahrenheit', type: 'double' }] } as const;

const avroEvents = serdes.avro(benchEventSchema);

/** The i-th event, as a Kafka key and value. Deterministic, so runs are comparable. */
export function benchEvent(i: number, now: number): { key: string; value: string };
export function benchEvent(i: number, now: number, format: BenchFormat): { key: string; value: string | Buffer };
export function benchEvent(i: number, now: number, format: BenchFormat = 'json'): { key: string; value: string | Buffer } {
  const sensor = `sensor-${(i * 7919) % sensorCount}`;
  const value = ((i * 37) % 500) / 10 - 10;
  const event: BenchEvent = { id: `e${i}`, sensor, type: types[i % types.length]!, value, ts: now, note };
  return { key: sensor, value: format === 'json' ? JSON.stringify(event) : avroEvents.serialize(event) };
}

/**
 * The stateless scenario's work on one event: drop readings below 0, add Fahrenheit.
 * bench/java does the same in Java.
 */
export function statelessStep(event: BenchEvent): (BenchEvent & { fahrenheit: number }) | null {
  if (event.value < 0) return null;
  return { ...event, fahrenheit: event.value * 1.8 + 32 };
}

/** Where a processor learns what to do: environment variables, the same for Node and Java. */
export interface ProcessorEnv {
  /** Bootstrap servers, comma-separated. */
  readonly BENCH_BROKERS: string;
  /** Topic to read (consumers, pipes, topologies) or to fill (producer ceilings). */
  readonly BENCH_INPUT: string;
  /** Topic to write (pipes and topologies). */
  readonly BENCH_OUTPUT: string;
  /** Consumer group / application id: progress is read from its committed offsets. */
  readonly BENCH_GROUP: string;
  /** Events to produce (producer ceilings). */
  readonly BENCH_EVENTS: string;
  /** A fresh directory for local state. */
  readonly BENCH_STATE_DIR: string;
}

export function processorEnv(): ProcessorEnv {
  const get = (name: keyof ProcessorEnv) => {
    const value = process.env[name];
    if (value === undefined) throw new Error(`bench processor: ${name} is not set`);
    return value;
  };
  return {
    BENCH_BROKERS: get('BENCH_BROKERS'),
    BENCH_INPUT: get('BENCH_INPUT'),
    BENCH_OUTPUT: get('BENCH_OUTPUT'),
    BENCH_GROUP: get('BENCH_GROUP'),
    BENCH_EVENTS: get('BENCH_EVENTS'),
    BENCH_STATE_DIR: get('BENCH_STATE_DIR'),
  };
}

/** What a processor prints on stdout once it is ready to take records (its group joined). */
export const readyLine = 'ready';
