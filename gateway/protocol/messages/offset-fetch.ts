/** OffsetFetch (key 9), from v1. v8+ batches groups, so request and response change shape there. */
import { defineApi } from '../api-description.ts';
import { array, bool, int16, int32, int64, string } from '../schema.ts';

export const OFFSET_FETCH = defineApi({
  name: 'OffsetFetch',
  apiKey: 9,
  minVersion: 1,
  maxVersion: 9,
  flexibleVersions: '6+',
  request: {
    groupId: string({ versions: '0-7' }),
    /** Null (v2+) asks for every partition the group has committed. */
    topics: array(
      { name: string(), partitionIndexes: array('int32') },
      { versions: '0-7', nullableVersions: '2-7' },
    ),
    groups: array(
      {
        groupId: string(),
        memberId: string({ versions: '9+', nullableVersions: '9+', default: null }),
        memberEpoch: int32({ versions: '9+', default: -1 }),
        topics: array({ name: string(), partitionIndexes: array('int32') }, { nullableVersions: '8+' }),
      },
      { versions: '8+' },
    ),
    requireStable: bool({ versions: '7+', default: false }),
  },
  response: {
    throttleTimeMs: int32({ versions: '3+' }),
    topics: array(
      {
        name: string(),
        partitions: array({
          partitionIndex: int32(),
          committedOffset: int64(),
          committedLeaderEpoch: int32({ versions: '5-7', default: -1 }),
          metadata: string({ nullableVersions: '0-7' }),
          errorCode: int16(),
        }),
      },
      { versions: '0-7' },
    ),
    errorCode: int16({ versions: '2-7', default: 0 }),
    groups: array(
      {
        groupId: string(),
        topics: array({
          name: string(),
          partitions: array({
            partitionIndex: int32(),
            committedOffset: int64(),
            committedLeaderEpoch: int32({ default: -1 }),
            metadata: string({ nullableVersions: '8+' }),
            errorCode: int16(),
          }),
        }),
        errorCode: int16({ default: 0 }),
      },
      { versions: '8+' },
    ),
  },
});
