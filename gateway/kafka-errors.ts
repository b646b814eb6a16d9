/**
 * Kafka's error codes (the `errorCode` fields of responses) as the gateway answers them, and the
 * one mapping from Tributary's typed errors to them. Retriable Tributary errors map to codes
 * Kafka clients retry (the same request again, after a backoff); the others to the code that
 * names the problem, so the client's own error says what happened.
 */
import { TributaryError } from '../sdk/src/index.ts';

/** Kafka's error codes, by Kafka's names (`org.apache.kafka.common.protocol.Errors`). */
export const KafkaError = {
  UNKNOWN_SERVER_ERROR: -1,
  NONE: 0,
  OFFSET_OUT_OF_RANGE: 1,
  CORRUPT_MESSAGE: 2,
  UNKNOWN_TOPIC_OR_PARTITION: 3,
  NOT_LEADER_OR_FOLLOWER: 6,
  REQUEST_TIMED_OUT: 7,
  MESSAGE_TOO_LARGE: 10,
  OFFSET_METADATA_TOO_LARGE: 12,
  COORDINATOR_NOT_AVAILABLE: 15,
  INVALID_TOPIC_EXCEPTION: 17,
  INVALID_REQUIRED_ACKS: 21,
  ILLEGAL_GENERATION: 22,
  INCONSISTENT_GROUP_PROTOCOL: 23,
  INVALID_GROUP_ID: 24,
  UNKNOWN_MEMBER_ID: 25,
  INVALID_SESSION_TIMEOUT: 26,
  REBALANCE_IN_PROGRESS: 27,
  INVALID_COMMIT_OFFSET_SIZE: 28,
  TOPIC_AUTHORIZATION_FAILED: 29,
  UNSUPPORTED_SASL_MECHANISM: 33,
  ILLEGAL_SASL_STATE: 34,
  UNSUPPORTED_VERSION: 35,
  TOPIC_ALREADY_EXISTS: 36,
  INVALID_PARTITIONS: 37,
  INVALID_REPLICATION_FACTOR: 38,
  INVALID_REPLICA_ASSIGNMENT: 39,
  INVALID_CONFIG: 40,
  INVALID_REQUEST: 42,
  UNSUPPORTED_FOR_MESSAGE_FORMAT: 43,
  OUT_OF_ORDER_SEQUENCE_NUMBER: 45,
  DUPLICATE_SEQUENCE_NUMBER: 46,
  INVALID_PRODUCER_EPOCH: 47,
  INVALID_TXN_STATE: 48,
  KAFKA_STORAGE_ERROR: 56,
  SASL_AUTHENTICATION_FAILED: 58,
  NON_EMPTY_GROUP: 68,
  GROUP_ID_NOT_FOUND: 69,
  FETCH_SESSION_ID_NOT_FOUND: 70,
  MEMBER_ID_REQUIRED: 79,
  GROUP_MAX_SIZE_REACHED: 81,
  FENCED_INSTANCE_ID: 82,
  INVALID_RECORD: 87,
  UNKNOWN_TOPIC_ID: 100,
} as const;

/** One of Kafka's error codes the gateway answers with. */
export type KafkaErrorCode = (typeof KafkaError)[keyof typeof KafkaError];

/** A Kafka error code with the message that goes with it (responses that carry one show it). */
export interface KafkaFailure {
  readonly code: KafkaErrorCode;
  readonly message: string;
}

/**
 * The Kafka error code for `error`, thrown by the SDK on a request's behalf:
 * - missing or invalid topics and partitions, sizes, configs: the code naming them;
 * - retriable storage failures (throttling, unavailability): KAFKA_STORAGE_ERROR, which clients
 *   retry after refreshing metadata; timeouts and an idempotent batch still being appended by an
 *   earlier attempt: REQUEST_TIMED_OUT (retried; a retry of the batch is recognised);
 * - anything else: UNKNOWN_SERVER_ERROR.
 */
export function kafkaErrorOf(error: unknown): KafkaFailure {
  const message = error instanceof Error ? error.message : String(error);
  if (!(error instanceof TributaryError)) return { code: KafkaError.UNKNOWN_SERVER_ERROR, message };
  return { code: codeOf(error), message };
}

function codeOf(error: TributaryError): KafkaErrorCode {
  switch (error.code) {
    case 'TOPIC_NOT_FOUND':
    case 'UNKNOWN_PARTITION':
    case 'TOPIC_DELETION_IN_PROGRESS':
      return KafkaError.UNKNOWN_TOPIC_OR_PARTITION;
    case 'INVALID_TOPIC_NAME':
      return KafkaError.INVALID_TOPIC_EXCEPTION;
    case 'TOPIC_ALREADY_EXISTS':
      return KafkaError.TOPIC_ALREADY_EXISTS;
    case 'INVALID_PARTITIONS':
      return KafkaError.INVALID_PARTITIONS;
    case 'INVALID_CONFIG':
      return KafkaError.INVALID_CONFIG;
    case 'OFFSET_OUT_OF_RANGE':
      return KafkaError.OFFSET_OUT_OF_RANGE;
    case 'RECORD_TOO_LARGE':
      return KafkaError.MESSAGE_TOO_LARGE;
    case 'CORRUPT_RECORD':
      return KafkaError.CORRUPT_MESSAGE;
    case 'OUT_OF_ORDER_SEQUENCE':
      return KafkaError.OUT_OF_ORDER_SEQUENCE_NUMBER;
    case 'PRODUCE_IN_PROGRESS':
    case 'TIMEOUT':
      return KafkaError.REQUEST_TIMED_OUT;
    case 'NOT_HOME_REGION':
      // The topic's appends are taken in another region: Kafka's "not the leader here".
      return KafkaError.NOT_LEADER_OR_FOLLOWER;
    case 'ACCESS_DENIED':
      return KafkaError.TOPIC_AUTHORIZATION_FAILED;
    case 'INVALID_ARGUMENT':
      return KafkaError.INVALID_REQUEST;
    case 'INVALID_GROUP_ID':
      return KafkaError.INVALID_GROUP_ID;
    case 'GROUP_NOT_FOUND':
      return KafkaError.GROUP_ID_NOT_FOUND;
    case 'GROUP_ACTIVE':
      return KafkaError.NON_EMPTY_GROUP;
    default:
      return error.retriable ? KafkaError.KAFKA_STORAGE_ERROR : KafkaError.UNKNOWN_SERVER_ERROR;
  }
}

/**
 * The Kafka error code for `error` thrown while serving a consumer group request: as
 * {@link kafkaErrorOf}, except that retriable storage failures are COORDINATOR_NOT_AVAILABLE, on
 * which clients look the coordinator up again and retry (their answer to a coordinator in trouble).
 */
export function groupErrorOf(error: unknown): KafkaFailure {
  const failure = kafkaErrorOf(error);
  if (error instanceof TributaryError && error.retriable) {
    return { code: KafkaError.COORDINATOR_NOT_AVAILABLE, message: failure.message };
  }
  return failure;
}
