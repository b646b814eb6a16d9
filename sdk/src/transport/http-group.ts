/**
 * Group membership over the HTTP API. The API keeps no state between calls: this member carries
 * its session, heartbeats on a timer (each heartbeat is one coordination round on the API), and
 * turns the assignment each call returns into the same events a direct member raises —
 * assigned, revoke requested, lost — so the group consumer above behaves identically.
 * A revoked partition is released on the next heartbeat, after its batch finished and was committed.
 */
import type { TransactWriteItem } from '@aws-sdk/client-dynamodb';
import type { OperationResult } from '../api/contract.ts';
import type { TopicPartition } from '../consumer.ts';
import { OffsetOutOfRangeError, UnsupportedOperationError } from '../errors.ts';
import { leaseKey } from '../groups/assignment.ts';
import type { FencedOffset, GroupBackend, MemberCoordinator } from '../groups/group-backend.ts';
import type { HeldLease, MembershipEvents, MemberTiming } from '../groups/group-member.ts';
import { transition } from '../groups/lease-state.ts';
import type { MemberInfo } from '../groups/lease-store.ts';
import type { ProducerRecord, RecordMetadata } from '../producer.ts';
import type { RawValue } from '../serde.ts';
import type { HttpClient } from './http-client.ts';
import { httpSources } from './http-source.ts';
import type { PartitionSourceFactory } from './partition-source.ts';

type Membership = OperationResult<'joinGroup'>;

/** A group member whose coordination runs on the API, one heartbeat call per round. */
class HttpGroupMember implements MemberCoordinator {
  readonly #http: HttpClient;
  readonly #group: string;
  readonly #info: MemberInfo;
  readonly #timing: MemberTiming;
  readonly #events: MembershipEvents;
  readonly #onError: (error: unknown) => void;
  readonly #held = new Map<string, HeldLease>();
  /** Revoking leases finished by the consumer, to release on the next heartbeat. */
  readonly #releasing = new Map<string, HeldLease>();
  #session: string | undefined;
  #lastHeartbeatAt = 0;
  #timer: NodeJS.Timeout | undefined;
  #ticking: Promise<void> = Promise.resolve();
  #running = false;

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
    this.#timing = timing;
    this.#events = events;
    this.#onError = onError;
  }

  held(): HeldLease[] {
    return [...this.#held.values()];
  }

  async join(): Promise<void> {
    const membership = await this.#http.call('joinGroup', {
      params: { group: this.#group },
      body: {
        topics: [...this.#info.topics],
        memberId: this.#info.memberId,
        ...(this.#info.instanceId === undefined ? {} : { instanceId: this.#info.instanceId }),
        sessionTimeoutMs: this.#info.sessionTimeoutMs,
      },
    });
    this.#running = true;
    this.#lastHeartbeatAt = Date.now();
    await this.#apply(membership);
    this.#schedule();
  }

  async handOff(lease: HeldLease): Promise<boolean> {
    if (lease.state !== 'revoking') return false;
    const key = leaseKey(lease.topic, lease.partition);
    this.#releasing.set(key, lease);
    await this.#tick();
    if (!this.#held.has(key)) return true;
    // Still held: the assignment changed its mind, or the release did not go through. Own it again;
    // the next heartbeat that asks for it raises a fresh revocation.
    if (lease.state === 'revoking') lease.state = transition(lease.state, 'owned');
    return false;
  }

  async leave(): Promise<void> {
    this.#stop();
    await this.#ticking;
    if (!this.#session) return;
    await this.#http.call('leaveGroup', {
      params: { group: this.#group, member: this.#info.memberId },
      body: { session: this.#session },
    });
    for (const lease of this.#held.values()) lease.state = transition(lease.state, 'released');
    this.#held.clear();
  }

  async abandon(): Promise<void> {
    this.#stop();
    await this.#ticking;
  }

  #stop(): void {
    this.#running = false;
    clearTimeout(this.#timer);
  }

  #schedule(): void {
    if (!this.#running) return;
    this.#timer = setTimeout(() => {
      void this.#tick()
        .catch((error: unknown) => this.#onError(error))
        .finally(() => this.#schedule());
    }, this.#timing.heartbeatIntervalMs);
    this.#timer.unref?.();
  }

  /** One heartbeat, serialised with any other in flight. */
  #tick(): Promise<void> {
    const run = this.#ticking.then(async () => {
      if (!this.#running || !this.#session) return;
      // Only what this request carries counts as released: a hand-off queued while it is in flight
      // goes with the next one.
      const sent = new Map(this.#releasing);
      const release = [...sent.values()].map(({ topic, partition }) => ({ topic, partition }));
      const startedAt = Date.now();
      let membership: Membership;
      try {
        membership = await this.#http.call('heartbeat', {
          params: { group: this.#group, member: this.#info.memberId },
          body: { session: this.#session, release },
        });
      } catch (error) {
        // Unable to heartbeat for a whole session: others may have our leases; stop processing them.
        if (startedAt - this.#lastHeartbeatAt >= this.#info.sessionTimeoutMs) {
          for (const [key, lease] of this.#held) {
            this.#held.delete(key);
            lease.state = transition(lease.state, 'lost');
            this.#events.lost(lease);
          }
        }
        throw error;
      }
      this.#lastHeartbeatAt = startedAt;
      for (const key of sent.keys()) this.#releasing.delete(key);
      await this.#apply(membership, new Set(sent.keys()));
    });
    this.#ticking = run.catch(() => undefined);
    return run;
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
    return new HttpGroupMember(this.#http, this.#group, info, timing, events, onError);
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
    await this.#http.call('commitOffsets', {
      params: { group: this.#group },
      body: {
        memberId: c.fence.memberId,
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
