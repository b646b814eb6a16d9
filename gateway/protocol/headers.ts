/**
 * Request and response headers, described in the same format as the messages.
 *
 * - Request header v1: api key, api version, correlation id, client id (nullable int16 string).
 *   v2 (flexible requests) adds a tagged-field section; the client id keeps its int16 length.
 * - Response header v0: correlation id. v1 (flexible responses) adds a tagged-field section —
 *   except for ApiVersions, whose response header is always v0 so that a client can read the
 *   error of a version the broker does not support (`ApiVersionsResponse.json`).
 *
 * Request header v0 (no client id) is used only by ControlledShutdown v0, which no client sends.
 */
import type { ApiDescription } from './api-description.ts';
import { isFlexibleVersion } from './api-description.ts';
import { compileMessage } from './codec.ts';
import { int16, int32, type Message, string } from './schema.ts';

export const REQUEST_HEADER = {
  apiKey: int16(),
  apiVersion: int16(),
  correlationId: int32(),
  clientId: string({ versions: '1+', nullableVersions: '1+', flexibleVersions: 'none' }),
};

export const RESPONSE_HEADER = {
  correlationId: int32(),
};

/** A decoded request header. */
export type RequestHeader = Message<typeof REQUEST_HEADER>;

const API_VERSIONS_KEY = 18;

/** The request header version of `version` of `api`: 2 for flexible versions, else 1. */
export function requestHeaderVersion(api: ApiDescription, version: number): 1 | 2 {
  return isFlexibleVersion(api, version) ? 2 : 1;
}

/** The response header version of `version` of `api`: 1 for flexible versions except ApiVersions, else 0. */
export function responseHeaderVersion(api: ApiDescription, version: number): 0 | 1 {
  return api.apiKey !== API_VERSIONS_KEY && isFlexibleVersion(api, version) ? 1 : 0;
}

for (const version of [1, 2])
  compileMessage(REQUEST_HEADER, version, version >= 2, `request header v${version}`);
for (const version of [0, 1])
  compileMessage(RESPONSE_HEADER, version, version >= 1, `response header v${version}`);
