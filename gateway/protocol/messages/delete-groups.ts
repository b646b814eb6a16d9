/** DeleteGroups (key 42). */
import { defineApi } from '../api-description.ts';
import { array, int16, int32, string } from '../schema.ts';

export const DELETE_GROUPS = defineApi({
  name: 'DeleteGroups',
  apiKey: 42,
  minVersion: 0,
  maxVersion: 2,
  flexibleVersions: '2+',
  request: {
    groupsNames: array('string'),
  },
  response: {
    throttleTimeMs: int32(),
    results: array({ groupId: string(), errorCode: int16() }),
  },
});
