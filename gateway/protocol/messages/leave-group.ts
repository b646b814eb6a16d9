/** LeaveGroup (key 13). v3+ can remove several members (by member id or group instance id). */
import { defineApi } from '../api-description.ts';
import { array, int16, int32, string } from '../schema.ts';

export const LEAVE_GROUP = defineApi({
  name: 'LeaveGroup',
  apiKey: 13,
  minVersion: 0,
  maxVersion: 5,
  flexibleVersions: '4+',
  request: {
    groupId: string(),
    memberId: string({ versions: '0-2' }),
    members: array(
      {
        memberId: string(),
        groupInstanceId: string({ nullableVersions: '3+', default: null }),
        reason: string({ versions: '5+', nullableVersions: '5+', default: null }),
      },
      { versions: '3+' },
    ),
  },
  response: {
    throttleTimeMs: int32({ versions: '1+' }),
    errorCode: int16(),
    members: array(
      { memberId: string(), groupInstanceId: string({ nullableVersions: '3+' }), errorCode: int16() },
      { versions: '3+' },
    ),
  },
});
