/**
 * Fetch: the stored RecordBatches of each partition from the fetch offset, as they are (the batch
 * holding the offset first; the client skips the records before it), from DynamoDB or S3, never
 * past the high watermark. It long-polls: until `minBytes` are there, an error is to be reported,
 * `maxWaitMs` has passed (bounded by the gateway's longest wait) or the connection closed, it
 * looks again after a pause that grows from 50 to 500 ms.
 *
 * Limits as Kafka's: at most `partitionMaxBytes` per partition and `maxBytes` in all, except that
 * the first partition with records returns its first batch whatever its size, so a consumer always
 * progresses. Fetch sessions (KIP-227) are not kept: every answer has session id 0, which tells
 * clients to send full fetches, and a request naming a session is answered
 * FETCH_SESSION_ID_NOT_FOUND. There are no transactions, so the last stable offset is the high
 * watermark and no transaction is ever aborted.
 */
import { OffsetOutOfRangeError } from '../../sdk/src/index.ts';
import { mapLimited, type RawFetchResult } from '../../sdk/src/internal.ts';
import type { Handler, RequestOf, RequestScope } from '../context.ts';
import { KafkaError, type KafkaErrorCode, kafkaErrorOf } from '../kafka-errors.ts';
import type { ResponseInput } from '../protocol/index.ts';
import { isFailure, TopicLookup } from '../topic-lookup.ts';

type PartitionData = ResponseInput<'Fetch'>['responses'][number]['partitions'][number];

/** First and longest pause between looks while a fetch waits for `minBytes`. */
const POLL_MIN_MS = 50;
const POLL_MAX_MS = 500;

const EMPTY = new Uint8Array(0);

/** One partition's answer before the response's byte limit is applied. */
interface PartitionRead {
  readonly topic: string;
  readonly partition: number;
  readonly errorCode: KafkaErrorCode;
  readonly highWatermark: number;
  readonly logStartOffset: number;
  readonly batches: readonly Uint8Array[];
  readonly bytes: number;
}

export const handleFetch: Handler<'Fetch'> = async (request, scope) => {
  const { body } = request;
  if (body.sessionId !== 0) {
    return {
      throttleTimeMs: 0,
      errorCode: KafkaError.FETCH_SESSION_ID_NOT_FOUND,
      sessionId: 0,
      responses: [],
    };
  }
  const wanted = body.topics.flatMap((t) =>
    t.partitions.map((p) => ({
      topic: t.topic,
      partition: p.partition,
      offset: p.fetchOffset,
      maxBytes: Math.max(0, Math.min(p.partitionMaxBytes, body.maxBytes)),
    })),
  );
  const waitMs = Math.max(0, Math.min(body.maxWaitMs, scope.gateway.maxFetchWaitMs));
  const deadline = Date.now() + waitMs;
  let reads: PartitionRead[];
  for (let pause = POLL_MIN_MS; ; pause = Math.min(POLL_MAX_MS, pause * 2)) {
    const lookup = new TopicLookup(scope.gateway);
    reads = await mapLimited(wanted, scope.gateway.readConcurrency, (w) => readPartition(scope, lookup, w));
    const bytes = reads.reduce((n, r) => n + r.bytes, 0);
    const left = deadline - Date.now();
    if (
      bytes >= body.minBytes ||
      reads.some((r) => r.errorCode !== KafkaError.NONE) ||
      left <= 0 ||
      scope.signal.aborted
    ) {
      break;
    }
    await pauseFor(Math.min(pause, left), scope.signal);
  }
  return {
    throttleTimeMs: 0,
    errorCode: KafkaError.NONE,
    sessionId: 0,
    responses: responsesOf(request, withinLimit(reads, body.maxBytes)),
  };
};

async function readPartition(
  scope: RequestScope,
  lookup: TopicLookup,
  wanted: { topic: string; partition: number; offset: bigint; maxBytes: number },
): Promise<PartitionRead> {
  const { topic: name, partition } = wanted;
  const nothing = { topic: name, partition, batches: [], bytes: 0 };
  const topic = await lookup.partition(name, partition);
  if (isFailure(topic)) return { ...nothing, errorCode: topic.code, highWatermark: -1, logStartOffset: -1 };
  const offset = Number(wanted.offset);
  let result: RawFetchResult;
  try {
    if (!Number.isSafeInteger(offset) || offset < 0) {
      const [highWatermark, logStartOffset] = await Promise.all([
        scope.gateway.reader.highWatermark(topic, partition),
        scope.gateway.reader.logStartOffset(topic, partition),
      ]);
      return { ...nothing, errorCode: KafkaError.OFFSET_OUT_OF_RANGE, highWatermark, logStartOffset };
    }
    result = await scope.gateway.reader.fetch(topic, partition, offset, wanted.maxBytes, true);
  } catch (error) {
    if (error instanceof OffsetOutOfRangeError) {
      return {
        ...nothing,
        errorCode: KafkaError.OFFSET_OUT_OF_RANGE,
        highWatermark: error.highWatermark,
        logStartOffset: error.logStartOffset,
      };
    }
    const failure = kafkaErrorOf(error);
    if (failure.code === KafkaError.UNKNOWN_SERVER_ERROR) {
      scope.gateway.log(`Fetch of ${name}[${partition}] failed: ${failure.message}`);
    }
    return { ...nothing, errorCode: failure.code, highWatermark: -1, logStartOffset: -1 };
  }
  return {
    topic: name,
    partition,
    errorCode: KafkaError.NONE,
    highWatermark: result.highWatermark,
    logStartOffset: result.logStartOffset,
    batches: result.batches,
    bytes: result.bytes,
  };
}

/**
 * Applies the response's `maxBytes` in request order: partitions keep their batches while they
 * fit, except the first partition with any, which keeps at least its first batch.
 */
function withinLimit(reads: readonly PartitionRead[], maxBytes: number): PartitionRead[] {
  let left = maxBytes;
  let first = true;
  return reads.map((read) => {
    if (read.batches.length === 0) return read;
    const kept: Uint8Array[] = [];
    let bytes = 0;
    for (const batch of read.batches) {
      if (bytes + batch.length > left && !(first && kept.length === 0)) break;
      kept.push(batch);
      bytes += batch.length;
    }
    first = false;
    left = Math.max(0, left - bytes);
    return { ...read, batches: kept, bytes };
  });
}

function responsesOf(
  request: RequestOf<'Fetch'>,
  reads: readonly PartitionRead[],
): ResponseInput<'Fetch'>['responses'] {
  let i = 0;
  return request.body.topics.map((t) => ({
    topic: t.topic,
    partitions: t.partitions.map((): PartitionData => {
      const read = reads[i++]!;
      return {
        partitionIndex: read.partition,
        errorCode: read.errorCode,
        highWatermark: BigInt(read.highWatermark),
        lastStableOffset: BigInt(read.highWatermark),
        logStartOffset: BigInt(read.logStartOffset),
        abortedTransactions: [],
        preferredReadReplica: -1,
        records: read.batches.length === 0 ? EMPTY : Buffer.concat(read.batches),
      };
    }),
  }));
}

/** Sleeps `ms`, or less when `signal` aborts. */
function pauseFor(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}
