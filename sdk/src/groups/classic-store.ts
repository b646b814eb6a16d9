/**
 * Storage of a consumer group coordinated with Kafka's classic group protocol (by the Kafka
 * gateway): one state item per group holding what Kafka's coordinator keeps in memory —
 * state, generation, the chosen protocol, the leader, every member with its protocols' opaque
 * metadata and, once the leader synced, its opaque assignment — and one liveness item per member.
 *
 * Every change of the state item is a put conditional on the version it was read at, so any
 * number of gateways coordinate one group: a writer that lost a race reads again and re-decides.
 * Heartbeats never touch the state item (they bump the member's liveness counter), so they do
 * not contend with joins. Committed offsets are the group's ordinary lease items, written under a
 * fence on the state item (generation and membership) instead of a lease owner: the same offsets
 * `describe` and offset resets work on.
 */
import { randomUUID } from 'node:crypto';
import {
  type AttributeValue,
  ConditionalCheckFailedException,
  type ConditionCheck,
  DeleteItemCommand,
  GetItemCommand,
  PutItemCommand,
  TransactionCanceledException,
  type TransactWriteItem,
  TransactWriteItemsCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { mapLimited } from '../concurrency.ts';
import type { StorageContext } from '../context.ts';
import { CLASSIC_BEAT_PREFIX, CLASSIC_GROUP_KEY, GroupAttr, leaseItemKey } from '../keys.ts';
import { groupContext, isStronglyConsistent } from '../regions/routing.ts';
import { withRetry } from '../retry.ts';
import { validateGroupId } from './group-id.ts';
import { ensureGroupMeta, groupItemKey, queryGroupItems } from './group-items.ts';

type Item = Record<string, AttributeValue>;

/** The states of a classic group, by Kafka's names. */
export type ClassicGroupState = 'Empty' | 'PreparingRebalance' | 'CompletingRebalance' | 'Stable';

/** One protocol a member supports (an assignor, for consumers), with its opaque metadata. */
export interface ClassicProtocol {
  readonly name: string;
  readonly metadata: Uint8Array;
}

/** A member of a classic group. */
export interface ClassicMember {
  readonly memberId: string;
  /** KIP-345 static membership id, if any. */
  readonly instanceId: string | undefined;
  readonly clientId: string;
  readonly clientHost: string;
  readonly sessionTimeoutMs: number;
  readonly rebalanceTimeoutMs: number;
  /** The member's protocols, most preferred first. */
  readonly protocols: readonly ClassicProtocol[];
  /** The generation the member's latest join is for: the current one, or the next while rebalancing. */
  readonly joinedFor: number;
  /** The member's assignment in the current generation (set by the leader's SyncGroup). */
  readonly assignment: Uint8Array | undefined;
}

/** A classic group's state item. */
export interface ClassicGroup {
  /** Version the item was read at; 0 for a group with no state item yet. */
  readonly version: number;
  readonly state: ClassicGroupState;
  readonly generation: number;
  /** The members' protocol type ("consumer" for consumers), set by the first member. */
  readonly protocolType: string | undefined;
  /** The protocol chosen for the current generation. */
  readonly protocolName: string | undefined;
  readonly leader: string | undefined;
  /** Members in the order they first joined. */
  readonly members: readonly ClassicMember[];
  /** Set while a rebalance that began with no members runs (the initial rebalance delay applies). */
  readonly initialRebalance: boolean;
  /**
   * Member ids handed out with MEMBER_ID_REQUIRED (KIP-394) that have not joined yet, each with
   * the time (the writer's clock, epoch ms) after which it is dropped: only these, and members,
   * may join with a member id.
   */
  readonly pending: readonly PendingMember[];
}

/** A member id handed out and not yet used to join. */
export interface PendingMember {
  readonly memberId: string;
  /** Epoch ms (the writer's clock) after which the id is no longer accepted. */
  readonly until: number;
}

/** A member's liveness item: a counter its heartbeats move (judged by observers, not clocks). */
export interface ClassicBeat {
  readonly beats: number;
  /** The writer's clock at the last beat (informational: describe and admin checks). */
  readonly seenAt: number;
}

/** A classic group as read: its state item (undefined when none) and its members' liveness. */
export interface ClassicView {
  readonly group: ClassicGroup | undefined;
  readonly beats: ReadonlyMap<string, ClassicBeat>;
}

/** What a classic commit is conditional on: the member, in this generation, outside a pending sync. */
export interface ClassicFence {
  readonly memberId: string;
  readonly generation: number;
}

/** One offset a classic commit writes. */
export interface ClassicCommitEntry {
  readonly topic: string;
  readonly partition: number;
  /** The topic incarnation the offset belongs to. */
  readonly incarnation: string;
  readonly offset: number;
  readonly metadata: string | undefined;
}

/** A group with no state item: Empty, generation 0. */
export const EMPTY_CLASSIC_GROUP: ClassicGroup = Object.freeze({
  version: 0,
  state: 'Empty',
  generation: 0,
  protocolType: undefined,
  protocolName: undefined,
  leader: undefined,
  members: [],
  initialRebalance: false,
  pending: [],
});

/** Largest state item written (DynamoDB's item limit is 400 KB; room is left for attribute names). */
export const MAX_CLASSIC_ITEM_BYTES = 380 * 1024;

/** Lease items one classic commit transaction writes next to its fence (DynamoDB allows 100 items). */
const COMMITS_PER_TRANSACTION = 99;
const SEPARATE_WRITES_IN_FLIGHT = 16;

const A = {
  state: 'cst',
  generation: 'cgen',
  protocolType: 'cpt',
  protocolName: 'cpn',
  leader: 'cld',
  members: 'cmem',
  /** The member ids as a string set: what commit fences test with `contains`. */
  memberIds: 'cids',
  version: 'cv',
  initial: 'cinit',
  pending: 'cpend',
} as const;

const STATES: readonly ClassicGroupState[] = ['Empty', 'PreparingRebalance', 'CompletingRebalance', 'Stable'];

/** One classic group's items, in the region groups coordinate in (see `LeaseStore`). */
export class ClassicGroupStore {
  readonly group: string;
  readonly #ctx: StorageContext;

  /** @throws InvalidGroupIdError for an illegal group id (the rule every group follows). */
  constructor(ctx: StorageContext, group: string) {
    validateGroupId(group);
    this.#ctx = groupContext(ctx);
    this.group = group;
  }

  #retry<T>(operation: string, fn: () => Promise<T>): Promise<T> {
    return withRetry(`${operation} (group ${this.group})`, fn, this.#ctx.retry);
  }

  #key(k: string): Item {
    return groupItemKey(this.group, k);
  }

  /** The state item and every member's liveness, in one strongly consistent query. */
  async read(): Promise<ClassicView> {
    let group: ClassicGroup | undefined;
    const beats = new Map<string, ClassicBeat>();
    for (const item of await queryGroupItems(
      this.#ctx,
      this.group,
      CLASSIC_GROUP_KEY,
      'Reading a consumer group',
    )) {
      const key = item[GroupAttr.key]?.S ?? '';
      if (key === CLASSIC_GROUP_KEY) group = classicGroupFromItem(item);
      else if (key.startsWith(CLASSIC_BEAT_PREFIX)) {
        beats.set(key.slice(CLASSIC_BEAT_PREFIX.length), classicBeatFromItem(item));
      }
    }
    return { group, beats };
  }

  /**
   * Writes `next` if the state item is still at `next.version` (0: absent). Returns false when
   * another writer got there first (then read again and re-decide). A group's first state item
   * also records the group in its metadata item, so listings find it.
   */
  async write(next: ClassicGroup): Promise<boolean> {
    if (next.version === 0) await ensureGroupMeta(this.#ctx, this.group);
    const item: Item = { ...this.#key(CLASSIC_GROUP_KEY), ...classicGroupAttributes(next, next.version + 1) };
    try {
      await this.#retry('Updating a consumer group', () =>
        this.#ctx.ddb.send(
          new PutItemCommand({
            TableName: this.#ctx.tables.groups,
            Item: item,
            ConditionExpression: next.version === 0 ? 'attribute_not_exists(#v)' : '#v = :v',
            ExpressionAttributeNames: { '#v': A.version },
            ...(next.version === 0
              ? {}
              : { ExpressionAttributeValues: { ':v': { N: String(next.version) } } }),
          }),
        ),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  /** Moves a member's liveness counter (a heartbeat, or a request held for it). */
  async beat(memberId: string): Promise<void> {
    await this.#retry('Recording a heartbeat', () =>
      this.#ctx.ddb.send(
        new UpdateItemCommand({
          TableName: this.#ctx.tables.groups,
          Key: this.#key(`${CLASSIC_BEAT_PREFIX}${memberId}`),
          UpdateExpression: 'ADD #hb :one SET #seen = :now',
          ExpressionAttributeNames: { '#hb': GroupAttr.heartbeat, '#seen': GroupAttr.seenAt },
          ExpressionAttributeValues: { ':one': { N: '1' }, ':now': { N: String(this.#ctx.now()) } },
        }),
      ),
    );
  }

  /** Deletes the liveness items of members no longer in the group. */
  async dropBeats(memberIds: readonly string[]): Promise<void> {
    await mapLimited(memberIds, SEPARATE_WRITES_IN_FLIGHT, (memberId) =>
      this.#retry('Removing a member', () =>
        this.#ctx.ddb.send(
          new DeleteItemCommand({
            TableName: this.#ctx.tables.groups,
            Key: this.#key(`${CLASSIC_BEAT_PREFIX}${memberId}`),
          }),
        ),
      ),
    );
  }

  /**
   * Writes committed offsets under `fence`: only while the state item still has the member in
   * that generation and is not waiting for the leader's assignment (Kafka's rule); with
   * `'standalone'` (generation −1: a client outside any generation, such as an admin tool) only
   * while the group has no members. Offsets may move backwards (a consumer that seeks back commits
   * lower offsets, as Kafka allows). Returns false, with nothing written, when the fence fails.
   *
   * Up to 99 partitions are written in one transaction with the fence; larger commits are split,
   * each part fenced on its own. On MRSC (no transactions) the fence is read first and the
   * offsets written one by one, so a fence lost in between leaves earlier ones written.
   */
  async commit(fence: ClassicFence | 'standalone', entries: readonly ClassicCommitEntry[]): Promise<boolean> {
    if (entries.length === 0) return true;
    if (isStronglyConsistent(this.#ctx)) return this.#commitEach(fence, entries);
    for (let i = 0; i < entries.length; i += COMMITS_PER_TRANSACTION) {
      const part = entries.slice(i, i + COMMITS_PER_TRANSACTION);
      const items: TransactWriteItem[] = [
        { ConditionCheck: this.#fenceCheck(fence) },
        ...part.map((e) => ({ Update: this.#commitUpdate(e) })),
      ];
      const token = randomUUID();
      try {
        await this.#retry('Committing offsets', () =>
          this.#ctx.ddb.send(
            new TransactWriteItemsCommand({ TransactItems: items, ClientRequestToken: token }),
          ),
        );
      } catch (error) {
        const reasons = error instanceof TransactionCanceledException ? error.CancellationReasons : undefined;
        if (reasons?.[0]?.Code === 'ConditionalCheckFailed') return false;
        throw error;
      }
    }
    return true;
  }

  async #commitEach(
    fence: ClassicFence | 'standalone',
    entries: readonly ClassicCommitEntry[],
  ): Promise<boolean> {
    const out = await this.#retry('Reading a consumer group', () =>
      this.#ctx.ddb.send(
        new GetItemCommand({
          TableName: this.#ctx.tables.groups,
          Key: this.#key(CLASSIC_GROUP_KEY),
          ConsistentRead: true,
        }),
      ),
    );
    const group = out.Item ? classicGroupFromItem(out.Item) : EMPTY_CLASSIC_GROUP;
    if (!fenceHolds(group, fence)) return false;
    await mapLimited(entries, SEPARATE_WRITES_IN_FLIGHT, (e) =>
      this.#retry('Committing offsets', () =>
        this.#ctx.ddb.send(new UpdateItemCommand(this.#commitUpdate(e))),
      ),
    );
    return true;
  }

  #fenceCheck(fence: ClassicFence | 'standalone'): ConditionCheck {
    const base = { TableName: this.#ctx.tables.groups, Key: this.#key(CLASSIC_GROUP_KEY) };
    if (fence === 'standalone') {
      return {
        ...base,
        ConditionExpression: 'attribute_not_exists(#st) OR #st = :empty',
        ExpressionAttributeNames: { '#st': A.state },
        ExpressionAttributeValues: { ':empty': { S: 'Empty' } },
      };
    }
    return {
      ...base,
      ConditionExpression: '#gen = :gen AND #st <> :completing AND contains(#ids, :me)',
      ExpressionAttributeNames: { '#gen': A.generation, '#st': A.state, '#ids': A.memberIds },
      ExpressionAttributeValues: {
        ':gen': { N: String(fence.generation) },
        ':completing': { S: 'CompletingRebalance' },
        ':me': { S: fence.memberId },
      },
    };
  }

  #commitUpdate(e: ClassicCommitEntry) {
    return {
      TableName: this.#ctx.tables.groups,
      Key: this.#key(leaseItemKey(e.topic, e.partition)),
      UpdateExpression: `SET #co = :co, #inc = :inc, #cat = :now, #ep = if_not_exists(#ep, :zero)${
        e.metadata === undefined ? ' REMOVE #md' : ', #md = :md'
      }`,
      ExpressionAttributeNames: {
        '#co': GroupAttr.offset,
        '#inc': GroupAttr.incarnation,
        '#cat': GroupAttr.committedAt,
        '#ep': GroupAttr.epoch,
        '#md': GroupAttr.metadata,
      },
      ExpressionAttributeValues: {
        ':co': { N: String(e.offset) },
        ':inc': { S: e.incarnation },
        ':now': { N: String(this.#ctx.now()) },
        ':zero': { N: '0' },
        ...(e.metadata === undefined ? {} : { ':md': { S: e.metadata } }),
      },
    };
  }
}

/** True when a commit under `fence` may be written to `group` (the rule {@link ClassicGroupStore.commit} checks). */
export function fenceHolds(group: ClassicGroup, fence: ClassicFence | 'standalone'): boolean {
  if (fence === 'standalone') return group.state === 'Empty';
  return (
    group.generation === fence.generation &&
    group.state !== 'CompletingRebalance' &&
    group.members.some((m) => m.memberId === fence.memberId)
  );
}

/** The size DynamoDB counts for `group`'s state item, to keep it under the item limit. */
export function classicItemBytes(group: ClassicGroup): number {
  let bytes = 200 + Buffer.byteLength(group.protocolType ?? '') + Buffer.byteLength(group.protocolName ?? '');
  for (const p of group.pending) bytes += Buffer.byteLength(p.memberId) + 30;
  for (const m of group.members) {
    // The member id is stored twice (the member map and the id set), names of nested attributes count.
    bytes += 2 * Buffer.byteLength(m.memberId) + 80;
    bytes +=
      Buffer.byteLength(m.instanceId ?? '') + Buffer.byteLength(m.clientId) + Buffer.byteLength(m.clientHost);
    bytes += m.assignment?.byteLength ?? 0;
    for (const p of m.protocols) bytes += Buffer.byteLength(p.name) + p.metadata.byteLength + 10;
  }
  return bytes;
}

function classicGroupAttributes(group: ClassicGroup, version: number): Item {
  const item: Item = {
    [A.state]: { S: group.state },
    [A.generation]: { N: String(group.generation) },
    [A.version]: { N: String(version) },
    [A.members]: { L: group.members.map((m) => ({ M: memberAttributes(m) })) },
  };
  if (group.protocolType !== undefined) item[A.protocolType] = { S: group.protocolType };
  if (group.protocolName !== undefined) item[A.protocolName] = { S: group.protocolName };
  if (group.leader !== undefined) item[A.leader] = { S: group.leader };
  if (group.members.length > 0) item[A.memberIds] = { SS: group.members.map((m) => m.memberId) };
  if (group.initialRebalance) item[A.initial] = { BOOL: true };
  if (group.pending.length > 0) {
    item[A.pending] = {
      L: group.pending.map((p) => ({ M: { id: { S: p.memberId }, until: { N: String(p.until) } } })),
    };
  }
  return item;
}

function memberAttributes(m: ClassicMember): Item {
  const item: Item = {
    id: { S: m.memberId },
    cid: { S: m.clientId },
    host: { S: m.clientHost },
    sto: { N: String(m.sessionTimeoutMs) },
    rto: { N: String(m.rebalanceTimeoutMs) },
    jf: { N: String(m.joinedFor) },
    pr: {
      L: m.protocols.map((p) => ({
        M: { n: { S: p.name }, ...(p.metadata.byteLength > 0 ? { md: { B: p.metadata } } : {}) },
      })),
    },
  };
  if (m.instanceId !== undefined) item.iid = { S: m.instanceId };
  if (m.assignment !== undefined) item.as = { B: m.assignment };
  return item;
}

/** Parses a classic group's state item. */
export function classicGroupFromItem(item: Item): ClassicGroup {
  const state = item[A.state]?.S as ClassicGroupState | undefined;
  return {
    version: Number(item[A.version]?.N ?? 0),
    state: state !== undefined && STATES.includes(state) ? state : 'Empty',
    generation: Number(item[A.generation]?.N ?? 0),
    protocolType: item[A.protocolType]?.S,
    protocolName: item[A.protocolName]?.S,
    leader: item[A.leader]?.S,
    members: (item[A.members]?.L ?? []).flatMap((v) => (v.M ? [memberFromAttributes(v.M)] : [])),
    initialRebalance: item[A.initial]?.BOOL === true,
    pending: (item[A.pending]?.L ?? []).flatMap((v) =>
      v.M?.id?.S === undefined ? [] : [{ memberId: v.M.id.S, until: Number(v.M.until?.N ?? 0) }],
    ),
  };
}

function memberFromAttributes(m: Item): ClassicMember {
  return {
    memberId: m.id?.S ?? '',
    instanceId: m.iid?.S,
    clientId: m.cid?.S ?? '',
    clientHost: m.host?.S ?? '',
    sessionTimeoutMs: Number(m.sto?.N ?? 0),
    rebalanceTimeoutMs: Number(m.rto?.N ?? 0),
    joinedFor: Number(m.jf?.N ?? 0),
    protocols: (m.pr?.L ?? []).flatMap((p) =>
      p.M ? [{ name: p.M.n?.S ?? '', metadata: p.M.md?.B ?? new Uint8Array(0) }] : [],
    ),
    assignment: m.as?.B,
  };
}

/** Parses a member's liveness item. */
export function classicBeatFromItem(item: Item): ClassicBeat {
  return { beats: Number(item[GroupAttr.heartbeat]?.N ?? 0), seenAt: Number(item[GroupAttr.seenAt]?.N ?? 0) };
}
