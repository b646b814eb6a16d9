/** DescribeGroups (key 15). */
import { defineApi } from '../api-description.ts';
import { array, bool, bytes, int16, int32, string } from '../schema.ts';

export const DESCRIBE_GROUPS = defineApi({
  name: 'DescribeGroups',
  apiKey: 15,
  minVersion: 0,
  maxVersion: 5,
  flexibleVersions: '5+',
  request: {
    groups: array('string'),
    includeAuthorizedOperations: bool({ versions: '3+' }),
  },
  response: {
    throttleTimeMs: int32({ versions: '1+' }),
    groups: array({
      errorCode: int16(),
      groupId: string(),
      groupState: string(),
      protocolType: string(),
      protocolData: string(),
      members: array({
        memberId: string(),
        groupInstanceId: string({ versions: '4+', nullableVersions: '4+', default: null }),
        clientId: string(),
        clientHost: string(),
        memberMetadata: bytes(),
        memberAssignment: bytes(),
      }),
      authorizedOperations: int32({ versions: '3+', default: -2147483648 }),
    }),
  },
});
