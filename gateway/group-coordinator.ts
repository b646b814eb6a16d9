/**
 * The gateway's side of classic consumer groups: reads a group's state from the groups table,
 * applies the protocol's transitions (`classic-group.ts`) and writes them conditionally on the
 * version read, retrying on a lost race. Every gateway process runs one; none is special, and a
 * gateway's death loses nothing but the requests it held (their clients send them again).
 *
 * Waiting happens where the request is: a JoinGroup waits until its round completes, a follower's
 * SyncGroup until the leader's assignment lands, polling the state with strongly consistent
 * reads. Whoever sees first that a round can complete (every member joined, or the rebalance
 * timeout passed on its own clock) completes it; the others see it done.
 *
 * Liveness: a member is alive while its liveness counter moves (heartbeats, commits, and
 * requests a gateway holds for it). A member is expired once a gateway has seen its counter
 * stand still for the member's session timeout by that gateway's own monotonic clock — no
 * gateway trusts another's clock, and a gateway that just started only ever waits longer.
 */
import { randomUUID } from 'node:crypto';
import { ServiceUnavailableError } from '../sdk/src/index.ts';
import {
  type ClassicGroup,
  ClassicGroupStore,
  type ClassicView,
  EMPTY_CLASSIC_GROUP,
  LeaseStore,
  type StorageContext,
} from '../sdk/src/internal.ts';
import {
  addPendingMember,
  allJoined,
  completeRound,
  type GroupFailure,
  type JoinDecision,
  type JoinRequest,
  join,
  removeMembers,
} from './classic-group.ts';
import { KafkaError } from './kafka-errors.ts';

/** Settings of a gateway's group coordination. */
export interface GroupCoordinatorOptions {
  /** How often a held JoinGroup or SyncGroup reads the group's state (ms). */
  readonly pollIntervalMs: number;
  /**
   * How long the first rebalance of a group waits for more members once the last one joined
   * (Kafka's `group.initial.rebalance.delay.ms`), at most the rebalance timeout (ms).
   */
  readonly initialRebalanceDelayMs: number;
  /** Smallest and largest session timeout a member may ask for (Kafka's `group.min/max.session.timeout.ms`). */
  readonly minSessionTimeoutMs: number;
  readonly maxSessionTimeoutMs: number;
}

/** The answer to a JoinGroup once its round completed. */
export interface JoinResult {
  readonly generation: number;
  readonly protocolType: string | undefined;
  readonly protocolName: string | undefined;
  readonly leader: string;
  readonly memberId: string;
  /** Every member with its metadata of the chosen protocol: for the leader only. */
  readonly members: readonly { memberId: string; instanceId: string | undefined; metadata: Uint8Array }[];
}

/** Times the coordinator measures with: a monotonic clock and a sleep that ends early on abort. */
export interface CoordinatorClock {
  readonly now: () => number;
  readonly sleep: (ms: number, signal: AbortSignal) => Promise<void>;
}

const MONOTONIC: CoordinatorClock = {
  now: () => performance.now(),
  sleep: (ms, signal) =>
    new Promise((resolve) => {
      if (signal.aborted) return resolve();
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        resolve();
      }
      signal.addEventListener('abort', done, { once: true });
    }),
};

/** Added to a handed-out member id's acceptance window, for clocks of gateways that differ. */
const PENDING_CLOCK_MARGIN_MS = 60_000;

/** Attempts of one read-decide-write before the request is answered as retriable. */
const MAX_RACES = 50;

/** One gateway process's group coordination. */
export class GroupCoordinator {
  readonly #ctx: StorageContext;
  readonly #options: GroupCoordinatorOptions;
  readonly #clock: CoordinatorClock;
  /**
   * Per group, per member: the liveness counter last seen and when (this gateway's clock) it was
   * first seen at that value. Only members of the group as last read are kept.
   */
  readonly #observed = new Map<string, Map<string, Observation>>();

  constructor(ctx: StorageContext, options: GroupCoordinatorOptions, clock: CoordinatorClock = MONOTONIC) {
    this.#ctx = ctx;
    this.#options = options;
    this.#clock = clock;
  }

  get options(): GroupCoordinatorOptions {
    return this.#options;
  }

  /** The store of one group (validates the id: InvalidGroupIdError). */
  store(groupId: string): ClassicGroupStore {
    return new ClassicGroupStore(this.#ctx, groupId);
  }

  /** A fresh member id, Kafka's way: the client id and a UUID. */
  newMemberId(clientId: string): string {
    return `${clientId.slice(0, 128)}-${randomUUID()}`;
  }

  /**
   * Records `memberId`, handed out with MEMBER_ID_REQUIRED, as one the group accepts in a join
   * for the member's session timeout (plus a minute, so that another gateway's clock running
   * ahead does not refuse it).
   */
  async requireMemberId(store: ClassicGroupStore, memberId: string, sessionTimeoutMs: number): Promise<void> {
    const now = this.#ctx.now();
    await this.update(store, (group) => ({
      next: addPendingMember(group, memberId, now + sessionTimeoutMs + PENDING_CLOCK_MARGIN_MS, now),
      result: undefined,
    }));
  }

  /**
   * Joins `request` into its group and waits until the round it joined completes, or answers at
   * once when the member is already in the current generation. Ends early (with undefined) when
   * `signal` aborts (the connection closed).
   */
  async join(
    store: ClassicGroupStore,
    joining: Omit<JoinRequest, 'now'>,
    signal: AbortSignal,
  ): Promise<JoinResult | GroupFailure | undefined> {
    const request: JoinRequest = { ...joining, now: this.#ctx.now() };
    // One protocol per group: Tributary's own consumers active in it (judged by their heartbeat
    // clocks, as admin checks are) would read the same partitions (their SDK refuses the converse).
    const now = this.#ctx.now();
    const tributary = await new LeaseStore(this.#ctx, store.group).members();
    if (tributary.some((m) => now - m.seenAt < m.sessionTimeoutMs)) {
      return {
        code: KafkaError.INCONSISTENT_GROUP_PROTOCOL,
        message: `Group "${store.group}" has active Tributary consumers: one protocol coordinates a group at a time`,
      };
    }
    const joined = await this.update(
      store,
      (group): { next?: ClassicGroup | undefined; result: JoinDecision } => {
        const decision = join(group, request);
        return decision.kind === 'error' ? { result: decision } : { next: decision.next, result: decision };
      },
    );
    if (joined.result.kind === 'error') return joined.result;
    // The member id a returning static member replaced is fenced for good: its counter goes.
    if (joined.result.replaced !== undefined) await store.dropBeats([joined.result.replaced]);
    await store.beat(request.memberId);
    if (joined.result.kind === 'current') return resultFor(joined.group, request.memberId);
    return this.#awaitRound(store, request.memberId, joined.group.generation + 1, signal);
  }

  async #awaitRound(
    store: ClassicGroupStore,
    memberId: string,
    target: number,
    signal: AbortSignal,
  ): Promise<JoinResult | GroupFailure | undefined> {
    const started = this.#clock.now();
    let lastBeat = started;
    let version = -1;
    let changedAt = started;
    while (!signal.aborted) {
      const view = await this.#readExpiring(store, new Set([memberId]));
      const group = view.group ?? EMPTY_CLASSIC_GROUP;
      const me = group.members.find((m) => m.memberId === memberId);
      if (!me) return unknownMember(memberId, group);
      if (group.generation >= target) return resultFor(group, memberId);
      const now = this.#clock.now();
      if (group.version !== version) {
        version = group.version;
        changedAt = now;
      }
      if (group.state === 'PreparingRebalance' && group.generation + 1 === target) {
        const rebalanceTimeoutMs = Math.max(...group.members.map((m) => m.rebalanceTimeoutMs));
        const settled =
          !group.initialRebalance ||
          now - changedAt >= Math.min(this.#options.initialRebalanceDelayMs, rebalanceTimeoutMs);
        if ((allJoined(group) && settled) || now - started >= rebalanceTimeoutMs) {
          if (await store.write(completeRound(group))) continue;
        }
      }
      if (now - lastBeat >= beatEvery(me.sessionTimeoutMs)) {
        await store.beat(memberId);
        lastBeat = now;
      }
      await this.#clock.sleep(this.#options.pollIntervalMs, signal);
    }
    return undefined;
  }

  /**
   * Waits until the leader's assignment for `generation` lands (a follower's SyncGroup), as long
   * as the member's rebalance timeout. Returns the group as it is then; undefined on abort.
   */
  async awaitAssignment(
    store: ClassicGroupStore,
    memberId: string,
    generation: number,
    signal: AbortSignal,
  ): Promise<ClassicGroup | undefined> {
    const started = this.#clock.now();
    let lastBeat = started;
    while (!signal.aborted) {
      const view = await this.#readExpiring(store, new Set([memberId]));
      const group = view.group ?? EMPTY_CLASSIC_GROUP;
      const me = group.members.find((m) => m.memberId === memberId);
      if (!me || group.generation !== generation || group.state !== 'CompletingRebalance') return group;
      const now = this.#clock.now();
      // A leader that never syncs is expired by its session timeout; this bound only caps the wait.
      if (now - started >= me.rebalanceTimeoutMs) return group;
      if (now - lastBeat >= beatEvery(me.sessionTimeoutMs)) {
        await store.beat(memberId);
        lastBeat = now;
      }
      await this.#clock.sleep(this.#options.pollIntervalMs, signal);
    }
    return undefined;
  }

  /** The group's state, with members whose session expired removed first (written, so every gateway agrees). */
  async read(store: ClassicGroupStore): Promise<ClassicView> {
    return this.#readExpiring(store, new Set());
  }

  async #readExpiring(store: ClassicGroupStore, held: ReadonlySet<string>): Promise<ClassicView> {
    for (let race = 0; race < MAX_RACES; race++) {
      const view = await store.read();
      const group = view.group;
      this.#forgetDeparted(store.group, group);
      if (!group) return view;
      const expired = new Set(
        group.members
          .filter((m) => !held.has(m.memberId) && this.#expired(store.group, m, view))
          .map((m) => m.memberId),
      );
      if (expired.size === 0) return view;
      const next = removeMembers(group, expired);
      if (!next) return view;
      if (await store.write(next)) {
        await store.dropBeats([...expired]);
        for (const id of expired) this.#observed.get(store.group)?.delete(id);
        return { group: { ...next, version: next.version + 1 }, beats: view.beats };
      }
    }
    throw coordinatorBusy(store.group);
  }

  /** Drops this gateway's observations of members no longer in `groupId` (they left through any gateway). */
  #forgetDeparted(groupId: string, group: ClassicGroup | undefined): void {
    const observed = this.#observed.get(groupId);
    if (!observed) return;
    if (!group || group.members.length === 0) {
      this.#observed.delete(groupId);
      return;
    }
    const members = new Set(group.members.map((m) => m.memberId));
    for (const memberId of observed.keys()) if (!members.has(memberId)) observed.delete(memberId);
  }

  /** True once this gateway has seen the member's liveness counter stand still for its session timeout. */
  #expired(groupId: string, member: ClassicGroup['members'][number], view: ClassicView): boolean {
    const beat = view.beats.get(member.memberId) ?? { beats: -1, seenAt: -1 };
    const now = this.#clock.now();
    let observed = this.#observed.get(groupId);
    if (!observed) {
      observed = new Map();
      this.#observed.set(groupId, observed);
    }
    const seen = observed.get(member.memberId);
    if (!seen || seen.beats !== beat.beats || seen.seenAt !== beat.seenAt) {
      observed.set(member.memberId, { beats: beat.beats, seenAt: beat.seenAt, since: now });
      return false;
    }
    return now - seen.since >= member.sessionTimeoutMs;
  }

  /**
   * One read-decide-write: `decide` sees the group as read and says what to write (nothing, or a
   * new state); a lost race reads again. Returns the group as written (or as read) and the result.
   */
  async update<R>(
    store: ClassicGroupStore,
    decide: (group: ClassicGroup) => { readonly next?: ClassicGroup | undefined; readonly result: R },
  ): Promise<{ group: ClassicGroup; result: R }> {
    for (let race = 0; race < MAX_RACES; race++) {
      const view = await this.#readExpiring(store, new Set());
      const group = view.group ?? EMPTY_CLASSIC_GROUP;
      const { next, result } = decide(group);
      if (!next) return { group, result };
      if (await store.write(next)) return { group: { ...next, version: next.version + 1 }, result };
    }
    throw coordinatorBusy(store.group);
  }
}

/** A group that changed under every attempt in a row: retriable (the client tries again). */
function coordinatorBusy(groupId: string): ServiceUnavailableError {
  return new ServiceUnavailableError(
    `Group "${groupId}" changed under ${MAX_RACES} attempts in a row; retry`,
  );
}

/** A member's liveness counter as this gateway last saw it. */
interface Observation {
  readonly beats: number;
  readonly seenAt: number;
  /** When (this gateway's monotonic clock) the counter was first seen at this value. */
  readonly since: number;
}

/** How often a held request moves its member's liveness counter: well within the session timeout. */
function beatEvery(sessionTimeoutMs: number): number {
  return Math.max(100, Math.min(1_000, Math.floor(sessionTimeoutMs / 4)));
}

function unknownMember(memberId: string, group: ClassicGroup): GroupFailure {
  return {
    code: KafkaError.UNKNOWN_MEMBER_ID,
    message: `Member "${memberId}" is no longer in the group (state ${group.state})`,
  };
}

function resultFor(group: ClassicGroup, memberId: string): JoinResult {
  const leader = group.leader ?? '';
  const members =
    leader === memberId
      ? group.members
          .filter((m) => m.joinedFor === group.generation)
          .map((m) => ({
            memberId: m.memberId,
            instanceId: m.instanceId,
            metadata: m.protocols.find((p) => p.name === group.protocolName)?.metadata ?? new Uint8Array(0),
          }))
      : [];
  return {
    generation: group.generation,
    protocolType: group.protocolType,
    protocolName: group.protocolName,
    leader,
    memberId,
    members,
  };
}
