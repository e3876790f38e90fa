import { setTimeout as sleep } from 'node:timers/promises';
import type { Cluster } from '@kafkats/client';
import type { Logger } from '../runtime/logger.ts';
import type { BatchControl, ConsumerHandlers, GroupMembership, GroupMetadata, InputBatch, MemberInfo, TopicPartitionOffset, TransactionalConsumer } from './client.ts';
import { fetchOnce, type FetchedPartition, type FetchSettings } from './kafkats-fetch.ts';
import { retriable } from './kafkats-errors.ts';
import { GroupSession } from './kafkats-group.ts';
import { EARLIEST, leaderMoved, listOffsets } from './kafkats-offsets.ts';
import { membersOf, topicPartitions } from './task-protocol.ts';

/**
 * A consumer group member on @kafkats/client's protocol layer, with our own fetch loop. Its
 * Consumer class is not used, for what it does to offsets (measured with 0.12.0): a partition's
 * records come out of offset order when the handler is slower than fetching (its FetchBuffer
 * puts a half-drained fetch behind later ones), committed offsets stop short of the end, and a
 * commit that succeeds drops an offset marked while it was in flight. Here:
 *
 * - each partition has one queue of fetched batches and at most one fetch in flight, which
 *   starts where the last one ended: batches reach the handler in offset order, each once;
 * - the handler's resolved offset is where the partition reads on: records it did not resolve
 *   (a batch it gave up on) are fetched again, as KafkaJS does;
 * - offsets are committed exactly as the caller passes them, under the current generation;
 * - batches of several tasks are with the handler at once (see #deliver), one at a time per
 *   task, while the next fetches are already in flight.
 */

export interface KafkatsConsumerOptions {
  readonly cluster: Cluster;
  readonly groupId: string;
  /** Without one, the group hands out topic-partitions. */
  readonly membership: GroupMembership | undefined;
  readonly logger: Logger;
  readonly sessionTimeoutMs: number;
  readonly maxWaitMs: number;
  /** How many tasks' batches may be with the handler at once. */
  readonly tasksAtOnce: number;
  /** Resolves once the cluster answers (the client connects it once, for all its parts). */
  readonly connect: () => Promise<void>;
}

interface FetchedBatch {
  readonly records: InputBatch['records'];
  /** Where it starts: the offset after the previous batch's last. */
  readonly from: bigint;
  readonly lastOffset: bigint;
  readonly end: bigint;
}

interface PartitionState {
  readonly topic: string;
  readonly partition: number;
  /** The next offset to fetch. */
  fetchAt: bigint;
  /** The offset after what the handler has finished with: where a reset reads from. */
  doneAt: bigint;
  /** Bumped when the position moves by hand: fetches started before it are dropped. */
  epoch: number;
  paused: boolean;
  fetching: boolean;
  /** No fetch before this time (after the handler failed on a batch). */
  notBefore: number;
  readonly queue: FetchedBatch[];
}

const settings = (maxWaitMs: number): FetchSettings => ({ maxWaitMs, partitionMaxBytes: 1024 * 1024, verifyCrc: true });
/**
 * Fetched batches a partition may hold ahead of the handler, besides the one in flight: two
 * were no faster and held 70 MB more at 120k records/s.
 */
const QUEUE_DEPTH = 1;
/** A batch the handler failed on is fetched again after this. */
const RETRY_BATCH_MS = 1_000;

export function kafkatsConsumer(options: KafkatsConsumerOptions): TransactionalConsumer {
  return new KafkatsConsumer(options);
}

class KafkatsConsumer implements TransactionalConsumer {
  readonly #options: KafkatsConsumerOptions;
  #group: GroupSession | undefined;
  #membership: GroupMembership | undefined;
  #handlers: ConsumerHandlers | undefined;
  readonly #partitions = new Map<string, PartitionState>();
  /** Pauses asked for before the partition was assigned, or across rebalances. */
  readonly #paused = new Set<string>();
  #phase: 'idle' | 'running' | 'rebalancing' | 'closing' | 'closed' = 'idle';
  /** Set when the group has moved on without this member: its batch in flight may not commit. */
  #lost = false;
  readonly #fetchingFrom = new Set<number>();
  #wake: (() => void) | undefined;
  /** A rebalance or a stop asked for; #run takes it up when it next looks. */
  #rejoinWanted = false;
  #rejoinSignal: (() => void) | undefined;
  /** Batches with the handler, by task: one task's batches go one at a time, in order. */
  readonly #handling = new Map<string, Promise<void>>();
  #heartbeat: NodeJS.Timeout | undefined;
  #loop: Promise<void> | undefined;
  #rotation = 0;
  /** Rewinds under way: no fetch and no delivery until the positions are set again. */
  #rewinding = 0;

  constructor(options: KafkatsConsumerOptions) {
    this.#options = options;
  }

  async start(topics: readonly string[], handlers: ConsumerHandlers): Promise<void> {
    const { cluster, groupId, sessionTimeoutMs } = this.#options;
    const membership = this.#options.membership ?? topicPartitions(topics);
    this.#membership = membership;
    this.#handlers = handlers;
    await this.#options.connect();
    this.#group = new GroupSession({
      cluster,
      groupId,
      membership,
      topics,
      sessionTimeoutMs,
      rebalanceTimeoutMs: Math.max(60_000, sessionTimeoutMs),
    });
    // The first join fails `start`; later ones are tried again (see #run).
    const assignment = await this.#group.join();
    try {
      await this.#assign(assignment);
    } catch (error) {
      await this.#group.leave().catch(() => {});
      throw error;
    }
    this.#loop = this.#run();
    void this.#deliver();
  }

  groupMetadata(): GroupMetadata {
    if (this.#group === undefined) throw new Error('the consumer has not joined its group');
    return this.#group.metadata;
  }

  async rewind(whileStopped: () => Promise<void>): Promise<void> {
    this.#rewinding++;
    try {
      for (const state of this.#partitions.values()) this.#reset(state, state.doneAt);
      await this.#settled();
      await whileStopped();
      // A rebalance under way reads the committed offsets when it assigns.
      if (this.#phase !== 'running') return;
      const states = [...this.#partitions.values()];
      const byTopic = new Map<string, number[]>();
      for (const { topic, partition } of states) byTopic.set(topic, [...(byTopic.get(topic) ?? []), partition]);
      const positions = await this.#untilAnswered(() => this.#positions(byTopic));
      if (positions === undefined) return;
      for (const state of states) {
        const key = `${state.topic}:${state.partition}`;
        // Reassigned meanwhile: the new assignment set its own position.
        if (this.#partitions.get(key) !== state) continue;
        const at = positions.get(key) ?? 0n;
        state.doneAt = at;
        state.notBefore = 0;
        this.#reset(state, at);
      }
    } finally {
      this.#rewinding--;
      this.#pump();
      this.#wake?.();
    }
  }

  async members(): Promise<MemberInfo[]> {
    if (this.#group === undefined || this.#membership === undefined) return [];
    return membersOf(await this.#group.describe(), this.#membership);
  }

  pause(topic: string, partition: number): void {
    const key = `${topic}:${partition}`;
    this.#paused.add(key);
    const state = this.#partitions.get(key);
    if (state === undefined) return;
    state.paused = true;
    this.#reset(state, state.doneAt);
  }

  resume(topic: string, partition: number, offset?: string): void {
    const key = `${topic}:${partition}`;
    this.#paused.delete(key);
    const state = this.#partitions.get(key);
    if (state === undefined) return;
    state.paused = false;
    if (offset !== undefined) state.doneAt = BigInt(offset);
    // From where the handler got to: it may have resolved more after the pause.
    this.#reset(state, state.doneAt);
    this.#pump();
  }

  async commit(offsets: readonly TopicPartitionOffset[]): Promise<void> {
    if (this.#group === undefined || offsets.length === 0) return;
    try {
      await this.#group.commit(offsets);
    } catch (error) {
      if (generationLost(error)) {
        this.#lost = true;
        this.#requestRejoin();
      }
      throw error;
    }
  }

  async close(): Promise<void> {
    if (this.#phase === 'closed' || this.#phase === 'closing') return this.#loop;
    const wasRunning = this.#phase !== 'idle';
    this.#phase = 'closing';
    this.#wake?.();
    this.#requestRejoin();
    await this.#loop;
    await this.#settled();
    if (wasRunning) await this.#revoke();
    this.#stopHeartbeats();
    if (wasRunning) await this.#group?.leave().catch((error: unknown) => this.#options.logger.debug(`leaving the group failed: ${(error as Error).message}`));
    this.#phase = 'closed';
  }

  /** Membership: runs until closed, rejoining whenever the group rebalances. */
  async #run(): Promise<void> {
    for (;;) {
      if (!this.#rejoinWanted) await new Promise<void>((resolve) => (this.#rejoinSignal = resolve));
      this.#rejoinWanted = false;
      if (this.#phase === 'closing') return;
      this.#phase = 'rebalancing';
      this.#stopHeartbeats();
      for (const state of this.#partitions.values()) this.#reset(state, state.doneAt);
      // The batches in hand may still commit under this generation; then the group moves on.
      await this.#settled();
      await this.#revoke();
      for (let attempt = 0; this.#phase === 'rebalancing'; attempt++) {
        try {
          const assignment = await this.#group!.join();
          if (this.#phase !== 'rebalancing') return;
          await this.#assign(assignment);
        } catch (error) {
          if (this.#phase !== 'rebalancing') return;
          this.#handlers!.onCrash(error as Error, true);
          await sleep(Math.min(1_000 * 2 ** attempt, 10_000));
        }
      }
    }
  }

  /** The handlers' last word under this generation; what fails there they have dealt with. */
  async #revoke(): Promise<void> {
    await this.#handlers?.onRevoke?.().catch((error: unknown) => this.#options.logger.debug(`revoking failed: ${(error as Error).message}`));
  }

  #requestRejoin(): void {
    this.#rejoinWanted = true;
    this.#rejoinSignal?.();
  }

  /** Takes on a new assignment: from the group's committed offsets, else from the beginning. */
  async #assign(assignment: Map<string, number[]>): Promise<void> {
    const { cluster } = this.#options;
    this.#partitions.clear();
    this.#lost = false;
    if (assignment.size > 0) await cluster.refreshMetadata([...assignment.keys()]);
    const positions = await this.#positions(assignment);
    if (this.#phase === 'closing') return;
    for (const [topic, partitions] of assignment) {
      for (const partition of partitions) {
        const key = `${topic}:${partition}`;
        const at = positions.get(key) ?? 0n;
        this.#partitions.set(key, {
          topic,
          partition,
          fetchAt: at,
          doneAt: at,
          epoch: 0,
          paused: this.#paused.has(key),
          fetching: false,
          notBefore: 0,
          queue: [],
        });
      }
    }
    this.#phase = 'running';
    this.#handlers!.onAssignment(assignment);
    this.#startHeartbeats();
    this.#pump();
    this.#wake?.();
  }

  /** Asks until the cluster answers, or undefined once the consumer stops or rebalances (which reads its own). */
  async #untilAnswered<T>(ask: () => Promise<T>): Promise<T | undefined> {
    for (let attempt = 0; this.#phase === 'running'; attempt++) {
      try {
        return await ask();
      } catch (error) {
        this.#options.logger.debug(`reading the committed offsets failed: ${(error as Error).message}; trying again`);
        await sleep(Math.min(500 * 2 ** attempt, 5_000));
      }
    }
    return undefined;
  }

  /** Where each partition reads from: the group's committed offset, else the beginning. */
  async #positions(partitions: ReadonlyMap<string, readonly number[]>): Promise<Map<string, bigint>> {
    const committed = await this.#group!.committed(partitions);
    const missing = new Map<string, number[]>();
    for (const [topic, list] of partitions) {
      const absent = list.filter((p) => !committed.has(`${topic}:${p}`));
      if (absent.length > 0) missing.set(topic, absent);
    }
    if (missing.size > 0) for (const [key, at] of await listOffsets(this.#options.cluster, missing, EARLIEST)) committed.set(key, at);
    return committed;
  }

  #startHeartbeats(): void {
    const interval = Math.min(3_000, Math.floor(this.#options.sessionTimeoutMs / 3));
    let beating = false;
    this.#heartbeat = setInterval(() => {
      if (beating) return;
      beating = true;
      void this.#group!.heartbeat()
        .then((standing) => {
          if (standing === 'member' || this.#phase !== 'running') return;
          if (standing === 'lost') this.#lost = true;
          this.#options.logger.debug(`group ${this.#options.groupId}: ${standing === 'lost' ? 'this member was dropped' : 'rebalancing'}; rejoining`);
          this.#requestRejoin();
        })
        .finally(() => (beating = false));
    }, interval);
  }

  #stopHeartbeats(): void {
    clearInterval(this.#heartbeat);
    this.#heartbeat = undefined;
  }

  /** Forgets what was fetched ahead and reads on from `offset`. */
  #reset(state: PartitionState, offset: bigint): void {
    state.queue.length = 0;
    state.epoch++;
    state.fetchAt = offset;
  }

  /** Starts a fetch at every leader that has none in flight, for its partitions that want records. */
  #pump(): void {
    if (this.#phase !== 'running' || this.#rewinding > 0) return;
    const metadata = this.#options.cluster.getMetadata();
    const now = Date.now();
    const byLeader = new Map<number, PartitionState[]>();
    let unknown = false;
    for (const state of this.#partitions.values()) {
      if (state.paused || state.fetching || state.queue.length >= QUEUE_DEPTH || state.notBefore > now) continue;
      const leader = metadata?.topics.get(state.topic)?.partitions.get(state.partition)?.leaderId ?? -1;
      if (leader < 0) {
        unknown = true;
        continue;
      }
      if (this.#fetchingFrom.has(leader)) continue;
      const list = byLeader.get(leader);
      if (list === undefined) byLeader.set(leader, [state]);
      else list.push(state);
    }
    for (const [leader, states] of byLeader) void this.#fetchFrom(leader, states);
    if (unknown) void this.#refreshMetadata();
  }

  async #fetchFrom(leader: number, states: readonly PartitionState[]): Promise<void> {
    const { cluster, maxWaitMs, logger } = this.#options;
    this.#fetchingFrom.add(leader);
    const epochs = new Map(states.map((s) => [s, s.epoch]));
    for (const s of states) s.fetching = true;
    let fetched: FetchedPartition[] = [];
    let failed = false;
    try {
      const broker = await cluster.getBroker(leader);
      fetched = await fetchOnce(
        broker,
        states.map((s) => ({ topic: s.topic, partition: s.partition, offset: s.fetchAt })),
        settings(maxWaitMs),
      );
    } catch (error) {
      failed = true;
      if (!retriable(error)) this.#handlers?.onCrash(error as Error, true);
      else logger.debug(`fetch from broker ${leader} failed: ${(error as Error).message}`);
    } finally {
      this.#fetchingFrom.delete(leader);
      for (const s of states) s.fetching = false;
    }
    let refresh = failed;
    for (const answer of fetched) {
      const state = this.#partitions.get(`${answer.topic}:${answer.partition}`);
      // Moved by hand, taken away, or paused while the fetch was out: what it brought is stale.
      if (state === undefined || epochs.get(state) !== state.epoch || state.paused || answer.from !== state.fetchAt) continue;
      if (answer.errorCode === 0) {
        if (answer.lastOffset < state.fetchAt) continue;
        state.queue.push({ records: answer.records, from: state.fetchAt, lastOffset: answer.lastOffset, end: answer.end });
        state.fetchAt = answer.lastOffset + 1n;
      } else if (answer.errorCode === 1) {
        // OFFSET_OUT_OF_RANGE: the records were deleted by retention; read on from the first kept.
        const earliest = await listOffsets(cluster, new Map([[state.topic, [state.partition]]]), EARLIEST).catch(() => undefined);
        const at = earliest?.get(`${state.topic}:${state.partition}`);
        if (at !== undefined && epochs.get(state) === state.epoch) {
          logger.warn(`${state.topic}-${state.partition}: offset ${state.fetchAt} is out of range; reading on from ${at}`);
          state.doneAt = at;
          this.#reset(state, at);
        }
      } else if (leaderMoved.has(answer.errorCode)) {
        refresh = true;
      } else {
        logger.warn(`${state.topic}-${state.partition}: fetch answered error ${answer.errorCode}; trying again`);
        state.notBefore = Date.now() + RETRY_BATCH_MS;
      }
    }
    if (refresh) {
      await sleep(failed ? 500 : 100);
      await this.#refreshMetadata();
    }
    this.#wake?.();
    this.#pump();
  }

  async #refreshMetadata(): Promise<void> {
    const topics = [...new Set([...this.#partitions.values()].map((s) => s.topic))];
    await this.#options.cluster.refreshMetadata(topics).catch((error: unknown) => this.#options.logger.debug(`metadata refresh failed: ${(error as Error).message}`));
  }

  /**
   * Hands batches to the handler, taking partitions in turn: several tasks at once, so one
   * task's processing goes on while another waits for its outputs' acknowledgements and its
   * commit; one batch at a time per task (a task may read several partitions), in order.
   */
  async #deliver(): Promise<void> {
    while (this.#phase !== 'closing' && this.#phase !== 'closed') {
      const state =
        this.#phase === 'running' && this.#rewinding === 0 && this.#handling.size < this.#options.tasksAtOnce ? this.#next() : undefined;
      if (state === undefined) {
        await new Promise<void>((resolve) => {
          this.#wake = resolve;
          // Partitions held back after a failed batch become ready again on their own.
          setTimeout(resolve, RETRY_BATCH_MS).unref();
        });
        this.#pump();
        continue;
      }
      const task = this.#taskOf(state);
      const handling = this.#handle(state, state.queue.shift()!).finally(() => {
        this.#handling.delete(task);
        this.#pump();
        this.#wake?.();
      });
      this.#handling.set(task, handling);
      this.#pump();
    }
  }

  #taskOf(state: PartitionState): string {
    return `${this.#membership!.subtopologyOf(state.topic) ?? state.topic}_${state.partition}`;
  }

  async #settled(): Promise<void> {
    while (this.#handling.size > 0) await Promise.all(this.#handling.values());
  }

  #next(): PartitionState | undefined {
    const states = [...this.#partitions.values()];
    for (let i = 0; i < states.length; i++) {
      const state = states[(this.#rotation + i) % states.length]!;
      if (state.queue.length > 0 && !state.paused && !this.#handling.has(this.#taskOf(state))) {
        this.#rotation = (this.#rotation + i + 1) % states.length;
        return state;
      }
    }
    return undefined;
  }

  async #handle(state: PartitionState, batch: FetchedBatch): Promise<void> {
    const group = this.#group!;
    const epoch = state.epoch;
    if (batch.records.length === 0) {
      // Transaction markers, or aborted records, only: nothing for the handler, but the group's
      // position moves past them when everything before them is done, so the lag can reach 0.
      if (state.doneAt === batch.from) await this.#commitPast(state, batch);
      return;
    }
    const lastRecord = BigInt(batch.records[batch.records.length - 1]!.offset);
    const generation = group.generation;
    const control: BatchControl = {
      isRunning: () => this.#phase === 'running' || this.#phase === 'rebalancing',
      // The group is rebalancing (eagerly: every partition goes back): the batch stops at its next
      // chunk, uncommitted, as KafkaJS's does, so the rebalance waits for a chunk, not a batch.
      isStale: () =>
        this.#lost || this.#rejoinWanted || this.#phase === 'rebalancing' || group.generation !== generation || !this.#partitions.has(`${state.topic}:${state.partition}`),
      resolveOffset: (offset) => {
        const at = BigInt(offset);
        // Past the batch's last record means past its markers too.
        const done = at >= lastRecord ? batch.lastOffset + 1n : at + 1n;
        if (done > state.doneAt) state.doneAt = done;
      },
      commit: (offsets) => this.commit(offsets),
      // Heartbeats go out on their own timer, whatever the handler does between awaits.
      heartbeat: () => Promise.resolve(),
    };
    const input: InputBatch = {
      topic: state.topic,
      partition: state.partition,
      records: batch.records,
      lastOffset: String(batch.lastOffset),
      highWatermark: String(batch.end),
    };
    let failure: unknown;
    try {
      await this.#handlers!.onBatch(input, control);
    } catch (error) {
      failure = error;
    }
    if (state.epoch !== epoch) return;
    if (failure !== undefined) {
      this.#handlers!.onCrash(failure as Error, true);
      state.notBefore = Date.now() + RETRY_BATCH_MS;
    }
    // What the handler did not finish is read again from where it stopped.
    if (state.doneAt <= batch.lastOffset) this.#reset(state, state.doneAt);
  }

  async #commitPast(state: PartitionState, batch: FetchedBatch): Promise<void> {
    const offset = batch.lastOffset + 1n;
    const passed = [{ topic: state.topic, partition: state.partition, offset: String(offset) }];
    try {
      await (this.#handlers!.commitPast ?? ((offsets) => this.commit(offsets)))(passed);
      state.doneAt = offset;
    } catch (error) {
      this.#options.logger.debug(`${state.topic}-${state.partition}: committing past markers failed: ${(error as Error).message}`);
    }
  }
}

/** The group moved on without this member: its commits are refused until it rejoins. */
function generationLost(error: unknown): boolean {
  const code = (error as { errorCode?: unknown }).errorCode;
  return code === 22 || code === 25 || code === 27;
}
