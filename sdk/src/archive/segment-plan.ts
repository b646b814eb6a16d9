/**
 * Where the next segment of a partition ends. Pure, and deterministic in the log's contents:
 * the boundary depends only on the batches (their sizes and running max timestamps), never on
 * the clock or on how far the log has grown. Two archivers, or a rerun after a crash, therefore
 * cut the same segment and write the same bytes under the same key.
 *
 * A segment starts with its first batch and takes following batches while it stays within
 * `segment.bytes` and its batches' running max timestamps span less than `segment.ms` (Kafka's
 * roll rules). It is **closed** once a following batch exists that it does not take, so the
 * newest batch of a partition is never archived. A pending batch (its size not yet known) ends
 * the plan unless the time rule already closes the segment before it.
 */
import type { Slot } from '../log/log-item.ts';

/** Roll limits of a topic's segments. */
export interface SegmentLimits {
  /** Largest segment in bytes; a single larger batch forms a segment of its own. */
  readonly segmentBytes: number;
  /** Largest span of running max timestamps within one segment (ms). */
  readonly segmentMs: number;
}

/** The outcome of planning from the first slots after the local log start. */
export type SegmentPlan =
  /** The first `take` slots form a closed segment. */
  | { readonly kind: 'closed'; readonly take: number }
  /** Not closed yet: more batches may join it (or its size is still unknown). */
  | { readonly kind: 'open' }
  /** The slots were archived by someone else meanwhile: start over from fresh bounds. */
  | { readonly kind: 'stale' };

/** Bytes a slot will occupy in a segment, when known. */
function segmentBytesOf(slot: Slot): number | undefined {
  if (slot.kind !== 'complete') return undefined;
  return slot.claim ? slot.claim.size : slot.body.byteLength;
}

/**
 * Plans the segment starting at `slots[0]`. `slots` are consecutive, in offset order, starting at
 * the local log start; pass every slot read so far (more can be read if the plan is `open`).
 */
export function planSegment(slots: readonly Slot[], limits: SegmentLimits): SegmentPlan {
  const first = slots[0];
  if (!first) return { kind: 'open' };
  if (first.kind === 'archived') return { kind: 'stale' };
  const firstBytes = segmentBytesOf(first);
  if (firstBytes === undefined) return { kind: 'open' };
  let bytes = firstBytes;
  for (let i = 1; i < slots.length; i++) {
    const slot = slots[i]!;
    if (slot.kind === 'archived') return { kind: 'stale' };
    if (slot.runningMaxTimestamp - first.runningMaxTimestamp >= limits.segmentMs)
      return { kind: 'closed', take: i };
    const size = segmentBytesOf(slot);
    if (size === undefined) return { kind: 'open' };
    if (bytes + size > limits.segmentBytes) return { kind: 'closed', take: i };
    bytes += size;
  }
  return { kind: 'open' };
}
