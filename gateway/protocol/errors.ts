/**
 * Errors of the protocol layer. Every failure to read or write Kafka's wire format is a
 * {@link ProtocolError}: malformed, truncated or hostile input from a peer, or a value the caller
 * asked to encode that the wire type cannot hold. None is retriable: the same bytes fail the same
 * way, so a server closes that one connection (or answers with the error the protocol names) and
 * goes on serving the others.
 */

/** Stable codes of {@link ProtocolError}. */
export type ProtocolErrorCode =
  /** The input ends before a value, or a declared length runs past the bytes left. */
  | 'TRUNCATED'
  /** A length or count is negative (other than the null marker) or a varint is too long. */
  | 'INVALID_LENGTH'
  /** A value is not what its type allows: null where not nullable, bad UTF-8, a tagged field of the wrong size. */
  | 'INVALID_VALUE'
  /** Bytes are left after the whole message was read. */
  | 'TRAILING_BYTES'
  /** A frame declares a size above the configured maximum. */
  | 'FRAME_TOO_LARGE'
  /** The request's API key is not one this gateway implements. */
  | 'UNKNOWN_API'
  /** The request's API version is outside the range this gateway implements. */
  | 'UNSUPPORTED_VERSION'
  /** A value given to an encoder does not fit its wire type (a bug of the caller, not of the peer). */
  | 'NOT_ENCODABLE';

/** Malformed, truncated or unencodable Kafka protocol data. */
export class ProtocolError extends Error {
  readonly code: ProtocolErrorCode;
  /** Always false: the same bytes fail the same way. */
  readonly retriable = false;
  /** What went wrong, without the field path. */
  readonly detail: string;
  /** Path of the field being read or written, e.g. `topics[2].partitions[0].records`, when known. */
  readonly field: string | undefined;
  /** Byte position in the frame where the problem was found, when known. */
  readonly position: number | undefined;

  constructor(
    code: ProtocolErrorCode,
    detail: string,
    options: { field?: string; position?: number; cause?: unknown } = {},
  ) {
    super(
      options.field === undefined ? detail : `${options.field}: ${detail}`,
      options.cause === undefined ? undefined : { cause: options.cause },
    );
    this.name = new.target.name;
    this.code = code;
    this.detail = detail;
    this.field = options.field;
    this.position = options.position;
  }

  /** The same error one level further out: `segment` is a field name or an array index like `[3]`. */
  within(segment: string): ProtocolError {
    const field =
      this.field === undefined
        ? segment
        : this.field.startsWith('[')
          ? segment + this.field
          : `${segment}.${this.field}`;
    const options: { field: string; position?: number; cause?: unknown } = { field };
    if (this.position !== undefined) options.position = this.position;
    if (this.cause !== undefined) options.cause = this.cause;
    return new ProtocolError(this.code, this.detail, options);
  }
}

/**
 * A well-framed request for an API or version this gateway does not implement. It carries the
 * header fields that are at fixed positions in every request header, so the server can still
 * answer: ApiVersions with `UNSUPPORTED_VERSION` in the v0 body (KIP-511), anything else by
 * closing the connection as Kafka does.
 */
export class UnsupportedRequestError extends ProtocolError {
  readonly apiKey: number;
  readonly apiVersion: number;
  readonly correlationId: number;

  constructor(
    code: 'UNKNOWN_API' | 'UNSUPPORTED_VERSION',
    request: { apiKey: number; apiVersion: number; correlationId: number },
    message: string,
  ) {
    super(code, message, { position: 0 });
    this.apiKey = request.apiKey;
    this.apiVersion = request.apiVersion;
    this.correlationId = request.correlationId;
  }
}

/**
 * A message description is inconsistent (a tagged field outside the flexible versions, a default
 * of the wrong type, ...). Raised when the description is built, i.e. when the module loads, so
 * a mistake fails every test rather than one request in production.
 */
export class SchemaDefinitionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}
