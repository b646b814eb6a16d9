/** DescribeConfigs (key 32). Resource types: 2 topic, 4 broker, 8 broker logger. */
import { defineApi } from '../api-description.ts';
import { array, bool, int8, int16, int32, string } from '../schema.ts';

export const DESCRIBE_CONFIGS = defineApi({
  name: 'DescribeConfigs',
  apiKey: 32,
  minVersion: 0,
  maxVersion: 4,
  flexibleVersions: '4+',
  request: {
    resources: array({
      resourceType: int8(),
      resourceName: string(),
      /** Null asks for every config of the resource. */
      configurationKeys: array('string', { nullableVersions: '0+' }),
    }),
    includeSynonyms: bool({ versions: '1+', default: false }),
    includeDocumentation: bool({ versions: '3+', default: false }),
  },
  response: {
    throttleTimeMs: int32(),
    results: array({
      errorCode: int16(),
      errorMessage: string({ nullableVersions: '0+' }),
      resourceType: int8(),
      resourceName: string(),
      configs: array({
        name: string(),
        value: string({ nullableVersions: '0+' }),
        readOnly: bool(),
        isDefault: bool({ versions: '0' }),
        configSource: int8({ versions: '1+', default: -1 }),
        isSensitive: bool(),
        synonyms: array(
          { name: string(), value: string({ nullableVersions: '0+' }), source: int8() },
          { versions: '1+' },
        ),
        configType: int8({ versions: '3+', default: 0 }),
        documentation: string({ versions: '3+', nullableVersions: '0+' }),
      }),
    }),
  },
});
