/**
 * LeaveGroup: removes members (v0-2 one member by id; v3+ a batch, static members by instance
 * id), which starts a rebalance of the others. Each member is answered on its own: unknown ids
 * UNKNOWN_MEMBER_ID, an instance id held by another member id FENCED_INSTANCE_ID.
 */
import type { ClassicGroup } from '../../sdk/src/internal.ts';
import { removeMembers } from '../classic-group.ts';
import type { Handler } from '../context.ts';
import { groupErrorOf, KafkaError, type KafkaErrorCode } from '../kafka-errors.ts';
import { openGroup } from './group-request.ts';

interface Leaving {
  readonly memberId: string;
  readonly groupInstanceId: string | null;
}

export const handleLeaveGroup: Handler<'LeaveGroup'> = async (request, { gateway }) => {
  const { body, header } = request;
  const batched = header.apiVersion >= 3;
  const leaving: readonly Leaving[] = batched
    ? body.members
    : [{ memberId: body.memberId, groupInstanceId: null }];
  const answer = (
    errorCode: KafkaErrorCode,
    codes: readonly KafkaErrorCode[] = leaving.map(() => errorCode),
  ) => ({
    throttleTimeMs: 0,
    // Before v3 the one member's error is the response's.
    errorCode: batched ? errorCode : (codes[0] ?? errorCode),
    members: leaving.map((m, i) => ({
      memberId: m.memberId,
      groupInstanceId: m.groupInstanceId,
      errorCode: codes[i] ?? errorCode,
    })),
  });
  const store = openGroup(gateway.groups, body.groupId);
  if ('code' in store) return answer(store.code);
  try {
    const { result } = await gateway.groups.update(store, (group) => {
      const codes = leaving.map((m) => resolve(group, m));
      const ids = new Set(codes.flatMap((c) => (typeof c === 'string' ? [c] : [])));
      return { next: removeMembers(group, ids), result: { codes, ids } };
    });
    await store.dropBeats([...result.ids]);
    return answer(
      KafkaError.NONE,
      result.codes.map((c) => (typeof c === 'string' ? KafkaError.NONE : c)),
    );
  } catch (error) {
    return answer(groupErrorOf(error).code);
  }
};

/** The member id a leaving member names, or the error it gets. */
function resolve(group: ClassicGroup, m: Leaving): string | KafkaErrorCode {
  if (m.groupInstanceId) {
    const holder = group.members.find((x) => x.instanceId === m.groupInstanceId);
    if (!holder) return KafkaError.UNKNOWN_MEMBER_ID;
    if (m.memberId !== '' && holder.memberId !== m.memberId) return KafkaError.FENCED_INSTANCE_ID;
    return holder.memberId;
  }
  return group.members.some((x) => x.memberId === m.memberId) ? m.memberId : KafkaError.UNKNOWN_MEMBER_ID;
}
