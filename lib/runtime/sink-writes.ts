import { StreamrunError } from '../errors/streamrun-error.ts';
import type { Breaker } from '../errors/breaker.ts';
import type { ExternalSinkNode } from '../graph/nodes.ts';
import type { Failed, Settled } from './failures.ts';
import type { RecordContextSnapshot } from './record-context.ts';

/** A record waiting for its external sink's next batch. */
export interface SinkItem {
  readonly key: unknown;
  readonly value: unknown;
  readonly context: RecordContextSnapshot;
  readonly source: Failed['source'];
}

/** One external sink of a task: its node, its breaker and the records since the last write. */
export interface SinkBatch {
  readonly node: ExternalSinkNode;
  readonly breaker: Breaker;
  readonly items: SinkItem[];
}

/**
 * Writes a sink's batch in one call. A sink in trouble makes the whole batch go through the
 * error policy (retries, waits while the circuit is open; dead letters only if tries run out
 * without the circuit opening). A batch the sink refuses for its data is split in halves, each
 * written again, until the records it refuses stand alone: those are dead-lettered at once, the
 * rest are written. One bad record in n costs about 2·log2(n) writes, not n.
 */
export async function writeSinkBatch(
  batch: SinkBatch,
  items: readonly SinkItem[],
  settle: (failed: Failed) => Promise<Settled>,
): Promise<Settled> {
  const { node, breaker } = batch;
  const write = async (some: readonly SinkItem[]) => {
    try {
      await breaker.call(() => node.sink.write(some.map(({ key, value, context }) => ({ key, value, context }))));
    } catch (error) {
      throw sinkError(node, some[0]!, error);
    }
  };
  const bisect = async (some: readonly SinkItem[]): Promise<Settled> => {
    let error: StreamrunError;
    try {
      await write(some);
      return 'done';
    } catch (thrown) {
      error = thrown as StreamrunError;
    }
    if (error.code !== 'REJECTED' || some.length === 1) {
      return settle({ error, source: some[0]!.source, sources: some.map((i) => i.source), breaker, retry: () => write(some) });
    }
    const half = Math.ceil(some.length / 2);
    const settled = await bisect(some.slice(0, half));
    return settled === 'done' ? bisect(some.slice(half)) : settled;
  };
  return bisect(items);
}

function sinkError(node: ExternalSinkNode, item: SinkItem, error: unknown): StreamrunError {
  const refused = !(error instanceof StreamrunError) && node.sink.rejects?.(error) === true;
  const message = error instanceof Error ? error.message : String(error);
  const { topic, partition, offset } = item.context;
  return new StreamrunError(refused ? 'REJECTED' : 'PROCESSING', `${node.name}: ${message}`, {
    cause: error,
    context: { topic, partition, offset, node: node.name },
  });
}
