/** IncrementalAlterConfigs (key 44): set (0), delete (1), append (2) or subtract (3) single configs. */
import { defineApi } from '../api-description.ts';
import { array, bool, int8, int16, int32, string } from '../schema.ts';

export const INCREMENTAL_ALTER_CONFIGS = defineApi({
  name: 'IncrementalAlterConfigs',
  apiKey: 44,
  minVersion: 0,
  maxVersion: 1,
  flexibleVersions: '1+',
  request: {
    resources: array({
      resourceType: int8(),
      resourceName: string(),
      configs: array({ name: string(), configOperation: int8(), value: string({ nullableVersions: '0+' }) }),
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
