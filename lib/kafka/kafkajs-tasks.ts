import type { GroupDescription, PartitionAssigner } from 'kafkajs';
import type { GroupMembership, MemberInfo } from './client.ts';
import { TASKS_PROTOCOL, membersOf as describedMembers, planAssignments, subscriptionOf } from './task-protocol.ts';

/** KafkaJS's side of task assignment (task-protocol.ts): its assigner, and its group description read. */
export function taskAssigner(membership: GroupMembership): PartitionAssigner {
  return ({ cluster }) => ({
    name: TASKS_PROTOCOL,
    version: 1,
    protocol: ({ topics }) => ({ name: TASKS_PROTOCOL, metadata: subscriptionOf(membership, topics) }),
    async assign({ members, topics }) {
      const plan = planAssignments(
        membership,
        members.map((m) => ({ memberId: m.memberId, metadata: m.memberMetadata })),
        topics,
        (topic) => cluster.findTopicPartitionMetadata(topic).map((p) => p.partitionId),
      );
      return members.map(({ memberId }) => ({ memberId, memberAssignment: plan.get(memberId)! }));
    },
  });
}

export function membersOf(group: GroupDescription, membership: GroupMembership): MemberInfo[] {
  return describedMembers(
    group.members.map((m) => ({ metadata: m.memberMetadata, assignment: m.memberAssignment })),
    membership,
  );
}
