import { StreamrunError } from '../errors/streamrun-error.ts';
import type { EnrichNode, ExternalSinkNode, GraphNode, KeyValue, RecordContext, SourceNode } from '../graph/nodes.ts';
import type { KeyValueStore } from '../state/key-value-store.ts';
import type { WindowKey, WindowState } from '../state/window-store.ts';
import type { InputRecord } from './client.ts';
import type { OutputBuffer } from './output-buffer.ts';
import type { MutableRecordContext } from './record-context.ts';

/** Receives one record's key and value at a node; the context says which record it is. */
type Forward = (value: unknown, key: unknown) => void;

/** What stateful nodes reach of their task. */
export interface TaskState {
  store(name: string): KeyValueStore<unknown, unknown>;
  windows(name: string): WindowState;
  /** A record arrived for windows that all closed already. */
  late(node: string, timestamp: number): void;
  /** Starts an asynchronous call now; `then` takes its result later, in record order. */
  defer(node: EnrichNode, call: (context: RecordContext) => Promise<unknown>, then: (result: unknown) => void): void;
  /** Keeps a record for the external sink's next batch. */
  sink(node: ExternalSinkNode, value: unknown, key: unknown): void;
}

/** Runs one consumed record through the graph; what the sinks emit lands in the buffer. */
export type SourceProcessor = (record: InputRecord) => void;

/**
 * Turns a sub-topology into one plain function per source topic, built once per task: no
 * per-record lookups of what comes next. Errors leave as StreamrunErrors naming their node.
 */
export function compile(
  nodes: readonly GraphNode[],
  children: (node: GraphNode) => readonly GraphNode[],
  context: MutableRecordContext,
  outputs: OutputBuffer,
  state: TaskState,
): Map<string, SourceProcessor> {
  const forwards = new Map<string, Forward>();

  const forwardTo = (node: GraphNode): Forward => {
    const built = forwards.get(node.name);
    if (built !== undefined) return built;
    const forward = build(node);
    forwards.set(node.name, forward);
    return forward;
  };

  const fanOut = (node: GraphNode): Forward => {
    const next = children(node).map(forwardTo);
    if (next.length === 0) return () => {};
    if (next.length === 1) return next[0] as Forward;
    return (value, key) => {
      for (const f of next) f(value, key);
    };
  };

  const build = (node: GraphNode): Forward => {
    const guard = <R>(call: () => R): R => {
      try {
        return call();
      } catch (error) {
        throw failure('PROCESSING', node.name, context, error);
      }
    };
    switch (node.kind) {
      case 'source':
        throw new Error(`source ${node.name} has a parent`);
      case 'map': {
        const next = fanOut(node);
        const fn = node.fn;
        return (value, key) => {
          const out = guard(() => fn(value, key, context));
          next(out.value, out.key);
        };
      }
      case 'mapValues': {
        const next = fanOut(node);
        const fn = node.fn;
        return (value, key) => next(guard(() => fn(value, key, context)), key);
      }
      case 'filter': {
        const next = fanOut(node);
        const fn = node.fn;
        return (value, key) => {
          if (guard(() => fn(value, key, context))) next(value, key);
        };
      }
      case 'flatMap': {
        const next = fanOut(node);
        const fn = node.fn;
        return (value, key) => {
          const outs = guard(() => [...fn(value, key, context)]) as KeyValue<unknown, unknown>[];
          for (const out of outs) next(out.value, out.key);
        };
      }
      case 'flatMapValues': {
        const next = fanOut(node);
        const fn = node.fn;
        return (value, key) => {
          const outs = guard(() => [...fn(value, key, context)]);
          for (const out of outs) next(out, key);
        };
      }
      case 'peek': {
        const next = fanOut(node);
        const fn = node.fn;
        return (value, key) => {
          guard(() => fn(value, key, context));
          next(value, key);
        };
      }
      case 'branch': {
        const outputs = children(node);
        const targets = node.predicates.map((_, index) => {
          const output = outputs.find((o) => o.kind === 'branchOutput' && o.index === index);
          return output === undefined ? () => {} : forwardTo(output);
        });
        const predicates = node.predicates.map((p) => p.fn);
        return (value, key) => {
          const index = guard(() => predicates.findIndex((p) => p(value, key, context)));
          if (index >= 0) (targets[index] as Forward)(value, key);
        };
      }
      case 'branchOutput':
      case 'merge':
        return fanOut(node);
      case 'enrich': {
        const next = fanOut(node);
        const fn = node.fn;
        return (value, key) => state.defer(node, (snapshot) => fn(value, key, snapshot), (result) => next(result, key));
      }
      case 'sessionAggregate': {
        const next = fanOut(node);
        // The store's windows close at end + gap + grace (storeSpecs): a session can still grow
        // until then, by a record within gap of its end.
        const windows = state.windows(node.store);
        const { initializer, aggregator, merger, timestamp, emit, gap } = node;
        return (value, key) => {
          if (key === null || key === undefined) return;
          const time = timestamp === undefined ? context.timestamp : guard(() => timestamp(value, key, context));
          windows.observe(time);
          // One pass over the key's sessions: those within gap of the record, still open.
          const merging: WindowKey[] = [];
          let start = time;
          let end = time;
          for (const s of windows.windowsOf(key)) {
            if (s.end < time - gap || s.start > time + gap || windows.closed(s.end)) continue;
            merging.push(s);
            if (s.start < start) start = s.start;
            if (s.end > end) end = s.end;
          }
          // As Kafka Streams: late only if the session it would make or join closed before now.
          if (windows.closedBefore(end)) {
            state.late(node.name, time);
          } else {
            let aggregate = guard(initializer);
            for (const session of merging) {
              const merged = aggregate;
              aggregate = guard(() => merger(merged, windows.get(session), key));
              windows.remove(session);
              // The merged-away session is gone: a null value says so downstream.
              if (emit === 'update') next(null, { key, start: session.start, end: session.end });
            }
            const before = aggregate;
            aggregate = guard(() => aggregator(before, value, key));
            const window = { key, start, end };
            windows.put(window, aggregate);
            if (emit === 'update') next(aggregate, window);
          }
          for (const closed of windows.expire()) {
            if (emit === 'final') next(closed.value, { key: closed.key, start: closed.start, end: closed.end });
          }
        };
      }
      case 'materialize': {
        const next = fanOut(node);
        const store = state.store(node.store);
        return (value, key) => {
          if (key === null || key === undefined) return;
          if (value === null || value === undefined) {
            store.delete(key);
            return;
          }
          store.put(key, value);
          next(value, key);
        };
      }
      case 'join': {
        const next = fanOut(node);
        const store = state.store(node.table);
        const { joiner, left } = node;
        return (value, key) => {
          const tableValue = key === null || key === undefined ? undefined : guard(() => store.get(key));
          if (tableValue === undefined && !left) return;
          next(guard(() => joiner(value, tableValue ?? null, key)), key);
        };
      }
      case 'aggregate': {
        const next = fanOut(node);
        const store = state.store(node.store);
        const { initializer, aggregator } = node;
        return (value, key) => {
          if (key === null || key === undefined) return;
          const updated = guard(() => {
            const current = store.get(key);
            return aggregator(current === undefined ? initializer() : current, value, key);
          });
          store.put(key, updated);
          next(updated, key);
        };
      }
      case 'windowedAggregate': {
        const next = fanOut(node);
        const windows = state.windows(node.store);
        const { initializer, aggregator, timestamp, emit } = node;
        const { size, advance } = node.windows;
        return (value, key) => {
          if (key === null || key === undefined) return;
          const time = timestamp === undefined ? context.timestamp : guard(() => timestamp(value, key, context));
          windows.observe(time);
          let counted = false;
          // Every window with start <= time < start + size, oldest first (as Kafka Streams updates them).
          const first = Math.max(0, (Math.floor((time - size) / advance) + 1) * advance);
          for (let start = first; start <= time; start += advance) {
            const window = { key, start, end: start + size };
            if (windows.closed(window.end)) continue;
            counted = true;
            const updated = guard(() => {
              const current = windows.get(window);
              return aggregator(current === undefined ? initializer() : current, value, key);
            });
            windows.put(window, updated);
            if (emit === 'update') next(updated, window);
          }
          if (!counted) state.late(node.name, time);
          for (const closed of windows.expire()) {
            if (emit === 'final') next(closed.value, { key: closed.key, start: closed.start, end: closed.end });
          }
        };
      }
      case 'externalSink':
        return (value, key) => state.sink(node, value, key);
      case 'sink': {
        const lane = outputs.lane(node.topic);
        const { key: keySerde, value: valueSerde } = node.serdes;
        const windowedKey = node.windowedKey;
        return (value, key) => {
          const record = guard(() => ({
            key: key === null || key === undefined ? null : keySerde.serialize(key),
            value: value === null || value === undefined ? null : valueSerde.serialize(value),
            timestamp: context.rawTimestamp,
            headers: context.headers,
            // Aggregations skip keyless records: a window always has a key inside.
            partitionKey: windowedKey === undefined ? undefined : windowedKey.serialize((key as { key: unknown }).key),
          }));
          lane.push(record);
          outputs.size++;
        };
      }
    }
  };

  const processors = new Map<string, SourceProcessor>();
  for (const node of nodes) {
    if (node.kind === 'source') processors.set(node.topic, sourceProcessor(node, fanOut(node), context));
  }
  return processors;
}

function sourceProcessor(node: SourceNode, next: Forward, context: MutableRecordContext): SourceProcessor {
  const { key: keySerde, value: valueSerde } = node.serdes;
  const tombstones = node.tombstones === true;
  return (record) => {
    // A stream has no use for a record without a value (a table's delete marker); a table does.
    if (record.value === null && !tombstones) return;
    let key: unknown;
    let value: unknown;
    try {
      key = record.key === null ? null : keySerde.deserialize(record.key);
      value = record.value === null ? null : valueSerde.deserialize(record.value);
    } catch (error) {
      throw failure('DESERIALIZATION', node.name, context, error);
    }
    next(value, key);
  };
}

function failure(
  code: 'PROCESSING' | 'DESERIALIZATION',
  node: string,
  context: MutableRecordContext,
  error: unknown,
): StreamrunError {
  const message = error instanceof Error ? error.message : String(error);
  return new StreamrunError(code, `${node}: ${message}`, {
    cause: error,
    context: { topic: context.topic, partition: context.partition, offset: context.offset, node },
  });
}
