/**
 * Group membership over the HTTP API. The API keeps no state between calls: this member carries
 * its session, heartbeats on a timer (each heartbeat is one coordination round on the API), and
 * turns the assignment each call returns into the same events a direct member raises —
 * assigned, revoke requested, lost — so the group consumer above behaves identically.
 * A revoked partition is released on the next heartbeat, after its batch finished and was committed.
 */
import { randomBytes } from 'node:crypto';
import type { TransactWriteItem } from '@aws-sdk/client-dynamodb';
import type { OperationResult } from '../api/contract.ts';
import {
  InvalidSessionError,
  LeaseLostError,
  MemberIdInUseError,
  OffsetOutOfRangeError,
  UnsupportedOperationError,
} from '../errors.ts';
import { leaseKey } from '../groups/assignment.ts';
import type { FencedOffset, GroupBackend, MemberCoordinator } from '../groups/group-backend.ts';
import type { HeldLease, MembershipEvents, MemberTiming } from '../groups/group-member.ts';
import { transition } from '../groups/lease-state.ts';
import type { MemberInfo } from '../groups/lease-store.ts';
import { PeriodicTask } from '../periodic-task.ts';
import type { RecordMetadata } from '../producer.ts';
import type { ProducerRecord } from '../producer-input.ts';
import type { RawValue } from '../serde.ts';
import type { TopicPartition } from '../topic-partition.ts';
import type { HttpClient } from './http-client.ts';
import { httpSources } from './http-source.ts';
import type { PartitionSourceFactory } from './partition-source.ts';

type Membership = OperationResult<'joinGroup'>;

/** A group member whose coordination runs on the API, one heartbeat call per round. */
class HttpGroupMember implements MemberCoordinator {
  readonly #http: HttpClient;
  readonly #group: string;
  readonly #info: MemberInfo;
  readonly #events: MembershipEvents;
  readonly #onError: (error: unknown) => void;
  readonly #held = new Map<string, HeldLease>();
  /** Revoking leases finished by the consumer, to release on the next heartbeat. */
  readonly #releasing = new Map<string, HeldLease>();
  #session: string | undefined;
  /** The member id in use: the proposed one, unless a lost join response forced a new one. */
  #memberId: string;
  #lastHeartbeatAt = 0;
  /** The heartbeat loop: one heartbeat call per interval, never two at once. */
  readonly #heartbeats: PeriodicTask;

  constructor(
    http: HttpClient,
    group: string,
    info: MemberInfo,
    timing: MemberTiming,
    events: MembershipEvents,
    onError: (error: unknown) => void,
  ) {
    this.#http = http;
    this.#group = group;
    this.#info = info;
    this.#memberId = info.memberId;
    this.#events = events;
    this.#onError = onError;
    this.#heartbeats = new PeriodicTask(() => this.#heartbeat(), {
      intervalMs: timing.heartbeatIntervalMs,
      onError: (error) => this.#onError(error),
    });
  }

  get memberId(): string {
    return this.#memberId;
  }

  /** The latest session, for commits (undefined before the first join). */
  get session(): string | undefined {
    return this.#session;
  }

  held(): HeldLease[] {
    return [...this.#held.values()];
  }

  async join(): Promise<void> {
    const membership = await this.#join();
    this.#lastHeartbeatAt = Date.now();
    await this.#apply(membership);
    this.#heartbeats.start();
  }

  /**
   * Joins under the member id in use. A dynamic member whose id is taken — most likely by its own
   * earlier attempt whose response was lost, which expires on its own — joins under a new id.
   */
  async #join(): Promise<Membership> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.#http.call('joinGroup', {
          params: { group: this.#group },
          body: {
            topics: [...this.#info.topics],
            ...(this.#info.instanceId === undefined
              ? { memberId: this.#memberId }
              : { instanceId: this.#info.instanceId }),
            sessionTimeoutMs: this.#info.sessionTimeoutMs,
          },
        });
      } catch (error) {
        if (!(error instanceof MemberIdInUseError) || this.#info.instanceId !== undefined || attempt >= 3)
          throw error;
        this.#memberId = `m-${randomBytes(6).toString('hex')}`;
      }
    }
  }

  async handOff(lease: HeldLease): Promise<boolean> {
    if (lease.state !== 'revoking') return false;
    const key = leaseKey(lease.topic, lease.partition);
    this.#releasing.set(key, lease);
    await this.#heartbeats.runNow();
    if (!this.#held.has(key)) return true;
    // Still held: the assignment changed its mind, or the release did not go through. Own it again;
    // the next heartbeat that asks for it raises a fresh revocation.
    if (lease.state === 'revoking') lease.state = transition(lease.state, 'owned');
    return false;
  }

  async leave(): Promise<void> {
    await this.#heartbeats.stop();
    if (!this.#session) return;
    await this.#http.call('leaveGroup', {
      params: { group: this.#group, member: this.#memberId },
      body: { session: this.#session },
    });
    for (const lease of this.#held.values()) lease.state = transition(lease.state, 'released');
    this.#held.clear();
  }

  async abandon(): Promise<void> {
    await this.#heartbeats.stop();
  }

  /** One heartbeat (the task runs it, never alongside another). */
  async #heartbeat(): Promise<void> {
    if (!this.#session) return;
    // Only what this request carries counts as released: a hand-off queued while it is in flight
    // goes with the next one.
    const sent = new Map(this.#releasing);
    const release = [...sent.values()].map(({ topic, partition }) => ({ topic, partition }));
    const startedAt = Date.now();
    let membership: Membership;
    try {
      membership = await this.#http.call('heartbeat', {
        params: { group: this.#group, member: this.#memberId },
        body: { session: this.#session, release },
      });
    } catch (error) {
      if (error instanceof InvalidSessionError) {
        // Removed from the group (its session expired while this process was paused, say): every
        // lease is gone; a dynamic member joins again at once. A static member fenced by a newer
        // instance of itself stops, as Kafka's FENCED_INSTANCE_ID does.
        this.#loseAll();
        if (error.fenced) {
          // Stops the schedule; this heartbeat is the run in progress, so it is not awaited.
          void this.#heartbeats.stop();
          throw error;
        }
        this.#session = undefined;
        const rejoined = await this.#join();
        this.#lastHeartbeatAt = startedAt;
        this.#releasing.clear();
        await this.#apply(rejoined);
        return;
      }
      // Unable to heartbeat for a whole session: others may have our leases; stop processing them.
      if (startedAt - this.#lastHeartbeatAt >= this.#info.sessionTimeoutMs) this.#loseAll();
      throw error;
    }
    this.#lastHeartbeatAt = startedAt;
    for (const key of sent.keys()) this.#releasing.delete(key);
    await this.#apply(membership, new Set(sent.keys()));
  }

  #loseAll(): void {
    for (const [key, lease] of this.#held) {
      this.#held.delete(key);
      lease.state = transition(lease.state, 'lost');
      this.#events.lost(lease);
    }
  }

  async #apply(membership: Membership, released: ReadonlySet<string> = new Set()): Promise<void> {
    this.#session = membership.session;
    const current = new Map(membership.assignment.map((l) => [leaseKey(l.topic, l.partition), l]));
    // Leases gone, or held at a newer epoch (taken and given back meanwhile): lost, unless released.
    for (const [key, lease] of this.#held) {
      const now = current.get(key);
      if (now && now.epoch === lease.epoch) continue;
      this.#held.delete(key);
      if (released.has(key) && !now) {
        lease.state = transition(lease.state, 'released');
      } else {
        lease.state = transition(lease.state, 'lost');
        this.#events.lost(lease);
      }
    }
    for (const [key, l] of current) {
      const held = this.#held.get(key);
      if (!held) {
        const lease: HeldLease = {
          topic: l.topic,
          partition: l.partition,
          // The API fences by epoch; the topic incarnation stays on the API's side.
          incarnation: '',
          epoch: l.epoch,
          committed: l.committedOffset ?? undefined,
          state: 'owned',
        };
        this.#held.set(key, lease);
        await this.#events.assigned(lease);
        if (l.state === 'revoking') {
          lease.state = transition(lease.state, 'revoking');
          this.#events.revokeRequested(lease);
        }
      } else if (l.state === 'revoking' && held.state === 'owned') {
        held.state = transition(held.state, 'revoking');
        this.#events.revokeRequested(held);
      } else if (l.state === 'owned' && held.state === 'revoking') {
        held.state = transition(held.state, 'owned');
      }
    }
  }
}

/** The HTTP transport's group backend: membership, commits and fetches through the API. */
export class HttpGroupBackend implements GroupBackend {
  readonly sources: PartitionSourceFactory;
  readonly #http: HttpClient;
  readonly #group: string;
  /** The member of this group's consumer: commits carry its session. */
  #member: HttpGroupMember | undefined;

  constructor(http: HttpClient, group: string) {
    this.#http = http;
    this.#group = group;
    this.sources = httpSources(http);
  }

  async checkTopic(topic: string): Promise<void> {
    await this.#http.call('partitionOffsets', { params: { topic, partition: 0 } });
  }

  member(
    info: MemberInfo,
    timing: MemberTiming,
    events: MembershipEvents,
    onError: (e: unknown) => void,
  ): MemberCoordinator {
    this.#member = new HttpGroupMember(this.#http, this.#group, info, timing, events, onError);
    return this.#member;
  }

  async checkCommit(p: TopicPartition, _lease: HeldLease, offset: number): Promise<void> {
    const { logStartOffset, highWatermark } = await this.#http.call('partitionOffsets', {
      params: { topic: p.topic, partition: p.partition },
    });
    if (offset > highWatermark) {
      throw new OffsetOutOfRangeError(p.topic, p.partition, offset, logStartOffset, highWatermark);
    }
  }

  async commit(c: FencedOffset): Promise<void> {
    const session = this.#member?.session;
    if (!this.#member || session === undefined) {
      throw new LeaseLostError(this.#group, c.fence.topic, c.fence.partition);
    }
    await this.#http.call('commitOffsets', {
      params: { group: this.#group },
      body: {
        memberId: this.#member.memberId,
        session,
        offsets: [
          {
            topic: c.fence.topic,
            partition: c.fence.partition,
            offset: c.offset,
            epoch: c.fence.epoch,
            ...(c.metadata === undefined ? {} : { metadata: c.metadata }),
          },
        ],
      },
    });
  }

  async transaction(
    _commits: readonly FencedOffset[],
    _send: readonly ProducerRecord<RawValue>[],
    _items: readonly TransactWriteItem[],
  ): Promise<RecordMetadata[][]> {
    throw new UnsupportedOperationError(
      'transaction() commits offsets and appends in one DynamoDB transaction, which needs the direct ' +
        "transport (transport: 'direct' with table access); over HTTP, produce then commit (at-least-once).",
    );
  }

  async close(): Promise<void> {}
}
