/** Metadata (key 3): brokers, topics and partition leaders. v10+ carries topic ids. */
import { defineApi } from '../api-description.ts';
import { array, bool, int16, int32, string, uuid } from '../schema.ts';

export const METADATA = defineApi({
  name: 'Metadata',
  apiKey: 3,
  minVersion: 0,
  maxVersion: 12,
  flexibleVersions: '9+',
  request: {
    /** Null (v1+) asks for all topics; in v0 an empty array does. */
    topics: array(
      { topicId: uuid({ versions: '10+' }), name: string({ nullableVersions: '10+' }) },
      { nullableVersions: '1+' },
    ),
    allowAutoTopicCreation: bool({ versions: '4+', default: true }),
    includeClusterAuthorizedOperations: bool({ versions: '8-10' }),
    includeTopicAuthorizedOperations: bool({ versions: '8+' }),
  },
  response: {
    throttleTimeMs: int32({ versions: '3+' }),
    brokers: array({
      nodeId: int32(),
      host: string(),
      port: int32(),
      rack: string({ versions: '1+', nullableVersions: '1+', default: null }),
    }),
    clusterId: string({ versions: '2+', nullableVersions: '2+', default: null }),
    controllerId: int32({ versions: '1+', default: -1 }),
    topics: array({
      errorCode: int16(),
      name: string({ nullableVersions: '12+' }),
      topicId: uuid({ versions: '10+' }),
      isInternal: bool({ versions: '1+', default: false }),
      partitions: array({
        errorCode: int16(),
        partitionIndex: int32(),
        leaderId: int32(),
        leaderEpoch: int32({ versions: '7+', default: -1 }),
        replicaNodes: array('int32'),
        isrNodes: array('int32'),
        offlineReplicas: array('int32', { versions: '5+' }),
      }),
      topicAuthorizedOperations: int32({ versions: '8+', default: -2147483648 }),
    }),
    clusterAuthorizedOperations: int32({ versions: '8-10', default: -2147483648 }),
  },
});
