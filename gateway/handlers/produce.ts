/**
 * Produce: each partition's RecordBatch is checked whole (magic, CRC, decoding, Kafka's rules for
 * produced batches) and stored as the client wrote it at the slot the offset chain gives it, or
 * refused with Kafka's error code having written nothing. Partitions of one request are appended
 * concurrently; acks 1 and -1 are answered alike once DynamoDB acknowledged the write (which is
 * already durable across zones), acks 0 not at all (a failure closes the connection, as in Kafka). A partition that has not settled within the
 * request's `timeoutMs` is answered REQUEST_TIMED_OUT while its append goes on (an idempotent
 * producer's retry is recognised, as in Kafka).
 *
 * Produce v0-v2 are advertised only because librdkafka before 2.10 compresses with gzip, snappy
 * and lz4 only for a broker whose range reaches v0 (clients send v3+ when the broker has it); their
 * MessageSet v0/v1 is not stored: UNSUPPORTED_FOR_MESSAGE_FORMAT.
 *
 * Idempotent batches (a producer id ≥ 0) are appended once per (producer id, epoch, sequence) on
 * any gateway: a retry of the producer's latest batch gets its original offset; a sequence behind
 * the partition's next one DUPLICATE_SEQUENCE_NUMBER, a gap OUT_OF_ORDER_SEQUENCE_NUMBER, a fenced
 * epoch INVALID_PRODUCER_EPOCH. The connection's {@link SequenceGate} holds back the batches after
 * one that failed retriably.
 */
import { TributaryError } from '../../sdk/src/index.ts';
import {
  type BatchProblem,
  inspectProducedBatch,
  isBatchProblem,
  type RawAppendOutcome,
} from '../../sdk/src/internal.ts';
import { type Handler, NO_RESPONSE, type RequestScope } from '../context.ts';
import { KafkaError, type KafkaErrorCode, kafkaErrorOf } from '../kafka-errors.ts';
import type { ResponseInput } from '../protocol/index.ts';
import type { SequencedBatchKey } from '../sequence-gate.ts';
import { isFailure, TopicLookup } from '../topic-lookup.ts';

type PartitionResponse = ResponseInput<'Produce'>['responses'][number]['partitionResponses'][number];

/** The first Produce version with INVALID_RECORD (KIP-467); older ones get CORRUPT_MESSAGE for it. */
const INVALID_RECORD_VERSION = 8;
/** The first Produce version that carries RecordBatch v2 (v0-v2 carry MessageSet v0/v1). */
const RECORD_BATCH_VERSION = 3;

/** Kafka's `acks`: none, the leader, all in-sync replicas. */
const VALID_ACKS: ReadonlySet<number> = new Set([0, 1, -1]);

export const handleProduce: Handler<'Produce'> = async (request, scope) => {
  const { body, header } = request;
  const version = header.apiVersion;
  const lookup = new TopicLookup(scope.gateway);
  const seen = new Set<string>();
  const deadline = deadlineAfter(body.timeoutMs);
  try {
    const responses = await Promise.all(
      body.topicData.map(async (topicData) => ({
        name: topicData.name,
        partitionResponses: await Promise.all(
          topicData.partitionData.map((partitionData): Promise<PartitionResponse> => {
            const key = `${topicData.name}\0${partitionData.index}`;
            if (seen.has(key)) {
              return Promise.resolve(
                failed(partitionData.index, KafkaError.INVALID_REQUEST, 'The partition is named twice'),
              );
            }
            seen.add(key);
            if (!VALID_ACKS.has(body.acks)) {
              return Promise.resolve(
                failed(
                  partitionData.index,
                  KafkaError.INVALID_REQUIRED_ACKS,
                  `acks ${body.acks} is not 0, 1 or -1`,
                ),
              );
            }
            if (version < RECORD_BATCH_VERSION) {
              return Promise.resolve(
                failed(
                  partitionData.index,
                  KafkaError.UNSUPPORTED_FOR_MESSAGE_FORMAT,
                  'Produce v0-v2 carry MessageSet v0/v1; Tributary stores RecordBatch v2 (Produce v3+)',
                ),
              );
            }
            if (body.transactionalId !== null) {
              return Promise.resolve(
                failed(partitionData.index, KafkaError.INVALID_TXN_STATE, 'Transactions are not supported'),
              );
            }
            return producePartition(
              scope,
              lookup,
              version,
              topicData.name,
              partitionData.index,
              partitionData.records,
              deadline.expired,
            );
          }),
        ),
      })),
    );
    if (body.acks === 0) {
      // Kafka's way of telling an acks-0 producer that something failed: it closes the connection.
      const failures = responses.flatMap((t) =>
        t.partitionResponses.filter((p) => p.errorCode !== KafkaError.NONE),
      );
      if (failures.length > 0)
        scope.closeAfter(`an acks=0 produce failed: ${failures[0]?.errorMessage ?? ''}`);
      return NO_RESPONSE;
    }
    return { responses, throttleTimeMs: 0 };
  } finally {
    deadline.clear();
  }
};

async function producePartition(
  scope: RequestScope,
  lookup: TopicLookup,
  version: number,
  topicName: string,
  partition: number,
  records: Uint8Array | null,
  expired: Promise<'timed-out'>,
): Promise<PartitionResponse> {
  const invalidRecord =
    version >= INVALID_RECORD_VERSION ? KafkaError.INVALID_RECORD : KafkaError.CORRUPT_MESSAGE;
  const topic = await lookup.partition(topicName, partition);
  if (isFailure(topic)) return failed(partition, topic.code, topic.message);
  if (records === null || records.length === 0) {
    return failed(partition, invalidRecord, 'The partition carries no record batch');
  }
  // Cheap, before decompressing anything: the batch as sent is over the topic's limit.
  if (records.length > topic.config.maxMessageBytes) {
    return failed(
      partition,
      KafkaError.MESSAGE_TOO_LARGE,
      `The batch has ${records.length} bytes; topic "${topic.name}" has max.message.bytes=${topic.config.maxMessageBytes}`,
    );
  }
  const batch = await inspectProducedBatch(records);
  if (isBatchProblem(batch)) return failed(partition, problemCode(batch, invalidRecord), batch.message);
  const sequenced: SequencedBatchKey | undefined =
    batch.producer.producerId < 0n
      ? undefined
      : {
          producerId: batch.producer.producerId,
          producerEpoch: batch.producer.producerEpoch,
          topic: topic.name,
          partition,
          baseSequence: batch.producer.baseSequence,
        };
  if (sequenced && !scope.sequences.admits(sequenced)) {
    return failed(
      partition,
      KafkaError.OUT_OF_ORDER_SEQUENCE_NUMBER,
      'An earlier batch of this producer to this partition failed on this connection; resend it first',
    );
  }
  const appending = scope.gateway.appender.append(topic, partition, batch);
  let outcome: RawAppendOutcome | 'timed-out';
  try {
    outcome = await Promise.race([appending, expired]);
  } catch (error) {
    const failure = kafkaErrorOf(error);
    if (sequenced) {
      // Only a definite refusal settles the batch; anything else may still have landed.
      if (error instanceof TributaryError && !error.retriable) scope.sequences.settled(sequenced);
      else scope.sequences.failed(sequenced);
    }
    if (failure.code === KafkaError.UNKNOWN_SERVER_ERROR) {
      scope.gateway.log(`Produce to ${topic.name}[${partition}] failed: ${failure.message}`);
    }
    return failed(partition, failure.code, failure.message);
  }
  if (outcome === 'timed-out') {
    // The append goes on; its outcome is the retry's to learn.
    appending.catch(() => undefined);
    if (sequenced) scope.sequences.failed(sequenced);
    return failed(partition, KafkaError.REQUEST_TIMED_OUT, 'The append did not settle within timeoutMs');
  }
  if (sequenced) scope.sequences.settled(sequenced);
  if (outcome.kind === 'refused') {
    const code = REFUSAL_CODES[outcome.reason];
    return failed(
      partition,
      code,
      `Producer ${batch.producer.producerId} sent sequence ${batch.producer.baseSequence} (epoch ` +
        `${batch.producer.producerEpoch}); the partition expects ${outcome.expectedSequence}`,
    );
  }
  return {
    index: partition,
    errorCode: KafkaError.NONE,
    baseOffset: BigInt(outcome.baseOffset),
    logAppendTimeMs: BigInt(outcome.logAppendTime),
    logStartOffset: -1n,
    recordErrors: [],
    errorMessage: null,
  };
}

const REFUSAL_CODES = {
  duplicate: KafkaError.DUPLICATE_SEQUENCE_NUMBER,
  'out-of-order': KafkaError.OUT_OF_ORDER_SEQUENCE_NUMBER,
  'fenced-epoch': KafkaError.INVALID_PRODUCER_EPOCH,
} as const;

function problemCode(problem: BatchProblem, invalidRecord: KafkaErrorCode): KafkaErrorCode {
  switch (problem.kind) {
    case 'corrupt':
      return KafkaError.CORRUPT_MESSAGE;
    case 'invalid':
      return invalidRecord;
    case 'transactional':
      return KafkaError.INVALID_TXN_STATE;
  }
}

function failed(index: number, errorCode: KafkaErrorCode, message: string): PartitionResponse {
  return {
    index,
    errorCode,
    baseOffset: -1n,
    logAppendTimeMs: -1n,
    logStartOffset: -1n,
    recordErrors: [],
    errorMessage: message,
  };
}

/** A promise that resolves once `timeoutMs` has passed (never, for a negative or huge value). */
function deadlineAfter(timeoutMs: number): { expired: Promise<'timed-out'>; clear: () => void } {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<'timed-out'>((resolve) => {
    if (timeoutMs >= 0 && timeoutMs <= 0x7fffffff) timer = setTimeout(() => resolve('timed-out'), timeoutMs);
  });
  return { expired, clear: () => clearTimeout(timer) };
}
