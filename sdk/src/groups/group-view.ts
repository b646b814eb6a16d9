/**
 * When a member must re-read its group's leases. Reading every lease on every heartbeat made
 * idle coordination cost members × partitions; instead a member reads the member items (M small
 * items, which it needs for liveness anyway) each heartbeat, and the P lease items only when
 * something that decides the assignment may have changed since it last read them:
 * - a member's change counter moved (every owner change is announced by its writer: at once, and
 *   again by every heartbeat, which re-publishes the counter — so a lost announcement costs at
 *   most one heartbeat of the writer),
 * - a member joined, left, expired or changed its subscription (the live set moved),
 * - a subscribed topic gained partitions or was recreated,
 * - its own last reaction failed or lost a race (the view is not recorded then), or
 * - {@link FULL_READ_EVERY_HEARTBEATS} heartbeats passed: a safety net for writes made outside
 *   this protocol.
 * All of it is summed up in one {@link viewFingerprint}: while it stays the same, the ideal
 * assignment computed from the last read stays right, and the member has nothing to do.
 */
import { createHash } from 'node:crypto';

/**
 * A member re-reads every lease at least once in this many of its heartbeats even when nothing
 * was announced. It bounds how long a lease write that bypassed the announcement (a bug, a hand
 * edit of the table) goes unnoticed, at 1/60 of a lease read per heartbeat.
 */
export const FULL_READ_EVERY_HEARTBEATS = 60;

/** What of a member item the view depends on. */
export interface MemberFacts {
  readonly memberId: string;
  readonly changes: number;
  readonly topics: readonly string[];
  /** Live as the observer judges it now. */
  readonly live: boolean;
}

/** What of a subscribed topic the view depends on. */
export interface TopicFacts {
  readonly name: string;
  readonly incarnation: string;
  readonly partitions: number;
}

/**
 * A short digest of everything the ideal assignment and a member's reaction to it depend on,
 * besides the lease items themselves: equal digests mean no lease changed owner through this
 * protocol in between. Independent of the order the items were read in.
 */
export function viewFingerprint(members: readonly MemberFacts[], topics: readonly TopicFacts[]): string {
  const canonical = JSON.stringify([
    [...members]
      .sort((a, b) => compare(a.memberId, b.memberId))
      .map((m) => [m.memberId, m.changes, m.live, [...m.topics].sort(compare)]),
    [...topics].sort((a, b) => compare(a.name, b.name)).map((t) => [t.name, t.incarnation, t.partitions]),
  ]);
  return createHash('sha256').update(canonical).digest('base64url').slice(0, 22);
}

/** What decides whether a tick re-reads the leases. */
export interface ViewState {
  /** Fingerprint of the view the last completed lease read reacted to; undefined when there is none. */
  readonly fingerprint: string | undefined;
  /** Heartbeats since that read. */
  readonly age: number;
}

/** The view no lease read has been made for: the next tick reads. */
export const NO_VIEW: ViewState = { fingerprint: undefined, age: 0 };

/** True when a tick that sees `fingerprint` must read the leases before it can trust its assignment. */
export function needsLeaseRead(state: ViewState, fingerprint: string): boolean {
  return state.fingerprint !== fingerprint || state.age + 1 >= FULL_READ_EVERY_HEARTBEATS;
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
