/** DeleteTopics (key 20). v6+ names topics by name or id. */
import { defineApi } from '../api-description.ts';
import { array, int16, int32, string, uuid } from '../schema.ts';

export const DELETE_TOPICS = defineApi({
  name: 'DeleteTopics',
  apiKey: 20,
  minVersion: 0,
  maxVersion: 6,
  flexibleVersions: '4+',
  request: {
    topics: array(
      { name: string({ nullableVersions: '6+', default: null }), topicId: uuid() },
      { versions: '6+' },
    ),
    topicNames: array('string', { versions: '0-5' }),
    timeoutMs: int32(),
  },
  response: {
    throttleTimeMs: int32({ versions: '1+' }),
    responses: array({
      name: string({ nullableVersions: '6+' }),
      topicId: uuid({ versions: '6+' }),
      errorCode: int16(),
      errorMessage: string({ versions: '5+', nullableVersions: '5+', default: null }),
    }),
  },
});
