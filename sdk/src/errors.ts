/**
 * Every error Tributary raises is a {@link TributaryError}: it has a stable `code` (listed in
 * `docs/errors.md`), a `retriable` flag telling the caller whether repeating the same call can
 * succeed, and the underlying `cause` when one exists. Subclasses carry the context a caller
 * needs to act (topic, partition, offset, limits).
 */
import type { AttributeValue } from '@aws-sdk/client-dynamodb';

/** Stable, documented error codes. The HTTP API and the SDK map these one-to-one. */
export type ErrorCode =
  | 'TOPIC_NOT_FOUND'
  | 'TOPIC_ALREADY_EXISTS'
  | 'TOPIC_DELETION_IN_PROGRESS'
  | 'INVALID_TOPIC_NAME'
  | 'INVALID_PARTITIONS'
  | 'INVALID_CONFIG'
  | 'INVALID_ARGUMENT'
  | 'UNKNOWN_PARTITION'
  | 'RECORD_TOO_LARGE'
  | 'TRANSACTION_TOO_LARGE'
  | 'TRANSACTION_CONDITION_FAILED'
  | 'OFFSET_OUT_OF_RANGE'
  | 'CONCURRENT_APPEND'
  | 'CORRUPT_RECORD'
  | 'LOG_INVARIANT_VIOLATED'
  | 'THROTTLED'
  | 'SERVICE_UNAVAILABLE'
  | 'TIMEOUT'
  | 'CLIENT_CLOSED'
  | 'STACK_NOT_READY'
  | 'INVALID_GROUP_ID'
  | 'GROUP_NOT_FOUND'
  | 'GROUP_ACTIVE'
  | 'GROUP_PROTOCOL_MISMATCH'
  | 'LEASE_LOST'
  | 'NO_COMMITTED_OFFSET'
  | 'ACCESS_DENIED'
  | 'REQUEST_TOO_LARGE'
  | 'NOT_FOUND'
  | 'UNSUPPORTED_OPERATION'
  | 'UNSUPPORTED_MEDIA_TYPE'
  | 'HEADERS_TOO_LARGE'
  | 'INVALID_SESSION'
  | 'MEMBER_ID_IN_USE'
  | 'PRODUCE_IN_PROGRESS'
  | 'OUT_OF_ORDER_SEQUENCE'
  | 'PARTIALLY_APPENDED'
  | 'PARTIALLY_RESET'
  | 'INVALID_TRIGGER'
  | 'TRIGGER_NOT_FOUND'
  | 'TRIGGER_ALREADY_EXISTS'
  | 'FUNCTION_NOT_FOUND'
  | 'INVALID_KAFKA_EVENT'
  | 'RECORD_DESERIALIZATION_FAILED'
  | 'FULL_BATCH_FAILURE'
  | 'UNKNOWN_REGION'
  | 'NOT_HOME_REGION'
  | 'TOPIC_MOVED'
  | 'INVALID_FAILOVER'
  | 'INTERNAL_ERROR';

/** Base class of every error raised by Tributary. */
export class TributaryError extends Error {
  /** A stable machine-readable code; see `docs/errors.md`. */
  readonly code: ErrorCode;
  /** True when the same call may succeed if repeated later (after backoff). */
  readonly retriable: boolean;

  constructor(code: ErrorCode, message: string, options: { retriable?: boolean; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.retriable = options.retriable ?? false;
  }
}

/** The topic does not exist (or was deleted). */
export class TopicNotFoundError extends TributaryError {
  readonly topic: string;

  constructor(topic: string) {
    super(
      'TOPIC_NOT_FOUND',
      `Topic "${topic}" does not exist. Create it first: tributary topics create ${topic}`,
    );
    this.topic = topic;
  }
}

/** A topic with this name already exists. */
export class TopicAlreadyExistsError extends TributaryError {
  readonly topic: string;

  constructor(topic: string) {
    super('TOPIC_ALREADY_EXISTS', `Topic "${topic}" already exists. Delete it first or choose another name.`);
    this.topic = topic;
  }
}

/** A previous deletion of this topic has not finished purging its records. */
export class TopicDeletionInProgressError extends TributaryError {
  readonly topic: string;

  constructor(topic: string) {
    super(
      'TOPIC_DELETION_IN_PROGRESS',
      `Topic "${topic}" is still being deleted. Run "tributary topics delete ${topic}" again to finish the purge.`,
      { retriable: true },
    );
    this.topic = topic;
  }
}

/** The topic name breaks Kafka's naming rules. */
export class InvalidTopicNameError extends TributaryError {
  readonly topic: string;

  constructor(topic: string, reason: string) {
    super(
      'INVALID_TOPIC_NAME',
      `Invalid topic name "${topic}": ${reason}. Use 1-249 characters from [a-zA-Z0-9._-], not "." or "..".`,
    );
    this.topic = topic;
  }
}

/** A partition count or partition number is not allowed. */
export class InvalidPartitionsError extends TributaryError {
  constructor(message: string) {
    super('INVALID_PARTITIONS', message);
  }
}

/** A topic config key or value is not valid. */
export class InvalidConfigError extends TributaryError {
  readonly key: string;

  constructor(key: string, message: string) {
    super('INVALID_CONFIG', `Invalid topic config "${key}": ${message}`);
    this.key = key;
  }
}

/** An argument to an SDK call is not valid (negative offset, empty batch, ...). */
export class InvalidArgumentError extends TributaryError {
  constructor(message: string) {
    super('INVALID_ARGUMENT', message);
  }
}

/** The partition number is outside the topic's partitions. */
export class UnknownPartitionError extends TributaryError {
  readonly topic: string;
  readonly partition: number;
  readonly partitions: number;

  constructor(topic: string, partition: number, partitions: number) {
    super(
      'UNKNOWN_PARTITION',
      `Topic "${topic}" has ${partitions} partition(s) (0..${partitions - 1}); partition ${partition} does not exist.`,
    );
    this.topic = topic;
    this.partition = partition;
    this.partitions = partitions;
  }
}

/** A record or batch is larger than the topic (or storage) allows. */
export class RecordTooLargeError extends TributaryError {
  readonly sizeBytes: number;
  readonly limitBytes: number;

  constructor(sizeBytes: number, limitBytes: number, detail: string) {
    super(
      'RECORD_TOO_LARGE',
      `Record of ${sizeBytes} bytes exceeds the limit of ${limitBytes} bytes: ${detail}`,
    );
    this.sizeBytes = sizeBytes;
    this.limitBytes = limitBytes;
  }
}

/** An atomic multi-partition append exceeds DynamoDB's transaction limits (100 items, 4 MB). */
export class TransactionTooLargeError extends TributaryError {
  constructor(message: string) {
    super('TRANSACTION_TOO_LARGE', message);
  }
}

/** An item the caller added to an atomic append failed its own condition; nothing was written. */
export class TransactionConditionFailedError extends TributaryError {
  /** Indexes (into the caller's extra items) whose conditions failed. */
  readonly failedItems: readonly number[];
  /** Those items as they were when the condition failed, where DynamoDB returned them. */
  readonly currentItems: readonly (Record<string, AttributeValue> | undefined)[];

  constructor(
    failedItems: readonly number[],
    currentItems: readonly (Record<string, AttributeValue> | undefined)[],
  ) {
    super(
      'TRANSACTION_CONDITION_FAILED',
      `The atomic append was cancelled because the condition of extra item(s) ${failedItems.join(', ')} failed; nothing was written.`,
    );
    this.failedItems = failedItems;
    this.currentItems = currentItems;
  }
}

/** The offset is below the partition's log start or beyond its end. */
export class OffsetOutOfRangeError extends TributaryError {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
  readonly logStartOffset: number;
  readonly highWatermark: number;

  constructor(
    topic: string,
    partition: number,
    offset: number,
    logStartOffset: number,
    highWatermark: number,
  ) {
    super(
      'OFFSET_OUT_OF_RANGE',
      `Offset ${offset} is out of range for ${topic}[${partition}]: valid offsets are ${logStartOffset}..${highWatermark} ` +
        `(${highWatermark} is the next offset to be written). Seek to 'earliest' or 'latest', or a valid offset.`,
    );
    this.topic = topic;
    this.partition = partition;
    this.offset = offset;
    this.logStartOffset = logStartOffset;
    this.highWatermark = highWatermark;
  }
}

/** An expected-offset append found that the partition's tail had moved. */
export class ConcurrentAppendError extends TributaryError {
  readonly topic: string;
  readonly partition: number;
  readonly expectedOffset: number;
  readonly actualOffset: number;

  constructor(topic: string, partition: number, expectedOffset: number, actualOffset: number) {
    super(
      'CONCURRENT_APPEND',
      `Append to ${topic}[${partition}] expected the next offset to be ${expectedOffset} but it is ${actualOffset}: ` +
        'another writer appended first. Re-read the partition and retry with the new expected offset.',
    );
    this.topic = topic;
    this.partition = partition;
    this.expectedOffset = expectedOffset;
    this.actualOffset = actualOffset;
  }
}

/** Stored bytes failed their integrity check (CRC-32C) or are not a valid record batch. */
export class CorruptRecordError extends TributaryError {
  /** Where the bad bytes were read from (log item or S3 object), when known. */
  readonly location: string | undefined;

  constructor(message: string, location?: string) {
    super('CORRUPT_RECORD', location ? `${message} (in ${location})` : message);
    this.location = location;
  }
}

/** The stored log breaks an invariant (a gap or overlap in offsets). Never retried; report it. */
export class LogInvariantError extends TributaryError {
  constructor(message: string) {
    super('LOG_INVARIANT_VIOLATED', `${message}. This is a bug or data corruption; please report it.`);
  }
}

/** AWS throttled the request; it is safe and useful to retry after backoff. */
export class ThrottledError extends TributaryError {
  constructor(message: string, cause?: unknown) {
    super(
      'THROTTLED',
      `${message}. The table is over its capacity: retry with backoff, spread load over more partitions, or raise capacity.`,
      { retriable: true, cause },
    );
  }
}

/** A transient failure of AWS or the network; retrying may succeed. */
export class ServiceUnavailableError extends TributaryError {
  constructor(message: string, cause?: unknown) {
    super('SERVICE_UNAVAILABLE', message, { retriable: true, cause });
  }
}

/** An operation did not finish within its deadline. */
export class TimeoutError extends TributaryError {
  constructor(message: string, cause?: unknown) {
    super('TIMEOUT', message, { retriable: true, cause });
  }
}

/** The producer or consumer was closed; create a new one. */
export class ClientClosedError extends TributaryError {
  constructor(what: string) {
    super('CLIENT_CLOSED', `The ${what} is closed; create a new one to continue.`);
  }
}

/** The tables or bucket Tributary needs do not exist at the configured endpoint. */
export class StackNotReadyError extends TributaryError {
  constructor(message: string, cause?: unknown) {
    super('STACK_NOT_READY', message, { cause });
  }
}

/** The consumer group id is not valid. */
export class InvalidGroupIdError extends TributaryError {
  readonly groupId: string;

  constructor(groupId: string, reason: string) {
    super(
      'INVALID_GROUP_ID',
      `Invalid consumer group id "${groupId}": ${reason}. Use 1-249 characters from [a-zA-Z0-9._-].`,
    );
    this.groupId = groupId;
  }
}

/** The consumer group has never had a member (or was deleted). */
export class GroupNotFoundError extends TributaryError {
  readonly groupId: string;

  constructor(groupId: string) {
    super(
      'GROUP_NOT_FOUND',
      `Consumer group "${groupId}" does not exist. List groups with: tributary groups list`,
    );
    this.groupId = groupId;
  }
}

/** An operation that needs an inactive group found live members. */
export class GroupActiveError extends TributaryError {
  readonly groupId: string;
  readonly members: readonly string[];

  constructor(groupId: string, members: readonly string[], operation: string) {
    super(
      'GROUP_ACTIVE',
      `Cannot ${operation} consumer group "${groupId}" while it has active members (${members.join(', ')}). ` +
        'Stop them first, or pass force to do it anyway.',
    );
    this.groupId = groupId;
    this.members = members;
  }
}

/**
 * The group is coordinated by the other protocol: Tributary consumers cannot join a group while
 * Kafka clients (through the gateway) are its members, nor Kafka clients one whose Tributary
 * consumers are active — the two would each read every partition. Use another group id, or stop
 * the other members first.
 */
export class GroupProtocolMismatchError extends TributaryError {
  readonly groupId: string;
  /** The protocol of the group's current members. */
  readonly membersProtocol: 'kafka' | 'tributary';

  constructor(groupId: string, membersProtocol: 'kafka' | 'tributary') {
    super(
      'GROUP_PROTOCOL_MISMATCH',
      `Consumer group "${groupId}" has active ${membersProtocol === 'kafka' ? 'Kafka (gateway)' : 'Tributary'} members: ` +
        'a group is coordinated by one protocol at a time. Use another group id, or stop those members first.',
    );
    this.groupId = groupId;
    this.membersProtocol = membersProtocol;
  }
}

/**
 * This member no longer owns the partition's lease (another member took it over after a
 * rebalance, or after this member missed its session timeout). Processing of the partition must
 * stop; its offsets cannot be committed by this member any more.
 */
export class LeaseLostError extends TributaryError {
  readonly groupId: string;
  readonly topic: string;
  readonly partition: number;
  /**
   * Set only when a commit of several partitions on an MRSC deployment (no transactions: each
   * offset is written on its own) found this lease lost after its fences had been checked: the
   * offsets that same commit did write. The commit's other partitions were not written.
   */
  readonly committed: readonly CommittedOffset[] | undefined;

  constructor(groupId: string, topic: string, partition: number, committed?: readonly CommittedOffset[]) {
    super(
      'LEASE_LOST',
      `Member of group "${groupId}" lost ${topic}[${partition}] to another member (rebalance or session timeout); ` +
        'its records will be processed by the new owner from the last committed offset.' +
        (committed === undefined
          ? ''
          : ` The same commit had already written ${describeOffsets(committed)} (on MRSC, without transactions, ` +
            'a commit of several partitions writes each on its own); its other partitions were not written.'),
    );
    this.groupId = groupId;
    this.topic = topic;
    this.partition = partition;
    this.committed = committed;
  }
}

/** A partition and the offset a write of several partitions left there. */
export interface CommittedOffset {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
}

function describeOffsets(offsets: readonly CommittedOffset[]): string {
  if (offsets.length === 0) return 'no offset';
  return offsets.map((o) => `${o.topic}[${o.partition}]=${o.offset}`).join(', ');
}

/**
 * A group member got a partition with no usable committed offset while its `offsetReset` policy
 * is `'error'`. The partition stays paused until the application seeks it to a start position.
 */
export class NoCommittedOffsetError extends TributaryError {
  readonly groupId: string;
  readonly topic: string;
  readonly partition: number;

  constructor(groupId: string, topic: string, partition: number) {
    super(
      'NO_COMMITTED_OFFSET',
      `Group "${groupId}" has no committed offset for ${topic}[${partition}] (or it fell below the log start) and ` +
        "offsetReset is 'error': the partition is paused until you seek() it to a start position.",
    );
    this.groupId = groupId;
    this.topic = topic;
    this.partition = partition;
  }
}

/** The HTTP API refused the caller's credentials or IAM policy (HTTP 403). */
export class AccessDeniedError extends TributaryError {
  constructor(message: string) {
    super(
      'ACCESS_DENIED',
      `${message}. Every route needs a SigV4 signature from a principal granted execute-api:Invoke on it ` +
        '(grantProduce / grantConsume / grantAdmin of the stack).',
    );
  }
}

/** A request body is over what the API accepts (Lambda's 6 MB synchronous payload). Nothing was written. */
export class RequestTooLargeError extends TributaryError {
  readonly sizeBytes: number;
  readonly limitBytes: number;

  constructor(sizeBytes: number, limitBytes: number) {
    super(
      'REQUEST_TOO_LARGE',
      `The request body is ${sizeBytes} bytes, over the API's limit of ${limitBytes} bytes: send fewer records per request.`,
    );
    this.sizeBytes = sizeBytes;
    this.limitBytes = limitBytes;
  }
}

/** No API route matches the method and path. */
export class RouteNotFoundError extends TributaryError {
  constructor(method: string, path: string) {
    super('NOT_FOUND', `No route ${method} ${path}; see GET /v1/openapi.json for the API.`);
  }
}

/**
 * The operation is not available through this transport, or not in this deployment's layout (one
 * DynamoDB transaction across two regions). Nothing was written.
 */
export class UnsupportedOperationError extends TributaryError {
  constructor(message: string) {
    super('UNSUPPORTED_OPERATION', message);
  }
}

/** A request body is not `application/json` (HTTP 415). Nothing was written. */
export class UnsupportedMediaTypeError extends TributaryError {
  readonly contentType: string;

  constructor(contentType: string) {
    super(
      'UNSUPPORTED_MEDIA_TYPE',
      `The request body must be JSON sent as "content-type: application/json", not "${contentType || '(none)'}".`,
    );
    this.contentType = contentType;
  }
}

/** The request line and headers are over what the API accepts (HTTP 431). Nothing was written. */
export class HeadersTooLargeError extends TributaryError {
  readonly limitBytes: number;

  constructor(limitBytes: number) {
    super(
      'HEADERS_TOO_LARGE',
      `The request line and headers are over the API's limit of ${limitBytes} bytes: send long values in the body.`,
    );
    this.limitBytes = limitBytes;
  }
}

/**
 * The group session a caller sent is not one the API issued for this member (tampered,
 * malformed, expired, or the member has left or was removed). Join the group again.
 */
export class InvalidSessionError extends TributaryError {
  readonly groupId: string;
  readonly memberId: string;
  /**
   * True when a newer join of the same member id superseded this session (a static member's new
   * instance fenced this one, as Kafka's FENCED_INSTANCE_ID): joining again would fence it back.
   */
  readonly fenced: boolean;

  constructor(groupId: string, memberId: string, reason: string, options: { fenced?: boolean } = {}) {
    super(
      'INVALID_SESSION',
      `The session of member "${memberId}" of group "${groupId}" is not valid (${reason}); ` +
        (options.fenced ? 'another instance of this member joined since.' : 'join the group again.'),
    );
    this.groupId = groupId;
    this.memberId = memberId;
    this.fenced = options.fenced ?? false;
  }
}

/** A join asked for the member id of a member that is still in the group (only static members take an id over). */
export class MemberIdInUseError extends TributaryError {
  readonly groupId: string;
  readonly memberId: string;

  constructor(groupId: string, memberId: string) {
    super(
      'MEMBER_ID_IN_USE',
      `Group "${groupId}" already has a member "${memberId}"; join without a memberId to get a new one, or use ` +
        'instanceId (static membership) to take over an identity on purpose.',
    );
    this.groupId = groupId;
    this.memberId = memberId;
  }
}

/**
 * An idempotent produce request with this producer id and sequence is still being appended by an
 * earlier attempt (its response was lost or is late). Retry after a backoff: the retry is answered
 * with that attempt's offsets once it finished, and never appends twice.
 */
export class ProduceInProgressError extends TributaryError {
  readonly topic: string;
  readonly partition: number;
  readonly producerId: string;
  readonly sequence: number;

  constructor(topic: string, partition: number, producerId: string, sequence: number) {
    super(
      'PRODUCE_IN_PROGRESS',
      `An earlier attempt of producer ${producerId}'s batch (sequence ${sequence}) to ${topic}[${partition}] is ` +
        'still in progress; retry shortly (the retry is recognised, never appended twice).',
      { retriable: true },
    );
    this.topic = topic;
    this.partition = partition;
    this.producerId = producerId;
    this.sequence = sequence;
  }
}

/**
 * An idempotent producer's sequence number is not the next one the partition expects (Kafka's
 * OUT_OF_ORDER_SEQUENCE_NUMBER): a batch was skipped, or the producer's state was lost. Nothing was
 * written; start a new producer (a new producer id).
 */
export class OutOfOrderSequenceError extends TributaryError {
  readonly topic: string;
  readonly partition: number;
  readonly producerId: string;
  readonly sequence: number;
  readonly expectedSequence: number;

  constructor(
    topic: string,
    partition: number,
    producerId: string,
    sequence: number,
    expectedSequence: number,
  ) {
    super(
      'OUT_OF_ORDER_SEQUENCE',
      `Producer ${producerId} sent sequence ${sequence} to ${topic}[${partition}], but the next expected is ` +
        `${expectedSequence}; nothing was written. Create a new producer to continue.`,
    );
    this.topic = topic;
    this.partition = partition;
    this.producerId = producerId;
    this.sequence = sequence;
    this.expectedSequence = expectedSequence;
  }
}

/**
 * A produce request without idempotence (no producer id) was appended to some partitions and failed
 * on others. `appended` says which records landed (and where); the rest were not written. Retrying
 * the whole request would write the appended ones twice: send only the failed ones, or use an
 * idempotent request (the SDK's producer does by default).
 */
export class PartiallyAppendedError extends TributaryError {
  readonly topic: string;
  /** Records that landed: index in the request, partition, offset and timestamp as stored. */
  readonly appended: readonly {
    readonly index: number;
    readonly partition: number;
    readonly offset: number;
    readonly timestamp: number;
  }[];
  /** Records that were not written, with the code of the failure. */
  readonly failed: readonly { readonly index: number; readonly partition: number; readonly code: string }[];

  constructor(
    topic: string,
    appended: PartiallyAppendedError['appended'],
    failed: PartiallyAppendedError['failed'],
  ) {
    super(
      'PARTIALLY_APPENDED',
      `${appended.length} record(s) of the request to "${topic}" were appended and ${failed.length} were not; ` +
        'retry only the failed ones (or send with a producer id, which makes retries safe).',
    );
    this.topic = topic;
    this.appended = appended;
    this.failed = failed;
  }
}

/**
 * Resetting a group's offsets on an MRSC deployment (no transactions: each partition's offset is
 * written on its own) stopped part-way: the partitions in `reset` have their new offsets, those in
 * `notReset` kept their old ones (`cause` says why). Repeating the reset writes the same targets
 * and finishes it; until then the group's offsets are a mix of both.
 */
export class PartiallyResetError extends TributaryError {
  readonly groupId: string;
  /** Offsets written. */
  readonly reset: readonly CommittedOffset[];
  /** Offsets that were to be written and were not. */
  readonly notReset: readonly CommittedOffset[];

  constructor(
    groupId: string,
    reset: readonly CommittedOffset[],
    notReset: readonly CommittedOffset[],
    cause: unknown,
  ) {
    super(
      'PARTIALLY_RESET',
      `Resetting offsets of group "${groupId}" wrote ${describeOffsets(reset)} and not ${describeOffsets(notReset)} ` +
        `(${cause instanceof Error ? cause.message : String(cause)}). On MRSC, without transactions, each partition ` +
        'is reset on its own: repeat the reset to finish it.',
      { retriable: true, cause },
    );
    this.groupId = groupId;
    this.reset = reset;
    this.notReset = notReset;
  }
}

/**
 * A trigger (Lambda event source mapping) setting is not valid: `setting` names it (a dotted path
 * such as `filterCriteria.filters[1].pattern`), `value` renders what was given and `allowed` says
 * what would be accepted. Nothing was stored.
 */
export class InvalidTriggerError extends TributaryError {
  readonly setting: string;
  readonly value: string;
  readonly allowed: string;

  constructor(setting: string, value: unknown, allowed: string, options: { cause?: unknown } = {}) {
    const shown = renderSettingValue(value);
    super('INVALID_TRIGGER', `Invalid trigger setting ${setting}: ${shown}; ${allowed}.`, options);
    this.setting = setting;
    this.value = shown;
    this.allowed = allowed;
  }
}

/** No trigger has this name. */
export class TriggerNotFoundError extends TributaryError {
  readonly trigger: string;

  constructor(trigger: string) {
    super(
      'TRIGGER_NOT_FOUND',
      `Trigger "${trigger}" does not exist. List triggers with: tributary triggers list`,
    );
    this.trigger = trigger;
  }
}

/** A trigger with this name exists already. */
export class TriggerAlreadyExistsError extends TributaryError {
  readonly trigger: string;

  constructor(trigger: string) {
    super('TRIGGER_ALREADY_EXISTS', `Trigger "${trigger}" already exists. Update it, or delete it first.`);
    this.trigger = trigger;
  }
}

/** The Lambda function a trigger names does not exist (or the caller may not see it). */
export class FunctionNotFoundError extends TributaryError {
  readonly functionName: string;

  constructor(functionName: string, detail?: string) {
    super(
      'FUNCTION_NOT_FOUND',
      `Lambda function "${functionName}" was not found${detail ? ` (${detail})` : ''}. Deploy it (or register it ` +
        'with the local stack: npm start -- --function name=./handler.ts) before creating the trigger.',
    );
    this.functionName = functionName;
  }
}

/**
 * A `tributary/lambda` handler was invoked with an event that is not a Kafka event source mapping
 * event (Tributary's trigger, MSK or self-managed Kafka): `path` names the part that is wrong
 * (`eventSource`, `records["orders-3"][1].offset`). Nothing was processed; thrown out of the
 * handler, it makes the trigger retry the whole batch.
 */
export class InvalidKafkaEventError extends TributaryError {
  readonly path: string;

  constructor(path: string, problem: string) {
    super(
      'INVALID_KAFKA_EVENT',
      `Not a Kafka event source mapping event: ${path} ${problem}. A kafkaHandler() takes the event of a ` +
        'Tributary trigger or of an MSK / self-managed Kafka event source mapping.',
    );
    this.path = path;
  }
}

/** Which part of a Kafka event record could not be decoded. */
export type KafkaRecordField = 'key' | 'value' | 'headers' | 'timestamp' | 'timestampType';

/**
 * One record of a Kafka event could not be decoded: its key or value is not base64 or was refused
 * by the deserializer (`cause`), or its headers or timestamp are malformed. The record counts as
 * failed (it is reported in the partial batch response); the rest of the batch is processed.
 */
export class RecordDeserializationError extends TributaryError {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
  readonly field: KafkaRecordField;

  constructor(
    topic: string,
    partition: number,
    offset: number,
    field: KafkaRecordField,
    detail: string,
    options: { cause?: unknown } = {},
  ) {
    super(
      'RECORD_DESERIALIZATION_FAILED',
      `Cannot deserialize the ${field} of ${topic}-${partition}@${offset}: ${detail}`,
      options,
    );
    this.topic = topic;
    this.partition = partition;
    this.offset = offset;
    this.field = field;
  }
}

/**
 * Every record of a Kafka event failed (or was not processed because an earlier record of its
 * partition failed), and the handler throws rather than report them all, as Powertools' batch
 * utility does: a function error lets a trigger with `bisectBatchOnFunctionError` split the batch,
 * which isolates a poison record. `failures` holds each record's error; `cause` is the first.
 */
export class FullBatchFailureError extends TributaryError {
  /** The records that failed, in event order, with what they threw. */
  readonly failures: readonly {
    readonly topic: string;
    readonly partition: number;
    readonly offset: number;
    readonly error: unknown;
  }[];
  /** Records of the event, failed or not processed: all of them. */
  readonly recordCount: number;

  constructor(failures: FullBatchFailureError['failures'], recordCount: number) {
    const first = failures[0];
    const detail =
      first === undefined
        ? ''
        : ` The first, ${first.topic}-${first.partition}@${first.offset}: ${describeError(first.error)}`;
    super(
      'FULL_BATCH_FAILURE',
      `All ${recordCount} record(s) of the batch failed, or were not processed after a failure in their ` +
        `partition; ${failures.length} error(s).${detail}`,
      // Lambda retries the batch: whether that succeeds depends on what each record ran into.
      { retriable: true, cause: first?.error },
    );
    this.failures = failures;
    this.recordCount = recordCount;
  }
}

function describeError(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

/** A short, printable rendering of a rejected value (long ones are cut, so errors stay readable on the wire). */
function renderSettingValue(value: unknown): string {
  let text: string;
  try {
    text = value === undefined ? 'undefined' : (JSON.stringify(value) ?? String(value));
  } catch {
    // Cyclic or nested too deeply to print (String() of such an array overflows the stack too).
    text = Array.isArray(value) ? '(an array nested too deeply to show)' : `(${typeof value})`;
  }
  return text.length > 200 ? `${text.slice(0, 197)}...` : text;
}

/**
 * A region named in the client's options (`region`, `groupRegion`) or stored as a topic's home is
 * not one of the deployment's regions (`regions`, or `TRIBUTARY_REGIONS`). Nothing was written.
 */
export class UnknownRegionError extends TributaryError {
  readonly region: string;
  /** The deployment's regions, home region first. */
  readonly regions: readonly string[];

  constructor(region: string, regions: readonly string[], what: string) {
    super(
      'UNKNOWN_REGION',
      `${what} "${region}" is not one of the deployment's regions (${regions.join(', ')}). ` +
        'List every region the tables are replicated to in `regions` (home region first).',
    );
    this.region = region;
    this.regions = regions;
  }
}

/**
 * An append was refused because the topic's home region is not the client's region and the client
 * asked to be refused rather than forwarded (`appends: 'refuse'`). Nothing was written: append
 * from a client in `homeRegion`, or let this one forward (`appends: 'forward'`, the default).
 */
export class NotHomeRegionError extends TributaryError {
  readonly topic: string;
  /** The region that takes the topic's appends. */
  readonly homeRegion: string;
  /** The client's own region. */
  readonly region: string;

  constructor(topic: string, homeRegion: string, region: string) {
    super(
      'NOT_HOME_REGION',
      `Topic "${topic}" takes appends in its home region ${homeRegion}, and this client (region ${region}) ` +
        "refuses to forward them (appends: 'refuse'). Nothing was written. Append from " +
        `${homeRegion}, or use appends: 'forward'.`,
    );
    this.topic = topic;
    this.homeRegion = homeRegion;
    this.region = region;
  }
}

/**
 * An append met a planned failover's fence: the topic's home moved to `region` (leader epoch
 * `epoch`) and its old home takes no more appends. Nothing was written. Retriable: refresh the
 * topic's metadata (the switch is written in the new home first) and append there; the producers
 * do this themselves, and the API answers with this error so that its clients retry.
 */
export class TopicMovedError extends TributaryError {
  readonly topic: string;
  readonly partition: number;
  /** The new home region. */
  readonly region: string;
  /** The leader epoch the log continues in. */
  readonly epoch: number;

  constructor(topic: string, partition: number, region: string, epoch: number) {
    super(
      'TOPIC_MOVED',
      `Topic "${topic}" partition ${partition} is moving to region ${region} (leader epoch ${epoch}) by a ` +
        'failover: its old home takes no more appends. Nothing was written. Refresh the topic and append ' +
        `in ${region}; retry shortly if the failover is still waiting for ${region} to hold the log.`,
      { retriable: true },
    );
    this.topic = topic;
    this.partition = partition;
    this.region = region;
    this.epoch = epoch;
  }
}

/** Why a failover was refused. */
export type FailoverRefusal =
  /** The topic is already homed in the target region. */
  | 'already-home'
  /** The target region holds no replica of the topic (no tables there, or not this incarnation). */
  | 'no-replica'
  /** Another failover of the topic ran meanwhile (or left its fences, to another region or epoch). */
  | 'concurrent-failover';

/**
 * A failover was refused before it changed anything: the target is the current home, holds no
 * replica of the topic, or another failover got there first. `reason` says which.
 */
export class InvalidFailoverError extends TributaryError {
  readonly topic: string;
  /** The region the failover was asked to move the topic to. */
  readonly region: string;
  readonly reason: FailoverRefusal;

  constructor(topic: string, region: string, reason: FailoverRefusal, detail: string) {
    super(
      'INVALID_FAILOVER',
      `Cannot fail topic "${topic}" over to ${region}: ${detail}. Nothing was changed.`,
    );
    this.topic = topic;
    this.region = region;
    this.reason = reason;
  }
}

/** The API failed unexpectedly; its logs hold the details (search for the request id). */
export class InternalError extends TributaryError {
  readonly requestId: string | undefined;

  constructor(message: string, requestId?: string, options: { retriable?: boolean } = {}) {
    super('INTERNAL_ERROR', requestId ? `${message} (request ${requestId})` : message, options);
    this.requestId = requestId;
  }
}
