import { decodeAssignment, decodeSubscription, encodeAssignment, encodeSubscription } from './consumer-protocol.ts';
import type { GroupMembership, MemberInfo } from './client.ts';
import { assignTasks } from './task-assignment.ts';

/**
 * The group protocol both clients speak to hand out whole tasks: each member's subscription
 * carries what it says of itself (JSON user data), and the leader assigns with `assignTasks`.
 */

/** The protocol's name: every member of an application must speak it. */
export const TASKS_PROTOCOL = 'streamrun-tasks';

/** What a member sends when it joins. */
export function subscriptionOf(membership: GroupMembership, topics: readonly string[]): Buffer {
  return encodeSubscription({ topics, userData: Buffer.from(JSON.stringify(membership.self())) });
}

export interface JoinedMember {
  readonly memberId: string;
  /** Its subscription, as it sent it. */
  readonly metadata: Buffer;
}

/** The leader's plan: each member's assignment, encoded, by member id. */
export function planAssignments(
  membership: GroupMembership,
  members: readonly JoinedMember[],
  topics: readonly string[],
  partitionsOf: (topic: string) => readonly number[],
): Map<string, Buffer> {
  const partitionsOfTask = new Map<string, { topic: string; partition: number }[]>();
  for (const topic of topics) {
    const sub = membership.subtopologyOf(topic);
    if (sub === undefined) continue;
    for (const partition of partitionsOf(topic)) {
      const task = `${sub}_${partition}`;
      const list = partitionsOfTask.get(task);
      if (list === undefined) partitionsOfTask.set(task, [{ topic, partition }]);
      else list.push({ topic, partition });
    }
  }
  const claims = members.map((m) => ({ id: m.memberId, previous: infoOf(m.metadata).tasks }));
  const assigned = assignTasks([...partitionsOfTask.keys()], claims);
  return new Map(
    members.map(({ memberId }) => {
      const assignment: Record<string, number[]> = {};
      for (const task of assigned.get(memberId) ?? []) {
        for (const { topic, partition } of partitionsOfTask.get(task)!) (assignment[topic] ??= []).push(partition);
      }
      return [memberId, encodeAssignment({ assignment, userData: Buffer.alloc(0) })];
    }),
  );
}

/** The partitions an assignment, as the coordinator handed it over, gives a member. */
export function assignedPartitions(assignment: Buffer): Map<string, number[]> {
  return new Map(Object.entries(decodeAssignment(assignment).assignment).map(([topic, partitions]) => [topic, [...partitions]]));
}

export interface DescribedMember {
  readonly metadata: Buffer;
  readonly assignment: Buffer;
}

/** The members of a described group: what each said of itself, and the tasks its assignment holds. */
export function membersOf(members: readonly DescribedMember[], membership: GroupMembership): MemberInfo[] {
  return members.map((member) => {
    const tasks = new Set<string>();
    for (const [topic, partitions] of assignedPartitions(member.assignment)) {
      const sub = membership.subtopologyOf(topic);
      if (sub !== undefined) for (const partition of partitions) tasks.add(`${sub}_${partition}`);
    }
    return { endpoint: infoOf(member.metadata).endpoint, tasks: [...tasks] };
  });
}

/**
 * For a consumer that runs no tasks (a dead-letter replay, say): each topic its own
 * sub-topology, so the group hands out topic-partitions, balanced.
 */
export function topicPartitions(topics: readonly string[]): GroupMembership {
  const index = new Map([...topics].sort().map((t, i) => [t, i]));
  return { subtopologyOf: (topic) => index.get(topic), self: () => ({ tasks: [] }) };
}

/** A member's own word; one that says nothing readable (another version, say) claims nothing. */
function infoOf(metadata: Buffer): MemberInfo {
  try {
    const said = JSON.parse(decodeSubscription(metadata).userData.toString() || '{}') as Partial<MemberInfo>;
    const tasks = Array.isArray(said.tasks) ? said.tasks.filter((t): t is string => typeof t === 'string') : [];
    return { endpoint: typeof said.endpoint === 'string' ? said.endpoint : undefined, tasks };
  } catch {
    return { tasks: [] };
  }
}
