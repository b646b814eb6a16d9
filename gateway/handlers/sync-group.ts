/**
 * SyncGroup: the leader's request carries every member's assignment (opaque bytes) and makes the
 * group Stable; a follower's waits until the leader's lands, then each gets its own. A rebalance
 * begun meanwhile answers REBALANCE_IN_PROGRESS (the member joins again).
 */
import type { ClassicGroup } from '../../sdk/src/internal.ts';
import { type SyncDecision, sync } from '../classic-group.ts';
import type { Handler } from '../context.ts';
import { groupErrorOf, KafkaError, type KafkaErrorCode } from '../kafka-errors.ts';
import type { ResponseInput } from '../protocol/index.ts';
import { openGroup } from './group-request.ts';

type Response = ResponseInput<'SyncGroup'>;

export const handleSyncGroup: Handler<'SyncGroup'> = async (request, scope) => {
  const { body } = request;
  const { groups } = scope.gateway;
  const answer = (
    errorCode: KafkaErrorCode,
    group?: ClassicGroup,
    assignment: Uint8Array = new Uint8Array(0),
  ): Response => ({
    throttleTimeMs: 0,
    errorCode,
    protocolType: group?.protocolType ?? null,
    protocolName: group?.protocolName ?? null,
    assignment,
  });
  const store = openGroup(groups, body.groupId);
  if ('code' in store) return answer(store.code);
  const assignments = new Map(body.assignments.map((a) => [a.memberId, a.assignment]));
  const decide = (group: ClassicGroup): SyncDecision => {
    if (
      (body.protocolType !== null &&
        group.protocolType !== undefined &&
        body.protocolType !== group.protocolType) ||
      (body.protocolName !== null &&
        group.protocolName !== undefined &&
        body.protocolName !== group.protocolName)
    ) {
      return {
        kind: 'error',
        code: KafkaError.INCONSISTENT_GROUP_PROTOCOL,
        message: 'Protocol differs from the group’s',
      };
    }
    return sync(group, body.memberId, body.groupInstanceId, body.generationId, assignments);
  };
  try {
    let { group, result } = await groups.update(store, (g) => {
      const decision = decide(g);
      return decision.kind === 'assignment' && decision.next
        ? { next: decision.next, result: decision }
        : { result: decision };
    });
    if (result.kind === 'wait') {
      const settled = await groups.awaitAssignment(store, body.memberId, body.generationId, scope.signal);
      if (settled === undefined) return answer(KafkaError.COORDINATOR_NOT_AVAILABLE);
      group = settled;
      result = decide(settled);
      // Still no assignment after the member's rebalance timeout: the round is void, join again.
      if (result.kind === 'wait') return answer(KafkaError.REBALANCE_IN_PROGRESS, group);
    }
    if (result.kind === 'error') return answer(result.code, group);
    await store.beat(body.memberId);
    return answer(KafkaError.NONE, group, result.assignment);
  } catch (error) {
    return answer(groupErrorOf(error).code);
  }
};
