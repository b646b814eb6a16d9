/** JoinGroup (key 11), classic group protocol. Protocol metadata stays opaque bytes. */
import { defineApi } from '../api-description.ts';
import { array, bool, bytes, int16, int32, string } from '../schema.ts';

export const JOIN_GROUP = defineApi({
  name: 'JoinGroup',
  apiKey: 11,
  minVersion: 0,
  maxVersion: 9,
  flexibleVersions: '6+',
  request: {
    groupId: string(),
    sessionTimeoutMs: int32(),
    rebalanceTimeoutMs: int32({ versions: '1+', default: -1 }),
    memberId: string(),
    groupInstanceId: string({ versions: '5+', nullableVersions: '5+', default: null }),
    protocolType: string(),
    protocols: array({ name: string(), metadata: bytes() }),
    reason: string({ versions: '8+', nullableVersions: '8+', default: null }),
  },
  response: {
    throttleTimeMs: int32({ versions: '2+' }),
    errorCode: int16(),
    generationId: int32({ default: -1 }),
    protocolType: string({ versions: '7+', nullableVersions: '7+', default: null }),
    protocolName: string({ nullableVersions: '7+' }),
    leader: string(),
    skipAssignment: bool({ versions: '9+', default: false }),
    memberId: string(),
    members: array({
      memberId: string(),
      groupInstanceId: string({ versions: '5+', nullableVersions: '5+', default: null }),
      metadata: bytes(),
    }),
  },
});
