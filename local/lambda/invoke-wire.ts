/**
 * Lambda's Invoke API on the wire (REST-JSON, API version 2015-03-31), as `@aws-sdk/client-lambda`
 * parses it: the request's headers, the limits, the error shape (`x-amzn-ErrorType` plus a JSON
 * body with `Type` and the message member the model names) and the result headers. Pure, so
 * every shape is unit-tested without a server.
 */
import type { ErrorPayload } from './error-payload.ts';
import { LATEST } from './function-name.ts';

/** The Invoke path; `FunctionName` is the (URL-encoded) segment. */
export const INVOKE_PATH = /^\/2015-03-31\/functions\/([^/]+)\/invocations$/;
/** Every Lambda REST path (Invoke and the control plane) starts with it. */
export const LAMBDA_PATH_PREFIX = '/2015-03-31/functions/';

/** Lambda's payload limit of a synchronous invocation, request and response alike ("6 MB"). */
export const SYNC_PAYLOAD_LIMIT_BYTES = 6_291_556;
/** Lambda's payload limit of an asynchronous (`Event`) invocation ("1 MB"). */
export const ASYNC_PAYLOAD_LIMIT_BYTES = 1_048_576;
/** `X-Amz-Log-Result` carries the last 4 KB of the invocation's log. */
export const LOG_TAIL_BYTES = 4_096;

export type InvocationType = 'RequestResponse' | 'Event' | 'DryRun';
export type LogType = 'None' | 'Tail';

/** The errors the local Invoke API answers with, all modeled by `@aws-sdk/client-lambda` except two. */
export type LambdaErrorName =
  | 'ResourceNotFoundException'
  | 'TooManyRequestsException'
  | 'RequestTooLargeException'
  | 'InvalidRequestContentException'
  | 'InvalidParameterValueException'
  /** Unmodeled: the SDK raises a `LambdaServiceException` named so, as it does for Lambda's. */
  | 'ValidationException'
  /** Unmodeled too: what this service answers for Lambda operations other than Invoke. */
  | 'UnknownOperationException'
  | 'ServiceException';

const STATUS: Record<LambdaErrorName, number> = {
  ResourceNotFoundException: 404,
  TooManyRequestsException: 429,
  RequestTooLargeException: 413,
  InvalidRequestContentException: 400,
  InvalidParameterValueException: 400,
  ValidationException: 400,
  UnknownOperationException: 404,
  ServiceException: 500,
};

/** The members the Lambda model gives the message (`Message` on some errors, `message` on most). */
const CAPITAL_MESSAGE: ReadonlySet<LambdaErrorName> = new Set([
  'ResourceNotFoundException',
  'ServiceException',
]);

/** A complete response. */
export interface WireResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

function json(status: number, headers: Record<string, string>, body: string): WireResponse {
  return {
    status,
    headers: {
      'content-type': 'application/json',
      'content-length': String(Buffer.byteLength(body)),
      ...headers,
    },
    body,
  };
}

/** An error response in Lambda's shape, so the SDK raises the modeled exception class. */
export function lambdaError(
  name: LambdaErrorName,
  message: string,
  extra: Readonly<Record<string, string>> = {},
): WireResponse {
  const status = STATUS[name];
  const body = JSON.stringify({
    Type: status >= 500 ? 'Service' : 'User',
    [CAPITAL_MESSAGE.has(name) ? 'Message' : 'message']: message,
    ...extra,
  });
  return json(status, { 'x-amzn-errortype': name }, body);
}

/** 404 for a function (or qualifier) that does not exist; `arn` is what was asked for. */
export function functionNotFound(arn: string): WireResponse {
  return lambdaError('ResourceNotFoundException', `Function not found: ${arn}`);
}

/** 429 for an invocation over the function's concurrency, as reserved concurrency throttles. */
export function throttled(): WireResponse {
  return lambdaError('TooManyRequestsException', 'Rate Exceeded.', {
    Reason: 'ReservedFunctionConcurrentInvocationLimitExceeded',
  });
}

/** 413 for a request payload over the limit of its invocation type. */
export function requestTooLarge(limitBytes: number): WireResponse {
  return lambdaError(
    'RequestTooLargeException',
    `Request must be smaller than ${limitBytes} bytes for the Invoke operation`,
  );
}

/** Reads `X-Amz-Invocation-Type`; undefined when it is not one of Lambda's three. */
export function invocationTypeOf(header: string | undefined): InvocationType | undefined {
  if (header === undefined || header === '') return 'RequestResponse';
  return header === 'RequestResponse' || header === 'Event' || header === 'DryRun' ? header : undefined;
}

/** Reads `X-Amz-Log-Type`; undefined when it is not `None` or `Tail`. */
export function logTypeOf(header: string | undefined): LogType | undefined {
  if (header === undefined || header === '') return 'None';
  return header === 'None' || header === 'Tail' ? header : undefined;
}

/** 400 for a header outside its enum, worded as Lambda's request validation words it. */
export function invalidEnum(member: string, value: string, allowed: readonly string[]): WireResponse {
  return lambdaError(
    'ValidationException',
    `1 validation error detected: Value '${value}' at '${member}' failed to satisfy constraint: ` +
      `Member must satisfy enum value set: [${allowed.join(', ')}]`,
  );
}

/**
 * The base64 of the last {@link LOG_TAIL_BYTES} of `log`, cut at a character boundary so the
 * tail decodes as UTF-8.
 */
export function logTail(log: string): string {
  const bytes = Buffer.from(log, 'utf8');
  let start = Math.max(0, bytes.length - LOG_TAIL_BYTES);
  // Skip continuation bytes (10xxxxxx) of a character cut in half.
  while (start < bytes.length && ((bytes[start] ?? 0) & 0xc0) === 0x80) start++;
  return bytes.subarray(start).toString('base64');
}

/** The payload Lambda returns in place of a result over the synchronous limit. */
export function responseTooLargePayload(): ErrorPayload {
  return {
    errorType: 'Function.ResponseSizeTooLarge',
    errorMessage: `Response payload size exceeded maximum allowed payload size (${SYNC_PAYLOAD_LIMIT_BYTES} bytes).`,
  };
}

/** What a synchronous invocation returns: the result, or the error payload with `X-Amz-Function-Error`. */
export function invocationResponse(options: {
  readonly requestId: string;
  readonly payload: string;
  readonly failed: boolean;
  /** The invocation's log when `X-Amz-Log-Type: Tail` asked for it. */
  readonly log: string | undefined;
}): WireResponse {
  const headers: Record<string, string> = {
    'x-amzn-requestid': options.requestId,
    'x-amz-executed-version': LATEST,
  };
  if (options.failed) headers['x-amz-function-error'] = 'Unhandled';
  if (options.log !== undefined) headers['x-amz-log-result'] = logTail(options.log);
  return json(200, headers, options.payload);
}
