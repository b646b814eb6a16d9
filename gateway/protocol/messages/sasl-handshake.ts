/**
 * SaslHandshake (key 17). After a v0 handshake the client sends raw SASL tokens in size-prefixed
 * frames without request headers; after v1 it wraps them in SaslAuthenticate (KIP-152).
 */
import { defineApi } from '../api-description.ts';
import { array, int16, string } from '../schema.ts';

export const SASL_HANDSHAKE = defineApi({
  name: 'SaslHandshake',
  apiKey: 17,
  minVersion: 0,
  maxVersion: 1,
  flexibleVersions: 'none',
  request: {
    mechanism: string(),
  },
  response: {
    errorCode: int16(),
    mechanisms: array('string'),
  },
});
