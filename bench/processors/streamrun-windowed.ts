import { serdes, start, topology, tumbling } from 'streamrun';
import { processorEnv, type BenchEvent } from '../lib/events.ts';
import { benchRunnerOptions, runUntilSignal } from './runner-lifecycle.ts';

// groupByKey + 1-minute tumbling count in LevelDB with its changelog, every update emitted,
// at-least-once unless BENCH_PROCESSING says exactly-once: the same as the Kafka Streams twin's windowed mode.
const env = processorEnv();
const app = topology(env.BENCH_GROUP);
app
  .stream(env.BENCH_INPUT, { key: serdes.string, value: serdes.json<BenchEvent>() })
  .groupByKey()
  .windowedBy(tumbling(60_000))
  .count({ name: 'counts' })
  .toStream()
  .map((count, window) => ({ key: window.key, value: String(count) }))
  .to(env.BENCH_OUTPUT, { key: serdes.string, value: serdes.string });

await runUntilSignal(await start(app, benchRunnerOptions(env)));
