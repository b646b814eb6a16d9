/**
 * DeleteGroups: deletes a group and its committed offsets, only while it has no members (a Kafka
 * group Empty, a Tributary group without active members): NON_EMPTY_GROUP otherwise,
 * GROUP_ID_NOT_FOUND for a group that does not exist — the same rule as `tributary groups delete`.
 */
import { mapLimited } from '../../sdk/src/internal.ts';
import type { Handler } from '../context.ts';
import { groupErrorOf, KafkaError } from '../kafka-errors.ts';
import { openGroup } from './group-request.ts';

export const handleDeleteGroups: Handler<'DeleteGroups'> = async (request, { gateway }) => ({
  throttleTimeMs: 0,
  results: await mapLimited(request.body.groupsNames, 4, async (groupId) => {
    const store = openGroup(gateway.groups, groupId);
    if ('code' in store) return { groupId, errorCode: store.code };
    try {
      const { group } = await gateway.groups.read(store);
      if (group && group.members.length > 0) return { groupId, errorCode: KafkaError.NON_EMPTY_GROUP };
      await gateway.admin.deleteGroup(groupId);
      return { groupId, errorCode: KafkaError.NONE };
    } catch (error) {
      return { groupId, errorCode: groupErrorOf(error).code };
    }
  }),
});
