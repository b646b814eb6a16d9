/**
 * DescribeGroups: a Kafka group's state, protocol and members (each with its metadata of the
 * chosen protocol and its assignment, as Kafka's tools decode them). A group of Tributary's own
 * consumers is described too, with protocol type "tributary": Stable while it has members.
 * A group that does not exist is "Dead" with no error, as Kafka answers.
 */
import { LeaseStore, mapLimited } from '../../sdk/src/internal.ts';
import type { GatewayContext, Handler } from '../context.ts';
import { groupErrorOf, KafkaError } from '../kafka-errors.ts';
import type { ResponseInput } from '../protocol/index.ts';
import { openGroup } from './group-request.ts';

type Described = ResponseInput<'DescribeGroups'>['groups'][number];

/** The protocol type a group of Tributary's own consumers is described with. */
export const TRIBUTARY_PROTOCOL_TYPE = 'tributary';

/** Kafka's "not asked for" authorized operations. */
const NO_OPERATIONS = -2_147_483_648;

export const handleDescribeGroups: Handler<'DescribeGroups'> = async (request, { gateway }) => ({
  throttleTimeMs: 0,
  groups: await mapLimited(request.body.groups, 4, (groupId) => describe(gateway, groupId)),
});

async function describe(gateway: GatewayContext, groupId: string): Promise<Described> {
  const base = {
    groupId,
    protocolType: '',
    protocolData: '',
    members: [],
    authorizedOperations: NO_OPERATIONS,
  };
  const store = openGroup(gateway.groups, groupId);
  if ('code' in store) return { ...base, errorCode: store.code, groupState: 'Dead' };
  try {
    const { group } = await gateway.groups.read(store);
    if (group) {
      // Kafka's rule: the protocol, metadata and assignments only of a Stable group.
      const stable = group.state === 'Stable';
      return {
        ...base,
        errorCode: KafkaError.NONE,
        groupState: group.state,
        protocolType: group.protocolType ?? '',
        protocolData: stable ? (group.protocolName ?? '') : '',
        members: group.members.map((m) => ({
          memberId: m.memberId,
          groupInstanceId: m.instanceId ?? null,
          clientId: m.clientId,
          clientHost: m.clientHost,
          memberMetadata: stable
            ? (m.protocols.find((p) => p.name === group.protocolName)?.metadata ?? new Uint8Array(0))
            : new Uint8Array(0),
          memberAssignment: stable ? (m.assignment ?? new Uint8Array(0)) : new Uint8Array(0),
        })),
      };
    }
    const snapshot = await new LeaseStore(gateway.transport.ctx, groupId).snapshot();
    if (!snapshot.exists && snapshot.members.length === 0 && snapshot.leases.length === 0) {
      return { ...base, errorCode: KafkaError.NONE, groupState: 'Dead' };
    }
    return {
      ...base,
      errorCode: KafkaError.NONE,
      groupState: snapshot.members.length > 0 ? 'Stable' : 'Empty',
      protocolType: TRIBUTARY_PROTOCOL_TYPE,
      members: snapshot.members.map((m) => ({
        memberId: m.memberId,
        groupInstanceId: m.instanceId ?? null,
        clientId: '',
        clientHost: '',
        memberMetadata: new Uint8Array(0),
        memberAssignment: new Uint8Array(0),
      })),
    };
  } catch (error) {
    return { ...base, errorCode: groupErrorOf(error).code, groupState: 'Dead' };
  }
}
