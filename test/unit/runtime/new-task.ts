import { graphOf } from '../../../lib/dsl/topology.ts';
import type { Topology } from '../../../lib/index.ts';
import { childrenOf } from '../../../lib/graph/edges.ts';
import { subtopologies } from '../../../lib/graph/subtopologies.ts';
import { Task } from '../../../lib/runtime/task.ts';
import { storeSpecs } from '../../../lib/state/changelog.ts';
import { MemoryStores } from '../../../lib/state/memory-stores.ts';

/** A Task over the first sub-topology of `t`, with memory stores and a breaker that always calls through. */
export async function newTask(t: Topology, partition = 0): Promise<{ task: Task; stores: MemoryStores }> {
  const graph = graphOf(t);
  const nodes = subtopologies(graph)[0]!.nodes;
  const stores = await MemoryStores.open(storeSpecs(graph.appId, nodes), partition);
  const task = new Task({
    id: `0_${partition}`,
    partition,
    nodes,
    children: childrenOf(graph),
    onLate: () => {},
    breaker: () => ({ halfOpenAfterMs: 0, call: (fn) => fn(), onOpen: () => {} }),
    stores,
  });
  return { task, stores };
}
