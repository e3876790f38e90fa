import { brokers, createTopic, uniqueName } from './kafka.ts';

/** A counter's run: its app id, its input and output topics (made with `partitions` each), and the fixture's environment. */
export interface CounterRun {
  readonly appId: string;
  readonly input: string;
  readonly output: string;
  /** What test/e2e/fixtures/counter.ts reads, for `runCli`. */
  readonly env: Readonly<Record<string, string>>;
}

export async function counterRun(name: string, partitions: number): Promise<CounterRun> {
  const input = uniqueName(`${name}-in`);
  const output = `${input}-out`;
  const appId = uniqueName(name);
  await createTopic(input, partitions);
  await createTopic(output, partitions);
  return { appId, input, output, env: { APP_ID: appId, INPUT_TOPIC: input, OUTPUT_TOPIC: output, KAFKA_BROKERS: brokers() } };
}
