/**
 * JoinGroup: a member joins its group's pending round and is answered when the round completes
 * (generation, chosen protocol, leader; the leader also gets every member's metadata), or at once
 * when it already is in the current generation. See `group-coordinator.ts`.
 *
 * From v4 a member that sends no member id gets one with MEMBER_ID_REQUIRED and joins again with
 * it (KIP-394); a static member (group instance id) gets a fresh id right away, which fences the
 * instance's previous member id.
 */
import type { Handler } from '../context.ts';
import { groupErrorOf, KafkaError, type KafkaErrorCode } from '../kafka-errors.ts';
import type { ResponseInput } from '../protocol/index.ts';
import { openGroup } from './group-request.ts';

type Response = ResponseInput<'JoinGroup'>;

/** Longest member id accepted from a client (ours are shorter): it becomes part of a sort key. */
const MAX_MEMBER_ID_LENGTH = 255;

export const handleJoinGroup: Handler<'JoinGroup'> = async (request, scope) => {
  const { body, header } = request;
  const { groups } = scope.gateway;
  const answer = (errorCode: KafkaErrorCode, memberId = body.memberId): Response => ({
    throttleTimeMs: 0,
    errorCode,
    generationId: -1,
    protocolType: null,
    protocolName: header.apiVersion >= 7 ? null : '',
    leader: '',
    skipAssignment: false,
    memberId,
    members: [],
  });
  const { minSessionTimeoutMs, maxSessionTimeoutMs } = groups.options;
  if (body.sessionTimeoutMs < minSessionTimeoutMs || body.sessionTimeoutMs > maxSessionTimeoutMs) {
    return answer(KafkaError.INVALID_SESSION_TIMEOUT);
  }
  if (body.memberId.length > MAX_MEMBER_ID_LENGTH) return answer(KafkaError.UNKNOWN_MEMBER_ID);
  const store = openGroup(groups, body.groupId);
  if ('code' in store) return answer(store.code);
  const instanceId = body.groupInstanceId || undefined;
  let memberId = body.memberId;
  const newMemberId = memberId === '';
  if (newMemberId) {
    memberId = groups.newMemberId(header.clientId ?? '');
  }
  try {
    if (newMemberId && header.apiVersion >= 4 && instanceId === undefined) {
      // Recorded, so that the join with it is told from one with an id the group never gave out.
      await groups.requireMemberId(store, memberId, body.sessionTimeoutMs);
      return answer(KafkaError.MEMBER_ID_REQUIRED, memberId);
    }
    const result = await groups.join(
      store,
      {
        memberId,
        newMemberId,
        instanceId,
        clientId: header.clientId ?? '',
        clientHost: scope.clientHost,
        sessionTimeoutMs: body.sessionTimeoutMs,
        // v0 has no rebalance timeout: Kafka takes the session timeout for it.
        rebalanceTimeoutMs: body.rebalanceTimeoutMs > 0 ? body.rebalanceTimeoutMs : body.sessionTimeoutMs,
        protocolType: body.protocolType,
        protocols: body.protocols.map((p) => ({ name: p.name, metadata: p.metadata })),
      },
      scope.signal,
    );
    if (result === undefined) return answer(KafkaError.COORDINATOR_NOT_AVAILABLE, memberId);
    if ('code' in result) return answer(result.code, memberId);
    return {
      throttleTimeMs: 0,
      errorCode: KafkaError.NONE,
      generationId: result.generation,
      protocolType: result.protocolType ?? null,
      protocolName: result.protocolName ?? (header.apiVersion >= 7 ? null : ''),
      leader: result.leader,
      skipAssignment: false,
      memberId: result.memberId,
      members: result.members.map((m) => ({
        memberId: m.memberId,
        groupInstanceId: m.instanceId ?? null,
        metadata: m.metadata,
      })),
    };
  } catch (error) {
    return answer(groupErrorOf(error).code, memberId);
  }
};
