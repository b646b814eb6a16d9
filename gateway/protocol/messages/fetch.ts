/**
 * Fetch (key 1), v4 (the first with RecordBatch v2) to v12 (the first flexible one). v13+
 * addresses topics by id and is not implemented.
 */
import { defineApi } from '../api-description.ts';
import { array, int8, int16, int32, int64, records, string, struct } from '../schema.ts';

export const FETCH = defineApi({
  name: 'Fetch',
  apiKey: 1,
  minVersion: 4,
  maxVersion: 12,
  flexibleVersions: '12+',
  request: {
    clusterId: string({ versions: '12+', nullableVersions: '12+', tag: 0, default: null }),
    replicaId: int32({ default: -1 }),
    maxWaitMs: int32(),
    minBytes: int32(),
    maxBytes: int32({ versions: '3+', default: 0x7fffffff }),
    isolationLevel: int8({ versions: '4+', default: 0 }),
    sessionId: int32({ versions: '7+', default: 0 }),
    sessionEpoch: int32({ versions: '7+', default: -1 }),
    topics: array({
      topic: string(),
      partitions: array({
        partition: int32(),
        currentLeaderEpoch: int32({ versions: '9+', default: -1 }),
        fetchOffset: int64(),
        lastFetchedEpoch: int32({ versions: '12+', default: -1 }),
        logStartOffset: int64({ versions: '5+', default: -1n }),
        partitionMaxBytes: int32(),
      }),
    }),
    forgottenTopicsData: array({ topic: string(), partitions: array('int32') }, { versions: '7+' }),
    rackId: string({ versions: '11+', default: '' }),
  },
  response: {
    throttleTimeMs: int32({ versions: '1+' }),
    errorCode: int16({ versions: '7+' }),
    sessionId: int32({ versions: '7+', default: 0 }),
    responses: array({
      topic: string(),
      partitions: array({
        partitionIndex: int32(),
        errorCode: int16(),
        highWatermark: int64(),
        lastStableOffset: int64({ versions: '4+', default: -1n }),
        logStartOffset: int64({ versions: '5+', default: -1n }),
        divergingEpoch: struct(
          { epoch: int32({ default: -1 }), endOffset: int64({ default: -1n }) },
          { versions: '12+', tag: 0 },
        ),
        currentLeader: struct(
          { leaderId: int32({ default: -1 }), leaderEpoch: int32({ default: -1 }) },
          { versions: '12+', tag: 1 },
        ),
        snapshotId: struct(
          { endOffset: int64({ default: -1n }), epoch: int32({ default: -1 }) },
          { versions: '12+', tag: 2 },
        ),
        abortedTransactions: array(
          { producerId: int64(), firstOffset: int64() },
          { versions: '4+', nullableVersions: '4+' },
        ),
        preferredReadReplica: int32({ versions: '11+', default: -1 }),
        records: records({ nullableVersions: '0+' }),
      }),
    }),
  },
});
