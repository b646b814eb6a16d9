/**
 * Per region, how a partition's copy stands against the topic's home: its high watermark, leader
 * epoch, and how far it lags — in records (offsets below the home's high watermark it lacks) and
 * in milliseconds (the age of the oldest batch it lacks, from that batch's append time in the home
 * log). What `describeTopic` reports with regions.
 *
 * Cost per partition: in the home, one tail query and one bounds read (and one item read when a
 * region lags); in every other region, one tail query and a page of up to {@link PAGE_ITEMS} of its
 * newest batches (more pages only while they show gaps). All reads are strongly consistent within
 * their region.
 */
import { TierMetadata } from '../archive/tier-metadata.ts';
import type { RegionRouting } from '../context.ts';
import type { PartitionRef } from '../keys.ts';
import { slotEnd, slotFromItem } from '../log/log-item.ts';
import { type LogItem, LogStore } from '../log/log-store.ts';
import { partitionRef, type TopicMetadata } from '../topics/topic-metadata.ts';
import { currentEpoch } from './leader-epochs.ts';
import { type GapScan, missingRecords, scanGapPage, startGapScan } from './replication-gaps.ts';

/** One region's copy of a partition, as {@link replicationStatus} sees it. */
export interface RegionReplication {
  readonly region: string;
  /** True for the topic's home region: the copy that takes appends. */
  readonly home: boolean;
  /** End of this region's newest batch: the next offset to be written, as this copy shows it. */
  readonly highWatermark: number;
  /**
   * The leader epoch: for the home, the one its appends are written in (0 until a failover raises
   * it); elsewhere, that of the newest batch this region holds.
   */
  readonly leaderEpoch: number;
  /** Offsets below the home's high watermark this region does not hold yet (0 for the home). */
  readonly lagRecords: number;
  /**
   * Age (ms, by this client's clock) of the oldest batch this region lacks, from its append time in
   * the home log; 0 when it lacks none. Batches written without regions carry no append time: their
   * max record timestamp stands in.
   */
  readonly lagMs: number;
}

/** Batches read per page while looking for what a region lacks. */
const PAGE_ITEMS = 25;

/** Every region's copy of one partition of `topic`, the deployment's regions in order. */
export async function replicationStatus(
  regions: RegionRouting,
  topic: TopicMetadata,
  partition: number,
  now: number,
): Promise<RegionReplication[]> {
  const ref: PartitionRef = partitionRef(topic, partition);
  const homeRegion = regions.homeOf(topic);
  const homeCtx = regions.context(homeRegion);
  const home = new LogStore(homeCtx);
  const [homeTail, homeBounds] = await Promise.all([
    home.tail(ref, true),
    new TierMetadata(homeCtx, ref).bounds(),
  ]);
  const homeEnd = homeTail ? slotEnd(homeTail) : 0;
  const bottom = homeBounds.localLogStart.offset;
  return Promise.all(
    regions.names.map(async (region): Promise<RegionReplication> => {
      if (region === homeRegion) {
        const leaderEpoch = currentEpoch(ref.epochs);
        return { region, home: true, highWatermark: homeEnd, leaderEpoch, lagRecords: 0, lagMs: 0 };
      }
      const store = new LogStore(regions.context(region));
      const [tail, scan] = await Promise.all([store.tail(ref, true), scanGaps(store, ref, homeEnd, bottom)]);
      const oldest = scan.gaps[scan.gaps.length - 1];
      return {
        region,
        home: false,
        highWatermark: tail ? slotEnd(tail) : 0,
        leaderEpoch: tail?.leaderEpoch ?? 0,
        lagRecords: missingRecords(scan.gaps),
        lagMs: oldest ? await ageAt(home, ref, oldest.from, now) : 0,
      };
    }),
  );
}

/** Walks a region's batches down from the home's end until a page shows no gap. */
async function scanGaps(
  store: LogStore,
  ref: PartitionRef,
  homeEnd: number,
  bottom: number,
): Promise<GapScan> {
  let scan = startGapScan(homeEnd, bottom);
  let startKey: LogItem | undefined;
  while (!scan.done) {
    const page = await store.queryBatches(ref, {
      from: bottom,
      to: homeEnd,
      descending: true,
      limit: PAGE_ITEMS,
      consistent: true,
      startKey,
    });
    startKey = page.lastKey;
    scan = scanGapPage(scan, page.items.map(slotFromItem), startKey === undefined, bottom);
  }
  return scan;
}

/** How long ago the home's batch holding `offset` was appended. */
async function ageAt(home: LogStore, ref: PartitionRef, offset: number, now: number): Promise<number> {
  const slot = await home.batchAtOrBefore(ref, offset, true);
  if (!slot) return 0;
  return Math.max(0, now - (slot.written?.at ?? slot.maxTimestamp));
}
