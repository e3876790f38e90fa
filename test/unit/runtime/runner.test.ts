import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { graphOf } from '../../../lib/dsl/topology.ts';
import { describeGraph } from '../../../lib/graph/describe.ts';
import { childrenOf } from '../../../lib/graph/edges.ts';
import { subtopologies } from '../../../lib/graph/subtopologies.ts';
import { serdes, topology, StreamrunError } from '../../../lib/index.ts';
import type { InputConsumer, StreamClient, TopicSpec } from '../../../lib/kafka/client.ts';
import type { Logger } from '../../../lib/runtime/logger.ts';
import { resolveRunnerOptions } from '../../../lib/runtime/options.ts';
import { Runner } from '../../../lib/runtime/runner.ts';

/** Errors whose message is a broker answer's name count as transient for the fake client. */
const transient = (error: unknown) => (error instanceof Error && /^[A-Z_]+$/.test(error.message) ? error.message : undefined);

/** A client that fails the calls it is told to, in order, and records what was asked of it. */
function fakeClient(failures: { createTopics?: Error[]; join?: Error[]; joinWaitsFor?: Promise<void> }) {
  const calls: string[] = [];
  const failNext = (list: Error[] | undefined) => {
    const error = list?.shift();
    if (error !== undefined) throw error;
  };
  const consumer = (): InputConsumer => ({
    async start(topics, handlers) {
      calls.push(`join ${topics.join(',')}`);
      failNext(failures.join);
      await failures.joinWaitsFor;
      handlers.onAssignment(new Map());
    },
    members: async () => [],
    pause: () => {},
    resume: () => {},
    commit: async () => {},
    close: async () => void calls.push('close consumer'),
  });
  const client: StreamClient = {
    connect: async () => void calls.push('connect'),
    ping: async () => {},
    brokerCount: async () => 1,
    partitionCounts: async () => new Map(),
    async createTopics(specs: readonly TopicSpec[]) {
      calls.push(`create ${specs.map((s) => s.topic).join(',')}`);
      failNext(failures.createTopics);
    },
    offsets: async () => new Map(),
    committedOffsets: async () => new Map(),
    changelogReader: async () => ({ read: async () => {}, close: async () => {} }),
    producer: async () => ({ send: async () => [], close: async () => void calls.push('close producer') }),
    consumer,
    transient,
    partitionOf: () => 0,
    close: async () => void calls.push('close client'),
  };
  return { client, calls };
}

function infoLines(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const ignore = () => {};
  return { lines, error: ignore, warn: ignore, debug: ignore, info: (m) => void lines.push(m) };
}

describe('Runner start-up', () => {
  let stateDir: string;
  beforeEach(async () => (stateDir = await mkdtemp(join(tmpdir(), 'streamrun-runner-'))));
  afterEach(() => rm(stateDir, { recursive: true, force: true }));

  /** A stateless relay from `in` to `out`, its dead letters to `relay-dlq`. */
  function runner(client: StreamClient, logger: Logger, startupTimeoutMs: number, port?: number): Runner {
    const graph = graphOf(topology('relay').stream('in', { key: serdes.string, value: serdes.string }).to('out'));
    const options = resolveRunnerOptions({ brokers: 'kafka-1:9092', logger, stateDir, startupTimeoutMs, ...(port === undefined ? {} : { port }) }, graph.appId);
    return new Runner(subtopologies(graph), childrenOf(graph), client, options, describeGraph(graph));
  }

  it('retries transient answers while creating topics and joining the group, then runs', async () => {
    const { client, calls } = fakeClient({
      createTopics: [new Error('UNKNOWN_TOPIC_OR_PARTITION'), new Error('LEADER_NOT_AVAILABLE')],
      join: [new Error('COORDINATOR_LOAD_IN_PROGRESS')],
    });
    const logger = infoLines();
    const r = runner(client, logger, 60_000);
    await r.begin();
    expect(calls).toEqual(['connect', 'create in,out', 'create in,out', 'create in,out', 'create relay-dlq', 'join in', 'join in']);
    expect(logger.lines.filter((l) => l.startsWith('start-up: '))).toEqual([
      'start-up: create topics in, out failed with UNKNOWN_TOPIC_OR_PARTITION, retry 1 in 100 ms',
      'start-up: create topics in, out failed with LEADER_NOT_AVAILABLE, retry 2 in 200 ms',
      'start-up: join group relay failed with COORDINATOR_LOAD_IN_PROGRESS, retry 1 in 100 ms',
    ]);
    expect(logger.lines.at(-1)).toBe('relay running');
    await r.stop();
  });

  it('fails with STARTUP_TIMEOUT when a transient answer outlasts startupTimeoutMs, and closes what it opened', async () => {
    const { client, calls } = fakeClient({ createTopics: Array.from({ length: 1000 }, () => new Error('LEADER_NOT_AVAILABLE')) });
    const logger = infoLines();
    const failure = await runner(client, logger, 300).begin().catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(StreamrunError);
    expect((failure as StreamrunError).code).toBe('STARTUP_TIMEOUT');
    expect((failure as StreamrunError).message).toBe(
      'start-up did not finish within 300 ms: create topics in, out still fails with LEADER_NOT_AVAILABLE from Kafka at kafka-1:9092 (LEADER_NOT_AVAILABLE)',
    );
    expect(new Set(calls)).toEqual(new Set(['connect', 'create in,out', 'close client']));
    expect(calls.at(-1)).toBe('close client');
    expect(logger.lines).not.toContain('relay running');
  });

  it('fails at once on an answer that is not transient', async () => {
    const refused = new Error('Topic authorization failed');
    const { client, calls } = fakeClient({ createTopics: [refused] });
    const logger = infoLines();
    await expect(runner(client, logger, 60_000).begin()).rejects.toBe(refused);
    expect(calls).toEqual(['connect', 'create in,out', 'close client']);
    expect(logger.lines.filter((l) => l.startsWith('start-up: '))).toEqual([]);
  });

  it('serves HTTP while the group join waits, /health saying starting (503) until the join, then ok', async () => {
    let joined!: () => void;
    const { client } = fakeClient({ joinWaitsFor: new Promise<void>((resolve) => (joined = resolve)) });
    const logger = infoLines();
    const lines = logger.lines;
    const r = runner(client, logger, 60_000, 0);
    const started = r.begin();
    // The server is up before the join.
    const url = await new Promise<string>((resolve) => {
      const poll = setInterval(() => {
        if (r.httpUrl !== undefined) {
          clearInterval(poll);
          resolve(r.httpUrl);
        }
      }, 10);
    });
    const starting = await fetch(`${url}/health`);
    expect([starting.status, ((await starting.json()) as { status: string }).status]).toEqual([503, 'starting']);
    expect(lines).not.toContain('relay running');
    joined();
    await started;
    const running = await fetch(`${url}/health`);
    expect([running.status, ((await running.json()) as { status: string }).status]).toEqual([200, 'ok']);
    expect(lines.at(-1)).toBe('relay running');
    await r.stop();
  });
});
