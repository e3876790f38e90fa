import { serdes, start, topology } from 'streamrun';
import { processorEnv, statelessStep, type BenchEvent } from '../lib/events.ts';
import { benchRunnerOptions, runUntilSignal } from './runner-lifecycle.ts';

// map + filter + to, at-least-once: the same work as kafkajs-pipe and the Kafka Streams twin.
const env = processorEnv();
const app = topology(env.BENCH_GROUP);
app
  .stream(env.BENCH_INPUT, { key: serdes.string, value: serdes.json<BenchEvent>() })
  .mapValues(statelessStep)
  .filter((event): event is NonNullable<typeof event> => event !== null)
  .to(env.BENCH_OUTPUT, { value: serdes.json() });

await runUntilSignal(await start(app, benchRunnerOptions(env)));
