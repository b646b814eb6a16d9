/** SyncGroup (key 14): the leader hands out assignments (opaque bytes); everyone gets theirs. */
import { defineApi } from '../api-description.ts';
import { array, bytes, int16, int32, string } from '../schema.ts';

export const SYNC_GROUP = defineApi({
  name: 'SyncGroup',
  apiKey: 14,
  minVersion: 0,
  maxVersion: 5,
  flexibleVersions: '4+',
  request: {
    groupId: string(),
    generationId: int32(),
    memberId: string(),
    groupInstanceId: string({ versions: '3+', nullableVersions: '3+', default: null }),
    protocolType: string({ versions: '5+', nullableVersions: '5+', default: null }),
    protocolName: string({ versions: '5+', nullableVersions: '5+', default: null }),
    assignments: array({ memberId: string(), assignment: bytes() }),
  },
  response: {
    throttleTimeMs: int32({ versions: '1+' }),
    errorCode: int16(),
    protocolType: string({ versions: '5+', nullableVersions: '5+', default: null }),
    protocolName: string({ versions: '5+', nullableVersions: '5+', default: null }),
    assignment: bytes(),
  },
});
