/**
 * The one rule on how far a commit may go: never beyond the partition's high watermark (a group
 * would otherwise skip records not yet written). Checked before anything is written, by the
 * direct group consumer and by the API's stateless sessions alike.
 */
import type { StorageContext } from '../context.ts';
import { OffsetOutOfRangeError } from '../errors.ts';
import type { PartitionRef } from '../keys.ts';
import { PartitionReader } from '../log/reader.ts';
import { homeContext } from '../regions/routing.ts';
import { partitionRef, type TopicMetadata } from '../topics/topic-metadata.ts';

/**
 * Throws {@link OffsetOutOfRangeError} (with the partition's log start and high watermark) when
 * `offset` is beyond the high watermark of `ref` (the lease's incarnation), read from the log
 * table with the topic's leader epochs (`topic`, the cached metadata: after a failover the log goes
 * on in the new epoch's key space). With regions, an offset beyond this region's copy is checked
 * again against the topic's home: a replica may be behind, and a member reading from the home may
 * commit past it.
 */
export async function checkCommitBound(
  ctx: StorageContext,
  ref: PartitionRef,
  offset: number,
  topic: () => Promise<TopicMetadata>,
): Promise<void> {
  const meta = await topic();
  const read = meta.incarnation === ref.incarnation ? partitionRef(meta, ref.partition) : ref;
  const reader = new PartitionReader(ctx, read);
  const end = await reader.highWatermark(false);
  if (offset <= end) return;
  const homeCtx = ctx.regions ? homeContext(ctx, meta) : ctx;
  if (homeCtx !== ctx) {
    const homeReader = new PartitionReader(homeCtx, read);
    const homeEnd = await homeReader.highWatermark(false);
    if (offset <= homeEnd) return;
    throw new OffsetOutOfRangeError(
      ref.topic,
      ref.partition,
      offset,
      await homeReader.logStartOffset(),
      homeEnd,
    );
  }
  throw new OffsetOutOfRangeError(ref.topic, ref.partition, offset, await reader.logStartOffset(), end);
}
