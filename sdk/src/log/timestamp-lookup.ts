/** Kafka's offsets-for-times: the first offset whose record timestamp is at least `t`. */
import type { PartitionReader } from './reader.ts';
import { decodeRecordBatch } from './record-batch.ts';

/**
 * Binary-searches the batches by running max timestamp, then scans forward from the batch found
 * to the first record with timestamp ≥ `timestamp` (records inside a batch need not be ordered by
 * time). Returns `null` when no record is that recent.
 */
export async function offsetForTimestamp(
  partitionReader: PartitionReader,
  timestamp: number,
): Promise<number | null> {
  // A replica may lack batches the search visits (and the answer must not depend on replication).
  const reader = partitionReader.authoritative();
  const start = await reader.batchForTimestamp(timestamp);
  if (start === undefined) return null;
  let offset = start;
  for (;;) {
    const { batches, nextOffset } = await reader.fetch(offset, {
      maxRecords: 5_000,
      maxBytes: 4 * 1024 * 1024,
    });
    if (batches.length === 0) return null;
    for (const slot of batches) {
      if (slot.voided || slot.maxTimestamp < timestamp) continue;
      const batch = await decodeRecordBatch(slot.body, reader.label);
      const hit = batch.records.find((r) => r.timestamp >= timestamp);
      if (hit) return hit.offset;
    }
    offset = nextOffset;
  }
}
