/**
 * Storage of one consumer group in the groups table: member heartbeats, partition leases and
 * committed offsets. Every ownership change is a conditional write on the lease's current owner
 * and epoch, and every commit is conditional on `owner = me AND epoch = myEpoch`, so a member
 * that lost a lease can never move its offset. Condition failures come back as values (or as
 * {@link LeaseLostError}); anything else propagates.
 */
import { randomUUID } from 'node:crypto';
import {
  type AttributeValue,
  ConditionalCheckFailedException,
  DeleteItemCommand,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  ScanCommand,
  TransactionCanceledException,
  type TransactWriteItem,
  TransactWriteItemsCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { batchWriteAll } from '../batch-write.ts';
import { mapLimited } from '../concurrency.ts';
import type { StorageContext } from '../context.ts';
import {
  type CommittedOffset,
  GroupProtocolMismatchError,
  InvalidArgumentError,
  InvalidSessionError,
  LeaseLostError,
  MemberIdInUseError,
  PartiallyResetError,
  ServiceUnavailableError,
} from '../errors.ts';
import {
  CLASSIC_BEAT_PREFIX,
  CLASSIC_GROUP_KEY,
  GROUP_META_KEY,
  GroupAttr,
  LEASE_KEY_PREFIX,
  leaseItemKey,
  leaseKeyPrefix,
  MEMBER_KEY_PREFIX,
  memberKey,
  parseLeaseItemKey,
  parseMemberKey,
} from '../keys.ts';
import { groupContext, isStronglyConsistent } from '../regions/routing.ts';
import { withRetry } from '../retry.ts';
import {
  type ClassicBeat,
  type ClassicGroup,
  type ClassicGroupState,
  type ClassicView,
  classicBeatFromItem,
  classicGroupFromItem,
} from './classic-store.ts';
import { validateGroupId } from './group-id.ts';
import { ensureGroupMeta, groupItemKey, queryGroupItems } from './group-items.ts';

type Item = Record<string, AttributeValue>;

/** A member as stored. */
export interface MemberRecord {
  readonly memberId: string;
  /** Bumped on every heartbeat; observers judge liveness by whether it moves. */
  readonly heartbeat: number;
  /** The member's own clock at its last heartbeat (informational). */
  readonly seenAt: number;
  readonly instanceId: string | undefined;
  readonly topics: readonly string[];
  readonly sessionTimeoutMs: number;
  /** The member's change counter: moves whenever the member changed a lease's owner. */
  readonly changes: number;
}

/** A partition lease as stored. */
export interface LeaseRecord {
  readonly topic: string;
  readonly partition: number;
  readonly owner: string | undefined;
  readonly epoch: number;
  /** Incarnation of the topic the committed offset belongs to. */
  readonly incarnation: string | undefined;
  /** Committed offset: the next offset to process. */
  readonly offset: number | undefined;
  readonly metadata: string | undefined;
  readonly committedAt: number | undefined;
}

/** Everything stored about a group, read in one query. */
export interface GroupSnapshot {
  readonly exists: boolean;
  readonly createdAt: number | undefined;
  readonly members: readonly MemberRecord[];
  readonly leases: readonly LeaseRecord[];
  /** The Kafka classic protocol's state, for a group coordinated by the Kafka gateway. */
  readonly classic: ClassicView;
}

/** Identifies a lease as held by a member at an epoch: what every commit is conditional on. */
export interface LeaseFence {
  readonly topic: string;
  readonly partition: number;
  readonly memberId: string;
  readonly epoch: number;
}

/** What a member says about itself on every heartbeat. */
export interface MemberInfo {
  readonly memberId: string;
  readonly instanceId: string | undefined;
  readonly topics: readonly string[];
  readonly sessionTimeoutMs: number;
  /**
   * Set for members that joined through {@link LeaseStore.register} (the HTTP API's): the id of
   * that join. Heartbeats and leaving are conditional on it, so a session of an earlier join (a
   * zombie of a static member, a replayed token) can neither renew nor remove the current one.
   */
  readonly joinId?: string | undefined;
}

/** One partition's new committed offset, as an offset reset writes it. */
export interface OffsetReset {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
  /** The topic incarnation the offset belongs to. */
  readonly incarnation: string;
}

/** An offset to commit with the fence it is conditional on. */
export interface FencedCommitEntry {
  readonly fence: LeaseFence;
  readonly offset: number;
  readonly metadata: string | undefined;
}

/** A dispatch lease as taken (see {@link LeaseStore.takeDispatch}). */
export interface DispatchLeaseRecord {
  readonly holder: string;
  readonly epoch: number;
  /** The committed offset of this incarnation of the topic; undefined when there is none. */
  readonly committed: number | undefined;
  readonly ring: number;
  /** The failure policy's retry state the previous holder left (JSON), if any. */
  readonly policyState: string | undefined;
  readonly incarnation: string;
  /**
   * The committed offset and its incarnation exactly as stored when the holder last read or wrote
   * them: commits and idle releases are conditional on them, so an offset someone else moved while
   * the lease was held (a reset of the trigger's group) is noticed instead of overwritten.
   */
  readonly stored: { readonly offset: number | undefined; readonly incarnation: string | undefined };
}

/**
 * What a commit or release under a dispatch lease found: the lease as it is now, and whether the
 * committed offset had been moved by someone else (an offset reset) — then nothing was written
 * and the holder must start over from `lease.committed`.
 */
export interface DispatchLeaseState {
  readonly lease: DispatchLeaseRecord;
  readonly offsetMoved: boolean;
}

/** What the sweep sees of one partition of a trigger's group. */
export interface DispatchState {
  readonly partition: number;
  /** When it needs a dispatcher; undefined when idle. */
  readonly due: number | undefined;
  /** Until when a dispatcher holds it; undefined when none does. */
  readonly heldUntil: number | undefined;
  readonly committed: number | undefined;
  readonly incarnation: string | undefined;
}

/** Most offsets one all-or-nothing commit writes (DynamoDB's transaction limit). */
export const MAX_OFFSETS_PER_COMMIT = 100;

/** Lease items read or written at once by the non-transactional (MRSC) commits and resets. */
const SEPARATE_WRITES_IN_FLIGHT = 16;

/**
 * One group's items, in the region groups coordinate in (`groupRegion`, with the deployment's
 * regions known): the groups table is replicated too, and leases, heartbeats and fenced commits
 * must never be resolved by last-writer-wins between two regions.
 */
export class LeaseStore {
  readonly group: string;
  readonly #ctx: StorageContext;

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

  /** Reads the whole group (members and leases) with one paginated, strongly consistent query. */
  async snapshot(): Promise<GroupSnapshot> {
    const members: MemberRecord[] = [];
    const leases: LeaseRecord[] = [];
    let classicGroup: ClassicGroup | undefined;
    const beats = new Map<string, ClassicBeat>();
    let exists = false;
    let createdAt: number | undefined;
    let startKey: Item | undefined;
    do {
      const page = await this.#retry('Reading consumer group', () =>
        this.#ctx.ddb.send(
          new QueryCommand({
            TableName: this.#ctx.tables.groups,
            KeyConditionExpression: '#g = :g',
            ExpressionAttributeNames: { '#g': GroupAttr.group },
            ExpressionAttributeValues: { ':g': { S: this.group } },
            ConsistentRead: true,
            ...(startKey ? { ExclusiveStartKey: startKey } : {}),
          }),
        ),
      );
      for (const item of page.Items ?? []) {
        const key = item[GroupAttr.key]?.S ?? '';
        if (key === GROUP_META_KEY) {
          exists = true;
          createdAt = num(item, GroupAttr.createdAt);
          continue;
        }
        if (key === CLASSIC_GROUP_KEY) classicGroup = classicGroupFromItem(item);
        if (key.startsWith(CLASSIC_BEAT_PREFIX)) {
          beats.set(key.slice(CLASSIC_BEAT_PREFIX.length), classicBeatFromItem(item));
        }
        const memberId = parseMemberKey(key);
        if (memberId !== undefined) members.push(memberFromItem(memberId, item));
        const lease = parseLeaseItemKey(key);
        if (lease) leases.push(leaseFromItem(lease.topic, lease.partition, item));
      }
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    return { exists, createdAt, members, leases, classic: { group: classicGroup, beats } };
  }

  /**
   * The group's member items, read with one strongly consistent query of their key range (not the
   * leases): what a member reads every heartbeat. Its cost grows with the members, not the partitions.
   */
  async members(): Promise<MemberRecord[]> {
    const items = await this.#queryPrefix('Reading group members', MEMBER_KEY_PREFIX);
    return items.flatMap((item) => {
      const memberId = parseMemberKey(item[GroupAttr.key]?.S ?? '');
      return memberId === undefined ? [] : [memberFromItem(memberId, item)];
    });
  }

  /**
   * Every lease of the group, read with one strongly consistent query of their key range: what a
   * member reads when its view of the group may be out of date.
   */
  async leases(): Promise<LeaseRecord[]> {
    const items = await this.#queryPrefix('Reading leases', LEASE_KEY_PREFIX);
    return items.flatMap((item) => {
      const lease = parseLeaseItemKey(item[GroupAttr.key]?.S ?? '');
      return lease ? [leaseFromItem(lease.topic, lease.partition, item)] : [];
    });
  }

  /** The group's items whose sort key starts with `prefix`, read consistently, all pages. */
  #queryPrefix(operation: string, prefix: string): Promise<Item[]> {
    return queryGroupItems(this.#ctx, this.group, prefix, operation);
  }

  /**
   * The group's leases of one topic, read with one strongly consistent query of their key range
   * (not the whole group): what a member reading that topic checks its ownership against.
   */
  async topicLeases(topic: string): Promise<LeaseRecord[]> {
    const items = await this.#queryPrefix('Reading leases', leaseKeyPrefix(topic));
    return items.flatMap((item) => {
      const lease = parseLeaseItemKey(item[GroupAttr.key]?.S ?? '');
      return lease?.topic === topic ? [leaseFromItem(lease.topic, lease.partition, item)] : [];
    });
  }

  /**
   * Records that the group exists (first join). Idempotent, and never a failed condition: members
   * joining at once all write it, and a failed conditional write is billed like a write.
   */
  ensureGroup(): Promise<void> {
    return ensureGroupMeta(this.#ctx, this.group);
  }

  /**
   * Refuses ({@link GroupProtocolMismatchError}) to let a Tributary member join while Kafka clients
   * are the group's members (the gateway's classic protocol): both would read every partition.
   * One strongly consistent read of the classic state item, at join only.
   */
  async assertNoKafkaMembers(): Promise<void> {
    const out = await this.#retry('Reading consumer group', () =>
      this.#ctx.ddb.send(
        new GetItemCommand({
          TableName: this.#ctx.tables.groups,
          Key: this.#key(CLASSIC_GROUP_KEY),
          ConsistentRead: true,
        }),
      ),
    );
    if (out.Item && classicGroupFromItem(out.Item).members.length > 0) {
      throw new GroupProtocolMismatchError(this.group, 'kafka');
    }
  }

  /**
   * Registers a member that coordinates through the HTTP API: writes its item with `joinId`,
   * after which only heartbeats of that join renew it. A dynamic member (no instance id) may only
   * take an id no member item has ({@link MemberIdInUseError} otherwise); a static member takes its
   * instance id over on purpose, fencing the previous instance's session (Kafka's static
   * membership).
   */
  async register(member: MemberInfo & { readonly joinId: string }): Promise<void> {
    try {
      await this.#retry('Joining consumer group', () =>
        this.#ctx.ddb.send(
          new PutItemCommand({
            TableName: this.#ctx.tables.groups,
            Item: {
              ...this.#key(memberKey(member.memberId)),
              ...this.#memberAttributes(member),
              [GroupAttr.heartbeat]: { N: '0' },
              [GroupAttr.joinId]: { S: member.joinId },
            },
            ...(member.instanceId === undefined
              ? {
                  ConditionExpression: 'attribute_not_exists(#k)',
                  ExpressionAttributeNames: { '#k': GroupAttr.key },
                }
              : {}),
          }),
        ),
      );
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException)
        throw new MemberIdInUseError(this.group, member.memberId);
      throw error;
    }
  }

  /**
   * One heartbeat: bumps the member's counter (one small write renews all its leases) and
   * re-publishes its change counter `changes` (so an announcement that was lost is repeated). For a
   * registered member it is conditional on its join id: {@link InvalidSessionError} when the item
   * is gone (left, or removed after its session expired) or belongs to a newer join.
   */
  async heartbeat(member: MemberInfo, changes: number): Promise<number> {
    const attributes = { ...this.#memberAttributes(member), [GroupAttr.changes]: { N: String(changes) } };
    const names: Record<string, string> = { '#hb': GroupAttr.heartbeat };
    const values: Item = { ':zero': { N: '0' }, ':one': { N: '1' } };
    const set = ['#hb = if_not_exists(#hb, :zero) + :one'];
    Object.entries(attributes).forEach(([name, value], i) => {
      names[`#a${i}`] = name;
      values[`:a${i}`] = value;
      set.push(`#a${i} = :a${i}`);
    });
    if (member.joinId !== undefined) {
      names['#jid'] = GroupAttr.joinId;
      values[':jid'] = { S: member.joinId };
    }
    try {
      const out = await this.#retry('Heartbeat', () =>
        this.#ctx.ddb.send(
          new UpdateItemCommand({
            TableName: this.#ctx.tables.groups,
            Key: this.#key(memberKey(member.memberId)),
            UpdateExpression: `SET ${set.join(', ')}`,
            ...(member.joinId !== undefined
              ? { ConditionExpression: '#jid = :jid', ReturnValuesOnConditionCheckFailure: 'ALL_OLD' }
              : {}),
            ExpressionAttributeNames: names,
            ExpressionAttributeValues: values,
            ReturnValues: 'UPDATED_NEW',
          }),
        ),
      );
      return Number(out.Attributes?.[GroupAttr.heartbeat]?.N ?? '0');
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      if (error.Item) {
        throw new InvalidSessionError(this.group, member.memberId, 'a newer join took this member id over', {
          fenced: true,
        });
      }
      throw new InvalidSessionError(
        this.group,
        member.memberId,
        'the member is no longer in the group: it left, or it was removed after its session expired',
      );
    }
  }

  /**
   * Announces that the member changed lease owners: sets its change counter to `changes`, so the
   * others re-read the leases at their next heartbeat. Only while the member item is this join's
   * (a member that left or was fenced is not written back); returns false when it is not.
   */
  async announce(member: MemberInfo, changes: number): Promise<boolean> {
    const names: Record<string, string> = { '#chg': GroupAttr.changes, '#k': GroupAttr.key };
    const values: Item = { ':chg': { N: String(changes) } };
    let condition = 'attribute_exists(#k)';
    if (member.joinId !== undefined) {
      names['#jid'] = GroupAttr.joinId;
      values[':jid'] = { S: member.joinId };
      condition += ' AND #jid = :jid';
    }
    try {
      await this.#retry('Announcing lease changes', () =>
        this.#ctx.ddb.send(
          new UpdateItemCommand({
            TableName: this.#ctx.tables.groups,
            Key: this.#key(memberKey(member.memberId)),
            UpdateExpression: 'SET #chg = :chg',
            ConditionExpression: condition,
            ExpressionAttributeNames: names,
            ExpressionAttributeValues: values,
          }),
        ),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  #memberAttributes(member: MemberInfo): Item {
    return {
      [GroupAttr.seenAt]: { N: String(this.#ctx.now()) },
      [GroupAttr.topics]: { L: member.topics.map((t) => ({ S: t })) },
      [GroupAttr.sessionTimeoutMs]: { N: String(member.sessionTimeoutMs) },
      [GroupAttr.instanceId]: member.instanceId === undefined ? { NULL: true } : { S: member.instanceId },
    };
  }

  /**
   * Removes a member's item (it left the group); for a registered member only while the item is
   * still that join's (a stale session cannot remove a member that joined again).
   */
  async removeMember(memberId: string, joinId?: string): Promise<void> {
    try {
      await this.#retry('Leaving consumer group', () =>
        this.#ctx.ddb.send(
          new DeleteItemCommand({
            TableName: this.#ctx.tables.groups,
            Key: this.#key(memberKey(memberId)),
            ...(joinId === undefined
              ? {}
              : {
                  ConditionExpression: '#jid = :jid',
                  ExpressionAttributeNames: { '#jid': GroupAttr.joinId },
                  ExpressionAttributeValues: { ':jid': { S: joinId } },
                }),
          }),
        ),
      );
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
  }

  /**
   * Removes the item of a member that stopped heartbeating, only if its counter is still the
   * one observed (a member that came back, e.g. a restarted static member, is left alone).
   */
  async removeExpiredMember(memberId: string, heartbeat: number): Promise<void> {
    try {
      await this.#retry('Removing an expired member', () =>
        this.#ctx.ddb.send(
          new DeleteItemCommand({
            TableName: this.#ctx.tables.groups,
            Key: this.#key(memberKey(memberId)),
            ConditionExpression: '#hb = :hb',
            ExpressionAttributeNames: { '#hb': GroupAttr.heartbeat },
            ExpressionAttributeValues: { ':hb': { N: String(heartbeat) } },
          }),
        ),
      );
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
  }

  /**
   * Makes `to` the owner of a lease, bumping its epoch, provided the lease is still as `seen`
   * (same owner and epoch; or absent when `seen` is undefined). `to` undefined frees the lease.
   * When the topic's incarnation changed, the stale committed offset is dropped. Returns the new
   * lease, or undefined when someone else changed it first.
   */
  async changeOwner(
    topic: string,
    partition: number,
    seen: LeaseRecord | undefined,
    to: string | undefined,
    incarnation: string,
  ): Promise<LeaseRecord | undefined> {
    const names: Record<string, string> = {
      '#o': GroupAttr.owner,
      '#ep': GroupAttr.epoch,
      '#inc': GroupAttr.incarnation,
    };
    const values: Item = { ':inc': { S: incarnation } };
    const set = ['#ep = :next', '#inc = :inc'];
    const remove: string[] = [];
    if (to === undefined) remove.push('#o');
    else {
      set.push('#o = :to');
      values[':to'] = { S: to };
    }
    if (seen && seen.incarnation !== undefined && seen.incarnation !== incarnation) {
      names['#co'] = GroupAttr.offset;
      names['#md'] = GroupAttr.metadata;
      remove.push('#co', '#md');
    }
    let condition: string;
    if (!seen) {
      condition = 'attribute_not_exists(#ep)';
      values[':next'] = { N: '1' };
    } else {
      values[':ep'] = { N: String(seen.epoch) };
      values[':next'] = { N: String(seen.epoch + 1) };
      if (seen.owner === undefined) condition = 'attribute_not_exists(#o) AND #ep = :ep';
      else {
        condition = '#o = :from AND #ep = :ep';
        values[':from'] = { S: seen.owner };
      }
    }
    try {
      const out = await this.#retry('Changing a lease owner', () =>
        this.#ctx.ddb.send(
          new UpdateItemCommand({
            TableName: this.#ctx.tables.groups,
            Key: this.#key(leaseItemKey(topic, partition)),
            UpdateExpression: `SET ${set.join(', ')}${remove.length > 0 ? ` REMOVE ${remove.join(', ')}` : ''}`,
            ConditionExpression: condition,
            ExpressionAttributeNames: names,
            ExpressionAttributeValues: values,
            ReturnValues: 'ALL_NEW',
          }),
        ),
      );
      return leaseFromItem(topic, partition, out.Attributes ?? {});
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return undefined;
      throw error;
    }
  }

  /**
   * Commits `offset` for a lease this member owns at `epoch`. Offsets only move forward: a
   * commit below the stored offset is a no-op. Throws {@link LeaseLostError} when the member no
   * longer owns the lease at that epoch.
   */
  async commit(fence: LeaseFence, offset: number, metadata: string | undefined): Promise<void> {
    try {
      await this.#retry('Committing offsets', () =>
        this.#ctx.ddb.send(new UpdateItemCommand(this.#commitUpdate(fence, offset, metadata))),
      );
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      const current = error.Item ? leaseFromItem(fence.topic, fence.partition, error.Item) : undefined;
      if (current?.owner === fence.memberId && current.epoch === fence.epoch) return; // Already committed further.
      throw new LeaseLostError(this.group, fence.topic, fence.partition);
    }
  }

  /**
   * Commits several offsets all or nothing, in one transaction: either every fence holds and every
   * offset is written, or nothing is ({@link LeaseLostError} names the first partition whose fence
   * failed). An offset below the stored one is left out, as {@link commit} does.
   *
   * On MRSC (no transactions) see {@link #commitEach}: a lease found lost when the fences are
   * checked writes nothing; one lost in the moment between that check and the writes leaves the
   * others written, and the `LeaseLostError` lists them (`committed`).
   */
  async commitAll(entries: readonly FencedCommitEntry[]): Promise<void> {
    if (entries.length > MAX_OFFSETS_PER_COMMIT) {
      throw new InvalidArgumentError(
        `One commit writes at most ${MAX_OFFSETS_PER_COMMIT} offsets (all or nothing); got ${entries.length}`,
      );
    }
    const keys = new Set(entries.map((e) => leaseItemKey(e.fence.topic, e.fence.partition)));
    if (keys.size !== entries.length) {
      throw new InvalidArgumentError('A commit names one partition more than once');
    }
    if (isStronglyConsistent(this.#ctx) && entries.length > 1) return this.#commitEach(entries);
    let pending = [...entries];
    while (pending.length > 1) {
      const token = randomUUID();
      const batch = pending;
      try {
        await this.#retry('Committing offsets', () =>
          this.#ctx.ddb.send(
            new TransactWriteItemsCommand({
              TransactItems: batch.map((e) => ({
                Update: this.#commitUpdate(e.fence, e.offset, e.metadata),
              })),
              ClientRequestToken: token,
            }),
          ),
        );
        return;
      } catch (error) {
        if (!(error instanceof TransactionCanceledException)) throw error;
        const reasons = error.CancellationReasons ?? [];
        const behind: FencedCommitEntry[] = [];
        batch.forEach((entry, i) => {
          const reason = reasons[i];
          if (reason?.Code !== 'ConditionalCheckFailed') return;
          const current = reason.Item
            ? leaseFromItem(entry.fence.topic, entry.fence.partition, reason.Item)
            : undefined;
          if (current?.owner !== entry.fence.memberId || current.epoch !== entry.fence.epoch) {
            throw new LeaseLostError(this.group, entry.fence.topic, entry.fence.partition);
          }
          behind.push(entry); // Fenced correctly, but the stored offset is already further.
        });
        if (behind.length === 0) {
          // Cancelled by a conflicting transaction in flight on one of the leases: worth repeating.
          throw new ServiceUnavailableError('Committing offsets conflicted with another transaction', error);
        }
        pending = batch.filter((e) => !behind.includes(e));
      }
    }
    const [last] = pending;
    if (last) await this.commit(last.fence, last.offset, last.metadata);
  }

  /**
   * {@link commitAll} without a transaction (MRSC): every fence is checked first with strongly
   * consistent reads (on MRSC they see every region's latest write), so a lease already lost is
   * refused before anything is written; then each offset is written with the same conditional
   * update as one commit (fence and forward-only). Only a takeover landing between the check and
   * the writes — a lease expiring within those milliseconds — can refuse a write then; the offsets
   * written are reported, each of them a correct commit of this member's progress on its own.
   */
  async #commitEach(entries: readonly FencedCommitEntry[]): Promise<void> {
    const current = await mapLimited(entries, SEPARATE_WRITES_IN_FLIGHT, (e) =>
      this.#readLease(e.fence.topic, e.fence.partition),
    );
    entries.forEach(({ fence }, i) => {
      const lease = current[i];
      if (lease?.owner !== fence.memberId || lease.epoch !== fence.epoch) {
        throw new LeaseLostError(this.group, fence.topic, fence.partition);
      }
    });
    const outcomes = await mapLimited(entries, SEPARATE_WRITES_IN_FLIGHT, async (e) => {
      try {
        await this.commit(e.fence, e.offset, e.metadata);
        return { written: true as const };
      } catch (error) {
        return { written: false as const, error };
      }
    });
    const committed: CommittedOffset[] = entries.flatMap((e, i) =>
      outcomes[i]!.written ? [{ topic: e.fence.topic, partition: e.fence.partition, offset: e.offset }] : [],
    );
    const lost = entries.findIndex((_, i) => {
      const outcome = outcomes[i]!;
      return !outcome.written && outcome.error instanceof LeaseLostError;
    });
    if (lost >= 0) {
      const { fence } = entries[lost]!;
      throw new LeaseLostError(this.group, fence.topic, fence.partition, committed);
    }
    // Any other failure (throttling past the deadline, no quorum): the commit is idempotent, so the
    // caller repeats it whole.
    const failed = outcomes.find((o) => !o.written);
    if (failed && !failed.written) throw failed.error;
  }

  /** One lease item, read strongly consistently; undefined when there is none. */
  async #readLease(topic: string, partition: number): Promise<LeaseRecord | undefined> {
    const out = await this.#retry('Reading a lease', () =>
      this.#ctx.ddb.send(
        new GetItemCommand({
          TableName: this.#ctx.tables.groups,
          Key: this.#key(leaseItemKey(topic, partition)),
          ConsistentRead: true,
        }),
      ),
    );
    return out.Item ? leaseFromItem(topic, partition, out.Item) : undefined;
  }

  /**
   * Sets a partition's committed offset only when the group has none for this incarnation of the
   * topic (a starting position applies only then). Returns whether it was set.
   */
  async initOffset(topic: string, partition: number, offset: number, incarnation: string): Promise<boolean> {
    try {
      await this.#retry('Setting a starting offset', () =>
        this.#ctx.ddb.send(
          new UpdateItemCommand({
            TableName: this.#ctx.tables.groups,
            Key: this.#key(leaseItemKey(topic, partition)),
            UpdateExpression: 'SET #co = :co, #inc = :inc, #cat = :now, #ep = if_not_exists(#ep, :zero)',
            ConditionExpression: 'attribute_not_exists(#co) OR #inc <> :inc',
            ExpressionAttributeNames: {
              '#co': GroupAttr.offset,
              '#inc': GroupAttr.incarnation,
              '#cat': GroupAttr.committedAt,
              '#ep': GroupAttr.epoch,
            },
            ExpressionAttributeValues: {
              ':co': { N: String(offset) },
              ':inc': { S: incarnation },
              ':now': { N: String(this.#ctx.now()) },
              ':zero': { N: '0' },
            },
          }),
        ),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  // ---------- dispatch leases (a trigger's group) ----------
  // A trigger's dispatchers are not members: each holds one partition's lease for one run, with an
  // expiry (`lu`) instead of heartbeats, so a dispatcher that dies frees its partition by itself. The
  // same lease items carry the committed offset (fenced by owner and epoch, as for members), the
  // doorbell counter and the due time.

  /**
   * Rings the doorbell of a partition: new records landed. Marks the partition due at `dueAt`
   * (default now; unless it already is due) and returns whether a live dispatcher holds it (then
   * it will see the ring).
   */
  async ring(topic: string, partition: number, dueAt?: number): Promise<{ readonly held: boolean }> {
    const now = this.#ctx.now();
    const due = dueAt ?? now;
    const out = await this.#retry('Ringing a partition', () =>
      this.#ctx.ddb.send(
        new UpdateItemCommand({
          TableName: this.#ctx.tables.groups,
          Key: this.#key(leaseItemKey(topic, partition)),
          UpdateExpression:
            'SET #ring = if_not_exists(#ring, :zero) + :one, #due = if_not_exists(#due, :now)',
          ExpressionAttributeNames: { '#ring': GroupAttr.ring, '#due': GroupAttr.due },
          ExpressionAttributeValues: { ':zero': { N: '0' }, ':one': { N: '1' }, ':now': { N: String(due) } },
          ReturnValues: 'ALL_NEW',
        }),
      ),
    );
    const item = out.Attributes ?? {};
    const owner = item[GroupAttr.owner]?.S;
    return { held: owner !== undefined && (num(item, GroupAttr.leaseUntil) ?? 0) > now };
  }

  /**
   * Takes a partition's dispatch lease for `holder` until `until`, unless a live holder has it
   * (undefined then). Bumps the epoch, so a previous holder's commits are fenced off. The
   * committed offset is dropped when it belongs to another incarnation of the topic.
   */
  async takeDispatch(
    topic: string,
    partition: number,
    holder: string,
    until: number,
    incarnation: string,
  ): Promise<DispatchLeaseRecord | undefined> {
    const now = this.#ctx.now();
    try {
      const out = await this.#retry('Taking a dispatch lease', () =>
        this.#ctx.ddb.send(
          new UpdateItemCommand({
            TableName: this.#ctx.tables.groups,
            Key: this.#key(leaseItemKey(topic, partition)),
            UpdateExpression:
              'SET #o = :me, #lu = :until, #ep = if_not_exists(#ep, :zero) + :one, #ring = if_not_exists(#ring, :zero)',
            ConditionExpression: 'attribute_not_exists(#o) OR attribute_not_exists(#lu) OR #lu < :now',
            ExpressionAttributeNames: {
              '#o': GroupAttr.owner,
              '#lu': GroupAttr.leaseUntil,
              '#ep': GroupAttr.epoch,
              '#ring': GroupAttr.ring,
            },
            ExpressionAttributeValues: {
              ':me': { S: holder },
              ':until': { N: String(until) },
              ':now': { N: String(now) },
              ':zero': { N: '0' },
              ':one': { N: '1' },
            },
            ReturnValues: 'ALL_NEW',
          }),
        ),
      );
      return dispatchLeaseFrom(holder, incarnation, out.Attributes ?? {});
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return undefined;
      throw error;
    }
  }

  /**
   * Extends a held dispatch lease to `until`, never shortening it: a lease extended to cover an
   * invocation (its function's whole timeout) keeps that cover whatever the periodic renewals
   * write. {@link LeaseLostError} when another holder has it now.
   */
  async renewDispatch(
    topic: string,
    partition: number,
    lease: DispatchLeaseRecord,
    until: number,
  ): Promise<void> {
    try {
      await this.#retry('Renewing a dispatch lease', () =>
        this.#ctx.ddb.send(
          new UpdateItemCommand({
            TableName: this.#ctx.tables.groups,
            Key: this.#key(leaseItemKey(topic, partition)),
            UpdateExpression: 'SET #lu = :until',
            ConditionExpression: '#o = :me AND #ep = :ep AND (attribute_not_exists(#lu) OR #lu < :until)',
            ExpressionAttributeNames: {
              '#lu': GroupAttr.leaseUntil,
              '#o': GroupAttr.owner,
              '#ep': GroupAttr.epoch,
            },
            ExpressionAttributeValues: {
              ':until': { N: String(until) },
              ':me': { S: lease.holder },
              ':ep': { N: String(lease.epoch) },
            },
            ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
          }),
        ),
      );
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      // Still ours, and already held at least that long.
      if (error.Item && holds(error.Item, lease)) return;
      throw new LeaseLostError(this.group, topic, partition);
    }
  }

  /**
   * Commits `offset` under a dispatch lease, recording the incarnation. Fenced by holder and epoch
   * ({@link LeaseLostError} when the lease was taken away), and conditional on the committed offset
   * being what this holder last saw: when someone else moved it meanwhile (an offset reset of the
   * trigger's group), nothing is written and `offsetMoved` says so — a forward-only condition would
   * let the holder's next commit silently undo a reset to an earlier offset.
   */
  async commitDispatch(
    topic: string,
    partition: number,
    lease: DispatchLeaseRecord,
    offset: number,
  ): Promise<DispatchLeaseState> {
    const expected = storedCondition(lease);
    try {
      await this.#retry('Committing offsets', () =>
        this.#ctx.ddb.send(
          new UpdateItemCommand({
            TableName: this.#ctx.tables.groups,
            Key: this.#key(leaseItemKey(topic, partition)),
            UpdateExpression: 'SET #co = :co, #cat = :now, #inc = :inc REMOVE #md, #ps',
            ConditionExpression: `#o = :me AND #ep = :ep AND ${expected.expression}`,
            ExpressionAttributeNames: {
              '#co': GroupAttr.offset,
              '#cat': GroupAttr.committedAt,
              '#md': GroupAttr.metadata,
              '#o': GroupAttr.owner,
              '#ep': GroupAttr.epoch,
              '#inc': GroupAttr.incarnation,
              '#ps': GroupAttr.policyState,
            },
            ExpressionAttributeValues: {
              ':co': { N: String(offset) },
              ':now': { N: String(this.#ctx.now()) },
              ':me': { S: lease.holder },
              ':ep': { N: String(lease.epoch) },
              ':inc': { S: lease.incarnation },
              ...expected.values,
            },
            ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
          }),
        ),
      );
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      const current = error.Item;
      if (!current || !holds(current, lease)) throw new LeaseLostError(this.group, topic, partition);
      const now = dispatchLeaseFrom(lease.holder, lease.incarnation, current, lease.epoch);
      // A retry of a commit whose response was lost finds its own write: it landed.
      const landed = now.stored.offset === offset && now.stored.incarnation === lease.incarnation;
      return { lease: now, offsetMoved: !landed };
    }
    return {
      lease: {
        ...lease,
        committed: offset,
        policyState: undefined,
        stored: { offset, incarnation: lease.incarnation },
      },
      offsetMoved: false,
    };
  }

  /**
   * Gives a dispatch lease up, leaving the partition due at `dueAt` (undefined: not due) with the
   * failure policy's retry state. Returns undefined once released. A release that leaves the
   * partition idle (`dueAt` undefined) is conditional: when the doorbell rang since `lease.ring`
   * (new records) or the committed offset was moved by someone else (an offset reset), nothing is
   * written and the lease is returned as it is now, for the holder to keep delivering. A release
   * that leaves the partition due is not: the next holder looks at everything again anyway, and a
   * refused hand-on would leave the lease held, with nobody renewing it, until it expired.
   * {@link LeaseLostError} when another holder has the lease.
   */
  async releaseDispatch(
    topic: string,
    partition: number,
    lease: DispatchLeaseRecord,
    dueAt: number | undefined,
    policyState: string | undefined,
  ): Promise<DispatchLeaseState | undefined> {
    const set: string[] = [];
    const remove = ['#o', '#lu'];
    const names: Record<string, string> = {
      '#o': GroupAttr.owner,
      '#ep': GroupAttr.epoch,
      '#lu': GroupAttr.leaseUntil,
      '#due': GroupAttr.due,
      '#ps': GroupAttr.policyState,
    };
    const values: Item = {
      ':me': { S: lease.holder },
      ':ep': { N: String(lease.epoch) },
    };
    let condition = '#o = :me AND #ep = :ep';
    if (dueAt === undefined) {
      remove.push('#due');
      const expected = storedCondition(lease);
      condition += ` AND #ring = :ring AND ${expected.expression}`;
      names['#ring'] = GroupAttr.ring;
      Object.assign(names, expected.names);
      values[':ring'] = { N: String(lease.ring) };
      Object.assign(values, expected.values);
    } else {
      set.push('#due = :due');
      values[':due'] = { N: String(dueAt) };
    }
    if (policyState === undefined) remove.push('#ps');
    else {
      set.push('#ps = :ps');
      values[':ps'] = { S: policyState };
    }
    try {
      await this.#retry('Releasing a dispatch lease', () =>
        this.#ctx.ddb.send(
          new UpdateItemCommand({
            TableName: this.#ctx.tables.groups,
            Key: this.#key(leaseItemKey(topic, partition)),
            UpdateExpression: `${set.length > 0 ? `SET ${set.join(', ')} ` : ''}REMOVE ${remove.join(', ')}`,
            ConditionExpression: condition,
            ExpressionAttributeNames: names,
            ExpressionAttributeValues: values,
            ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
          }),
        ),
      );
      return undefined;
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      const current = error.Item;
      if (!current || !holds(current, lease)) throw new LeaseLostError(this.group, topic, partition);
      const now = dispatchLeaseFrom(lease.holder, lease.incarnation, current, lease.epoch);
      const offsetMoved =
        now.stored.offset !== lease.stored.offset || now.stored.incarnation !== lease.stored.incarnation;
      return { lease: now, offsetMoved };
    }
  }

  /**
   * The dispatch state of a topic's partitions in this group, read with one eventually consistent
   * query of the topic's lease items (a few hundred bytes per partition): what the sweep reads.
   */
  async dispatchStates(topic: string): Promise<DispatchState[]> {
    const states: DispatchState[] = [];
    let startKey: Item | undefined;
    do {
      const page = await this.#retry('Reading dispatch states', () =>
        this.#ctx.ddb.send(
          new QueryCommand({
            TableName: this.#ctx.tables.groups,
            KeyConditionExpression: '#g = :g AND begins_with(#k, :prefix)',
            ExpressionAttributeNames: { '#g': GroupAttr.group, '#k': GroupAttr.key },
            ExpressionAttributeValues: { ':g': { S: this.group }, ':prefix': { S: leaseKeyPrefix(topic) } },
            ...(startKey ? { ExclusiveStartKey: startKey } : {}),
          }),
        ),
      );
      for (const item of page.Items ?? []) {
        const key = parseLeaseItemKey(item[GroupAttr.key]?.S ?? '');
        if (key?.topic !== topic) continue;
        states.push({
          partition: key.partition,
          due: num(item, GroupAttr.due),
          heldUntil:
            item[GroupAttr.owner]?.S === undefined ? undefined : (num(item, GroupAttr.leaseUntil) ?? 0),
          committed: num(item, GroupAttr.offset),
          incarnation: item[GroupAttr.incarnation]?.S,
        });
      }
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    return states;
  }

  /** The same commit as a transaction item, for exactly-once consume-transform-produce. */
  commitTransactionItem(fence: LeaseFence, offset: number, metadata: string | undefined): TransactWriteItem {
    return { Update: this.#commitUpdate(fence, offset, metadata) };
  }

  #commitUpdate(
    { topic, partition, memberId, epoch }: LeaseFence,
    offset: number,
    metadata: string | undefined,
  ) {
    return {
      TableName: this.#ctx.tables.groups,
      Key: this.#key(leaseItemKey(topic, partition)),
      UpdateExpression: `SET #co = :co, #cat = :now${metadata === undefined ? ' REMOVE #md' : ', #md = :md'}`,
      ConditionExpression: '#o = :me AND #ep = :ep AND (attribute_not_exists(#co) OR #co <= :co)',
      ExpressionAttributeNames: {
        '#co': GroupAttr.offset,
        '#cat': GroupAttr.committedAt,
        '#md': GroupAttr.metadata,
        '#o': GroupAttr.owner,
        '#ep': GroupAttr.epoch,
      },
      ExpressionAttributeValues: {
        ':co': { N: String(offset) },
        ':now': { N: String(this.#ctx.now()) },
        ':me': { S: memberId },
        ':ep': { N: String(epoch) },
        ...(metadata === undefined ? {} : { ':md': { S: metadata } }),
      },
      ReturnValuesOnConditionCheckFailure: 'ALL_OLD' as const,
    };
  }

  /**
   * Administrative: sets committed offsets regardless of direction (reset), keeping owners and
   * creating missing lease items. Up to 100 partitions are written in one transaction, so a
   * reset of a topic applies to all its partitions or none (larger topics: per 100).
   *
   * On MRSC (no transactions) each partition is written on its own, and a reset that fails part-way
   * (throttling past the deadline, no quorum) throws {@link PartiallyResetError} saying which
   * partitions have their new offsets; repeating the reset finishes it. The writes are unconditional
   * in both paths, so nothing but such a failure can stop one.
   */
  async setOffsets(entries: readonly OffsetReset[]): Promise<void> {
    if (isStronglyConsistent(this.#ctx)) return this.#setEach(entries);
    for (let i = 0; i < entries.length; i += 100) {
      const items: TransactWriteItem[] = entries
        .slice(i, i + 100)
        .map((e) => ({ Update: this.#resetUpdate(e) }));
      const token = randomUUID();
      await this.#retry('Resetting offsets', () =>
        this.#ctx.ddb.send(
          new TransactWriteItemsCommand({ TransactItems: items, ClientRequestToken: token }),
        ),
      );
    }
  }

  /** {@link setOffsets} without a transaction (MRSC): each partition's update on its own. */
  async #setEach(entries: readonly OffsetReset[]): Promise<void> {
    const outcomes = await mapLimited(entries, SEPARATE_WRITES_IN_FLIGHT, async (e) => {
      try {
        await this.#retry('Resetting offsets', () =>
          this.#ctx.ddb.send(new UpdateItemCommand(this.#resetUpdate(e))),
        );
        return undefined;
      } catch (error) {
        return { error };
      }
    });
    const failure = outcomes.find((o) => o !== undefined);
    if (!failure) return;
    const offsetOf = (e: OffsetReset): CommittedOffset => ({
      topic: e.topic,
      partition: e.partition,
      offset: e.offset,
    });
    throw new PartiallyResetError(
      this.group,
      entries.filter((_, i) => outcomes[i] === undefined).map(offsetOf),
      entries.filter((_, i) => outcomes[i] !== undefined).map(offsetOf),
      failure.error,
    );
  }

  #resetUpdate(e: OffsetReset) {
    return {
      TableName: this.#ctx.tables.groups,
      Key: this.#key(leaseItemKey(e.topic, e.partition)),
      // A trigger's group (dispatch leases) replays from the new offsets: the partition is
      // due at once, and a retry state of the old position is dropped; a dispatcher holding
      // the lease notices the moved offset at its next commit or release. Other groups never
      // read these two attributes.
      UpdateExpression:
        'SET #co = :co, #inc = :inc, #cat = :now, #ep = if_not_exists(#ep, :zero), #due = :now REMOVE #md, #ps',
      ExpressionAttributeNames: {
        '#co': GroupAttr.offset,
        '#inc': GroupAttr.incarnation,
        '#cat': GroupAttr.committedAt,
        '#ep': GroupAttr.epoch,
        '#md': GroupAttr.metadata,
        '#due': GroupAttr.due,
        '#ps': GroupAttr.policyState,
      },
      ExpressionAttributeValues: {
        ':co': { N: String(e.offset) },
        ':inc': { S: e.incarnation },
        ':now': { N: String(this.#ctx.now()) },
        ':zero': { N: '0' },
      },
    };
  }

  /** Deletes every item of the group. */
  async deleteAll(): Promise<void> {
    const snapshot = await this.snapshot();
    const keys = [
      GROUP_META_KEY,
      ...snapshot.members.map((m) => memberKey(m.memberId)),
      ...snapshot.leases.map((l) => leaseItemKey(l.topic, l.partition)),
      ...(snapshot.classic.group ? [CLASSIC_GROUP_KEY] : []),
      ...[...snapshot.classic.beats.keys()].map((memberId) => `${CLASSIC_BEAT_PREFIX}${memberId}`),
    ];
    await batchWriteAll(
      { ddb: this.#ctx.ddb, table: this.#ctx.tables.groups, retry: this.#ctx.retry },
      keys.map((k) => ({ DeleteRequest: { Key: this.#key(k) } })),
      `Deleting consumer group (group ${this.group})`,
    );
  }
}

/** A group as listed: its id and when its metadata item was written. */
export interface GroupListing {
  readonly groupId: string;
  /** Epoch ms, when recorded. */
  readonly createdAt: number | undefined;
  /** For a group coordinated with Kafka's classic protocol: its state and protocol type. */
  readonly classic?: { readonly state: ClassicGroupState; readonly protocolType: string | undefined };
}

/**
 * Every group that has a metadata item (one that ever had a member, and was not deleted), in the
 * table's order, with the classic protocol's state for Kafka groups. A scan of the whole groups
 * table (filtered on the metadata and classic state items).
 */
export async function listGroups(where: StorageContext): Promise<GroupListing[]> {
  const ctx = groupContext(where);
  const out: GroupListing[] = [];
  const classic = new Map<string, NonNullable<GroupListing['classic']>>();
  let startKey: Item | undefined;
  do {
    const page = await withRetry(
      'Listing consumer groups',
      () =>
        ctx.ddb.send(
          new ScanCommand({
            TableName: ctx.tables.groups,
            FilterExpression: '#k IN (:meta, :classic)',
            ExpressionAttributeNames: { '#k': GroupAttr.key },
            ExpressionAttributeValues: {
              ':meta': { S: GROUP_META_KEY },
              ':classic': { S: CLASSIC_GROUP_KEY },
            },
            ...(startKey ? { ExclusiveStartKey: startKey } : {}),
          }),
        ),
      ctx.retry,
    );
    for (const item of page.Items ?? []) {
      const groupId = item[GroupAttr.group]?.S ?? '';
      if (item[GroupAttr.key]?.S === CLASSIC_GROUP_KEY) {
        const { state, protocolType } = classicGroupFromItem(item);
        classic.set(groupId, { state, protocolType });
      } else out.push({ groupId, createdAt: num(item, GroupAttr.createdAt) });
    }
    startKey = page.LastEvaluatedKey;
  } while (startKey);
  return out.map((g) => {
    const state = classic.get(g.groupId);
    return state ? { ...g, classic: state } : g;
  });
}

/** True when `item` is still held by the lease's holder at the lease's epoch. */
function holds(item: Item, lease: DispatchLeaseRecord): boolean {
  return item[GroupAttr.owner]?.S === lease.holder && num(item, GroupAttr.epoch) === lease.epoch;
}

/** A dispatch lease as `item` stores it, for `holder` delivering `incarnation` of the topic. */
function dispatchLeaseFrom(
  holder: string,
  incarnation: string,
  item: Item,
  epoch = num(item, GroupAttr.epoch) ?? 0,
): DispatchLeaseRecord {
  const offset = num(item, GroupAttr.offset);
  const storedIncarnation = item[GroupAttr.incarnation]?.S;
  const sameIncarnation = storedIncarnation === undefined || storedIncarnation === incarnation;
  return {
    holder,
    epoch,
    committed: sameIncarnation ? offset : undefined,
    ring: num(item, GroupAttr.ring) ?? 0,
    policyState: sameIncarnation ? item[GroupAttr.policyState]?.S : undefined,
    incarnation,
    stored: { offset, incarnation: storedIncarnation },
  };
}

/**
 * The condition "the committed offset is still as the lease saw it", with the attribute names
 * (`#co`, `#inc`) and values it uses.
 */
function storedCondition(lease: DispatchLeaseRecord): {
  expression: string;
  names: Record<string, string>;
  values: Item;
} {
  const { offset, incarnation } = lease.stored;
  if (offset === undefined) {
    return { expression: 'attribute_not_exists(#co)', names: { '#co': GroupAttr.offset }, values: {} };
  }
  const names = { '#co': GroupAttr.offset, '#inc': GroupAttr.incarnation };
  const values: Item = { ':prevco': { N: String(offset) } };
  if (incarnation === undefined) {
    return { expression: '#co = :prevco AND attribute_not_exists(#inc)', names, values };
  }
  values[':previnc'] = { S: incarnation };
  return { expression: '#co = :prevco AND #inc = :previnc', names, values };
}

function num(item: Item, name: string): number | undefined {
  const v = item[name]?.N;
  return v === undefined ? undefined : Number(v);
}

function memberFromItem(memberId: string, item: Item): MemberRecord {
  return {
    memberId,
    heartbeat: num(item, GroupAttr.heartbeat) ?? 0,
    seenAt: num(item, GroupAttr.seenAt) ?? 0,
    instanceId: item[GroupAttr.instanceId]?.S,
    topics: (item[GroupAttr.topics]?.L ?? []).flatMap((v) => (v.S === undefined ? [] : [v.S])),
    sessionTimeoutMs: num(item, GroupAttr.sessionTimeoutMs) ?? 10_000,
    changes: num(item, GroupAttr.changes) ?? 0,
  };
}

/** Parses a lease item. */
export function leaseFromItem(topic: string, partition: number, item: Item): LeaseRecord {
  return {
    topic,
    partition,
    owner: item[GroupAttr.owner]?.S,
    epoch: num(item, GroupAttr.epoch) ?? 0,
    incarnation: item[GroupAttr.incarnation]?.S,
    offset: num(item, GroupAttr.offset),
    metadata: item[GroupAttr.metadata]?.S,
    committedAt: num(item, GroupAttr.committedAt),
  };
}
