/** AlterConfigs (key 33): replaces a resource's whole set of configs. */
import { defineApi } from '../api-description.ts';
import { array, bool, int8, int16, int32, string } from '../schema.ts';

export const ALTER_CONFIGS = defineApi({
  name: 'AlterConfigs',
  apiKey: 33,
  minVersion: 0,
  maxVersion: 2,
  flexibleVersions: '2+',
  request: {
    resources: array({
      resourceType: int8(),
      resourceName: string(),
      configs: array({ name: string(), value: string({ nullableVersions: '0+' }) }),
    }),
    validateOnly: bool(),
  },
  response: {
    throttleTimeMs: int32(),
    responses: array({
      errorCode: int16(),
      errorMessage: string({ nullableVersions: '0+' }),
      resourceType: int8(),
      resourceName: string(),
    }),
  },
});
