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
 * without the circuit opening). A batch the sink refuses is written again record by record, so
 * that only the records it refuses are dead-lettered.
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
  let first: StreamrunError;
  try {
    await write(items);
    return 'done';
  } catch (error) {
    first = error as StreamrunError;
  }
  if (first.code !== 'REJECTED' || items.length === 1) {
    return settle({ error: first, source: items[0]!.source, sources: items.map((i) => i.source), breaker, retry: () => write(items) });
  }
  for (const item of items) {
    try {
      await write([item]);
    } catch (error) {
      const settled = await settle({ error: error as StreamrunError, source: item.source, breaker, retry: () => write([item]) });
      if (settled !== 'done') return settled;
    }
  }
  return 'done';
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
