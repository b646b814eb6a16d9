/**
 * ListOffsets: per partition, the latest offset (timestamp -1: the high watermark, which is also
 * the last stable offset, there being no transactions), the earliest (-2: the log start offset),
 * the record with the largest timestamp (-3, KIP-734), or the first record whose timestamp is at
 * least the one given, with its timestamp; offset and timestamp -1 when no record is that recent.
 */
import { mapLimited } from '../../sdk/src/internal.ts';
import type { Handler, RequestScope } from '../context.ts';
import { KafkaError, kafkaErrorOf } from '../kafka-errors.ts';
import type { ResponseInput } from '../protocol/index.ts';
import { isFailure, TopicLookup } from '../topic-lookup.ts';

type PartitionAnswer = ResponseInput<'ListOffsets'>['topics'][number]['partitions'][number];

const LATEST = -1n;
const EARLIEST = -2n;
const MAX_TIMESTAMP = -3n;

export const handleListOffsets: Handler<'ListOffsets'> = async (request, scope) => {
  const lookup = new TopicLookup(scope.gateway);
  const wanted = request.body.topics.flatMap((t) =>
    t.partitions.map((p) => ({ topic: t.name, partition: p.partitionIndex, timestamp: p.timestamp })),
  );
  const answers = await mapLimited(wanted, scope.gateway.readConcurrency, (w) =>
    answer(scope, lookup, w.topic, w.partition, w.timestamp),
  );
  let i = 0;
  return {
    throttleTimeMs: 0,
    topics: request.body.topics.map((t) => ({
      name: t.name,
      partitions: t.partitions.map(() => answers[i++]!),
    })),
  };
};

async function answer(
  scope: RequestScope,
  lookup: TopicLookup,
  name: string,
  partition: number,
  timestamp: bigint,
): Promise<PartitionAnswer> {
  const topic = await lookup.partition(name, partition);
  if (isFailure(topic)) return failed(partition, topic.code);
  const { reader } = scope.gateway;
  try {
    if (timestamp === LATEST) return found(partition, await reader.highWatermark(topic, partition), -1);
    if (timestamp === EARLIEST) return found(partition, await reader.logStartOffset(topic, partition), -1);
    const hit =
      timestamp === MAX_TIMESTAMP
        ? await reader.maxTimestampOffset(topic, partition)
        : timestamp >= 0n && timestamp <= BigInt(Number.MAX_SAFE_INTEGER)
          ? await reader.offsetForTimestamp(topic, partition, Number(timestamp))
          : 'invalid';
    if (hit === 'invalid') return failed(partition, KafkaError.INVALID_REQUEST);
    return hit ? found(partition, hit.offset, hit.timestamp) : found(partition, -1, -1);
  } catch (error) {
    const failure = kafkaErrorOf(error);
    if (failure.code === KafkaError.UNKNOWN_SERVER_ERROR) {
      scope.gateway.log(`ListOffsets of ${name}[${partition}] failed: ${failure.message}`);
    }
    return failed(partition, failure.code);
  }
}

function found(partitionIndex: number, offset: number, timestamp: number): PartitionAnswer {
  return {
    partitionIndex,
    errorCode: KafkaError.NONE,
    timestamp: BigInt(timestamp),
    offset: BigInt(offset),
    leaderEpoch: -1,
  };
}

function failed(partitionIndex: number, errorCode: number): PartitionAnswer {
  return { partitionIndex, errorCode, timestamp: -1n, offset: -1n, leaderEpoch: -1 };
}
