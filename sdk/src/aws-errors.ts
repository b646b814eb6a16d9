/**
 * Translation of AWS SDK failures into Tributary's typed errors, in one place. Only failures we
 * recognise are translated; anything else is returned untouched so it is never masked.
 */
import {
  ServiceUnavailableError,
  StackNotReadyError,
  ThrottledError,
  type TributaryError,
} from './errors.ts';

const THROTTLING_NAMES = new Set([
  'ProvisionedThroughputExceededException',
  'ThrottlingException',
  'Throttling',
  'RequestLimitExceeded',
  'SlowDown',
  'TooManyRequestsException',
]);

const TRANSIENT_NAMES = new Set([
  'InternalServerError',
  'InternalError',
  'ServiceUnavailable',
  'ServiceUnavailableException',
  'TransactionConflictException',
  'TransactionInProgressException',
  'RequestTimeout',
  'RequestTimeoutException',
  'TimeoutError',
]);

const NETWORK_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'EPIPE',
  'ETIMEDOUT',
  'EAI_AGAIN',
  'ENOTFOUND',
  'EHOSTUNREACH',
]);

interface AwsLikeError {
  name?: unknown;
  code?: unknown;
  message?: unknown;
  $metadata?: { httpStatusCode?: number };
}

function asAwsLike(error: unknown): AwsLikeError | undefined {
  return typeof error === 'object' && error !== null ? (error as AwsLikeError) : undefined;
}

/** The AWS error name (`ConditionalCheckFailedException`, ...) of an error, if it has one. */
export function awsErrorName(error: unknown): string | undefined {
  const e = asAwsLike(error);
  return typeof e?.name === 'string' ? e.name : undefined;
}

/**
 * Maps a failure of an AWS call to a typed Tributary error when it is throttling, a transient
 * service or network failure, or a missing table/bucket. Returns `undefined` for anything else
 * (including `ConditionalCheckFailedException`, which callers handle as a value).
 */
export function translateAwsError(error: unknown, operation: string): TributaryError | undefined {
  const e = asAwsLike(error);
  if (!e) return undefined;
  const name = typeof e.name === 'string' ? e.name : '';
  const code = typeof e.code === 'string' ? e.code : '';
  const status = e.$metadata?.httpStatusCode;
  if (THROTTLING_NAMES.has(name) || status === 429) {
    return new ThrottledError(`${operation} was throttled by AWS (${name || status})`, error);
  }
  if (
    TRANSIENT_NAMES.has(name) ||
    NETWORK_CODES.has(code) ||
    NETWORK_CODES.has(name) ||
    (status ?? 0) >= 500
  ) {
    return new ServiceUnavailableError(
      `${operation} failed transiently (${name || code || status}); it will be retried`,
      error,
    );
  }
  if (name === 'ResourceNotFoundException' || name === 'NoSuchBucket') {
    return new StackNotReadyError(
      `${operation} failed: ${typeof e.message === 'string' ? e.message : name}. ` +
        'The Tributary tables or bucket do not exist at this endpoint: start the local stack (npm start) or deploy the stack, ' +
        'and check the endpoint, region and tablePrefix options.',
      error,
    );
  }
  return undefined;
}
