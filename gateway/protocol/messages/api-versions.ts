/**
 * ApiVersions (key 18): the client asks which versions of every API the gateway speaks. Its
 * response header is always v0, also in flexible versions (see `headers.ts`).
 */
import { defineApi } from '../api-description.ts';
import { array, bool, int16, int32, int64, string } from '../schema.ts';

export const API_VERSIONS = defineApi({
  name: 'ApiVersions',
  apiKey: 18,
  minVersion: 0,
  maxVersion: 4,
  flexibleVersions: '3+',
  request: {
    clientSoftwareName: string({ versions: '3+' }),
    clientSoftwareVersion: string({ versions: '3+' }),
  },
  response: {
    errorCode: int16(),
    apiKeys: array({ apiKey: int16(), minVersion: int16(), maxVersion: int16() }),
    throttleTimeMs: int32({ versions: '1+' }),
    supportedFeatures: array(
      { name: string(), minVersion: int16(), maxVersion: int16() },
      { versions: '3+', tag: 0 },
    ),
    finalizedFeaturesEpoch: int64({ versions: '3+', tag: 1, default: -1n }),
    finalizedFeatures: array(
      { name: string(), maxVersionLevel: int16(), minVersionLevel: int16() },
      { versions: '3+', tag: 2 },
    ),
    zkMigrationReady: bool({ versions: '3+', tag: 3, default: false }),
  },
});
