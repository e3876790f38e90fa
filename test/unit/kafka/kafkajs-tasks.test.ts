import { AssignerProtocol } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import type { GroupMembership } from '../../../lib/kafka/client.ts';
import { membersOf, taskAssigner } from '../../../lib/kafka/kafkajs-tasks.ts';

const membership = (endpoint: string, tasks: string[]): GroupMembership => ({
  subtopologyOf: (topic) => ({ views: 0, users: 0, 'app-repartition': 1 })[topic],
  self: () => ({ endpoint, tasks }),
});
const partitions = (n: number) => Array.from({ length: n }, (_, partitionId) => ({ partitionId }));
const cluster = { findTopicPartitionMetadata: (topic: string) => partitions(topic === 'app-repartition' ? 2 : 3) };

function assigner(m: GroupMembership) {
  return taskAssigner(m)({ cluster, groupId: 'app', logger: undefined } as never);
}

describe('the task assigner on KafkaJS', () => {
  it('gives partition p of every co-partitioned topic to one member, keeping what each ran, and members read it back', async () => {
    const a = membership('http://a', ['0_2']);
    const b = membership('http://b', []);
    const topics = ['views', 'users', 'app-repartition'];
    const members = [a, b].map((m, i) => ({ memberId: `m${i}`, memberMetadata: assigner(m).protocol({ topics }).metadata }));
    const assignment = await assigner(a).assign({ members, topics });
    const decoded = assignment.map((x) => [x.memberId, AssignerProtocol.MemberAssignment.decode(x.memberAssignment)!.assignment]);
    expect(Object.fromEntries(decoded)).toEqual({
      m0: { views: [1, 2], users: [1, 2], 'app-repartition': [1] },
      m1: { views: [0], users: [0], 'app-repartition': [0] },
    });
    const described = { members: members.map((m, i) => ({ ...m, memberAssignment: assignment[i]!.memberAssignment })) };
    expect(membersOf(described as never, a)).toEqual([
      { endpoint: 'http://a', tasks: ['0_1', '0_2', '1_1'] },
      { endpoint: 'http://b', tasks: ['0_0', '1_0'] },
    ]);
  });

  it('a member whose metadata says nothing readable claims no tasks and has no endpoint', () => {
    const metadata = AssignerProtocol.MemberMetadata.encode({ version: 1, topics: ['views'], userData: Buffer.from('not json') });
    const assignment = AssignerProtocol.MemberAssignment.encode({ version: 1, assignment: { views: [1] }, userData: Buffer.alloc(0) });
    expect(membersOf({ members: [{ memberId: 'x', memberMetadata: metadata, memberAssignment: assignment }] } as never, membership('', []))).toEqual([
      { endpoint: undefined, tasks: ['0_1'] },
    ]);
  });
});
