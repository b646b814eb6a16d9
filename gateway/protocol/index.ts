/**
 * Kafka's wire protocol as the gateway speaks it: pure, with no I/O. The rest of the gateway
 * imports this entry only.
 *
 * - {@link FrameReader} splits a byte stream into frames; {@link decodeRequest} turns a frame into
 *   a typed {@link KafkaRequest}; {@link encodeResponse} writes the answer, size prefix included.
 * - {@link SUPPORTED_APIS} is the version table ApiVersions advertises, derived from the
 *   descriptions in `messages/` (one per API) that drive the generic codec.
 * - Every failure on input is a {@link ProtocolError} (never retriable);
 *   {@link UnsupportedRequestError} still carries the correlation id so the server can answer.
 */
export type { ApiDescription } from './api-description.ts';
export { defineApi, isFlexibleVersion } from './api-description.ts';
export {
  APIS,
  type ApiName,
  type ApiOf,
  apiByKey,
  type RequestBody,
  type RequestInput,
  type ResponseBody,
  type ResponseInput,
  SUPPORTED_APIS,
  type SupportedApi,
} from './apis.ts';
export { ByteReader } from './byte-reader.ts';
export { ByteWriter } from './byte-writer.ts';
export { compileMessage, decodeMessage, encodeMessage } from './codec.ts';
export {
  ProtocolError,
  type ProtocolErrorCode,
  SchemaDefinitionError,
  UnsupportedRequestError,
} from './errors.ts';
export {
  decodeRequest,
  decodeResponse,
  encodeRequest,
  encodeResponse,
  encodeUnsupportedApiVersionsResponse,
  type KafkaRequest,
  type KafkaResponse,
} from './frame-codec.ts';
export { DEFAULT_MAX_FRAME_BYTES, FrameReader, type FrameReaderOptions } from './frame-reader.ts';
export { type RequestHeader, requestHeaderVersion, responseHeaderVersion } from './headers.ts';
export * from './schema.ts';
