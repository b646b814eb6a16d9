/**
 * The HTTP API's size and time limits, apart from its schemas: the SDK's HTTP transport sizes its
 * requests by them without loading zod (the schemas, `schemas.ts`, use them too).
 */

/** Lambda's synchronous payload limit: no request body larger than this reaches the API's handler. */
export const MAX_REQUEST_BYTES = 6 * 1024 * 1024;

/** Lambda's response payload limit: the API keeps every response body below it. */
export const MAX_RESPONSE_BYTES = 6 * 1024 * 1024;

/** Longest long-poll wait a fetch may ask for (API Gateway's 30 s integration timeout, with margin). */
export const MAX_FETCH_WAIT_MS = 20_000;

/**
 * Largest request body the SDK sends: {@link MAX_REQUEST_BYTES} less room for the rest of the API
 * Gateway event (headers, request context) that shares Lambda's payload.
 */
export const MAX_REQUEST_BODY_BYTES = MAX_REQUEST_BYTES - 64 * 1024;
