/**
 * Heartbeat: moves the member's liveness counter (never the group's state item, so heartbeats do
 * not contend with joins) and tells it whether a rebalance runs (REBALANCE_IN_PROGRESS: join
 * again) or it is out of the group. Reading the group also expires members whose counters stood
 * still for their session timeout, which starts the rebalance the others then learn of here.
 */
import { EMPTY_CLASSIC_GROUP } from '../../sdk/src/internal.ts';
import { heartbeatProblem } from '../classic-group.ts';
import type { Handler } from '../context.ts';
import { groupErrorOf, KafkaError } from '../kafka-errors.ts';
import { openGroup } from './group-request.ts';

export const handleHeartbeat: Handler<'Heartbeat'> = async (request, { gateway }) => {
  const { body } = request;
  const store = openGroup(gateway.groups, body.groupId);
  if ('code' in store) return { throttleTimeMs: 0, errorCode: store.code };
  try {
    const { group } = await gateway.groups.read(store);
    const problem = heartbeatProblem(
      group ?? EMPTY_CLASSIC_GROUP,
      body.memberId,
      body.groupInstanceId,
      body.generationId,
    );
    // A member told to rejoin is still alive: its counter moves until it does.
    if (!problem || problem.code === KafkaError.REBALANCE_IN_PROGRESS) await store.beat(body.memberId);
    return { throttleTimeMs: 0, errorCode: problem?.code ?? KafkaError.NONE };
  } catch (error) {
    return { throttleTimeMs: 0, errorCode: groupErrorOf(error).code };
  }
};
