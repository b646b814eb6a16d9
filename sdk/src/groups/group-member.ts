/**
 * A member's side of group coordination. Every heartbeat interval it:
 * 1. bumps its heartbeat counter (one small write renews all its leases, and re-publishes its
 *    change counter);
 * 2. reads the group's member items in one consistent query (M items, whatever the partitions)
 *    and judges the others' liveness by whether their counters moved (its own clock only, see
 *    {@link LivenessTracker});
 * 3. only when its view may be out of date (a change counter moved, the live set or a subscribed
 *    topic changed, its last reaction lost a race, or the periodic safety net: see
 *    `group-view.ts`) reads the leases, computes the ideal assignment (deterministic, so every
 *    member reaches the same answer from the same view) and acts on its own part at once: detects
 *    leases it lost, asks the run loop to hand off leases that should move (after the in-flight
 *    batch and a commit), and takes every lease that should be its own and is free or held by a
 *    dead member — all in this one tick, so a rebalance converges in one or two heartbeats rather
 *    than one lease per cycle. Whenever it changed a lease's owner it announces it (its change
 *    counter), so the others re-read at their next heartbeat.
 * Ownership changes are conditional on the lease's owner and epoch (see {@link LeaseStore}).
 */
import type { StorageContext } from '../context.ts';
import { TopicNotFoundError } from '../errors.ts';
import { PeriodicTask } from '../periodic-task.ts';
import type { TopicMetadata } from '../topics/registry.ts';
import type { TopicCache } from '../topics/topic-cache.ts';
import { idealAssignment, type LeaseView, leaseKey, type MemberView } from './assignment.ts';
import { NO_VIEW, needsLeaseRead, type ViewState, viewFingerprint } from './group-view.ts';
import { isHeld, type LeaseState, transition } from './lease-state.ts';
import type { LeaseRecord, LeaseStore, MemberInfo, MemberRecord } from './lease-store.ts';
import { type LivenessEntry, LivenessTracker } from './liveness.ts';

/** A lease this member holds. */
export interface HeldLease {
  readonly topic: string;
  readonly partition: number;
  readonly incarnation: string;
  readonly epoch: number;
  /** Committed offset when the lease was taken (undefined: none yet, apply the reset policy). */
  readonly committed: number | undefined;
  state: LeaseState;
}

/** What the member tells the run loop. */
export interface MembershipEvents {
  /** A lease was taken: start processing from its committed offset. */
  assigned(lease: HeldLease): Promise<void>;
  /** A lease should move to another member: finish the in-flight batch, commit, then {@link GroupMember.handOff}. */
  revokeRequested(lease: HeldLease): void;
  /** A lease was lost (another member owns it now): stop processing it at once. */
  lost(lease: HeldLease): void;
}

/** A member's coordination state between ticks, to save and restore (stateless HTTP members). */
export interface MemberState {
  readonly held: readonly HeldLease[];
  readonly liveness: readonly LivenessEntry[];
  readonly lastHeartbeatAt: number;
  /** The member's change counter (absent in sessions of earlier versions: a new one is started). */
  readonly changes?: number | undefined;
  /** The view its last lease read reacted to (absent: read the leases at the next tick). */
  readonly view?: ViewState | undefined;
}

/** Outcome of one lease write of a tick: it landed, or the lease was not as read (a lost race). */
type WriteOutcome = 'changed' | 'refused';

/** Timing of a member. */
export interface MemberTiming {
  readonly heartbeatIntervalMs: number;
  readonly sessionTimeoutMs: number;
}

/** Coordination state of one member of one group. */
export class GroupMember {
  readonly info: MemberInfo;
  readonly #ctx: StorageContext;
  readonly #topics: TopicCache;
  readonly #store: LeaseStore;
  readonly #events: MembershipEvents;
  readonly #timing: MemberTiming;
  readonly #liveness: LivenessTracker;
  readonly #held = new Map<string, HeldLease>();
  /** The heartbeat loop: one tick per interval, never two at once. */
  readonly #heartbeats: PeriodicTask;
  /** The ideal owner of every lease, as of the last lease read; undefined before one in this process. */
  #ideal: Map<string, string> | undefined;
  #lastHeartbeatAt = 0;
  /** Moved after every lease-owner change this member makes; published with every heartbeat. */
  #changes: number;
  #view: ViewState;
  /** The announcement in flight, if any, and whether another must follow it. */
  #announcing: Promise<void> | undefined;
  #announceAgain = false;
  readonly #onError: (error: unknown) => void;

  constructor(
    ctx: StorageContext,
    topics: TopicCache,
    store: LeaseStore,
    info: MemberInfo,
    timing: MemberTiming,
    events: MembershipEvents,
    onError: (error: unknown) => void,
    restored?: MemberState,
  ) {
    this.#liveness = new LivenessTracker(restored?.liveness);
    for (const lease of restored?.held ?? [])
      this.#held.set(leaseKey(lease.topic, lease.partition), { ...lease });
    this.#lastHeartbeatAt = restored?.lastHeartbeatAt ?? 0;
    // A new counter starts at the clock, so that a restarted static member (same id) never
    // repeats a value its previous process published.
    this.#changes = restored?.changes ?? ctx.now();
    this.#view = restored?.view ?? NO_VIEW;
    this.#ctx = ctx;
    this.#topics = topics;
    this.#store = store;
    this.info = info;
    this.#timing = timing;
    this.#events = events;
    this.#onError = onError;
    this.#heartbeats = new PeriodicTask(() => this.#tick(), {
      intervalMs: timing.heartbeatIntervalMs,
      onError,
    });
  }

  get memberId(): string {
    return this.info.memberId;
  }

  /** Leases held now. */
  held(): HeldLease[] {
    return [...this.#held.values()].filter((l) => isHeld(l.state));
  }

  /** The held lease of a partition, if any. */
  lease(topic: string, partition: number): HeldLease | undefined {
    const lease = this.#held.get(leaseKey(topic, partition));
    return lease && isHeld(lease.state) ? lease : undefined;
  }

  /**
   * Joins the group; resolves after the first tick. With `background` (the default) it goes on
   * heartbeating on a timer; without, the caller ticks (the HTTP API, one tick per heartbeat call).
   */
  async join(options: { readonly background?: boolean } = {}): Promise<void> {
    await this.#store.assertNoKafkaMembers();
    await this.#store.ensureGroup();
    await this.resume(options);
  }

  /** Continues a membership (restored from a {@link MemberState}) with one tick now. */
  async resume(options: { readonly background?: boolean } = {}): Promise<void> {
    await this.tick();
    if (options.background !== false) this.#heartbeats.start();
  }

  /** The state to restore this member from later. */
  state(): MemberState {
    return {
      held: this.held().map((lease) => ({ ...lease })),
      liveness: this.#liveness.entries(),
      lastHeartbeatAt: this.#lastHeartbeatAt,
      changes: this.#changes,
      view: this.#view,
    };
  }

  /**
   * Resolves once the announcements asked for so far were written or failed (a failure goes to
   * `onError`; the next heartbeat publishes the counter anyway). The HTTP API awaits it before it
   * answers: nothing runs after a Lambda invocation returns.
   */
  flush(): Promise<void> {
    return this.#announcing ?? Promise.resolve();
  }

  /**
   * Runs one coordination round now, after the one in progress (also used to react quickly after a
   * hand-off); a failure is reported through `onError` and rejects the returned promise.
   */
  tick(): Promise<void> {
    const run = this.#heartbeats.runNow();
    run.catch((error: unknown) => this.#onError(error));
    return run;
  }

  /**
   * Hands a lease to the member the current assignment gives it to (the caller has finished and
   * committed its batches). Returns false, keeping the lease, when the assignment changed its
   * mind and the lease should stay here.
   */
  async handOff(lease: HeldLease): Promise<boolean> {
    const key = leaseKey(lease.topic, lease.partition);
    if (lease.state !== 'revoking') return false;
    // A member restored from a session has not read the leases in this process: read them first.
    if (this.#ideal === undefined) {
      this.#stale();
      await this.tick();
      // The read may have found the lease lost meanwhile.
      if (lease.state !== 'revoking') return !isHeld(lease.state);
    }
    const target = this.#ideal?.get(key);
    if (target === this.info.memberId) {
      lease.state = transition(lease.state, 'owned');
      return false;
    }
    const seen: LeaseRecord = { ...asRecord(lease), owner: this.info.memberId };
    const moved = await this.#store.changeOwner(
      lease.topic,
      lease.partition,
      seen,
      target,
      lease.incarnation,
    );
    this.#held.delete(key);
    lease.state = transition(lease.state, moved ? 'released' : 'lost');
    if (moved) this.#changed();
    else this.#stale();
    return true;
  }

  /**
   * Leaves gracefully: hands every lease straight to its new owner (computed without this
   * member, so others need not wait for the session timeout) and removes the member item.
   * The caller has already finished and committed its batches.
   */
  async leave(): Promise<void> {
    await this.#heartbeats.stop();
    const snapshot = await this.#store.snapshot();
    const now = this.#ctx.now();
    const live = this.#liveMembers(snapshot.members, now).filter((m) => m.memberId !== this.info.memberId);
    const topics = await this.#subscribedTopics(live);
    const ideal = idealAssignment(leaseViews(snapshot.leases, topics), live);
    const held = new Set(this.held().map((l) => leaseKey(l.topic, l.partition)));
    await Promise.all(
      this.held().map(async (lease) => {
        const key = leaseKey(lease.topic, lease.partition);
        const seen: LeaseRecord = { ...asRecord(lease), owner: this.info.memberId };
        await this.#store.changeOwner(lease.topic, lease.partition, seen, ideal.get(key), lease.incarnation);
        lease.state = transition(lease.state, 'released');
        this.#held.delete(key);
      }),
    );
    // Leases handed to this member since its last heartbeat (a hand-off by their previous owner
    // it has not seen yet) are its own too: released with the rest, not left to expire.
    await Promise.all(
      snapshot.leases.flatMap((l) => {
        const key = leaseKey(l.topic, l.partition);
        if (l.owner !== this.info.memberId || l.incarnation === undefined || held.has(key)) return [];
        return [this.#store.changeOwner(l.topic, l.partition, l, ideal.get(key), l.incarnation)];
      }),
    );
    // Removing the member item is the announcement: the others re-read the leases when it is gone.
    await this.flush();
    await this.#store.removeMember(this.info.memberId, this.info.joinId);
  }

  /** Stops heartbeating without leaving (what a crash looks like to the others). */
  async abandon(): Promise<void> {
    await this.#heartbeats.stop();
  }

  async #tick(): Promise<void> {
    const startedAt = this.#ctx.now();
    try {
      await this.#store.heartbeat(this.info, this.#changes);
      this.#lastHeartbeatAt = startedAt;
    } catch (error) {
      // Unable to heartbeat for a whole session: others may already have taken our leases, so
      // stop processing them (commits are fenced anyway; this avoids needless duplicate work).
      if (startedAt - this.#lastHeartbeatAt >= this.#timing.sessionTimeoutMs) {
        for (const lease of this.held()) this.#lose(lease);
      }
      throw error;
    }
    // The member items first, then (if needed) the leases: a change announced after this read
    // is seen at the next tick, and one announced before it was written before the leases are read.
    const members = await this.#store.members();
    const now = this.#ctx.now();
    const live = this.#liveMembers(members, now);
    await this.#removeLongDead(members, now);
    const topics = await this.#subscribedTopics(live);
    const liveIds = new Set(live.map((m) => m.memberId));
    const fingerprint = viewFingerprint(
      members.map((m) => ({
        memberId: m.memberId,
        changes: m.changes,
        topics: m.topics,
        live: liveIds.has(m.memberId),
      })),
      [...topics.values()].map((t) => ({
        name: t.name,
        incarnation: t.incarnation,
        partitions: t.partitions,
      })),
    );
    if (!needsLeaseRead(this.#view, fingerprint)) {
      this.#view = { ...this.#view, age: this.#view.age + 1 };
      return;
    }
    // Until this reaction completes, the view is not trusted (a failure means: read again).
    this.#view = NO_VIEW;
    const leases = await this.#store.leases();
    const outcomes = await this.#react(leases, live, topics);
    if (!outcomes.includes('refused')) this.#view = { fingerprint, age: 0 };
    if (outcomes.includes('changed')) await this.#announce();
  }

  /**
   * Acts on a read of the leases: notes those lost, asks for hand-offs of those that should move,
   * takes those that should be ours. Returns the outcome of every lease write it made.
   */
  async #react(
    leases: readonly LeaseRecord[],
    live: readonly MemberView[],
    topics: ReadonlyMap<string, TopicMetadata>,
  ): Promise<WriteOutcome[]> {
    const views = leaseViews(leases, topics);
    const ideal = idealAssignment(views, live);
    this.#ideal = ideal;
    const byKey = new Map(leases.map((l) => [leaseKey(l.topic, l.partition), l]));

    // Leases we hold that the table says are someone else's (or a newer epoch) are lost.
    for (const lease of this.held()) {
      const stored = byKey.get(leaseKey(lease.topic, lease.partition));
      if (
        !stored ||
        stored.owner !== this.info.memberId ||
        stored.epoch !== lease.epoch ||
        topics.get(lease.topic)?.incarnation !== lease.incarnation
      ) {
        this.#lose(lease);
      }
    }
    // Leases that should move: the run loop finishes its batch, commits, then hands them off.
    for (const lease of this.held()) {
      const target = ideal.get(leaseKey(lease.topic, lease.partition));
      if (lease.state === 'owned' && target !== this.info.memberId) {
        lease.state = transition(lease.state, 'revoking');
        this.#events.revokeRequested(lease);
      }
    }
    // Leases that should be ours: take the free ones and those of dead members, all at once.
    const liveIds = new Set(live.map((m) => m.memberId));
    const writes: Promise<WriteOutcome>[] = [];
    for (const view of views) {
      const key = leaseKey(view.topic, view.partition);
      if (this.#held.has(key)) continue;
      const stored = byKey.get(key);
      const incarnation = topics.get(view.topic)!.incarnation;
      const mine = ideal.get(key) === this.info.memberId;
      const ownerLive =
        stored?.owner !== undefined && liveIds.has(stored.owner) && stored.owner !== this.info.memberId;
      if (stored?.owner === this.info.memberId && !mine) {
        // Handed to us under an older view (or held by our previous incarnation): pass it on.
        writes.push(this.#pass(stored, ideal.get(key), incarnation));
        continue;
      }
      if (!mine || ownerLive) continue;
      writes.push(this.#take(view.topic, view.partition, stored, incarnation));
    }
    return Promise.all(writes);
  }

  /**
   * Deletes the items of members silent for two session timeouts, so members that crashed do
   * not accumulate (conditional on their counter, so a member that came back stays).
   */
  async #removeLongDead(members: readonly MemberRecord[], now: number): Promise<void> {
    const dead = members.filter(
      (m) =>
        m.memberId !== this.info.memberId && !this.#liveness.isLive(m.memberId, now, 2 * m.sessionTimeoutMs),
    );
    await Promise.all(dead.map((m) => this.#store.removeExpiredMember(m.memberId, m.heartbeat)));
  }

  async #take(
    topic: string,
    partition: number,
    stored: LeaseRecord | undefined,
    incarnation: string,
  ): Promise<WriteOutcome> {
    // Taking also bumps the epoch of a lease that already names us: a zombie of this member's
    // previous process (static membership) is fenced off too.
    const taken = await this.#store.changeOwner(topic, partition, stored, this.info.memberId, incarnation);
    if (!taken) return 'refused';
    this.#changes++;
    const lease: HeldLease = {
      topic,
      partition,
      incarnation,
      epoch: taken.epoch,
      committed: taken.incarnation === incarnation ? taken.offset : undefined,
      state: 'owned',
    };
    this.#held.set(leaseKey(topic, partition), lease);
    await this.#events.assigned(lease);
    return 'changed';
  }

  async #pass(stored: LeaseRecord, target: string | undefined, incarnation: string): Promise<WriteOutcome> {
    const moved = await this.#store.changeOwner(stored.topic, stored.partition, stored, target, incarnation);
    if (!moved) return 'refused';
    this.#changes++;
    return 'changed';
  }

  /** Counts a lease-owner change made outside a tick and announces it at once. */
  #changed(): void {
    this.#changes++;
    void this.#announce();
  }

  /** The next tick reads the leases (a write lost a race: the view was out of date). */
  #stale(): void {
    this.#view = NO_VIEW;
  }

  /**
   * Publishes the change counter: one write at a time, and one more after it when changes were
   * counted meanwhile, so a burst of hand-offs costs a few writes, not one each. A failure goes to
   * `onError` only: the next heartbeat publishes the counter anyway.
   */
  #announce(): Promise<void> {
    this.#announceAgain = true;
    this.#announcing ??= (async () => {
      try {
        while (this.#announceAgain) {
          this.#announceAgain = false;
          await this.#store.announce(this.info, this.#changes);
        }
      } catch (error) {
        this.#onError(error);
      } finally {
        this.#announcing = undefined;
      }
    })();
    return this.#announcing;
  }

  #lose(lease: HeldLease): void {
    lease.state = transition(lease.state, 'lost');
    this.#held.delete(leaseKey(lease.topic, lease.partition));
    this.#events.lost(lease);
  }

  #liveMembers(members: readonly MemberRecord[], now: number): MemberView[] {
    for (const m of members) this.#liveness.observe(m.memberId, m.heartbeat, now);
    this.#liveness.retain(new Set(members.map((m) => m.memberId)));
    return members
      .filter(
        (m) =>
          m.memberId === this.info.memberId || this.#liveness.isLive(m.memberId, now, m.sessionTimeoutMs),
      )
      .map((m) => ({ memberId: m.memberId, topics: m.topics }));
  }

  /** The metadata of every existing topic the live members subscribe to. */
  async #subscribedTopics(live: readonly MemberView[]): Promise<Map<string, TopicMetadata>> {
    const topics = new Map<string, TopicMetadata>();
    for (const name of [...new Set(live.flatMap((m) => m.topics))].sort()) {
      const meta = await this.#topic(name);
      if (meta) topics.set(name, meta);
    }
    return topics;
  }

  async #topic(name: string): Promise<TopicMetadata | undefined> {
    try {
      return await this.#topics.get(name);
    } catch (error) {
      if (error instanceof TopicNotFoundError) return undefined;
      throw error;
    }
  }
}

/** Every partition of `topics` with its owner as stored (none when it has no lease item yet). */
function leaseViews(leases: readonly LeaseRecord[], topics: ReadonlyMap<string, TopicMetadata>): LeaseView[] {
  const owners = new Map(leases.map((l) => [leaseKey(l.topic, l.partition), l.owner]));
  const views: LeaseView[] = [];
  for (const [topic, meta] of topics) {
    for (let partition = 0; partition < meta.partitions; partition++) {
      views.push({ topic, partition, owner: owners.get(leaseKey(topic, partition)) });
    }
  }
  return views;
}

function asRecord(lease: HeldLease): LeaseRecord {
  return {
    topic: lease.topic,
    partition: lease.partition,
    owner: undefined,
    epoch: lease.epoch,
    incarnation: lease.incarnation,
    offset: lease.committed,
    metadata: undefined,
    committedAt: undefined,
  };
}
