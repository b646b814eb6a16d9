/**
 * A record batch as a Kafka producer sent it (the Kafka gateway's Produce), checked whole before
 * anything is written: exactly one RecordBatch v2 (magic 2) whose CRC-32C matches, that decodes
 * (decompression included) into records at offset deltas 0..n-1, with consistent producer fields
 * and no transaction or control bits. What is wrong comes back as a {@link BatchProblem} value
 * (the gateway answers it with Kafka's error code); only a checked batch can be appended
 * (`raw-batch-append.ts`).
 *
 * The batch is kept as the client wrote it. Like a Kafka broker, the checks correct one field:
 * a maxTimestamp that is not the largest record timestamp (kafkajs computes it from the records
 * that carry a timestamp only) is rewritten and the CRC recomputed, because the log's timestamp
 * index (the running max timestamp) relies on it. baseOffset and partitionLeaderEpoch lie outside
 * the CRC; the appender sets the baseOffset to the slot the batch lands in.
 */
import { CorruptRecordError } from '../errors.ts';
import type { BatchProducer } from './batch-writer.ts';
import { crc32c } from './crc32c.ts';
import { type BatchHeader, type DecodedRecord, decodeRecordBatch } from './record-batch.ts';

/** Fixed-position fields of the v2 header this module reads or rewrites (see `record-batch.ts`). */
const POS_BATCH_LENGTH = 8;
const POS_MAGIC = 16;
const POS_CRC = 17;
const POS_ATTRIBUTES = 21;
const POS_MAX_TIMESTAMP = 35;
/** baseOffset and batchLength: the bytes before the batch's own length counts. */
const LOG_OVERHEAD = 12;
const TIMESTAMP_TYPE_LOG_APPEND = 0x08;
const TWO_POW_32 = 0x100000000;

/** A batch that passed every check, ready to append. */
export interface ProducedBatch {
  /** The batch as it will be stored (the client's bytes, maxTimestamp corrected if it had to be). */
  readonly bytes: Uint8Array;
  readonly header: BatchHeader;
  /** The records, at offsets `header.baseOffset + 0 .. n - 1`. */
  readonly records: readonly DecodedRecord[];
  /** Largest record timestamp (what `bytes` says now). */
  readonly maxTimestamp: number;
  /** The idempotence fields of the header; `producerId` is `-1n` for a producer without idempotence. */
  readonly producer: BatchProducer;
}

/** Why a produced batch is refused (nothing is written). */
export type BatchProblem =
  /** Not a v2 batch, a CRC mismatch, bytes that do not decode: Kafka's CORRUPT_MESSAGE. */
  | { readonly kind: 'corrupt'; readonly message: string }
  /** A well-formed batch Kafka would not accept either (INVALID_RECORD). */
  | { readonly kind: 'invalid'; readonly message: string }
  /** A transactional batch: transactions are not supported (Kafka's INVALID_TXN_STATE). */
  | { readonly kind: 'transactional'; readonly message: string };

/**
 * Checks one produced batch (see the module comment). Never throws for bad bytes: every problem
 * is a {@link BatchProblem}.
 */
export async function inspectProducedBatch(bytes: Uint8Array): Promise<ProducedBatch | BatchProblem> {
  if (bytes.length > POS_MAGIC && bytes[POS_MAGIC] !== 2) {
    return {
      kind: 'corrupt',
      message: `Record batch magic ${bytes[POS_MAGIC]}: only RecordBatch v2 (magic 2) is accepted`,
    };
  }
  if (bytes.length >= LOG_OVERHEAD) {
    const declared = LOG_OVERHEAD + viewOf(bytes).getInt32(POS_BATCH_LENGTH);
    if (declared > 0 && declared < bytes.length) {
      return {
        kind: 'invalid',
        message: `A partition's records must be exactly one batch; ${bytes.length - declared} bytes follow the first`,
      };
    }
  }
  let decoded: Awaited<ReturnType<typeof decodeRecordBatch>>;
  try {
    decoded = await decodeRecordBatch(bytes);
  } catch (error) {
    if (error instanceof CorruptRecordError) return { kind: 'corrupt', message: error.message };
    throw error;
  }
  const { records, ...header } = decoded;
  const problem = problemOf(header, records);
  if (problem) return problem;
  const maxTimestamp = records.reduce((max, r) => Math.max(max, r.timestamp), -1);
  return {
    bytes: header.maxTimestamp === maxTimestamp ? bytes : withMaxTimestamp(bytes, maxTimestamp),
    header,
    records,
    maxTimestamp,
    producer: {
      producerId: header.producerId,
      producerEpoch: header.producerEpoch,
      baseSequence: header.baseSequence,
    },
  };
}

/** True when `value` is a {@link BatchProblem}. */
export function isBatchProblem(value: ProducedBatch | BatchProblem): value is BatchProblem {
  return 'kind' in value;
}

function problemOf(header: BatchHeader, records: readonly DecodedRecord[]): BatchProblem | undefined {
  if (header.isTransactional) {
    return { kind: 'transactional', message: 'Transactional batches are not supported' };
  }
  if (header.isControl) {
    return { kind: 'invalid', message: 'A producer may not send control batches' };
  }
  if (header.timestampType === 'log-append') {
    return {
      kind: 'invalid',
      message: 'A producer sends CreateTime batches; LogAppendTime is set by the log',
    };
  }
  if (records.length === 0) return { kind: 'invalid', message: 'The batch holds no records' };
  // decodeRecordBatch checked the deltas increase within 0..lastOffsetDelta; with n records and
  // lastOffsetDelta n - 1 they are exactly 0..n-1, so the batch covers as many offsets as records.
  if (header.lastOffsetDelta !== records.length - 1) {
    return {
      kind: 'invalid',
      message: `The batch covers ${header.lastOffsetDelta + 1} offsets for ${records.length} records; offset deltas must be 0..n-1`,
    };
  }
  const { producerId, producerEpoch, baseSequence } = header;
  if (producerId < -1n) return { kind: 'invalid', message: `Producer id ${producerId} is negative` };
  if (producerId >= 0n && (producerEpoch < 0 || baseSequence < 0)) {
    return {
      kind: 'invalid',
      message: `Producer ${producerId} sent epoch ${producerEpoch} and base sequence ${baseSequence}; both must be ≥ 0`,
    };
  }
  return undefined;
}

/** A copy of `bytes` with maxTimestamp rewritten and the CRC recomputed. */
function withMaxTimestamp(bytes: Uint8Array, maxTimestamp: number): Uint8Array {
  const copy = new Uint8Array(bytes);
  writeInt64(viewOf(copy), POS_MAX_TIMESTAMP, maxTimestamp);
  return resealed(copy);
}

/**
 * A copy of a checked batch stamped with the log's append time, as a Kafka broker stores batches
 * of a `LogAppendTime` topic: the timestamp type bit set, maxTimestamp the append time (which
 * every record then reads as its timestamp), the CRC recomputed.
 */
export function withLogAppendTime(bytes: Uint8Array, appendTime: number): Uint8Array {
  const copy = new Uint8Array(bytes);
  const view = viewOf(copy);
  view.setInt16(POS_ATTRIBUTES, view.getInt16(POS_ATTRIBUTES) | TIMESTAMP_TYPE_LOG_APPEND);
  writeInt64(view, POS_MAX_TIMESTAMP, appendTime);
  return resealed(copy);
}

function resealed(bytes: Uint8Array): Uint8Array {
  viewOf(bytes).setUint32(POS_CRC, crc32c(bytes.subarray(POS_ATTRIBUTES)));
  return bytes;
}

function viewOf(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function writeInt64(view: DataView, pos: number, value: number): void {
  const high = Math.floor(value / TWO_POW_32);
  view.setInt32(pos, high);
  view.setUint32(pos + 4, value - high * TWO_POW_32);
}
