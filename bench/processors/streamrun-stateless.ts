import { serdes, start, topology, type Serde } from 'streamrun';
import { benchEventSchema, processedEventSchema, processorEnv, statelessStep, type BenchEvent } from '../lib/events.ts';
import { benchRunnerOptions, runUntilSignal } from './runner-lifecycle.ts';

// map + filter + to, at-least-once: the same work as kafkajs-pipe and the Kafka Streams twin.
// BENCH_FORMAT=avro reads and writes the same events as Avro instead of JSON.
const env = processorEnv();
const avro = process.env['BENCH_FORMAT'] === 'avro';
const events: Serde<BenchEvent> = avro ? serdes.avro(benchEventSchema) : serdes.json<BenchEvent>();
const processed = avro ? serdes.avro(processedEventSchema) : serdes.json<BenchEvent & { fahrenheit: number }>();
const app = topology(env.BENCH_GROUP);
app
  .stream(env.BENCH_INPUT, { key: serdes.string, value: events })
  .mapValues(statelessStep)
  .filter((event): event is NonNullable<typeof event> => event !== null)
  .to(env.BENCH_OUTPUT, { value: processed });

await runUntilSignal(await start(app, benchRunnerOptions(env)));
