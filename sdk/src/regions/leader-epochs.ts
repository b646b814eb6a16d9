/**
 * Leader epochs: which region wrote which offsets of a partition, and where in the log table each
 * epoch's batches are. Pure: the I/O is the topics table's epoch item (`topics/topic-store.ts`) and
 * the log store, which routes every batch read and write by offset (`log/log-store.ts`).
 *
 * Every topic starts in epoch 0, written by its home region. A failover moves the home and starts
 * the next epoch in the new home, at an offset per partition: the old home's fenced chain end
 * (planned), or the last offset the new home held (forced). Each epoch has its own key space in the
 * log table (`keys.ts` `batchKey`: epoch 0 is the partition key every single-region topic has, epoch
 * e > 0 appends `~e<e>`), so the old home's batches at or past the next epoch's start — acknowledged
 * there but never replicated, or written before its producers learnt of the failover — never share
 * a key with the new epoch's, and MREC's last-writer-wins never decides between them: they stay in
 * the old epoch's key space, outside the log, where a divergence report finds them.
 *
 * Offsets continue across epochs: the log is epoch 0's batches below epoch 1's start, then epoch 1's
 * below epoch 2's start, and so on; the last epoch is open-ended.
 */

/** How an epoch began. */
export type EpochOrigin = 'created' | FailoverMode;

/** `planned`: the old home was fenced and drained first; `forced`: it was unreachable. */
export type FailoverMode = 'planned' | 'forced';

/** One change of a topic's home, as the epoch item records it (the topic's creation is the first). */
export interface EpochChange {
  /** 0 for the topic's first epoch, then one more per failover. */
  readonly epoch: number;
  /** The home region in this epoch: the one region whose tables take its appends. */
  readonly region: string;
  readonly origin: EpochOrigin;
  /** When the change was recorded (the failing-over client's clock, epoch ms; 0 for `created`). */
  readonly at: number;
  /**
   * Per partition (by index), the first offset of this epoch. A partition without an entry (one
   * added after the change) starts it at 0. Epoch 0 starts at 0 everywhere.
   */
  readonly startOffsets: readonly number[];
}

/** A topic's epochs: what its epoch item holds. Absent for a topic that never failed over. */
export interface TopicEpochs {
  /** Bumped by every failover; the next one is written conditional on it. */
  readonly version: number;
  /** Oldest first; the last one's region is the topic's home. */
  readonly changes: readonly EpochChange[];
}

/** One leader epoch of a partition. */
export interface LeaderEpoch {
  readonly epoch: number;
  /** The region that takes (or took) its appends. */
  readonly region: string;
  /** Its first offset. */
  readonly startOffset: number;
}

/** A partition's leader epochs, oldest first, starting with epoch 0 at offset 0. */
export type PartitionEpochs = readonly LeaderEpoch[];

/** Offsets `[from, to)` of one epoch (`to` undefined: open-ended), read from its key space. */
export interface EpochRange {
  readonly epoch: number;
  readonly from: number;
  readonly to: number | undefined;
}

/** A range of an old epoch's key space that is not part of the log: `[from, ∞)`. */
export interface DivergentRange {
  readonly epoch: number;
  /** The region that wrote the epoch (the old home). */
  readonly region: string;
  /** The next epoch's start: the old epoch's batches from here on are outside the log. */
  readonly from: number;
  /** The epoch that replaced it (its batches continue the log from `from`). */
  readonly nextEpoch: number;
}

/** The topic's home according to its epochs, when it has any. */
export function epochsHome(epochs: TopicEpochs | undefined): string | undefined {
  return epochs?.changes[epochs.changes.length - 1]?.region;
}

/** The epoch that takes the topic's appends now (0 without a failover). */
export function currentTopicEpoch(epochs: TopicEpochs | undefined): number {
  return epochs?.changes[epochs.changes.length - 1]?.epoch ?? 0;
}

/**
 * One partition's epochs from the topic's. Start offsets never decrease (a partition added after
 * a change starts that epoch, and every earlier one, at 0). Undefined without a failover: the
 * partition has one key space, epoch 0's.
 */
export function partitionEpochs(
  epochs: TopicEpochs | undefined,
  partition: number,
): PartitionEpochs | undefined {
  if (!epochs || epochs.changes.length <= 1) return undefined;
  let floor = 0;
  return epochs.changes.map((change) => {
    const start = change.epoch === 0 ? 0 : (change.startOffsets[partition] ?? 0);
    floor = Math.max(floor, start);
    return { epoch: change.epoch, region: change.region, startOffset: floor };
  });
}

/** The epoch holding `offset` and its range: the last epoch starting at or before it. */
export function epochAt(epochs: PartitionEpochs | undefined, offset: number): EpochRange {
  if (!epochs || epochs.length === 0) return { epoch: 0, from: 0, to: undefined };
  let i = epochs.length - 1;
  while (i > 0 && epochs[i]!.startOffset > offset) i--;
  return { epoch: epochs[i]!.epoch, from: epochs[i]!.startOffset, to: epochs[i + 1]?.startOffset };
}

/** The epoch the partition's next append is written in (0 without a failover). */
export function currentEpoch(epochs: PartitionEpochs | undefined): number {
  return epochs?.[epochs.length - 1]?.epoch ?? 0;
}

/**
 * The non-empty parts of `[from, to)` (`to` undefined: to the end) that each epoch holds, in offset
 * order: where a range query reads, key space by key space. Without epochs, one range of epoch 0.
 */
export function epochRanges(epochs: PartitionEpochs | undefined, from: number, to?: number): EpochRange[] {
  if (!epochs || epochs.length === 0) {
    return to !== undefined && to <= from ? [] : [{ epoch: 0, from, to }];
  }
  const ranges: EpochRange[] = [];
  epochs.forEach((e, i) => {
    const next = epochs[i + 1]?.startOffset;
    const start = Math.max(from, e.startOffset);
    const end = next === undefined ? to : to === undefined ? next : Math.min(next, to);
    if (end === undefined || start < end) ranges.push({ epoch: e.epoch, from: start, to: end });
  });
  return ranges;
}

/** Every old epoch's key space past its end: where batches outside the log can be (oldest first). */
export function divergentRanges(epochs: PartitionEpochs | undefined): DivergentRange[] {
  if (!epochs) return [];
  return epochs.slice(0, -1).map((e, i) => ({
    epoch: e.epoch,
    region: e.region,
    from: epochs[i + 1]!.startOffset,
    nextEpoch: epochs[i + 1]!.epoch,
  }));
}

/**
 * The epochs after a failover to `region` starting each partition at `startOffsets[p]`. A topic's
 * first failover also records epoch 0 (`initialRegion`, the home it had until then).
 */
export function nextEpochs(
  current: TopicEpochs | undefined,
  initialRegion: string,
  change: {
    readonly region: string;
    readonly mode: FailoverMode;
    readonly at: number;
    readonly startOffsets: readonly number[];
  },
): TopicEpochs {
  const changes: EpochChange[] = current?.changes.length
    ? [...current.changes]
    : [{ epoch: 0, region: initialRegion, origin: 'created', at: 0, startOffsets: [] }];
  changes.push({
    epoch: changes[changes.length - 1]!.epoch + 1,
    region: change.region,
    origin: change.mode,
    at: change.at,
    startOffsets: [...change.startOffsets],
  });
  return { version: (current?.version ?? 0) + 1, changes };
}
