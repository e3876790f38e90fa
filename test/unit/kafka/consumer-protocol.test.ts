import { AssignerProtocol } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { decodeAssignment, decodeSubscription, encodeAssignment, encodeSubscription } from '../../../lib/kafka/consumer-protocol.ts';

// KafkaJS's own encoder is the reference: a group may hold members on either client.
describe('consumer protocol bytes', () => {
  const userData = Buffer.from('{"tasks":["0_1"]}');

  it('writes a subscription as KafkaJS does, and reads KafkaJS’s', () => {
    const topics = ['orders', 'payments-é'];
    const ours = encodeSubscription({ topics, userData });
    expect(ours).toEqual(AssignerProtocol.MemberMetadata.encode({ version: 1, topics, userData }));
    expect(decodeSubscription(ours)).toEqual({ topics, userData });
  });

  it('writes an assignment as KafkaJS does, and reads KafkaJS’s', () => {
    const assignment = { orders: [0, 2, 5], payments: [1] };
    const ours = encodeAssignment({ assignment, userData: Buffer.alloc(0) });
    expect(ours).toEqual(AssignerProtocol.MemberAssignment.encode({ version: 1, assignment, userData: Buffer.alloc(0) }));
    expect(decodeAssignment(ours).assignment).toEqual(assignment);
  });

  it('reads an empty assignment as nothing assigned, and a cut one as an error', () => {
    expect(decodeAssignment(Buffer.alloc(0)).assignment).toEqual({});
    const cut = encodeAssignment({ assignment: { orders: [0, 1] }, userData }).subarray(0, 12);
    expect(() => decodeAssignment(cut)).toThrow(/more bytes wanted/);
  });
});
