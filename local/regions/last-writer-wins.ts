/**
 * The replicator's conflict rule, as MREC global tables resolve concurrent writes to one item:
 * the version with the latest write time wins in every region, whatever order the versions arrive
 * in. A version's write time is when the replicator read the write from its region's stream (the
 * simulation's stand-in for the time AWS stamps on a write); equal times are broken by region name,
 * the name that sorts last winning, so every region decides the same way. Pure.
 */
import { ABSENT } from './item-image.ts';

/** When a version was written, and where. Totally ordered by {@link compareStamps}. */
export interface Stamp {
  /** Epoch ms at which the replicator read the write from the stream of `region`. */
  readonly time: number;
  readonly region: string;
}

/** What the replicator knows of one item in one region. */
export interface HeldVersion {
  /** The stamp of the version the region holds (with `unread`, a floor below that version's). */
  readonly stamp: Stamp;
  /** `imageDigest` of the item the region holds ({@link ABSENT} when it holds none). */
  readonly digest: string;
  /**
   * The region holds a client's write the replicator has not read from its stream yet (a write
   * found in its way): its stamp is unknown, but it will be later than every version delivered so far.
   */
  readonly unread: boolean;
}

/** An item the replicator has never seen written in a region: older than every version. */
export const NEVER_WRITTEN: HeldVersion = {
  stamp: { time: Number.NEGATIVE_INFINITY, region: '' },
  digest: ABSENT,
  unread: false,
};

/** Negative when `a` is older than `b`, positive when newer, 0 for the same stamp. */
export function compareStamps(a: Stamp, b: Stamp): number {
  if (a.time !== b.time) return a.time < b.time ? -1 : 1;
  if (a.region === b.region) return 0;
  return a.region < b.region ? -1 : 1;
}

/** The newer of two stamps. */
export function laterStamp(a: Stamp, b: Stamp): Stamp {
  return compareStamps(a, b) >= 0 ? a : b;
}

/**
 * The stamp of a client's write read from `region`'s stream at `observedAt`. A write replaces what
 * the region held, so it is made newer than that version even when the clock has not moved on (or
 * the held version's stamp comes from a region that wins ties).
 */
export function stampOfClientWrite(observedAt: number, region: string, held: Stamp): Stamp {
  return { time: Math.max(observedAt, held.time + 1), region };
}

/** What to do with a version delivered to a region. */
export type DeliveryDecision = 'apply' | 'skip';

/**
 * Last writer wins: a delivered version is written only over an older one. A region holding a
 * write the replicator has not read yet keeps it: that write is newer than anything delivered.
 */
export function decideDelivery(held: HeldVersion, incoming: Stamp): DeliveryDecision {
  if (held.unread) return 'skip';
  return compareStamps(incoming, held.stamp) > 0 ? 'apply' : 'skip';
}

/**
 * What a delivery's write found, from the item it replaced (`found`, what `ALL_OLD` returned):
 * - `applied`: the item the replicator expected (`expected`), so the delivered version is in place;
 * - `unread`: a client's write the replicator had not read yet, equal to the delivered version, so
 *   the write changed nothing and that client's write stands;
 * - `restore`: a client's write the replicator had not read yet, which the delivery overwrote; that
 *   write is newer (it will be stamped when it is read) and must be put back.
 */
export type WriteOutcome = 'applied' | 'unread' | 'restore';

/** See {@link WriteOutcome}; all three are digests (`imageDigest`). */
export function outcomeOfWrite(expected: string, written: string, found: string): WriteOutcome {
  if (found === expected) return 'applied';
  return found === written ? 'unread' : 'restore';
}
