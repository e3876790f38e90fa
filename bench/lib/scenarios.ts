import { benchEvent, statelessStep, type BenchEvent } from './events.ts';
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
  launch(log: (line: string) => void): Promise<Launch>;
}

const ready = /^ready$/m;
const node = (script: string): Launch => ({
  command: process.execPath,
  args: ['--import', 'tsx', `bench/processors/${script}.ts`],
  ready,
});

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
  { name: 'streamrun-stateless', implementation: 'streamrun', kind: 'processor', expectedOutputs: kept, launch: async () => node('streamrun-stateless') },
  { name: 'streamrun-windowed', implementation: 'streamrun', kind: 'processor', expectedOutputs: everyOne, launch: async () => node('streamrun-windowed') },
  { name: 'kafkats-flow-stateless', implementation: '@kafkats/flow', kind: 'processor', expectedOutputs: kept, launch: async () => node('kafkats-flow-stateless') },
  { name: 'kafkats-flow-windowed', implementation: '@kafkats/flow', kind: 'processor', expectedOutputs: everyOne, launch: async () => node('kafkats-flow-windowed') },
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
