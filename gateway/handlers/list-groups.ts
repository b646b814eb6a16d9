/**
 * ListGroups: every group of the deployment — Kafka groups (group type "classic", with their
 * protocol type and state) and groups of Tributary's own consumers (protocol and group type
 * "tributary"; Stable while they have members). One scan of the groups table's metadata and
 * classic state items, plus one member query per Tributary group when states are asked for (v4+).
 * Filters (v4 states, v5 types) compare case-insensitively, as Kafka does.
 */
import { LeaseStore, listGroups, mapLimited } from '../../sdk/src/internal.ts';
import type { Handler } from '../context.ts';
import { KafkaError, kafkaErrorOf } from '../kafka-errors.ts';
import { TRIBUTARY_PROTOCOL_TYPE } from './describe-groups.ts';

export const handleListGroups: Handler<'ListGroups'> = async (request, { gateway }) => {
  const { body, header } = request;
  const states = new Set(body.statesFilter.map((s) => s.toLowerCase()));
  const types = new Set(body.typesFilter.map((t) => t.toLowerCase()));
  try {
    const listed = await listGroups(gateway.transport.ctx);
    const wantsState = header.apiVersion >= 4;
    const groups = await mapLimited(listed, 8, async (g) => {
      if (g.classic) {
        return {
          groupId: g.groupId,
          protocolType: g.classic.protocolType ?? '',
          groupState: g.classic.state,
          groupType: 'classic',
        };
      }
      const members = wantsState ? await new LeaseStore(gateway.transport.ctx, g.groupId).members() : [];
      return {
        groupId: g.groupId,
        protocolType: TRIBUTARY_PROTOCOL_TYPE,
        groupState: members.length > 0 ? 'Stable' : 'Empty',
        groupType: TRIBUTARY_PROTOCOL_TYPE,
      };
    });
    return {
      throttleTimeMs: 0,
      errorCode: KafkaError.NONE,
      groups: groups.filter(
        (g) =>
          (states.size === 0 || states.has(g.groupState.toLowerCase())) &&
          (types.size === 0 || types.has(g.groupType)),
      ),
    };
  } catch (error) {
    const failure = kafkaErrorOf(error);
    const code =
      failure.code === KafkaError.KAFKA_STORAGE_ERROR ? KafkaError.COORDINATOR_NOT_AVAILABLE : failure.code;
    return { throttleTimeMs: 0, errorCode: code, groups: [] };
  }
};
