import { StreamrunError } from '../errors/streamrun-error.ts';
import type {
  EnrichNode,
  ExternalSinkNode,
  GraphNode,
  KeyValue,
  RecordContext,
  SessionAggregateNode,
  SinkNode,
  SourceNode,
  StreamJoinNode,
  WindowedAggregateNode,
} from '../graph/nodes.ts';
import type { KeyValueStore } from '../state/key-value-store.ts';
import type { ClosedWindow, Timestamped, WindowKey, WindowState } from '../state/window-store.ts';
import type { InputRecord } from '../kafka/client.ts';
import { EventClock } from './event-clock.ts';
import type { OutputBuffer } from './output-buffer.ts';
import { slidingAggregate } from './processors/sliding-aggregate.ts';
import { streamJoin } from './processors/stream-join.ts';
import { tableJoin } from './processors/table-join.ts';
import { noHeaders, type MutableRecordContext } from './record-context.ts';
import { readWriterTime, TIME_HEADER, WATERMARK_HEADER, writerTime } from './watermarks.ts';

/** Receives one record's key and value at a node; the context says which record it is. */
export type Forward = (value: unknown, key: unknown) => void;

/** Runs a node's user code: what it throws leaves as a StreamrunError naming the node and record. */
export type Guard = <R>(call: () => R) => R;

/** What stateful nodes reach of their task. */
export interface TaskState {
  store(name: string): KeyValueStore<unknown, unknown>;
  /** A table's current values, without the time an aggregate's store keeps beside each. */
  tableValues(name: string): (key: unknown) => unknown;
  windows(name: string): WindowState;
  /** An indexed store's keys as it opened, for the node that indexes them. */
  takeKeys(name: string): readonly unknown[];
  /** A record arrived for windows that all closed already; `window` is the newest of them. */
  late(node: string, timestamp: number, window: { readonly start: number; readonly end: number }, streamTime: number): void;
  /** Starts an asynchronous call now; `then` takes its result later, in record order. */
  defer(node: EnrichNode, call: (context: RecordContext) => Promise<unknown>, then: (result: unknown) => void): void;
  /** Keeps a record for the external sink's next batch. */
  sink(node: ExternalSinkNode, value: unknown, key: unknown): void;
  /** This task's partition: who it is as a writer of repartition topics. */
  readonly partition: number;
  readonly time: TaskTime;
}

/** What the event clocks need to know: who writes the repartition topics, and when a writer is idle. */
export interface EventTimeRules {
  /** How many tasks write a repartition topic (0 for any other topic). */
  writers(topic: string): number;
  readonly idleMs: number;
  now(): number;
}

/** What a task's clocks also need: which of its user topics it has records of still to read. */
export interface TaskTime extends EventTimeRules {
  behind(topic: string): boolean;
}

/** Runs one consumed record through the graph; what the sinks emit lands in the buffer. */
export type SourceProcessor = (record: InputRecord) => void;

export interface CompiledGraph {
  readonly processors: Map<string, SourceProcessor>;
  /** The event clock of each repartition sink: its time goes to every partition after a commit. */
  readonly repartitions: readonly RepartitionClock[];
  /** The task read `topic` to its end: the nodes whose time it held back may move on. */
  readonly caughtUp: (topic: string) => void;
}

export interface RepartitionClock {
  readonly topic: string;
  readonly clock: EventClock;
}

/** A watermark reached a node from a repartition topic. */
export type Tick = (topic: string, writer: number, time: number) => void;

/** What a node built in a module of its own gets from the compiler besides its task's state. */
export interface NodeTools {
  readonly guard: Guard;
  /** Passes a record on stamped with `timestamp`, as Kafka Streams forwards a record with a new time. */
  readonly forwardAt: (next: Forward, value: unknown, key: unknown, timestamp: number) => void;
  /**
   * The event clock over what reaches these nodes, from `floor` on; `onWatermark` hears what
   * repartition topics before them say, and that an input that held the time back caught up.
   */
  readonly clockOf: (nodes: GraphNode | readonly GraphNode[], floor: number, onWatermark?: Tick) => EventClock;
}

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
): CompiledGraph {
  const forwards = new Map<string, Forward>();
  const repartitions: RepartitionClock[] = [];
  const ticks = new Map<string, Tick[]>();
  const byName = new Map(nodes.map((n) => [n.name, n]));
  const sources = new Map<string, readonly SourceNode[]>();

  /** The sources whose records can reach `node` (a join's table is read, not reached). */
  const sourcesOf = (node: GraphNode): readonly SourceNode[] => {
    if (node.kind === 'source') return [node];
    let found = sources.get(node.name);
    if (found === undefined) {
      const all = node.parents.flatMap((p) => sourcesOf(byName.get(p)!));
      sources.set(node.name, (found = [...new Set(all)]));
    }
    return found;
  };

  /** Both sides of the stream–stream join `node` is one side of: one stream time for the two. */
  const joinSides = (node: StreamJoinNode): GraphNode[] =>
    nodes.filter((n) => n.kind === 'streamJoin' && n.stores.left === node.stores.left);

  /** The event clock over what reaches `reached`; `onWatermark` hears what moves it between records. */
  const clockOf = (reached: GraphNode | readonly GraphNode[], floor: number, onWatermark?: Tick): EventClock => {
    const found = [...new Set((Array.isArray(reached) ? reached : [reached]).flatMap(sourcesOf))];
    const topics = new Map(found.map((s) => [s.topic, s.internal === true ? state.time.writers(s.topic) : 0]));
    const { idleMs, now } = state.time;
    const clock = new EventClock(topics, { floor, idleMs, now, behind: (topic) => state.time.behind(topic) });
    const tick: Tick = onWatermark ?? ((topic, writer, time) => void clock.observe(topic, writer, time));
    for (const source of found) {
      // A lone user topic moves the clock only with its own records.
      if (source.internal !== true && topics.size < 2) continue;
      const list = ticks.get(source.topic);
      if (list === undefined) ticks.set(source.topic, [tick]);
      else list.push(tick);
    }
    return clock;
  };

  /**
   * A windowed node's stream time and the closing of its windows. Records move the time (for a
   * repartition topic, by their writer's watermark, unless the node extracts event time itself),
   * and so do watermark records, except at a node that extracts; what closes is passed on with
   * `emit: 'final'`, stamped by `stampOf`.
   */
  const windowTime = (
    node: WindowedAggregateNode | SessionAggregateNode,
    windows: WindowState,
    next: Forward,
    stampOf: (closed: ClosedWindow) => number,
  ) => {
    const final = node.emit === 'final';
    const emitClosed = (): void => {
      for (const closed of windows.expire()) {
        if (final) forwardAt(next, closed.value, { key: closed.key, start: closed.start, end: closed.end }, stampOf(closed));
      }
    };
    const extracts = node.timestamp !== undefined;
    // A watermark is its writer's stream time in record timestamps. A node that extracts its own
    // time keeps its writers' lanes in the times it extracted, which may lag record time by more
    // than the grace (events posted a minute after they happened), so a watermark must not move
    // them: it only recomputes the time, for writers silent for idleMs or inputs that caught up.
    const onWatermark: Tick = (topic, writer, time) => {
      windows.advanceTo(extracts ? clock.refresh() : clock.observe(topic, writer, time));
      emitClosed();
    };
    const clock = clockOf(node, windows.streamTime, onWatermark);
    /** Takes a record's event time into the clock. */
    const observe = (time: number): void =>
      windows.advanceTo(clock.observe(context.topic, context.writer, extracts ? time : (context.watermark ?? time)));
    return { observe, emitClosed };
  };

  /** Passes a record on stamped with `timestamp` (a window's newest record's), as Kafka Streams does. */
  const forwardAt = (next: Forward, value: unknown, key: unknown, timestamp: number): void => {
    if (timestamp === context.timestamp) return next(value, key);
    const { timestamp: before, rawTimestamp } = context;
    context.stamp(timestamp);
    try {
      next(value, key);
    } finally {
      context.timestamp = before;
      context.rawTimestamp = rawTimestamp;
    }
  };

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
    const guard: Guard = (call) => {
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
        // A session's newest record is its end: Kafka Streams stamps its results with it.
        const { observe, emitClosed } = windowTime(node, windows, next, (closed) => closed.end);
        return (value, key) => {
          if (key === null || key === undefined) return;
          const time = timestamp === undefined ? context.timestamp : guard(() => timestamp(value, key, context));
          observe(time);
          // One pass over the key's sessions within gap of the record. As in Kafka Streams, one
          // whose close this record's time reaches still merges: closing comes after the record.
          const merging: WindowKey[] = [];
          let start = time;
          let end = time;
          for (const s of windows.windowsOf(key)) {
            if (s.end < time - gap || s.start > time + gap) continue;
            merging.push(s);
            if (s.start < start) start = s.start;
            if (s.end > end) end = s.end;
          }
          // As Kafka Streams: late only if the session it would make or join closed before now.
          if (windows.closedBefore(end)) {
            state.late(node.name, time, { start, end }, windows.streamTime);
          } else {
            let aggregate = guard(initializer);
            // A record at the very time of a one-record session updates it in place; otherwise
            // every session it touches is replaced, and a null value says so downstream.
            const inPlace = start === time && end === time;
            for (const session of merging) {
              const merged = aggregate;
              aggregate = guard(() => merger(merged, windows.get(session)!.value, key));
              if (inPlace) continue;
              windows.remove(session);
              if (emit === 'update') forwardAt(next, null, { key, start: session.start, end: session.end }, session.end);
            }
            const before = aggregate;
            aggregate = guard(() => aggregator(before, value, key));
            const window = { key, start, end };
            windows.put(window, aggregate, end);
            if (emit === 'update') forwardAt(next, aggregate, window, end);
          }
          emitClosed();
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
        const lookup = state.tableValues(node.table);
        const { joiner, left } = node;
        return (value, key) => {
          const tableValue = key === null || key === undefined ? undefined : guard(() => lookup(key));
          if (tableValue === undefined && !left) return;
          next(guard(() => joiner(value, tableValue ?? null, key)), key);
        };
      }
      case 'aggregate': {
        const next = fanOut(node);
        const store = state.store(node.store) as KeyValueStore<unknown, Timestamped>;
        const { initializer, aggregator } = node;
        return (value, key) => {
          if (key === null || key === undefined) return;
          const current = guard(() => store.get(key));
          const updated = guard(() => aggregator(current === undefined ? initializer() : current.value, value, key));
          // Like a window, an aggregate carries the newest time of its records (Kafka Streams).
          const time = context.timestamp;
          const stamp = current === undefined || current.timestamp < time ? time : current.timestamp;
          store.put(key, { value: updated, timestamp: stamp });
          forwardAt(next, updated, key, stamp);
        };
      }
      case 'windowedAggregate': {
        const next = fanOut(node);
        const windows = state.windows(node.store);
        const { initializer, aggregator, timestamp, emit } = node;
        const { size, advance } = node.windows;
        const { observe, emitClosed } = windowTime(node, windows, next, (closed) => closed.timestamp);
        return (value, key) => {
          if (key === null || key === undefined) return;
          const time = timestamp === undefined ? context.timestamp : guard(() => timestamp(value, key, context));
          observe(time);
          let counted = false;
          // Every window with start <= time < start + size, oldest first (as Kafka Streams updates them).
          const first = Math.max(0, (Math.floor((time - size) / advance) + 1) * advance);
          for (let start = first; start <= time; start += advance) {
            const window = { key, start, end: start + size };
            if (windows.closed(window.end)) continue;
            counted = true;
            const current = windows.get(window);
            const updated = guard(() => aggregator(current === undefined ? initializer() : current.value, value, key));
            // An aggregate carries the newest time of its records, as in Kafka Streams.
            const stamp = current === undefined || current.timestamp < time ? time : current.timestamp;
            windows.put(window, updated, stamp);
            if (emit === 'update') forwardAt(next, updated, window, stamp);
          }
          if (!counted) {
            const start = Math.floor(time / advance) * advance;
            state.late(node.name, time, { start, end: start + size }, windows.streamTime);
          }
          emitClosed();
        };
      }
      case 'slidingAggregate':
        return slidingAggregate(node, fanOut(node), context, state, { guard, forwardAt, clockOf });
      case 'streamJoin':
        return streamJoin(node, joinSides(node), fanOut(node), context, state, { guard, forwardAt, clockOf });
      case 'tableJoin':
        return tableJoin(node, fanOut(node), context, state, { guard, forwardAt, clockOf });
      case 'externalSink':
        return (value, key) => state.sink(node, value, key);
      case 'sink': {
        const lane = outputs.lane(node.topic);
        const { key: keySerde, value: valueSerde } = node.serdes;
        if (node.internal === true) return repartitionSink(node.topic);
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

  /** Writes a repartition topic: each record carries this task's event time for the readers. */
  const repartitionSink = (topic: string): Forward => {
    const node = nodes.find((n) => n.kind === 'sink' && n.topic === topic) as SinkNode;
    const lane = outputs.lane(topic);
    const { key: keySerde, value: valueSerde } = node.serdes;
    const clock = clockOf(node, Number.NEGATIVE_INFINITY);
    repartitions.push({ topic, clock });
    const writer = state.partition;
    return (value, key) => {
      const time = clock.observe(context.topic, context.writer, context.watermark ?? context.timestamp);
      const record = guardAt(node.name, () => ({
        key: key === null || key === undefined ? null : keySerde.serialize(key),
        value: value === null || value === undefined ? null : valueSerde.serialize(value),
        timestamp: context.rawTimestamp,
        headers: { ...context.headers, [TIME_HEADER]: writerTime(writer, time) },
      }));
      lane.push(record);
      outputs.size++;
    };
  };

  const guardAt = <R>(name: string, call: () => R): R => {
    try {
      return call();
    } catch (error) {
      throw failure('PROCESSING', name, context, error);
    }
  };

  // Everything is built before the processors, so each source knows every node its watermarks reach.
  const entries = nodes.flatMap((node) => (node.kind === 'source' ? [[node, fanOut(node)] as const] : []));
  const processors = new Map<string, SourceProcessor>();
  for (const [node, next] of entries) {
    const read = sourceProcessor(node, next, context);
    processors.set(node.topic, node.internal === true ? repartitionSource(read, ticks.get(node.topic) ?? [], context) : read);
  }
  const caughtUp = (topic: string): void => {
    for (const tick of ticks.get(topic) ?? []) tick(topic, 0, Number.NEGATIVE_INFINITY);
  };
  return { processors, repartitions, caughtUp };
}

/**
 * Reads a repartition topic: a watermark record moves the clocks of the nodes after it and
 * goes no further; a record's `streamrun.time` becomes its writer's time, and comes off.
 */
function repartitionSource(read: SourceProcessor, ticks: readonly Tick[], context: MutableRecordContext): SourceProcessor {
  return (record) => {
    const headers = record.headers;
    if (headers !== undefined) {
      const mark = headers[WATERMARK_HEADER];
      if (mark !== undefined) {
        const said = readWriterTime(mark);
        if (said === undefined) return;
        context.writer = said.writer;
        context.watermark = said.time;
        context.headers = noHeaders;
        for (const tick of ticks) tick(context.topic, said.writer, said.time);
        return;
      }
      const stamped = headers[TIME_HEADER];
      if (stamped !== undefined) {
        const said = readWriterTime(stamped);
        if (said !== undefined) {
          context.writer = said.writer;
          context.watermark = said.time;
        }
        const { [TIME_HEADER]: _, ...rest } = headers;
        context.headers = rest;
      }
    }
    read(record);
  };
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
