/** Record batches and Produce requests of one's own making, for gateway tests on the raw protocol. */
import { encodeRecordBatch } from '../../sdk/src/log/record-batch.ts';
import type { WireClient } from './kafka-wire.ts';

/** An idempotent producer's fields of a batch. */
export interface BatchProducerFields {
  readonly id: bigint;
  readonly epoch: number;
  readonly sequence: number;
}

/** A RecordBatch v2 of `values` (no keys or headers), as a producer would send it (baseOffset 0). */
export function batchOf(
  values: readonly string[],
  producer?: BatchProducerFields,
  options: { timestamp?: number; compression?: 'none' | 'gzip'; isTransactional?: boolean } = {},
): Promise<Uint8Array> {
  const timestamp = options.timestamp ?? Date.now();
  return encodeRecordBatch({
    baseOffset: 0,
    records: values.map((v, i) => ({
      key: null,
      value: Buffer.from(v),
      timestamp: timestamp + i,
      headers: [],
    })),
    compression: options.compression ?? 'none',
    producerId: producer?.id ?? -1n,
    producerEpoch: producer?.epoch ?? -1,
    baseSequence: producer?.sequence ?? -1,
    ...(options.isTransactional ? { isTransactional: true } : {}),
  });
}

/** One partition's answer to a Produce. */
export interface ProducedPartition {
  readonly errorCode: number;
  readonly baseOffset: bigint;
  readonly logAppendTimeMs: bigint;
  readonly errorMessage: string | null;
}

/** Produces `records` to one partition over `wire` (Produce v`version`, acks -1) and returns its answer. */
export async function produceTo(
  wire: WireClient,
  topic: string,
  partition: number,
  records: Uint8Array,
  options: { version?: number; acks?: number; transactionalId?: string | null } = {},
): Promise<ProducedPartition> {
  const response = await wire.request('Produce', options.version ?? 9, {
    transactionalId: options.transactionalId ?? null,
    acks: options.acks ?? -1,
    timeoutMs: 30_000,
    topicData: [{ name: topic, partitionData: [{ index: partition, records }] }],
  });
  const answer = response.responses[0]?.partitionResponses[0];
  if (!answer) throw new Error('The Produce response has no partition');
  return answer;
}
