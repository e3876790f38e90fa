import type { ExternalSink } from '../dsl/external-sink.ts';
import type { ErrorPolicy } from '../errors/policy.ts';
import type { Serde } from '../serde/serde.ts';

/**
 * The built topology as plain data. The DSL appends nodes in build order; the runtime compiles
 * them once per task. Functions are stored type-erased: the DSL's generics guarantee that each
 * node receives what its parent emits.
 */

/** What a record carries besides key and value; valid only during the call it is passed to. */
export interface RecordContext {
  readonly topic: string;
  readonly partition: number;
  /** Kafka offsets are 64-bit; kept as the decimal string the broker sent. */
  readonly offset: string;
  /** Milliseconds since the epoch (the record's timestamp). */
  readonly timestamp: number;
  readonly headers: RecordHeaders;
}

/** A header may repeat; then its values come as an array, in order. */
export type RecordHeaders = Readonly<Record<string, Buffer | string | (Buffer | string)[] | undefined>>;

export interface KeyValue<K, V> {
  key: K;
  value: V;
}

type Fn<R> = (value: unknown, key: unknown, context: RecordContext) => R;

interface NodeBase {
  /** Unique and stable across deploys: `<kind>-<n>` in build order unless the user named it. */
  readonly name: string;
  /** Names of the nodes this one receives records from (none for a source). */
  readonly parents: readonly string[];
  /** This node's own error policy; what it leaves out comes from the runner's. */
  readonly errors?: ErrorPolicy | undefined;
}

export interface SourceNode extends NodeBase {
  readonly kind: 'source';
  readonly topic: string;
  /** A topic streamrun made for itself (a repartition topic): created with its writer's partitions. */
  readonly internal?: boolean;
  /** Pass records without a value on (as deletes) instead of skipping them: a table's source. */
  readonly tombstones?: boolean;
  readonly serdes: { readonly key: Serde<unknown>; readonly value: Serde<unknown> };
}
export interface MapNode extends NodeBase {
  readonly kind: 'map';
  readonly fn: Fn<KeyValue<unknown, unknown>>;
}
export interface MapValuesNode extends NodeBase {
  readonly kind: 'mapValues';
  readonly fn: Fn<unknown>;
}
export interface FilterNode extends NodeBase {
  readonly kind: 'filter';
  readonly fn: Fn<boolean>;
}
export interface FlatMapNode extends NodeBase {
  readonly kind: 'flatMap';
  readonly fn: Fn<Iterable<KeyValue<unknown, unknown>>>;
}
export interface FlatMapValuesNode extends NodeBase {
  readonly kind: 'flatMapValues';
  readonly fn: Fn<Iterable<unknown>>;
}
export interface PeekNode extends NodeBase {
  readonly kind: 'peek';
  readonly fn: Fn<void>;
}
/** Sends each record to the first branch whose predicate holds; records matching none are dropped. */
export interface BranchNode extends NodeBase {
  readonly kind: 'branch';
  readonly predicates: readonly { readonly branch: string; readonly fn: Fn<boolean> }[];
}
/** One named output of a branch node; `index` points into the parent's predicates. */
export interface BranchOutputNode extends NodeBase {
  readonly kind: 'branchOutput';
  readonly branch: string;
  readonly index: number;
}
export interface MergeNode extends NodeBase {
  readonly kind: 'merge';
}
export interface SinkNode extends NodeBase {
  readonly kind: 'sink';
  readonly topic: string;
  readonly internal?: boolean;
  /** The serdes to write with; the DSL fills them in (given, inherited or `serdes.auto`). */
  readonly serdes: { readonly key: Serde<unknown>; readonly value: Serde<unknown> };
  /**
   * Set when the keys are windows (`{ key, start, end }`) of a windowed aggregation: the serde of
   * the key inside. The partition is chosen from that key's bytes, as Kafka Streams' windowed
   * partitioner does, so all windows of a key land in one partition, in order.
   */
  readonly windowedKey?: Serde<unknown>;
}

/**
 * Folds the records of each key into one value kept in a state store, and passes every new
 * value on (key, aggregate). Records without a key are skipped: they belong to no group.
 */
export interface AggregateNode extends NodeBase {
  readonly kind: 'aggregate';
  /** The state store's name (the node's); its changelog topic is `<appId>-<store>-changelog`. */
  readonly store: string;
  /** Whether the user named it: a generated name changes when the topology does, and so would the store. */
  readonly named: boolean;
  readonly initializer: () => unknown;
  readonly aggregator: (aggregate: unknown, value: unknown, key: unknown) => unknown;
  /** How keys and aggregates are kept in the store and its changelog. */
  readonly serdes: { readonly key: Serde<unknown>; readonly value: Serde<unknown> };
}

/**
 * Folds the records of each key and time window into one value. Windows stay in the store
 * until stream time passes their end plus grace; then they close (and, with `emit: 'final'`,
 * pass on their one result). Records for closed windows are late: dropped and counted.
 */
export interface WindowedAggregateNode extends NodeBase {
  readonly kind: 'windowedAggregate';
  readonly store: string;
  readonly named: boolean;
  readonly windows: { readonly size: number; readonly advance: number; readonly grace: number };
  readonly emit: 'update' | 'final';
  /** Event time in ms; the record's timestamp when absent. */
  readonly timestamp?: ((value: unknown, key: unknown, context: RecordContext) => number) | undefined;
  /** Late records are dropped and counted; with 'dead-letter' they also go to the dead-letter topic. */
  readonly late?: 'drop' | 'dead-letter';
  readonly initializer: () => unknown;
  readonly aggregator: (aggregate: unknown, value: unknown, key: unknown) => unknown;
  /** How the group's keys and the aggregates are kept; the store adds the window to the key. */
  readonly serdes: { readonly key: Serde<unknown>; readonly value: Serde<unknown> };
}

/**
 * Folds the records of each key into sliding windows, as Kafka Streams' sliding windows: a
 * window is [t - timeDifference, t] (both ends included) for every record time t, plus the
 * window starting at t + 1 where a later record falls in it, so each distinct set of records
 * within timeDifference of each other has one window. A window takes records until stream time
 * passes its end plus grace; records whose windows all closed are late.
 */
export interface SlidingAggregateNode extends NodeBase {
  readonly kind: 'slidingAggregate';
  readonly store: string;
  readonly named: boolean;
  readonly timeDifference: number;
  readonly grace: number;
  readonly emit: 'update' | 'final';
  readonly timestamp?: ((value: unknown, key: unknown, context: RecordContext) => number) | undefined;
  readonly late?: 'drop' | 'dead-letter';
  readonly initializer: () => unknown;
  readonly aggregator: (aggregate: unknown, value: unknown, key: unknown) => unknown;
  readonly serdes: { readonly key: Serde<unknown>; readonly value: Serde<unknown> };
}

/** Keeps the latest value per key of a topic in a store (a null value deletes the key). */
export interface MaterializeNode extends NodeBase {
  readonly kind: 'materialize';
  readonly store: string;
  readonly named: boolean;
  /** The topic is the store's changelog: restoring reads it back, nothing is written twice. */
  readonly topic: string;
  readonly serdes: { readonly key: Serde<unknown>; readonly value: Serde<unknown> };
}

/** Looks each record's key up in a table's store and passes on the joiner's result. */
export interface JoinNode extends NodeBase {
  readonly kind: 'join';
  /** The name of the node that keeps the table (its store has the same name). */
  readonly table: string;
  /** Inner joins drop records whose key the table lacks; left joins pass them with null. */
  readonly left: boolean;
  readonly joiner: (value: unknown, tableValue: unknown, key: unknown) => unknown;
}

/**
 * One side of a windowed join of two streams, as Kafka Streams' stream–stream join: a record
 * of this side joins every record of the other side's buffer with its key inside the window,
 * then waits in this side's buffer for the other side's later records. In a left or outer
 * join, a record that found no partner waits among the unmatched records until its window
 * closes, then goes on with null; one that joins later never does. The two sides of a join
 * both pass their results to the merge node named after the join.
 */
export interface StreamJoinNode extends NodeBase {
  readonly kind: 'streamJoin';
  readonly side: 'left' | 'right';
  readonly join: 'inner' | 'left' | 'outer';
  /** Right records in [t - before, t + after] join a left record at t; grace as for windows. */
  readonly windows: { readonly before: number; readonly after: number; readonly grace: number };
  /** 'dead-letter': a record after its window closed goes to the dead-letter topic instead of joining. */
  readonly late: 'drop' | 'dead-letter';
  /** This side's buffer (named after this node). */
  readonly store: string;
  readonly named: boolean;
  /** Both buffers, and for a left or outer join the unmatched records. */
  readonly stores: { readonly left: string; readonly right: string; readonly unmatched: string | undefined };
  /** Takes the left value first, whichever side's record came: one of them is null for an unmatched record. */
  readonly joiner: (left: unknown, right: unknown, key: unknown) => unknown;
  readonly serdes: { readonly key: Serde<unknown>; readonly left: Serde<unknown>; readonly right: Serde<unknown> };
}

/** A table as a table–table join reads it: its store. */
export interface JoinedTable {
  readonly store: string;
}

/**
 * One side of a join of two tables, as Kafka Streams' KTable–KTable join: each change of this
 * side's table (a null value for a delete) is joined with the other table's value for the key
 * at that moment, and the result, or null where the joined table has no row any more, goes
 * into the joined table's store and on. The two sides pass their results to the merge node
 * named after the join.
 */
export interface TableJoinNode extends NodeBase {
  readonly kind: 'tableJoin';
  readonly side: 'left' | 'right';
  readonly join: 'inner' | 'left' | 'outer';
  /** The joined table's store: the latest result per key. */
  readonly store: string;
  readonly named: boolean;
  /** When each side's value of a key last changed: a result carries the later of the two. */
  readonly times: string;
  readonly tables: { readonly left: JoinedTable; readonly right: JoinedTable };
  /** Takes the left value first, whichever side changed; a missing side is null. */
  readonly joiner: (left: unknown, right: unknown, key: unknown) => unknown;
  readonly serdes: { readonly key: Serde<unknown>; readonly value: Serde<unknown> };
}

/**
 * Folds the records of each key into sessions: a record within `gap` of a session's records
 * joins it (merging sessions it bridges), otherwise it starts one. Closing and emitting work as
 * for time windows; a session's `end` is the time of its last record.
 */
export interface SessionAggregateNode extends NodeBase {
  readonly kind: 'sessionAggregate';
  readonly store: string;
  readonly named: boolean;
  readonly gap: number;
  readonly grace: number;
  readonly emit: 'update' | 'final';
  readonly timestamp?: ((value: unknown, key: unknown, context: RecordContext) => number) | undefined;
  readonly late?: 'drop' | 'dead-letter';
  readonly initializer: () => unknown;
  readonly aggregator: (aggregate: unknown, value: unknown, key: unknown) => unknown;
  /** Combines the aggregates of two sessions that a record bridges. */
  readonly merger: (left: unknown, right: unknown, key: unknown) => unknown;
  readonly serdes: { readonly key: Serde<unknown>; readonly value: Serde<unknown> };
}

/**
 * Replaces each value with what an asynchronous call (a lookup, an HTTP request) returns. Calls
 * run concurrently, up to `concurrency` per task, and their results go on in offset order.
 */
export interface EnrichNode extends NodeBase {
  readonly kind: 'enrich';
  readonly fn: (value: unknown, key: unknown, context: RecordContext) => Promise<unknown>;
  readonly concurrency: number;
  readonly breaker: { readonly failures: number; readonly halfOpenAfterMs: number };
}

/**
 * Writes records outside Kafka, a batch per task commit, before the input offsets are
 * committed. Like a Kafka sink it ends a stream.
 */
export interface ExternalSinkNode extends NodeBase {
  readonly kind: 'externalSink';
  readonly sink: ExternalSink<unknown, unknown>;
  readonly breaker: { readonly failures: number; readonly halfOpenAfterMs: number };
}

export type GraphNode =
  | SourceNode
  | ExternalSinkNode
  | EnrichNode
  | SessionAggregateNode
  | SlidingAggregateNode
  | MaterializeNode
  | JoinNode
  | StreamJoinNode
  | TableJoinNode
  | AggregateNode
  | WindowedAggregateNode
  | MapNode
  | MapValuesNode
  | FilterNode
  | FlatMapNode
  | FlatMapValuesNode
  | PeekNode
  | BranchNode
  | BranchOutputNode
  | MergeNode
  | SinkNode;

export type NodeKind = GraphNode['kind'];

export interface TopologyGraph {
  readonly appId: string;
  /** In build order: every node comes after its parents. */
  readonly nodes: readonly GraphNode[];
}

/** Whether a windowed node sends its late records to the dead-letter topic (`late: 'dead-letter'`). */
export function deadLettersLate(node: GraphNode): boolean {
  const windowed = node.kind === 'windowedAggregate' || node.kind === 'sessionAggregate' || node.kind === 'slidingAggregate';
  return (windowed || node.kind === 'streamJoin') && node.late === 'dead-letter';
}
