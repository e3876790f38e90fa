import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { kafkaScript } from '../setup/kafka-broker.ts';
import { reservePortRange } from '../setup/ports.ts';
import { afterAll, beforeAll } from 'vitest';
import { useBrokers, withAdmin } from './kafka.ts';
import { waitFor } from './wait.ts';

const run = promisify(execFile);

/** A test's own KRaft cluster, started with kafka.sh (KAFKA_NODES); nodes are numbered from 1. */
export interface Cluster {
  /** Bootstrap servers, every node. */
  readonly brokers: string;
  /** SIGKILL, as a crash would. */
  kill(node: number): Promise<void>;
  /** A clean stop (controlled shutdown). */
  stop(node: number): Promise<void>;
  /** Starts a stopped node and waits until it answers. */
  start(node: number): Promise<void>;
  /** Stops every node and removes their data. */
  close(): Promise<void>;
}

/**
 * Starts `nodes` combined nodes on free consecutive ports (brokers, then controllers) with a
 * fresh data dir. A port can still be taken between the check and a node's bind: then it
 * starts again on other ports, as the run's own broker does.
 */
export async function startCluster(nodes: number, heap = '384m'): Promise<Cluster> {
  let lastError: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    const dataDir = await mkdtemp(join(tmpdir(), 'streamrun-test-cluster-'));
    const first = await reservePortRange(2 * nodes);
    const env = {
      ...process.env,
      KAFKA_NODES: String(nodes),
      KAFKA_PORT: String(first),
      KAFKA_CONTROLLER_PORT: String(first + nodes),
      KAFKA_DATA_DIR: dataDir,
      KAFKA_HEAP: heap,
    };
    const kafka = async (...args: string[]) => void (await run('bash', [kafkaScript, ...args], { env }));
    const close = async () => {
      await kafka('stop');
      await rm(dataDir, { recursive: true, force: true });
    };
    try {
      await kafka('start');
    } catch (error) {
      lastError = error;
      await close();
      continue;
    }
    return {
      brokers: Array.from({ length: nodes }, (_, i) => `127.0.0.1:${first + i}`).join(','),
      kill: (node) => kafka('kill-node', String(node)),
      stop: (node) => kafka('stop-node', String(node)),
      start: (node) => kafka('start-node', String(node)),
      close,
    };
  }
  throw lastError;
}

/**
 * Waits until `node` is back in the in-sync replicas of every partition of `topics` it holds a
 * replica of (`in`: restarted and caught up), or out of all of them (`out`: the cluster noticed
 * it gone; after a SIGKILL that takes the broker session timeout).
 */
export async function waitForIsr(topics: readonly string[], node: number, want: 'in' | 'out', timeoutMs = 60_000): Promise<void> {
  let wrong: string[] = [];
  await waitFor(
    `node ${node} ${want} of the in-sync replicas of ${topics.join(', ')}`,
    () =>
      withAdmin(async (admin) => {
        const { topics: described } = await admin.fetchTopicMetadata({ topics: [...topics] });
        wrong = described.flatMap((t) =>
          t.partitions.filter((p) => p.replicas.includes(node) && p.isr.includes(node) !== (want === 'in')).map((p) => `${t.name}/${p.partitionId}`),
        );
        return wrong.length === 0;
      }),
    { timeoutMs, intervalMs: 200 },
  ).catch((error: unknown) => {
    throw new Error(`${(error as Error).message}; still ${want === 'in' ? 'out' : 'in'}: ${wrong.join(', ')}`);
  });
}

/**
 * For a describe block: a cluster of `nodes` started before its tests, the only brokers they see,
 * and closed after them (once `beforeClose`, e.g. closing the tests' own clients, is done).
 */
export function useCluster(nodes: number, beforeClose?: () => Promise<void>): () => Cluster {
  let cluster: Cluster | undefined;
  beforeAll(async () => {
    cluster = await startCluster(nodes);
    useBrokers(cluster.brokers);
  });
  afterAll(async () => {
    await beforeClose?.();
    useBrokers(undefined);
    await cluster?.close();
  });
  return () => {
    if (cluster === undefined) throw new Error('the cluster is not up: use it inside a test');
    return cluster;
  };
}
