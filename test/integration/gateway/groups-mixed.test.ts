/**
 * One protocol coordinates a group at a time: a Kafka client cannot join (through the gateway) a
 * group whose Tributary consumers are active — INCONSISTENT_GROUP_PROTOCOL, nothing written — and
 * a Tributary consumer cannot join a group whose members are Kafka clients
 * (GroupProtocolMismatchError). Otherwise both would read every partition.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Gateway } from '../../../gateway/index.ts';
import { GroupProtocolMismatchError } from '../../../sdk/src/index.ts';
import { startTestGateway } from '../../helpers/gateway.ts';
import { WireClient } from '../../helpers/kafka-wire.ts';
import { testClient, uniqueTopic } from '../../helpers/tributary.ts';

const client = testClient();
const admin = client.admin();
let gateway: Gateway;

beforeAll(async () => {
  gateway = await startTestGateway({ initialRebalanceDelayMs: 0 });
});
afterAll(async () => {
  await gateway?.stop();
  client.close();
});

/** A JoinGroup v3 (joins without a member id round trip) of protocol type "consumer". */
function join(wire: WireClient, groupId: string) {
  return wire.request('JoinGroup', 3, {
    groupId,
    sessionTimeoutMs: 10_000,
    rebalanceTimeoutMs: 10_000,
    memberId: '',
    protocolType: 'consumer',
    protocols: [{ name: 'range', metadata: new Uint8Array([0, 0, 0, 0, 0, 0]) }],
  });
}

describe('groups of both protocols', () => {
  it('refuses a Kafka member while Tributary consumers are active, writing nothing', async () => {
    const topic = uniqueTopic('mixed');
    const groupId = `g-${topic}`;
    await admin.createTopic({ topic, partitions: 2 });
    const consumer = client.consumer({ groupId, onError: () => undefined });
    await consumer.subscribe({ topics: [topic] });
    await consumer.run({ eachMessage: async () => undefined });
    const wire = await WireClient.connect(gateway.port);
    try {
      const answer = await join(wire, groupId);
      expect(answer.errorCode).toBe(23); // INCONSISTENT_GROUP_PROTOCOL
      const described = await wire.request('DescribeGroups', 0, {
        groups: [groupId],
        includeAuthorizedOperations: false,
      });
      expect(described.groups[0]).toMatchObject({ groupState: 'Stable', protocolType: 'tributary' });
      expect(described.groups[0]!.members.map((m) => m.memberId)).toEqual([consumer.memberId]);
    } finally {
      wire.close();
      await consumer.disconnect();
    }
    // Its members gone, the group takes Kafka clients.
    const again = await WireClient.connect(gateway.port);
    try {
      expect((await join(again, groupId)).errorCode).toBe(0);
    } finally {
      again.close();
    }
  });

  it('refuses a Tributary consumer while Kafka clients are members', async () => {
    const topic = uniqueTopic('mixed');
    const groupId = `g-${topic}`;
    await admin.createTopic({ topic, partitions: 2 });
    const wire = await WireClient.connect(gateway.port);
    try {
      const joined = await join(wire, groupId);
      expect(joined.errorCode).toBe(0);
      const consumer = client.consumer({ groupId, onError: () => undefined });
      await consumer.subscribe({ topics: [topic] });
      const error = await consumer.run({ eachMessage: async () => undefined }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(GroupProtocolMismatchError);
      expect(error).toMatchObject({
        code: 'GROUP_PROTOCOL_MISMATCH',
        retriable: false,
        membersProtocol: 'kafka',
      });
      await consumer.disconnect();
      const described = await admin.describeGroup(groupId);
      expect(described.members.map((m) => m.memberId)).toEqual([joined.memberId]);
    } finally {
      wire.close();
    }
  });
});
