/** What every consumer group handler starts with: the group's store, or the error for its id. */
import type { ClassicGroupStore } from '../../sdk/src/internal.ts';
import type { GroupCoordinator } from '../group-coordinator.ts';
import { groupErrorOf, type KafkaFailure } from '../kafka-errors.ts';

/** The store of `groupId`, or INVALID_GROUP_ID for an id Tributary's groups cannot take. */
export function openGroup(groups: GroupCoordinator, groupId: string): ClassicGroupStore | KafkaFailure {
  try {
    return groups.store(groupId);
  } catch (error) {
    return groupErrorOf(error);
  }
}
