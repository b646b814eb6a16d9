/** ListGroups (key 16). */
import { defineApi } from '../api-description.ts';
import { array, int16, int32, string } from '../schema.ts';

export const LIST_GROUPS = defineApi({
  name: 'ListGroups',
  apiKey: 16,
  minVersion: 0,
  maxVersion: 5,
  flexibleVersions: '3+',
  request: {
    statesFilter: array('string', { versions: '4+' }),
    typesFilter: array('string', { versions: '5+' }),
  },
  response: {
    throttleTimeMs: int32({ versions: '1+' }),
    errorCode: int16(),
    groups: array({
      groupId: string(),
      protocolType: string(),
      groupState: string({ versions: '4+' }),
      groupType: string({ versions: '5+' }),
    }),
  },
});
