import { flow, json, string } from '@kafkats/flow';
import { statelessStep, type BenchEvent } from '../lib/events.ts';
import { benchSettings, runProcessor } from './common.ts';
import { flowConfig, runFlow } from './kafkats-client.ts';

// map + filter + to, at-least-once: the same work as streamrun-stateless and the Kafka Streams twin.
runProcessor(async () => {
  const settings = benchSettings();
  const app = flow(flowConfig(settings));
  app
    .stream(settings.env.BENCH_INPUT, { key: string(), value: json<BenchEvent>() })
    .mapValues((event) => (event === null ? null : statelessStep(event)))
    .filter((_, event) => event !== null)
    .to(settings.env.BENCH_OUTPUT, { key: string(), value: json() });
  await runFlow(app);
});
