/**
 * Consumer-group partition assignment: which live member should own each partition lease.
 *
 * Every member computes this on its own from its read of the lease table, then takes or releases
 * leases to match, so the result depends only on the *sets* of leases and members, never on the
 * order they were read in. The assignment is
 * - **balanced**: per topic, each eligible member gets ⌊L/n⌋ or ⌈L/n⌉ of the topic's L leases. The
 *   ⌈L/n⌉ extras go to the members with the fewest leases so far (topics in sorted order), so with
 *   uniform subscriptions every member's total is within one of the mean;
 * - **sticky**: a lease stays with its live, eligible owner while that owner is within its quota, and
 *   an owner over quota keeps its lowest-numbered partitions, so only the leases the new quotas
 *   require change hands. An assignment is its own fixed point: recomputing it moves nothing;
 * - **O((L + S) log(L + S))** for L leases and S member subscriptions.
 */

/** A partition lease as seen in the lease table. */
export interface LeaseView {
  /** Topic the partition belongs to. */
  readonly topic: string;
  /** Partition number within the topic. */
  readonly partition: number;
  /** Member holding the lease, or `undefined` when nobody does. May name a member that is no longer live. */
  readonly owner: string | undefined;
}

/** A live member and the topics it subscribes to. */
export interface MemberView {
  /** The member's id, unique within the group. */
  readonly memberId: string;
  /** Topics the member consumes. */
  readonly topics: readonly string[];
}

/** Key of a lease in the result map: `${topic}:${partition}` (topic names never contain ':'). */
export function leaseKey(topic: string, partition: number): string {
  return `${topic}:${partition}`;
}

/**
 * The ideal owner of every lease that has at least one eligible live member (one subscribed to the
 * lease's topic), keyed by {@link leaseKey}. Leases nobody subscribes to are absent. An `owner` that
 * is not live, or not subscribed to the topic, counts as no owner.
 *
 * Duplicate inputs are tolerated: a member listed twice subscribes to the union of its topics, and
 * a lease listed twice keeps the smallest eligible owner named. Entries are inserted in topic, then
 * partition order.
 */
export function idealAssignment(
  leases: readonly LeaseView[],
  members: readonly MemberView[],
): Map<string, string> {
  const subscribers = subscribersByTopic(members);
  const owners = ownersByTopic(leases, subscribers);
  const totals = new Map<string, number>();
  const result = new Map<string, string>();
  for (const topic of [...owners.keys()].sort(compareStrings)) {
    const assigned = assignTopic(owners.get(topic)!, subscribers.get(topic)!, totals);
    for (const [partition, member] of assigned) result.set(leaseKey(topic, partition), member);
  }
  return result;
}

/** Current eligible owner (or `undefined`) of each partition of one topic. */
type Owners = Map<number, string | undefined>;

/** The live members subscribed to each topic. */
function subscribersByTopic(members: readonly MemberView[]): Map<string, Set<string>> {
  const byTopic = new Map<string, Set<string>>();
  for (const { memberId, topics } of members) {
    for (const topic of topics) {
      const set = byTopic.get(topic) ?? new Set<string>();
      byTopic.set(topic, set.add(memberId));
    }
  }
  return byTopic;
}

/** The leases of every topic that has subscribers, with owners that are not eligible cleared. */
function ownersByTopic(
  leases: readonly LeaseView[],
  subscribers: ReadonlyMap<string, ReadonlySet<string>>,
): Map<string, Owners> {
  const byTopic = new Map<string, Owners>();
  for (const { topic, partition, owner } of leases) {
    const eligible = subscribers.get(topic);
    if (eligible === undefined) continue;
    const owners: Owners = byTopic.get(topic) ?? new Map();
    byTopic.set(topic, owners);
    const candidate = owner !== undefined && eligible.has(owner) ? owner : undefined;
    const current = owners.get(partition);
    // A duplicate lease keeps the smallest eligible owner, whichever order the copies came in.
    if (
      !owners.has(partition) ||
      (candidate !== undefined && (current === undefined || candidate < current))
    ) {
      owners.set(partition, candidate);
    }
  }
  return byTopic;
}

/**
 * Assigns one topic's partitions among its subscribers and adds each subscriber's share to
 * `totals`. Returns the owner of every partition, in partition order.
 */
function assignTopic(
  owners: Owners,
  subscribers: ReadonlySet<string>,
  totals: Map<string, number>,
): Map<number, string> {
  const base = Math.floor(owners.size / subscribers.size);
  const extras = owners.size % subscribers.size;
  const held = new Map<string, number>();
  for (const owner of owners.values()) {
    if (owner !== undefined) held.set(owner, (held.get(owner) ?? 0) + 1);
  }
  // Extras go to the members with the fewest leases so far; among those, first to members that
  // already hold more than `base` here (so they keep a lease rather than hand it over), then by id.
  const overBase = (member: string): number => ((held.get(member) ?? 0) > base ? 0 : 1);
  const ranked = [...subscribers].sort(
    (a, b) =>
      (totals.get(a) ?? 0) - (totals.get(b) ?? 0) || overBase(a) - overBase(b) || compareStrings(a, b),
  );
  const quota = new Map(ranked.map((member, i) => [member, i < extras ? base + 1 : base]));

  const partitions = [...owners.keys()].sort((a, b) => a - b);
  const count = new Map<string, number>();
  const assigned = new Map<number, string>();
  const free: number[] = [];
  // Owners keep their lowest-numbered partitions up to their quota; the rest are free.
  for (const partition of partitions) {
    const owner = owners.get(partition);
    const kept = owner === undefined ? 0 : (count.get(owner) ?? 0);
    if (owner !== undefined && kept < (quota.get(owner) ?? 0)) {
      assigned.set(partition, owner);
      count.set(owner, kept + 1);
    } else {
      free.push(partition);
    }
  }
  // Free partitions, lowest first, fill the members still under quota, in rank order.
  let next = 0;
  for (const member of ranked) {
    const want = quota.get(member) ?? 0;
    for (let have = count.get(member) ?? 0; have < want; have++) assigned.set(free[next++]!, member);
    totals.set(member, (totals.get(member) ?? 0) + want);
  }
  return new Map(partitions.map((partition) => [partition, assigned.get(partition)!]));
}

/** Orders strings by UTF-16 code units: the same on every host, unlike `localeCompare`. */
function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
