/**
 * The one rule on how far a commit may go: never beyond the partition's high watermark (a group
 * would otherwise skip records not yet written). Checked before anything is written, by the
 * direct group consumer and by the API's stateless sessions alike.
 */
import type { StorageContext } from '../context.ts';
import { OffsetOutOfRangeError } from '../errors.ts';
import type { PartitionRef } from '../keys.ts';
import { PartitionReader } from '../log/reader.ts';

/**
 * Throws {@link OffsetOutOfRangeError} (with the partition's log start and high watermark) when
 * `offset` is beyond the high watermark of `ref`, read from the log table.
 */
export async function checkCommitBound(
  ctx: StorageContext,
  ref: PartitionRef,
  offset: number,
): Promise<void> {
  const reader = new PartitionReader(ctx, ref);
  const end = await reader.highWatermark(false);
  if (offset > end) {
    throw new OffsetOutOfRangeError(ref.topic, ref.partition, offset, await reader.logStartOffset(), end);
  }
}
