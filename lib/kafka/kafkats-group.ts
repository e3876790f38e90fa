import { setTimeout as sleep } from 'node:timers/promises';
import { KafkaProtocolError, type Broker, type Cluster } from '@kafkats/client';
import { retriable } from './kafkats-errors.ts';
import type { GroupMembership, GroupMetadata, TopicPartitionOffset } from './client.ts';
import { TASKS_PROTOCOL, assignedPartitions, planAssignments, subscriptionOf, type DescribedMember } from './task-protocol.ts';

/**
 * One member's side of Kafka's group protocol (JoinGroup, SyncGroup, Heartbeat, OffsetCommit,
 * LeaveGroup) on @kafkats/client's requests. Its own consumer group code is not used: it cannot
 * take an assignor of ours, and its offset bookkeeping loses commits (see kafkats-consumer.ts).
 */

export interface GroupOptions {
  readonly cluster: Cluster;
  readonly groupId: string;
  readonly membership: GroupMembership;
  readonly topics: readonly string[];
  readonly sessionTimeoutMs: number;
  /** How long the group waits for members to rejoin; a member's batch in flight must end within it. */
  readonly rebalanceTimeoutMs: number;
}

/** What a heartbeat or a commit learned of the member's place in the group. */
export type Standing = 'member' | 'rebalance' | 'lost';

/** Broker answers, by Kafka's names. */
const ERROR = {
  NONE: 0,
  COORDINATOR_LOAD_IN_PROGRESS: 14,
  COORDINATOR_NOT_AVAILABLE: 15,
  NOT_COORDINATOR: 16,
  ILLEGAL_GENERATION: 22,
  UNKNOWN_MEMBER_ID: 25,
  REBALANCE_IN_PROGRESS: 27,
  MEMBER_ID_REQUIRED: 79,
  UNSTABLE_OFFSET_COMMIT: 88,
} as const;

const coordinatorMoved: ReadonlySet<number> = new Set([ERROR.COORDINATOR_LOAD_IN_PROGRESS, ERROR.COORDINATOR_NOT_AVAILABLE, ERROR.NOT_COORDINATOR]);
const generationGone: ReadonlySet<number> = new Set([ERROR.ILLEGAL_GENERATION, ERROR.UNKNOWN_MEMBER_ID]);

/** How long a coordinator request is tried again while the coordinator moves or cannot be reached. */
const RETRY_FOR_MS = 30_000;

export class GroupSession {
  #memberId = '';
  #generation = -1;
  readonly #options: GroupOptions;

  constructor(options: GroupOptions) {
    this.#options = options;
  }

  get generation(): number {
    return this.#generation;
  }

  /** Who this member is in the group now, for offsets sent with a transaction (KIP-447). */
  get metadata(): GroupMetadata {
    return { groupId: this.#options.groupId, generationId: this.#generation, memberId: this.#memberId };
  }

  /** Joins (or rejoins) the group and returns this member's partitions, by topic. */
  async join(): Promise<Map<string, number[]>> {
    const { cluster, groupId, membership, topics, sessionTimeoutMs, rebalanceTimeoutMs } = this.#options;
    for (;;) {
      const joined = await this.#withCoordinator((c) =>
        c.joinGroup({
          groupId,
          sessionTimeoutMs,
          rebalanceTimeoutMs,
          memberId: this.#memberId,
          groupInstanceId: null,
          protocolType: 'consumer',
          protocols: [{ name: TASKS_PROTOCOL, metadata: subscriptionOf(membership, topics) }],
        }),
      );
      // A first join is answered with an id to join again with (KIP-394).
      if (joined.errorCode === ERROR.MEMBER_ID_REQUIRED) {
        this.#memberId = joined.memberId;
        continue;
      }
      if (joined.errorCode === ERROR.UNKNOWN_MEMBER_ID) {
        this.#memberId = '';
        continue;
      }
      if (joined.errorCode === ERROR.REBALANCE_IN_PROGRESS || joined.errorCode === ERROR.ILLEGAL_GENERATION) continue;
      if (joined.errorCode !== ERROR.NONE) throw new KafkaProtocolError(joined.errorCode, `JoinGroup ${groupId}`);
      this.#memberId = joined.memberId;
      this.#generation = joined.generationId;
      let assignments: { memberId: string; assignment: Buffer }[] = [];
      if (joined.leader === joined.memberId) {
        const metadata = await cluster.refreshMetadata([...topics]);
        const plan = planAssignments(membership, joined.members, topics, (topic) => [...(metadata.topics.get(topic)?.partitions.keys() ?? [])]);
        assignments = [...plan].map(([memberId, assignment]) => ({ memberId, assignment }));
      }
      const synced = await this.#withCoordinator((c) =>
        c.syncGroup(
          {
            groupId,
            generationId: this.#generation,
            memberId: this.#memberId,
            groupInstanceId: null,
            protocolType: 'consumer',
            protocolName: TASKS_PROTOCOL,
            assignments,
          },
          rebalanceTimeoutMs,
        ),
      );
      if (synced.errorCode === ERROR.UNKNOWN_MEMBER_ID) this.#memberId = '';
      if (synced.errorCode === ERROR.REBALANCE_IN_PROGRESS || generationGone.has(synced.errorCode)) continue;
      if (synced.errorCode !== ERROR.NONE) throw new KafkaProtocolError(synced.errorCode, `SyncGroup ${groupId}`);
      return assignedPartitions(synced.assignment);
    }
  }

  /** One heartbeat; a coordinator that cannot be reached now is tried again at the next one. */
  async heartbeat(): Promise<Standing> {
    const { cluster, groupId } = this.#options;
    try {
      const coordinator = await cluster.getCoordinator('GROUP', groupId);
      const { errorCode } = await coordinator.heartbeat({ groupId, generationId: this.#generation, memberId: this.#memberId, groupInstanceId: null });
      return this.#standing(errorCode);
    } catch {
      cluster.invalidateCoordinator('GROUP', groupId);
      return 'member';
    }
  }

  /**
   * Commits under this member's generation. Rejects when the group took the partitions away
   * (the generation is gone): the records come again to whoever owns them now.
   */
  async commit(offsets: readonly TopicPartitionOffset[]): Promise<Standing> {
    const { groupId } = this.#options;
    const topics = new Map<string, { partitionIndex: number; committedOffset: bigint }[]>();
    for (const { topic, partition, offset } of offsets) {
      let list = topics.get(topic);
      if (list === undefined) topics.set(topic, (list = []));
      list.push({ partitionIndex: partition, committedOffset: BigInt(offset) });
    }
    const generationId = this.#generation;
    const memberId = this.#memberId;
    for (;;) {
      const response = await this.#withCoordinator((c) =>
        c.offsetCommit({ groupId, generationId, memberId, groupInstanceId: null, topics: [...topics].map(([name, partitions]) => ({ name, partitions })) }),
      );
      const codes = response.topics.flatMap((t) => t.partitions.map((p) => p.errorCode));
      const failed = codes.find((code) => code !== ERROR.NONE);
      if (failed === undefined) return 'member';
      if (coordinatorMoved.has(failed)) {
        this.#options.cluster.invalidateCoordinator('GROUP', groupId);
        await sleep(200);
        continue;
      }
      if (failed === ERROR.REBALANCE_IN_PROGRESS || generationGone.has(failed)) {
        throw new KafkaProtocolError(failed, `OffsetCommit ${groupId} (generation ${generationId}): the group moved on, the records are read again`);
      }
      throw new KafkaProtocolError(failed, `OffsetCommit ${groupId}`);
    }
  }

  /** The group's committed positions of these partitions; absent where it never committed. */
  async committed(partitions: ReadonlyMap<string, readonly number[]>): Promise<Map<string, bigint>> {
    const { groupId } = this.#options;
    for (;;) {
      const response = await this.#withCoordinator((c) =>
        c.offsetFetch({
          groupId,
          topics: [...partitions].map(([name, list]) => ({ name, partitions: list.map((partitionIndex) => ({ partitionIndex })) })),
          // Offsets of a transaction still open are waited for, not read as missing.
          requireStable: true,
        }),
      );
      const codes = [response.errorCode, ...response.topics.flatMap((t) => t.partitions.map((p) => p.errorCode))];
      const failed = codes.find((code) => code !== ERROR.NONE);
      if (failed !== undefined) {
        if (!coordinatorMoved.has(failed) && failed !== ERROR.UNSTABLE_OFFSET_COMMIT) throw new KafkaProtocolError(failed, `OffsetFetch ${groupId}`);
        this.#options.cluster.invalidateCoordinator('GROUP', groupId);
        await sleep(200);
        continue;
      }
      const committed = new Map<string, bigint>();
      for (const t of response.topics) for (const p of t.partitions) if (p.committedOffset >= 0n) committed.set(`${t.name}:${p.partitionIndex}`, p.committedOffset);
      return committed;
    }
  }

  /** Every member's subscription and assignment as the coordinator holds them. */
  async describe(): Promise<DescribedMember[]> {
    const { groupId } = this.#options;
    const response = await this.#withCoordinator((c) => c.describeGroups({ groups: [groupId] }));
    const group = response.groups.find((g) => g.groupId === groupId);
    return (group?.members ?? []).map((m) => ({ metadata: m.memberMetadata, assignment: m.memberAssignment }));
  }

  /** Leaves at once, so the others need not wait out this member's session. */
  async leave(): Promise<void> {
    if (this.#memberId === '') return;
    const { cluster, groupId } = this.#options;
    const coordinator = await cluster.getCoordinator('GROUP', groupId);
    await coordinator.leaveGroup({ groupId, memberId: this.#memberId, members: [{ memberId: this.#memberId, groupInstanceId: null }] });
    this.#memberId = '';
    this.#generation = -1;
  }

  #standing(errorCode: number): Standing {
    if (errorCode === ERROR.NONE) return 'member';
    if (errorCode === ERROR.REBALANCE_IN_PROGRESS) return 'rebalance';
    if (generationGone.has(errorCode)) {
      if (errorCode === ERROR.UNKNOWN_MEMBER_ID) this.#memberId = '';
      return 'lost';
    }
    if (coordinatorMoved.has(errorCode)) this.#options.cluster.invalidateCoordinator('GROUP', this.#options.groupId);
    return 'member';
  }

  /**
   * A request to the group's coordinator, tried again while the coordinator moves, loads or
   * cannot be reached: a broker that restarts takes the group with it for a few seconds.
   */
  async #withCoordinator<T extends object>(request: (coordinator: Broker) => Promise<T>): Promise<T> {
    const { cluster, groupId } = this.#options;
    const until = Date.now() + RETRY_FOR_MS;
    for (let attempt = 0; ; attempt++) {
      try {
        const response = await request(await cluster.getCoordinator('GROUP', groupId));
        const code = 'errorCode' in response && typeof response.errorCode === 'number' ? response.errorCode : ERROR.NONE;
        if (!coordinatorMoved.has(code) || Date.now() > until) return response;
      } catch (error) {
        if (Date.now() > until || !retriable(error)) throw error;
      }
      cluster.invalidateCoordinator('GROUP', groupId);
      await sleep(Math.min(100 * 2 ** attempt, 2_000));
    }
  }
}
