import { benchEvent, statelessStep, type BenchEvent, type BenchFormat } from './events.ts';
import { javaTwinCommand } from './java-twin.ts';

/** How a scenario's process is started, and how it says it is ready. */
export interface Launch {
  readonly command: string;
  readonly args: readonly string[];
  readonly env?: Readonly<Record<string, string>>;
  readonly ready: RegExp;
}

export interface Scenario {
  readonly name: string;
  readonly implementation: 'kafkajs' | '@platformatic/kafka' | '@kafkats/client' | 'streamrun' | '@kafkats/flow' | 'Kafka Streams';
  /** Producers fill a topic; consumers and processors work through a pre-filled one. */
  readonly kind: 'producer' | 'consumer' | 'processor';
  /** What one output per input looks like, for the latency phase: outputs expected for events [0, n). */
  readonly expectedOutputs?: (n: number) => number;
  /** At most this many events, on an input of its own: for what would take many minutes over all of them. */
  readonly maxEvents?: number;
  /** What its input topic holds: the JSON events (the default) or the same events as Avro. */
  readonly input?: BenchFormat;
  launch(log: (line: string) => void): Promise<Launch>;
}

const ready = /^ready$/m;
const node = (script: string, env?: Readonly<Record<string, string>>): Launch => ({
  command: process.execPath,
  args: ['--conditions=streamrun-source', '--import', 'tsx', `bench/processors/${script}.ts`],
  ...(env && { env }),
  ready,
});
// The runner also reads STREAMRUN_CLIENT itself: naming KafkaJS keeps a value set around the
// bench from moving the plain streamrun rows onto the other client.
const onKafkajs = { STREAMRUN_CLIENT: 'kafkajs' };
const onKafkats = { STREAMRUN_CLIENT: 'kafkats' };

/**
 * @kafkats/flow awaits one send per record (two with the changelog, and LMDB's commits), so
 * it runs at ~10,000 events/s stateless and ~1,500 windowed here: a million would take minutes
 * a run. These many take ~20 and ~40 s, long next to its 1 s commit interval (the timed span's
 * ends) and well inside the harness's 120 s limit.
 */
const flowStatelessEvents = 200_000;
const flowWindowedEvents = 60_000;

const kept = (n: number): number => {
  let count = 0;
  for (let i = 0; i < n; i++) if (statelessStep(JSON.parse(benchEvent(i, 0).value) as BenchEvent) !== null) count++;
  return count;
};
const everyOne = (n: number): number => n;

export const scenarios: readonly Scenario[] = [
  { name: 'kafkajs-producer', implementation: 'kafkajs', kind: 'producer', launch: async () => node('kafkajs-producer') },
  { name: 'kafkajs-consumer', implementation: 'kafkajs', kind: 'consumer', launch: async () => node('kafkajs-consumer') },
  { name: 'kafkajs-pipe', implementation: 'kafkajs', kind: 'processor', expectedOutputs: kept, launch: async () => node('kafkajs-pipe') },
  { name: 'platformatic-producer', implementation: '@platformatic/kafka', kind: 'producer', launch: async () => node('platformatic-producer') },
  { name: 'platformatic-consumer', implementation: '@platformatic/kafka', kind: 'consumer', launch: async () => node('platformatic-consumer') },
  { name: 'platformatic-pipe', implementation: '@platformatic/kafka', kind: 'processor', expectedOutputs: kept, launch: async () => node('platformatic-pipe') },
  { name: 'kafkats-producer', implementation: '@kafkats/client', kind: 'producer', launch: async () => node('kafkats-producer') },
  { name: 'kafkats-consumer', implementation: '@kafkats/client', kind: 'consumer', launch: async () => node('kafkats-consumer') },
  { name: 'kafkats-pipe', implementation: '@kafkats/client', kind: 'processor', expectedOutputs: kept, launch: async () => node('kafkats-pipe') },
  { name: 'streamrun-stateless', implementation: 'streamrun', kind: 'processor', expectedOutputs: kept, launch: async () => node('streamrun-stateless', onKafkajs) },
  { name: 'streamrun-windowed', implementation: 'streamrun', kind: 'processor', expectedOutputs: everyOne, launch: async () => node('streamrun-windowed', onKafkajs) },
  // The stateless processor again, serving /metrics and scraped every second, beside the same without a server.
  {
    name: 'streamrun-stateless-scraped',
    implementation: 'streamrun',
    kind: 'processor',
    expectedOutputs: kept,
    launch: async () => node('streamrun-stateless', { ...onKafkajs, BENCH_METRICS: 'scraped' }),
  },
  // The stateless processor on Avro input and output (serdes.avro), beside the same on JSON: the serde's cost.
  {
    name: 'streamrun-stateless-avro',
    implementation: 'streamrun',
    kind: 'processor',
    input: 'avro',
    launch: async () => node('streamrun-stateless', { ...onKafkajs, BENCH_FORMAT: 'avro' }),
  },
  // The same processors with the runner on @kafkats/client (its `client` option).
  {
    name: 'streamrun-stateless-kafkats',
    implementation: 'streamrun',
    kind: 'processor',
    expectedOutputs: kept,
    launch: async () => node('streamrun-stateless', onKafkats),
  },
  {
    name: 'streamrun-windowed-kafkats',
    implementation: 'streamrun',
    kind: 'processor',
    expectedOutputs: everyOne,
    launch: async () => node('streamrun-windowed', onKafkats),
  },
  // The windowed processor again, exactly-once (transactions every 100 ms), beside the same on at-least-once.
  {
    name: 'streamrun-windowed-eos',
    implementation: 'streamrun',
    kind: 'processor',
    expectedOutputs: everyOne,
    launch: async () => node('streamrun-windowed', { ...onKafkats, BENCH_PROCESSING: 'exactly-once' }),
  },
  // No latency phase: flow writes its outputs with the time of its own send, not the input
  // record's, so the bench's clock (input timestamp → output read) would start at flow's send.
  { name: 'kafkats-flow-stateless', implementation: '@kafkats/flow', kind: 'processor', maxEvents: flowStatelessEvents, launch: async () => node('kafkats-flow-stateless') },
  { name: 'kafkats-flow-windowed', implementation: '@kafkats/flow', kind: 'processor', maxEvents: flowWindowedEvents, launch: async () => node('kafkats-flow-windowed') },
  {
    name: 'kstreams-stateless',
    implementation: 'Kafka Streams',
    kind: 'processor',
    expectedOutputs: kept,
    launch: async (log) => ({ ...(await javaTwinCommand('stateless', log)), ready }),
  },
  {
    name: 'kstreams-windowed',
    implementation: 'Kafka Streams',
    kind: 'processor',
    expectedOutputs: everyOne,
    launch: async (log) => ({ ...(await javaTwinCommand('windowed', log)), ready }),
  },
];
