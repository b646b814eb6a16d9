/**
 * Errors on the wire: the API turns a {@link TributaryError} into an HTTP status and
 * `{ error: { code, message, retriable, details } }`, and the SDK's HTTP transport turns that
 * body back into the same class, with the same context fields (so `instanceof`, `code` and, for
 * example, `OffsetOutOfRangeError.logStartOffset` work alike on both transports).
 */
import * as errors from '../errors.ts';
import { type ErrorCode, InternalError, type TributaryError } from '../errors.ts';
import type { ErrorBody } from './schemas.ts';

/** HTTP status of each error code. */
export const STATUS_OF: Readonly<Record<ErrorCode, number>> = {
  TOPIC_NOT_FOUND: 404,
  TOPIC_ALREADY_EXISTS: 409,
  TOPIC_DELETION_IN_PROGRESS: 409,
  INVALID_TOPIC_NAME: 400,
  INVALID_PARTITIONS: 400,
  INVALID_CONFIG: 400,
  INVALID_ARGUMENT: 400,
  UNKNOWN_PARTITION: 404,
  RECORD_TOO_LARGE: 413,
  TRANSACTION_TOO_LARGE: 413,
  TRANSACTION_CONDITION_FAILED: 409,
  OFFSET_OUT_OF_RANGE: 416,
  CONCURRENT_APPEND: 409,
  CORRUPT_RECORD: 500,
  LOG_INVARIANT_VIOLATED: 500,
  THROTTLED: 429,
  SERVICE_UNAVAILABLE: 503,
  TIMEOUT: 504,
  CLIENT_CLOSED: 400,
  STACK_NOT_READY: 503,
  INVALID_GROUP_ID: 400,
  GROUP_NOT_FOUND: 404,
  GROUP_ACTIVE: 409,
  GROUP_PROTOCOL_MISMATCH: 409,
  LEASE_LOST: 409,
  NO_COMMITTED_OFFSET: 409,
  ACCESS_DENIED: 403,
  REQUEST_TOO_LARGE: 413,
  NOT_FOUND: 404,
  UNSUPPORTED_OPERATION: 400,
  UNSUPPORTED_MEDIA_TYPE: 415,
  HEADERS_TOO_LARGE: 431,
  INVALID_SESSION: 409,
  MEMBER_ID_IN_USE: 409,
  PRODUCE_IN_PROGRESS: 409,
  OUT_OF_ORDER_SEQUENCE: 409,
  PARTIALLY_APPENDED: 500,
  PARTIALLY_RESET: 500,
  INVALID_TRIGGER: 400,
  TRIGGER_NOT_FOUND: 404,
  TRIGGER_ALREADY_EXISTS: 409,
  FUNCTION_NOT_FOUND: 404,
  INVALID_KAFKA_EVENT: 400,
  RECORD_DESERIALIZATION_FAILED: 400,
  FULL_BATCH_FAILURE: 500,
  UNKNOWN_REGION: 400,
  // Misdirected Request: the request went to a region that does not take it.
  NOT_HOME_REGION: 421,
  // Also misdirected: the old home of a topic a failover is moving takes no more appends.
  TOPIC_MOVED: 421,
  INVALID_FAILOVER: 409,
  INTERNAL_ERROR: 500,
};

type ErrorClass = abstract new (...args: never[]) => TributaryError;

/** The class of each code (a `Record` over every code, so a new code cannot be forgotten here). */
const CLASS_OF: Readonly<Record<ErrorCode, ErrorClass>> = {
  TOPIC_NOT_FOUND: errors.TopicNotFoundError,
  TOPIC_ALREADY_EXISTS: errors.TopicAlreadyExistsError,
  TOPIC_DELETION_IN_PROGRESS: errors.TopicDeletionInProgressError,
  INVALID_TOPIC_NAME: errors.InvalidTopicNameError,
  INVALID_PARTITIONS: errors.InvalidPartitionsError,
  INVALID_CONFIG: errors.InvalidConfigError,
  INVALID_ARGUMENT: errors.InvalidArgumentError,
  UNKNOWN_PARTITION: errors.UnknownPartitionError,
  RECORD_TOO_LARGE: errors.RecordTooLargeError,
  TRANSACTION_TOO_LARGE: errors.TransactionTooLargeError,
  TRANSACTION_CONDITION_FAILED: errors.TransactionConditionFailedError,
  OFFSET_OUT_OF_RANGE: errors.OffsetOutOfRangeError,
  CONCURRENT_APPEND: errors.ConcurrentAppendError,
  CORRUPT_RECORD: errors.CorruptRecordError,
  LOG_INVARIANT_VIOLATED: errors.LogInvariantError,
  THROTTLED: errors.ThrottledError,
  SERVICE_UNAVAILABLE: errors.ServiceUnavailableError,
  TIMEOUT: errors.TimeoutError,
  CLIENT_CLOSED: errors.ClientClosedError,
  STACK_NOT_READY: errors.StackNotReadyError,
  INVALID_GROUP_ID: errors.InvalidGroupIdError,
  GROUP_NOT_FOUND: errors.GroupNotFoundError,
  GROUP_ACTIVE: errors.GroupActiveError,
  GROUP_PROTOCOL_MISMATCH: errors.GroupProtocolMismatchError,
  LEASE_LOST: errors.LeaseLostError,
  NO_COMMITTED_OFFSET: errors.NoCommittedOffsetError,
  ACCESS_DENIED: errors.AccessDeniedError,
  REQUEST_TOO_LARGE: errors.RequestTooLargeError,
  NOT_FOUND: errors.RouteNotFoundError,
  UNSUPPORTED_OPERATION: errors.UnsupportedOperationError,
  UNSUPPORTED_MEDIA_TYPE: errors.UnsupportedMediaTypeError,
  HEADERS_TOO_LARGE: errors.HeadersTooLargeError,
  INVALID_SESSION: errors.InvalidSessionError,
  MEMBER_ID_IN_USE: errors.MemberIdInUseError,
  PRODUCE_IN_PROGRESS: errors.ProduceInProgressError,
  OUT_OF_ORDER_SEQUENCE: errors.OutOfOrderSequenceError,
  PARTIALLY_APPENDED: errors.PartiallyAppendedError,
  PARTIALLY_RESET: errors.PartiallyResetError,
  INVALID_TRIGGER: errors.InvalidTriggerError,
  TRIGGER_NOT_FOUND: errors.TriggerNotFoundError,
  TRIGGER_ALREADY_EXISTS: errors.TriggerAlreadyExistsError,
  FUNCTION_NOT_FOUND: errors.FunctionNotFoundError,
  INVALID_KAFKA_EVENT: errors.InvalidKafkaEventError,
  RECORD_DESERIALIZATION_FAILED: errors.RecordDeserializationError,
  FULL_BATCH_FAILURE: errors.FullBatchFailureError,
  UNKNOWN_REGION: errors.UnknownRegionError,
  NOT_HOME_REGION: errors.NotHomeRegionError,
  TOPIC_MOVED: errors.TopicMovedError,
  INVALID_FAILOVER: errors.InvalidFailoverError,
  INTERNAL_ERROR: errors.InternalError,
};

const NOT_DETAILS = new Set(['name', 'message', 'stack', 'cause', 'code', 'retriable']);

/** The wire form of an error and its HTTP status. */
export function errorToResponse(error: TributaryError): { status: number; body: ErrorBody } {
  const details: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(error)) {
    if (!NOT_DETAILS.has(key) && value !== undefined) details[key] = value;
  }
  return {
    status: STATUS_OF[error.code] ?? 500,
    body: {
      error: {
        code: error.code,
        message: error.message,
        retriable: error.retriable,
        ...(Object.keys(details).length > 0 ? { details } : {}),
      },
    },
  };
}

/**
 * Rebuilds the error an API response carried: the same class (by code) with the same message,
 * `retriable` flag and context fields. Unknown codes become {@link InternalError}.
 */
export function errorFromBody(body: ErrorBody['error'], requestId?: string): TributaryError {
  const cls = Object.hasOwn(CLASS_OF, body.code) ? CLASS_OF[body.code as ErrorCode] : undefined;
  if (!cls)
    return new InternalError(`${body.code}: ${body.message}`, requestId, { retriable: body.retriable });
  // Constructors build their messages from arguments; rebuild the instance from the wire fields instead.
  const error = Object.create(cls.prototype) as TributaryError;
  const fields: Record<string, unknown> = {
    name: cls.name,
    message: body.message,
    code: body.code,
    retriable: body.retriable,
    ...body.details,
  };
  for (const [key, value] of Object.entries(fields)) {
    Object.defineProperty(error, key, {
      value,
      enumerable: key !== 'name' && key !== 'message',
      writable: true,
    });
  }
  Error.captureStackTrace?.(error, errorFromBody);
  return error;
}
