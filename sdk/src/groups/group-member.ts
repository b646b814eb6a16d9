/**
 * A member's side of group coordination. Every heartbeat interval it:
 * 1. bumps its heartbeat counter (one small write renews all its leases);
 * 2. reads the whole group in one consistent query and judges the others' liveness by whether
 *    their counters moved (its own clock only, see {@link LivenessTracker});
 * 3. computes the ideal assignment (deterministic, so every member reaches the same answer from
 *    the same view) and acts on its own part at once: detects leases it lost, asks the run loop to
 *    hand off leases that should move (after the in-flight batch and a commit), and takes every
 *    lease that should be its own and is free or held by a dead member — all in this one tick,
 *    so a rebalance converges in one or two heartbeats rather than one lease per cycle.
 * Ownership changes are conditional on the lease's owner and epoch (see {@link LeaseStore}).
 */
import type { StorageContext } from '../context.ts';
import { TopicNotFoundError } from '../errors.ts';
import { PeriodicTask } from '../periodic-task.ts';
import type { TopicMetadata } from '../topics/registry.ts';
import type { TopicCache } from '../topics/topic-cache.ts';
import { idealAssignment, type LeaseView, leaseKey } from './assignment.ts';
import { isHeld, type LeaseState, transition } from './lease-state.ts';
import type { GroupSnapshot, LeaseRecord, LeaseStore, MemberInfo } from './lease-store.ts';
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
}

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
  #ideal = new Map<string, string>();
  #lastHeartbeatAt = 0;
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
    };
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
    const target = this.#ideal.get(key);
    if (lease.state !== 'revoking') return false;
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
    const live = this.#liveMembers(snapshot, now).filter((m) => m.memberId !== this.info.memberId);
    const ideal = idealAssignment(await this.#leaseViews(snapshot, live), live);
    await Promise.all(
      this.held().map(async (lease) => {
        const key = leaseKey(lease.topic, lease.partition);
        const seen: LeaseRecord = { ...asRecord(lease), owner: this.info.memberId };
        await this.#store.changeOwner(lease.topic, lease.partition, seen, ideal.get(key), lease.incarnation);
        lease.state = transition(lease.state, 'released');
        this.#held.delete(key);
      }),
    );
    await this.#store.removeMember(this.info.memberId, this.info.joinId);
  }

  /** Stops heartbeating without leaving (what a crash looks like to the others). */
  async abandon(): Promise<void> {
    await this.#heartbeats.stop();
  }

  async #tick(): Promise<void> {
    const startedAt = this.#ctx.now();
    try {
      await this.#store.heartbeat(this.info);
      this.#lastHeartbeatAt = startedAt;
    } catch (error) {
      // Unable to heartbeat for a whole session: others may already have taken our leases, so
      // stop processing them (commits are fenced anyway; this avoids needless duplicate work).
      if (startedAt - this.#lastHeartbeatAt >= this.#timing.sessionTimeoutMs) {
        for (const lease of this.held()) this.#lose(lease);
      }
      throw error;
    }
    const snapshot = await this.#store.snapshot();
    const now = this.#ctx.now();
    const live = this.#liveMembers(snapshot, now);
    await this.#removeLongDead(snapshot, now);
    const views = await this.#leaseViews(snapshot, live);
    const ideal = idealAssignment(views, live);
    this.#ideal = ideal;
    const byKey = new Map(snapshot.leases.map((l) => [leaseKey(l.topic, l.partition), l]));
    const incarnations = new Map<string, string>();
    for (const topic of new Set(live.flatMap((m) => m.topics))) {
      const meta = await this.#topic(topic);
      if (meta) incarnations.set(topic, meta.incarnation);
    }

    // Leases we hold that the table says are someone else's (or a newer epoch) are lost.
    for (const lease of this.held()) {
      const stored = byKey.get(leaseKey(lease.topic, lease.partition));
      const incarnation = incarnations.get(lease.topic);
      if (
        !stored ||
        stored.owner !== this.info.memberId ||
        stored.epoch !== lease.epoch ||
        incarnation !== lease.incarnation
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
    const takes: Promise<void>[] = [];
    for (const view of views) {
      const key = leaseKey(view.topic, view.partition);
      if (this.#held.has(key)) continue;
      const stored = byKey.get(key);
      const incarnation = incarnations.get(view.topic);
      if (!incarnation) continue;
      const mine = ideal.get(key) === this.info.memberId;
      const ownerLive =
        stored?.owner !== undefined && liveIds.has(stored.owner) && stored.owner !== this.info.memberId;
      if (stored?.owner === this.info.memberId && !mine) {
        // Handed to us under an older view (or held by our previous incarnation): pass it on.
        takes.push(this.#pass(stored, ideal.get(key), incarnation));
        continue;
      }
      if (!mine || ownerLive) continue;
      takes.push(this.#take(view.topic, view.partition, stored, incarnation));
    }
    await Promise.all(takes);
  }

  /**
   * Deletes the items of members silent for two session timeouts, so members that crashed do
   * not accumulate (conditional on their counter, so a member that came back stays).
   */
  async #removeLongDead(snapshot: GroupSnapshot, now: number): Promise<void> {
    const dead = snapshot.members.filter(
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
  ): Promise<void> {
    // Taking also bumps the epoch of a lease that already names us: a zombie of this member's
    // previous process (static membership) is fenced off too.
    const taken = await this.#store.changeOwner(topic, partition, stored, this.info.memberId, incarnation);
    if (!taken) return;
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
  }

  async #pass(stored: LeaseRecord, target: string | undefined, incarnation: string): Promise<void> {
    await this.#store.changeOwner(stored.topic, stored.partition, stored, target, incarnation);
  }

  #lose(lease: HeldLease): void {
    lease.state = transition(lease.state, 'lost');
    this.#held.delete(leaseKey(lease.topic, lease.partition));
    this.#events.lost(lease);
  }

  #liveMembers(snapshot: GroupSnapshot, now: number): { memberId: string; topics: readonly string[] }[] {
    for (const m of snapshot.members) this.#liveness.observe(m.memberId, m.heartbeat, now);
    this.#liveness.retain(new Set(snapshot.members.map((m) => m.memberId)));
    return snapshot.members
      .filter(
        (m) =>
          m.memberId === this.info.memberId || this.#liveness.isLive(m.memberId, now, m.sessionTimeoutMs),
      )
      .map((m) => ({ memberId: m.memberId, topics: m.topics }));
  }

  async #leaseViews(
    snapshot: GroupSnapshot,
    live: readonly { topics: readonly string[] }[],
  ): Promise<LeaseView[]> {
    const owners = new Map(snapshot.leases.map((l) => [leaseKey(l.topic, l.partition), l.owner]));
    const views: LeaseView[] = [];
    for (const topic of [...new Set(live.flatMap((m) => m.topics))].sort()) {
      const meta = await this.#topic(topic);
      if (!meta) continue;
      for (let partition = 0; partition < meta.partitions; partition++) {
        views.push({ topic, partition, owner: owners.get(leaseKey(topic, partition)) });
      }
    }
    return views;
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
