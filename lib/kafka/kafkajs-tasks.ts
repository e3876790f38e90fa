import { AssignerProtocol, type GroupDescription, type PartitionAssigner } from 'kafkajs';
import type { GroupMembership, MemberInfo } from './client.ts';
import { assignTasks } from './task-assignment.ts';

/** The group protocol's name: every member of an application must speak it. */
const PROTOCOL = 'streamrun-tasks';
const VERSION = 1;

/**
 * KafkaJS's side of task assignment: each member's metadata carries what it says of itself
 * (JSON in the protocol's user data), and the leader assigns whole tasks with `assignTasks`.
 */
export function taskAssigner(membership: GroupMembership): PartitionAssigner {
  return ({ cluster }) => ({
    name: PROTOCOL,
    version: VERSION,
    protocol({ topics }) {
      const userData = Buffer.from(JSON.stringify(membership.self()));
      return { name: PROTOCOL, metadata: AssignerProtocol.MemberMetadata.encode({ version: VERSION, topics, userData }) };
    },
    async assign({ members, topics }) {
      const partitionsOf = new Map<string, { topic: string; partition: number }[]>();
      for (const topic of topics) {
        const sub = membership.subtopologyOf(topic);
        if (sub === undefined) continue;
        for (const { partitionId } of cluster.findTopicPartitionMetadata(topic)) {
          const task = `${sub}_${partitionId}`;
          const list = partitionsOf.get(task);
          if (list === undefined) partitionsOf.set(task, [{ topic, partition: partitionId }]);
          else list.push({ topic, partition: partitionId });
        }
      }
      const claims = members.map((m) => ({ id: m.memberId, previous: infoOf(m.memberMetadata).tasks }));
      const assigned = assignTasks([...partitionsOf.keys()], claims);
      return members.map(({ memberId }) => {
        const assignment: Record<string, number[]> = {};
        for (const task of assigned.get(memberId) ?? []) {
          for (const { topic, partition } of partitionsOf.get(task)!) (assignment[topic] ??= []).push(partition);
        }
        return {
          memberId,
          memberAssignment: AssignerProtocol.MemberAssignment.encode({ version: VERSION, assignment, userData: Buffer.alloc(0) }),
        };
      });
    },
  });
}

/** The members of a described group: what each said of itself, and the tasks its assignment holds. */
export function membersOf(group: GroupDescription, membership: GroupMembership): MemberInfo[] {
  return group.members.map((member) => {
    const tasks = new Set<string>();
    const assignment = AssignerProtocol.MemberAssignment.decode(member.memberAssignment)?.assignment ?? {};
    for (const [topic, partitions] of Object.entries(assignment)) {
      const sub = membership.subtopologyOf(topic);
      if (sub !== undefined) for (const partition of partitions) tasks.add(`${sub}_${partition}`);
    }
    return { endpoint: infoOf(member.memberMetadata).endpoint, tasks: [...tasks] };
  });
}

/** A member's own word; one that says nothing readable (another version, say) claims nothing. */
function infoOf(metadata: Buffer): MemberInfo {
  try {
    const said = JSON.parse(AssignerProtocol.MemberMetadata.decode(metadata)?.userData.toString() ?? '{}') as Partial<MemberInfo>;
    const tasks = Array.isArray(said.tasks) ? said.tasks.filter((t): t is string => typeof t === 'string') : [];
    return { endpoint: typeof said.endpoint === 'string' ? said.endpoint : undefined, tasks };
  } catch {
    return { tasks: [] };
  }
}
