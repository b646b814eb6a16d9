/** CreateTopics (key 19). */
import { defineApi } from '../api-description.ts';
import { array, bool, int8, int16, int32, string, uuid } from '../schema.ts';

export const CREATE_TOPICS = defineApi({
  name: 'CreateTopics',
  apiKey: 19,
  minVersion: 0,
  maxVersion: 7,
  flexibleVersions: '5+',
  request: {
    topics: array({
      name: string(),
      /** -1 (v4+): the broker's default. */
      numPartitions: int32(),
      replicationFactor: int16(),
      assignments: array({ partitionIndex: int32(), brokerIds: array('int32') }),
      configs: array({ name: string(), value: string({ nullableVersions: '0+' }) }),
    }),
    timeoutMs: int32({ default: 60000 }),
    validateOnly: bool({ versions: '1+', default: false }),
  },
  response: {
    throttleTimeMs: int32({ versions: '2+' }),
    topics: array({
      name: string(),
      topicId: uuid({ versions: '7+' }),
      errorCode: int16(),
      errorMessage: string({ versions: '1+', nullableVersions: '0+' }),
      topicConfigErrorCode: int16({ versions: '5+', tag: 0 }),
      numPartitions: int32({ versions: '5+', default: -1 }),
      replicationFactor: int16({ versions: '5+', default: -1 }),
      configs: array(
        {
          name: string(),
          value: string({ nullableVersions: '5+' }),
          readOnly: bool(),
          configSource: int8({ default: -1 }),
          isSensitive: bool(),
        },
        { versions: '5+', nullableVersions: '5+' },
      ),
    }),
  },
});
