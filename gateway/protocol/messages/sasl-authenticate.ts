/** SaslAuthenticate (key 36): one SASL token each way. v1+ reports the session lifetime (KIP-368). */
import { defineApi } from '../api-description.ts';
import { bytes, int16, int64, string } from '../schema.ts';

export const SASL_AUTHENTICATE = defineApi({
  name: 'SaslAuthenticate',
  apiKey: 36,
  minVersion: 0,
  maxVersion: 2,
  flexibleVersions: '2+',
  request: {
    authBytes: bytes(),
  },
  response: {
    errorCode: int16(),
    errorMessage: string({ nullableVersions: '0+' }),
    authBytes: bytes(),
    sessionLifetimeMs: int64({ versions: '1+', default: 0n }),
  },
});
