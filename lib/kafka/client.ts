import type { RecordHeaders } from '../graph/nodes.ts';

/**
 * What the runtime needs from a Kafka client, and nothing more. The tasks and the runner see
 * only these interfaces, so a faster client can replace KafkaJS without touching them.
 */

/** A consumed record, shaped so a client can hand over its own objects without copying. */
export interface InputRecord {
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  /** Milliseconds since the epoch, as the decimal string the broker sent. */
  readonly timestamp: string;
  readonly offset: string;
  readonly headers?: RecordHeaders;
}

export interface InputBatch {
  readonly topic: string;
  readonly partition: number;
  readonly records: readonly InputRecord[];
  /**
   * Offset of the batch's last entry, which may be a transaction marker that never reaches
   * `records`: committing past it keeps the lag of a fully processed partition at zero.
   */
  readonly lastOffset: string;
  /** The partition's end when the batch was fetched: a batch short of it leaves records to read. */
  readonly highWatermark?: string;
}

/** A record to produce; the client groups them per topic. */
export interface OutputRecord {
  /** Set for changelog records (the task's partition); otherwise chosen by the key. */
  partition?: number;
  /**
   * When set, the partition is chosen from these bytes instead of the key's, as Kafka's Java
   * client chooses from a key (murmur2): a window's own key, for windowed results.
   */
  partitionKey?: Buffer | undefined;
  key: Buffer | null;
  value: Buffer | null;
  timestamp?: string;
  headers?: RecordHeaders;
}

export interface TopicPartitionOffset {
  readonly topic: string;
  readonly partition: number;
  /** The next offset to read, as Kafka commits it (last processed + 1). */
  readonly offset: string;
}

/** Passed with each batch: lets the handler see whether it should keep going. */
export interface BatchControl {
  /** False once the consumer is stopping. */
  isRunning(): boolean;
  /** True once a rebalance took this partition away: stop and do not commit. */
  isStale(): boolean;
  /** Marks records up to and including `offset` as done, so they are not fetched again. */
  resolveOffset(offset: string): void;
  /**
   * Commits offsets for the group. Bound to the batch because a commit must still go through
   * while the consumer is stopping and the batch in flight drains.
   */
  commit(offsets: readonly TopicPartitionOffset[]): Promise<void>;
  heartbeat(): Promise<void>;
}

export type Assignment = ReadonlyMap<string, readonly number[]>;

export interface ConsumerHandlers {
  onBatch(batch: InputBatch, control: BatchControl): Promise<void>;
  /** The partitions this member owns after each rebalance. */
  onAssignment(assignment: Assignment): void;
  /** The consumer failed after its own retries; `restarting` says whether it starts again itself. */
  onCrash(error: Error, restarting: boolean): void;
  /**
   * Awaited before the member rejoins its group or leaves it, once the batches in hand ended:
   * the last moment a transaction may still send offsets under the generation it read them in.
   */
  onRevoke?(): Promise<void>;
  /**
   * Where offsets the consumer moves past on its own go (a fetch of transaction markers only).
   * Default: committed to the group at once; under exactly-once, into the open transaction.
   */
  commitPast?(offsets: readonly TopicPartitionOffset[]): Promise<void>;
}

/** What a member of the group tells the others when it joins. */
export interface MemberInfo {
  /** Where its HTTP server answers store queries, when it has one. */
  readonly endpoint?: string | undefined;
  /** The tasks it runs: the leader keeps them there when it can (their state is there). */
  readonly tasks: readonly string[];
}

/** How the group hands out work: whole tasks (see task-assignment.ts), not topic-partitions. */
export interface GroupMembership {
  /** The sub-topology that reads `topic`: partition p of it belongs to task `<sub>_<p>`. */
  subtopologyOf(topic: string): number | undefined;
  /** Asked at every join. */
  self(): MemberInfo;
}

/** A member of a group as of one generation: the coordinator takes transactional offsets from it only then. */
export interface GroupMetadata {
  readonly groupId: string;
  readonly generationId: number;
  readonly memberId: string;
}

export interface InputConsumer {
  start(topics: readonly string[], handlers: ConsumerHandlers): Promise<void>;
  /** Every member of the group as of its last rebalance: what it said, and the tasks it got. */
  members(): Promise<MemberInfo[]>;
  /** Stops fetching a partition; a batch already handed over may still arrive. */
  pause(topic: string, partition: number): void;
  /** Fetches a partition again, from `offset` when given, else from the last resolved offset. */
  resume(topic: string, partition: number, offset?: string): void;
  /** Commits outside a batch, for work that went on after its batch handler returned. */
  commit(offsets: readonly TopicPartitionOffset[]): Promise<void>;
  /** Waits for the batch in flight, then leaves the group. */
  close(): Promise<void>;
}

/** Where the first record of a send landed in one partition; the rest follow it in order. */
export interface ProducedOffset {
  readonly topic: string;
  readonly partition: number;
  readonly baseOffset: string;
}

/** A consumer whose offsets go with a producer's transaction instead of its own commits. */
export interface TransactionalConsumer extends InputConsumer {
  /** This member's generation now: offsets sent with it are refused once the group moved on. */
  groupMetadata(): GroupMetadata;
  /**
   * Reads every assigned partition again from the group's committed offsets, after a transaction
   * aborted: stops handing out batches, waits for those in hand, runs `whileStopped` (the tasks'
   * state goes back to the last commit there), then fetches from the committed positions.
   */
  rewind(whileStopped: () => Promise<void>): Promise<void>;
}

/** A producer whose sends, and the input offsets they came from, count all together or not at all. */
export interface TransactionalProducer {
  /** Opens a transaction; one at a time. */
  begin(): Promise<void>;
  /** As OutputProducer.send, inside the open transaction: read_committed readers see the records only once it commits. */
  send(records: ReadonlyMap<string, readonly OutputRecord[]>): Promise<ProducedOffset[]>;
  /**
   * Commits `offsets` for the group with the transaction (KIP-447): the group's coordinator
   * refuses them when `group`'s generation is no longer current, so a member that lost its
   * partitions to a rebalance cannot commit over the one that has them now.
   */
  sendOffsets(offsets: readonly TopicPartitionOffset[], group: GroupMetadata): Promise<void>;
  commit(): Promise<void>;
  abort(): Promise<void>;
  close(): Promise<void>;
}

/** What exactly-once needs of a client: KIP-447 transactions (one producer for all of a runner's tasks). */
export interface Transactions {
  /**
   * A producer with this transactional id; opening it fences an earlier one with the same id and
   * aborts its open transaction. Transactions open longer than `timeoutMs` are aborted by the broker.
   */
  producer(transactionalId: string, timeoutMs: number): Promise<TransactionalProducer>;
  consumer(groupId: string, membership: GroupMembership): TransactionalConsumer;
}

export interface OutputProducer {
  /** Resolves once the broker acknowledged every record (acks=all). */
  send(records: ReadonlyMap<string, readonly OutputRecord[]>): Promise<ProducedOffset[]>;
  close(): Promise<void>;
}

export interface TopicSpec {
  readonly topic: string;
  readonly partitions: number;
  /** Copies of each partition; the broker's default when absent. */
  readonly replicationFactor?: number;
  readonly config?: Readonly<Record<string, string>>;
}

/** Reads ranges of single partitions, outside any consumer group's assignment. */
export interface ChangelogReader {
  /** Hands over the records with `from <= offset < until`, batch by batch, in order. */
  read(
    topic: string,
    partition: number,
    from: string,
    until: string,
    onRecords: (records: readonly InputRecord[]) => Promise<void>,
  ): Promise<void>;
  close(): Promise<void>;
}

export interface PartitionOffsets {
  /** The first offset still in the log. */
  readonly low: string;
  /** The offset the next record will get. */
  readonly high: string;
}

export interface StreamClient {
  /** Fails fast with BROKER_UNREACHABLE when no broker answers. */
  connect(): Promise<void>;
  /** Asks the cluster who is in it: rejects when no broker answers. */
  ping(): Promise<void>;
  /** How many brokers the cluster has now. */
  brokerCount(): Promise<number>;
  /** Partition counts of the topics that exist; missing topics are absent from the map. */
  partitionCounts(topics: readonly string[]): Promise<Map<string, number>>;
  createTopics(specs: readonly TopicSpec[]): Promise<void>;
  /** Low and high watermark of each partition, by partition. */
  offsets(topic: string): Promise<Map<number, PartitionOffsets>>;
  /**
   * The positions a consumer group committed on a topic (the next offset it will read), by
   * partition; partitions it never committed are absent.
   */
  committedOffsets(groupId: string, topic: string): Promise<Map<number, string>>;
  changelogReader(topics: readonly string[]): Promise<ChangelogReader>;
  producer(): Promise<OutputProducer>;
  /** Absent for a client without KIP-447 transactions: exactly-once is refused with it. */
  readonly transactions?: Transactions;
  /** A member of `groupId`; with `membership`, the group hands out whole tasks, else topic-partitions. */
  consumer(groupId: string, membership?: GroupMembership): InputConsumer;
  /**
   * Names the broker's answer (e.g. `LEADER_NOT_AVAILABLE`) when `error`, thrown by one of
   * these methods, is a transient one that asking again may clear; undefined otherwise.
   */
  transient(error: unknown): string | undefined;
  /** The partition of `partitions` a record with these key bytes goes to, as this client's producers choose. */
  partitionOf(key: Buffer, partitions: number): number;
  close(): Promise<void>;
}
