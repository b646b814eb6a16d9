/** Heartbeat (key 12), classic group protocol. */
import { defineApi } from '../api-description.ts';
import { int16, int32, string } from '../schema.ts';

export const HEARTBEAT = defineApi({
  name: 'Heartbeat',
  apiKey: 12,
  minVersion: 0,
  maxVersion: 4,
  flexibleVersions: '4+',
  request: {
    groupId: string(),
    generationId: int32(),
    memberId: string(),
    groupInstanceId: string({ versions: '3+', nullableVersions: '3+', default: null }),
  },
  response: {
    throttleTimeMs: int32({ versions: '1+' }),
    errorCode: int16(),
  },
});
