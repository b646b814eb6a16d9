/**
 * Whole frames: a request or response header followed by its body, in the version the header
 * names. Encoders return the bytes to write to the socket, size prefix included; decoders take a
 * frame's payload as {@link FrameReader} yields it (without the size prefix). Byte strings and
 * records in decoded messages are views into the frame, not copies.
 */

import { type ApiDescription, isFlexibleVersion } from './api-description.ts';
import {
  APIS,
  type ApiName,
  apiByKey,
  type RequestBody,
  type RequestInput,
  type ResponseBody,
  type ResponseInput,
} from './apis.ts';
import { ByteReader } from './byte-reader.ts';
import { ByteWriter } from './byte-writer.ts';
import { decodeMessage, encodeMessage } from './codec.ts';
import { ProtocolError, UnsupportedRequestError } from './errors.ts';
import {
  REQUEST_HEADER,
  RESPONSE_HEADER,
  type RequestHeader,
  requestHeaderVersion,
  responseHeaderVersion,
} from './headers.ts';
import type { Fields, MessageInput } from './schema.ts';

/** A decoded request: narrow on `api` to get the body's type. */
export type KafkaRequest = {
  [N in ApiName]: { readonly api: N; readonly header: RequestHeader; readonly body: RequestBody<N> };
}[ApiName];

/** A decoded response of API `N`. */
export interface KafkaResponse<N extends ApiName> {
  readonly correlationId: number;
  readonly body: ResponseBody<N>;
}

/** Kafka's error code UNSUPPORTED_VERSION. */
const UNSUPPORTED_VERSION = 35;
/** api key (int16), api version (int16), correlation id (int32): the same in every request header version. */
const FIXED_HEADER_BYTES = 8;

/**
 * Decodes one request frame.
 *
 * @throws UnsupportedRequestError for an API key or version outside {@link SUPPORTED_APIS}; it
 *   carries the correlation id, so the server can still answer.
 * @throws ProtocolError when the header or body is truncated or malformed, or bytes follow the body.
 */
export function decodeRequest(frame: Uint8Array): KafkaRequest {
  if (frame.length < FIXED_HEADER_BYTES) {
    throw new ProtocolError(
      'TRUNCATED',
      `A request needs at least ${FIXED_HEADER_BYTES} bytes, the frame has ${frame.length}`,
      {
        field: 'header',
        position: frame.length,
      },
    );
  }
  const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  const fixed = { apiKey: view.getInt16(0), apiVersion: view.getInt16(2), correlationId: view.getInt32(4) };
  const api = apiByKey(fixed.apiKey);
  if (api === undefined) {
    throw new UnsupportedRequestError('UNKNOWN_API', fixed, `API key ${fixed.apiKey} is not implemented`);
  }
  if (fixed.apiVersion < api.minVersion || fixed.apiVersion > api.maxVersion) {
    throw new UnsupportedRequestError(
      'UNSUPPORTED_VERSION',
      fixed,
      `${api.name} v${fixed.apiVersion} is not implemented (v${api.minVersion} to v${api.maxVersion} are)`,
    );
  }
  const reader = new ByteReader(frame);
  const headerVersion = requestHeaderVersion(api, fixed.apiVersion);
  let header: RequestHeader;
  try {
    header = decodeMessage(REQUEST_HEADER, headerVersion, headerVersion >= 2, reader);
  } catch (error) {
    throw error instanceof ProtocolError ? error.within('header') : error;
  }
  const body = decodeMessage<Fields>(
    api.request,
    fixed.apiVersion,
    isFlexibleVersion(api, fixed.apiVersion),
    reader,
  );
  expectEnd(reader);
  return { api: api.name, header, body } as KafkaRequest;
}

/** Encodes a request frame (what a client sends); `header.apiVersion` selects the version. */
export function encodeRequest<N extends ApiName>(
  api: N,
  header: { readonly apiVersion: number; readonly correlationId: number; readonly clientId: string | null },
  body: RequestInput<N>,
): Uint8Array {
  const description: ApiDescription = APIS[api];
  const version = header.apiVersion;
  checkVersion(description, version);
  const headerVersion = requestHeaderVersion(description, version);
  return frame((writer) => {
    encodeMessage(
      REQUEST_HEADER,
      headerVersion,
      headerVersion >= 2,
      { apiKey: description.apiKey, ...header },
      writer,
    );
    encodeMessage(
      description.request,
      version,
      isFlexibleVersion(description, version),
      body as MessageInput<Fields>,
      writer,
    );
  });
}

/** Encodes a response frame in `version` of `api`. */
export function encodeResponse<N extends ApiName>(
  api: N,
  version: number,
  correlationId: number,
  body: ResponseInput<N>,
): Uint8Array {
  const description: ApiDescription = APIS[api];
  checkVersion(description, version);
  const headerVersion = responseHeaderVersion(description, version);
  return frame((writer) => {
    encodeMessage(RESPONSE_HEADER, headerVersion, headerVersion >= 1, { correlationId }, writer);
    encodeMessage(
      description.response,
      version,
      isFlexibleVersion(description, version),
      body as MessageInput<Fields>,
      writer,
    );
  });
}

/**
 * Decodes a response frame (what a client receives) of `version` of `api`.
 *
 * @throws ProtocolError when it is truncated or malformed, or bytes follow the body.
 */
export function decodeResponse<N extends ApiName>(
  api: N,
  version: number,
  payload: Uint8Array,
): KafkaResponse<N> {
  const description: ApiDescription = APIS[api];
  checkVersion(description, version);
  const reader = new ByteReader(payload);
  const headerVersion = responseHeaderVersion(description, version);
  let header: { correlationId: number };
  try {
    header = decodeMessage(RESPONSE_HEADER, headerVersion, headerVersion >= 1, reader);
  } catch (error) {
    throw error instanceof ProtocolError ? error.within('header') : error;
  }
  const body = decodeMessage<Fields>(
    description.response,
    version,
    isFlexibleVersion(description, version),
    reader,
  );
  expectEnd(reader);
  return { correlationId: header.correlationId, body: body as ResponseBody<N> };
}

/**
 * The answer to an ApiVersions request of a version above ours (KIP-511): a v0 response with
 * UNSUPPORTED_VERSION that lists ApiVersions' own range, so the client retries with a version
 * both sides speak. librdkafka sends v3 first and relies on this.
 */
export function encodeUnsupportedApiVersionsResponse(correlationId: number): Uint8Array {
  const { apiKey, minVersion, maxVersion } = APIS.ApiVersions;
  return encodeResponse('ApiVersions', 0, correlationId, {
    errorCode: UNSUPPORTED_VERSION,
    apiKeys: [{ apiKey, minVersion, maxVersion }],
    throttleTimeMs: 0,
  });
}

function checkVersion(api: ApiDescription, version: number): void {
  if (!Number.isInteger(version) || version < api.minVersion || version > api.maxVersion) {
    throw new ProtocolError(
      'NOT_ENCODABLE',
      `${api.name} v${version} is not implemented (v${api.minVersion} to v${api.maxVersion} are)`,
    );
  }
}

function expectEnd(reader: ByteReader): void {
  if (reader.remaining !== 0) {
    throw new ProtocolError('TRAILING_BYTES', `${reader.remaining} bytes follow the end of the message`, {
      position: reader.position,
    });
  }
}

/** Writes a size-prefixed frame. */
function frame(write: (writer: ByteWriter) => void): Uint8Array {
  const writer = new ByteWriter();
  writer.int32(0);
  write(writer);
  const out = writer.finish();
  new DataView(out.buffer, out.byteOffset, out.byteLength).setInt32(0, out.length - 4);
  return out;
}
