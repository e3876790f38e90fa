import { TimeWindows, flow, json, string, type KeyValue } from '@kafkats/flow';
import type { BenchEvent } from '../lib/events.ts';
import { benchSettings, runProcessor } from './common.ts';
import { flowConfig, runFlow } from './kafkats-client.ts';

// groupByKey + 1-minute tumbling count in LMDB with its changelog, every update emitted,
// at-least-once: the same as streamrun-windowed and the Kafka Streams twin's windowed mode.
runProcessor(async () => {
  const settings = benchSettings();
  const app = flow(flowConfig(settings));
  app
    .stream(settings.env.BENCH_INPUT, { key: string(), value: json<BenchEvent>() })
    .groupByKey()
    .windowedBy(TimeWindows.of('1m'))
    .count({ storeName: 'counts' })
    .toStream()
    .map((window, count): KeyValue<string, string> => {
      // The count node drops keyless records, so every window it emits has one.
      if (window === null) throw new Error('@kafkats/flow emitted a window without a key');
      return [window.key, String(count)];
    })
    .to(settings.env.BENCH_OUTPUT, { key: string(), value: string() });
  await runFlow(app);
});
