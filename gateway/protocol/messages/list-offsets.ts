/** ListOffsets (key 2), from v1 (one offset per partition, by timestamp or -1 latest / -2 earliest). */
import { defineApi } from '../api-description.ts';
import { array, int8, int16, int32, int64, string } from '../schema.ts';

export const LIST_OFFSETS = defineApi({
  name: 'ListOffsets',
  apiKey: 2,
  minVersion: 1,
  maxVersion: 7,
  flexibleVersions: '6+',
  request: {
    replicaId: int32(),
    isolationLevel: int8({ versions: '2+' }),
    topics: array({
      name: string(),
      partitions: array({
        partitionIndex: int32(),
        currentLeaderEpoch: int32({ versions: '4+', default: -1 }),
        timestamp: int64(),
      }),
    }),
  },
  response: {
    throttleTimeMs: int32({ versions: '2+' }),
    topics: array({
      name: string(),
      partitions: array({
        partitionIndex: int32(),
        errorCode: int16(),
        timestamp: int64({ versions: '1+', default: -1n }),
        offset: int64({ versions: '1+', default: -1n }),
        leaderEpoch: int32({ versions: '4+', default: -1 }),
      }),
    }),
  },
});
