import { graphOf } from '../../../lib/dsl/topology.ts';
import type { Topology } from '../../../lib/index.ts';
import { childrenOf } from '../../../lib/graph/edges.ts';
import { subtopologies } from '../../../lib/graph/subtopologies.ts';
import type { EventTimeRules } from '../../../lib/runtime/compile.ts';
import { Task } from '../../../lib/runtime/task.ts';
import { storeSpecs } from '../../../lib/state/changelog.ts';
import { MemoryStores } from '../../../lib/state/memory-stores.ts';

export interface NewTaskOptions {
  /** Which sub-topology; the first by default. */
  readonly sub?: number;
  /** Who writes the repartition topics; by default nobody, and nobody goes idle. */
  readonly time?: EventTimeRules;
  /** Partitions of every topic the task writes. Default 1. */
  readonly partitions?: number;
  readonly onLate?: (node: string, timestamp: number) => void;
  /** Input topics with records the group had not read when the task opened. */
  readonly behind?: readonly string[];
}

/** A Task over one sub-topology of `t`, with memory stores and a breaker that always calls through. */
export async function newTask(t: Topology, partition = 0, options: NewTaskOptions = {}): Promise<{ task: Task; stores: MemoryStores }> {
  const graph = graphOf(t);
  const nodes = subtopologies(graph)[options.sub ?? 0]!.nodes;
  const stores = await MemoryStores.open(storeSpecs(graph.appId, nodes), partition);
  const task = new Task({
    id: `${options.sub ?? 0}_${partition}`,
    partition,
    nodes,
    children: childrenOf(graph),
    onLate: options.onLate ?? (() => {}),
    breaker: () => ({ halfOpenAfterMs: 0, call: (fn) => fn(), onOpen: () => {}, closed: () => true, state: () => 0 }),
    stores,
    time: options.time ?? { writers: () => 0, idleMs: Number.POSITIVE_INFINITY, now: () => 0 },
    partitions: () => options.partitions ?? 1,
    behind: options.behind,
    lateDeadLetters: () => ({ topic: 'app-dlq', partitions: 1, appId: 'app' }),
  });
  return { task, stores };
}
