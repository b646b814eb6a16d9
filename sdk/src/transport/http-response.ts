/**
 * How the HTTP transport reads a failed exchange with the API, in one place: our own error bodies
 * (`{ error: { code, message, retriable, details } }`) become the exact error class the direct
 * transport raises; API Gateway's own refusals (`{"message":"Forbidden"}` and the like, which never
 * reached a handler) and network failures become the matching Tributary errors.
 */

import { errorFromBody } from '../api/error-codec.ts';
import { MAX_REQUEST_BODY_BYTES } from '../api/limits.ts';
import { ErrorBody } from '../api/schemas.ts';
import {
  AccessDeniedError,
  InternalError,
  RequestTooLargeError,
  RouteNotFoundError,
  ServiceUnavailableError,
  ThrottledError,
  TimeoutError,
  type TributaryError,
} from '../errors.ts';

/** The request a failure belongs to, for messages. */
export interface ExchangeContext {
  readonly method: string;
  /** The request's path as sent (percent-encoded). */
  readonly path: string;
  /** Bytes of the request body (0 without one). */
  readonly requestBytes: number;
  /** API Gateway's request id (`apigw-requestid`), when the response carried one. */
  readonly requestId?: string;
  /**
   * Appended to messages of failures after which the request may still have taken effect (a lost
   * response, a gateway error after the function ran); set for requests that are not retried then.
   */
  readonly mayHaveTakenEffect?: string;
}

/**
 * True when a response status means a produce request without a producer id certainly had no
 * effect: 429 (API Gateway's stage throttling before the function ran, or our THROTTLED, whose
 * throttled writes wrote nothing; when some records landed the handler answers PARTIALLY_APPENDED)
 * and 421 (the request reached a region that does not take the topic's appends: NOT_HOME_REGION,
 * or TOPIC_MOVED at a failover's fence; both are answered before anything is written).
 * A 503 is not certain: API Gateway answers an integration timeout with 503 after the function may
 * have written, and SERVICE_UNAVAILABLE may follow a DynamoDB write whose response was lost. (With
 * a producer id every retriable answer is retried: the API recognises what landed.)
 */
export function statusMeansNotApplied(status: number): boolean {
  return status === 429 || status === 421;
}

/** The error a non-2xx response stands for. */
export function errorFromResponse(status: number, text: string, context: ExchangeContext): TributaryError {
  const json = parseJson(text);
  const ours = ErrorBody.safeParse(json);
  if (ours.success) return errorFromBody(ours.data.error, context.requestId);
  const said = gatewayMessage(json);
  const what = `${context.method} ${context.path}`;
  const maybe = context.mayHaveTakenEffect ? ` ${context.mayHaveTakenEffect}` : '';
  switch (status) {
    case 403:
      return new AccessDeniedError(`The API refused ${what} (HTTP 403: ${said ?? 'Forbidden'})`);
    case 404:
      return new RouteNotFoundError(context.method, context.path);
    case 413:
      return new RequestTooLargeError(context.requestBytes, MAX_REQUEST_BODY_BYTES);
    case 429:
      return new ThrottledError(`The API throttled ${what} (HTTP 429: ${said ?? 'Too Many Requests'})`);
    case 502:
    case 503:
      return new ServiceUnavailableError(
        `The API could not serve ${what} (HTTP ${status}: ${said ?? snippet(text)}).${status === 502 || status === 503 ? maybe : ''}`,
      );
    case 504:
      return new TimeoutError(`The API timed out serving ${what} (HTTP 504).${maybe}`);
    default:
      return new InternalError(
        `The API failed ${what} with HTTP ${status}: ${said ?? snippet(text)}.${maybe}`,
        context.requestId,
      );
  }
}

/** Node error codes of failures before any byte of the request was sent. */
const NOT_SENT_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'UND_ERR_CONNECT_TIMEOUT']);

/** What a `fetch` that threw (no response, or a body cut short) stands for. */
export interface NetworkFailure {
  readonly error: TributaryError;
  /** True when the request certainly never reached the server (the connection was never made). */
  readonly notSent: boolean;
}

/** The error a thrown `fetch` (or body read) stands for; `timeoutMs` is the request's timeout. */
export function errorFromNetwork(
  thrown: unknown,
  timeoutMs: number,
  context: ExchangeContext,
): NetworkFailure {
  const what = `${context.method} ${context.path}`;
  const maybe = context.mayHaveTakenEffect ? ` ${context.mayHaveTakenEffect}` : '';
  if (thrown instanceof Error && thrown.name === 'TimeoutError') {
    return {
      error: new TimeoutError(`${what} got no response within ${timeoutMs} ms.${maybe}`, thrown),
      notSent: false,
    };
  }
  const code = codeOf(thrown);
  const notSent = code !== undefined && NOT_SENT_CODES.has(code);
  const reason = code ?? (thrown instanceof Error ? thrown.message : String(thrown));
  return {
    error: new ServiceUnavailableError(
      `Could not complete ${what}: the connection to the API failed (${reason}).${notSent ? '' : maybe}`,
      thrown,
    ),
    notSent,
  };
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** API Gateway's own bodies are `{"message":"..."}`. */
function gatewayMessage(json: unknown): string | undefined {
  if (typeof json !== 'object' || json === null) return undefined;
  const message = (json as { message?: unknown }).message;
  return typeof message === 'string' ? message : undefined;
}

function snippet(text: string): string {
  const trimmed = text.trim();
  if (trimmed === '') return 'empty body';
  return trimmed.length > 200 ? `${trimmed.slice(0, 200)}…` : trimmed;
}

/** The `code` of a Node network error, looking through `fetch`'s `TypeError('fetch failed')` wrapper. */
function codeOf(thrown: unknown): string | undefined {
  for (let e: unknown = thrown, depth = 0; e && depth < 4; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}
