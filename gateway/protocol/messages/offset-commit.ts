/**
 * OffsetCommit (key 8), from v2: librdkafka 2.0.2 probes 1..2 for its consumer groups, so 2 is
 * the lowest that still enables them. (v1's per-partition commit timestamp is not described.)
 */
import { defineApi } from '../api-description.ts';
import { array, int16, int32, int64, string } from '../schema.ts';

export const OFFSET_COMMIT = defineApi({
  name: 'OffsetCommit',
  apiKey: 8,
  minVersion: 2,
  maxVersion: 9,
  flexibleVersions: '8+',
  request: {
    groupId: string(),
    /** The generation (classic groups) or member epoch (KIP-848); -1 for a commit outside a group generation. */
    generationIdOrMemberEpoch: int32({ versions: '1+', default: -1 }),
    memberId: string({ versions: '1+' }),
    groupInstanceId: string({ versions: '7+', nullableVersions: '7+', default: null }),
    retentionTimeMs: int64({ versions: '2-4', default: -1n }),
    topics: array({
      name: string(),
      partitions: array({
        partitionIndex: int32(),
        committedOffset: int64(),
        committedLeaderEpoch: int32({ versions: '6+', default: -1 }),
        committedMetadata: string({ nullableVersions: '0+' }),
      }),
    }),
  },
  response: {
    throttleTimeMs: int32({ versions: '3+' }),
    topics: array({
      name: string(),
      partitions: array({ partitionIndex: int32(), errorCode: int16() }),
    }),
  },
});
