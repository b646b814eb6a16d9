/** CreatePartitions (key 37): grows a topic's partition count. */
import { defineApi } from '../api-description.ts';
import { array, bool, int16, int32, string } from '../schema.ts';

export const CREATE_PARTITIONS = defineApi({
  name: 'CreatePartitions',
  apiKey: 37,
  minVersion: 0,
  maxVersion: 3,
  flexibleVersions: '2+',
  request: {
    topics: array({
      name: string(),
      count: int32(),
      assignments: array({ brokerIds: array('int32') }, { nullableVersions: '0+' }),
    }),
    timeoutMs: int32(),
    validateOnly: bool(),
  },
  response: {
    throttleTimeMs: int32(),
    results: array({
      name: string(),
      errorCode: int16(),
      errorMessage: string({ nullableVersions: '0+', default: null }),
    }),
  },
});
