/**
 * Produce (key 0). v3 is the first version with RecordBatch v2 (magic 2), which is all Tributary
 * stores; v0-v2 (MessageSet v0/v1) are described too because librdkafka before 2.10 compresses
 * with gzip, snappy or lz4 only for a broker whose Produce range reaches down to v0 (the gateway
 * answers such requests UNSUPPORTED_FOR_MESSAGE_FORMAT). Record batches stay opaque bytes here.
 */
import { defineApi } from '../api-description.ts';
import { array, int16, int32, int64, records, string, struct } from '../schema.ts';

export const PRODUCE = defineApi({
  name: 'Produce',
  apiKey: 0,
  minVersion: 0,
  maxVersion: 11,
  flexibleVersions: '9+',
  request: {
    transactionalId: string({ versions: '3+', nullableVersions: '3+', default: null }),
    acks: int16(),
    timeoutMs: int32(),
    topicData: array({
      name: string(),
      partitionData: array({ index: int32(), records: records({ nullableVersions: '0+' }) }),
    }),
  },
  response: {
    responses: array({
      name: string(),
      partitionResponses: array({
        index: int32(),
        errorCode: int16(),
        baseOffset: int64(),
        logAppendTimeMs: int64({ versions: '2+', default: -1n }),
        logStartOffset: int64({ versions: '5+', default: -1n }),
        recordErrors: array(
          { batchIndex: int32(), batchIndexErrorMessage: string({ nullableVersions: '8+', default: null }) },
          { versions: '8+' },
        ),
        errorMessage: string({ versions: '8+', nullableVersions: '8+', default: null }),
        currentLeader: struct(
          { leaderId: int32({ default: -1 }), leaderEpoch: int32({ default: -1 }) },
          { versions: '10+', tag: 0 },
        ),
      }),
    }),
    throttleTimeMs: int32({ versions: '1+', default: 0 }),
    nodeEndpoints: array(
      {
        nodeId: int32(),
        host: string(),
        port: int32(),
        rack: string({ nullableVersions: '10+', default: null }),
      },
      { versions: '10+', tag: 0 },
    ),
  },
});
