/**
 * The topics table's one store: every DynamoDB command on the topics table is built here, and
 * topic items are mapped to and from {@link TopicMetadata} here. The registry (`registry.ts`)
 * keeps the domain logic: validation, incarnations, config changes and purges.
 *
 * The table holds one item per live topic (`name` = the topic, `kind = topic`), one per
 * deletion still purging (`name` = {@link tombstoneKey}, `kind = tombstone`), one per trigger
 * (`kind = trigger`) and one per partition the archiver keeps a schedule for
 * (`name` = {@link archiveScheduleKey}, `kind = schedule`), the producer id counter
 * (`name` = {@link PRODUCER_ID_COUNTER_KEY}, `kind = counter`), and one per topic incarnation that
 * failed over (`name` = {@link epochsKey}, `kind = epochs`: its leader epochs). A failed condition comes back as a
 * value (`false`, `undefined`); every other error propagates untouched.
 */
import {
  type AttributeValue,
  ConditionalCheckFailedException,
  DeleteItemCommand,
  GetItemCommand,
  PutItemCommand,
  ScanCommand,
  TransactionCanceledException,
  TransactWriteItemsCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { batchWriteAll } from '../batch-write.ts';
import type { StorageContext } from '../context.ts';
import { LogInvariantError } from '../errors.ts';
import {
  archiveScheduleKey,
  CounterAttr,
  EpochAttr,
  epochsKey,
  type PartitionRef,
  PRODUCER_ID_COUNTER_KEY,
  parseArchiveScheduleKey,
  parseTombstoneKey,
  ScheduleAttr,
  TopicAttr,
  TriggerAttr,
  tombstoneKey,
  triggerKey,
} from '../keys.ts';
import type { EpochChange, EpochOrigin, TopicEpochs } from '../regions/leader-epochs.ts';
import { isStronglyConsistent } from '../regions/routing.ts';
import { withRetry } from '../retry.ts';
import { parseTopicConfig } from './configs.ts';
import type { TopicMetadata } from './topic-metadata.ts';

type Item = Record<string, AttributeValue>;

/** The kinds of items in the topics table. */
type ItemKind = 'topic' | 'tombstone' | 'trigger' | 'schedule' | 'counter' | 'epochs';

/** A deleted topic incarnation whose items may still be purging. */
export interface TopicTombstone {
  /** The tombstone item's key ({@link tombstoneKey}). */
  readonly key: string;
  /** The deleted topic as it was (name, incarnation, partitions, configs). */
  readonly topic: TopicMetadata;
}

/** A trigger's item as stored: its settings stay JSON here (the trigger registry parses them). */
export interface StoredTrigger {
  readonly name: string;
  /** `TriggerSettings` as JSON. */
  readonly settings: string;
  readonly version: number;
  readonly createdAt: number;
  readonly updatedAt: number;
  /** JSON `{ message, code, at }` of the last delivery error, if any. */
  readonly lastError: string | undefined;
}

/**
 * A partition's archive schedule as stored: what the archiver's last visit found (when it started,
 * the end offset it saw, when work is due next and what that was computed from) and when a
 * doorbell last reported records. `archive/archive-schedule.ts` decides with it.
 */
export interface ArchiveScheduleEntry {
  /** The item's key ({@link archiveScheduleKey}). */
  readonly key: string;
  readonly ref: PartitionRef;
  readonly due: number | undefined;
  readonly seen: number | undefined;
  readonly end: number | undefined;
  readonly basis: string | undefined;
  readonly probed: number | undefined;
  readonly rung: number | undefined;
}

/** What the archiver records of a visit. */
export interface ArchiveVisitRecord {
  /** When the visit started (before it read the partition). */
  readonly seen: number;
  /** The partition's end offset the visit saw. */
  readonly end: number;
  /** When work may be due next without new records; undefined: never. */
  readonly due: number | undefined;
  readonly basis: string;
}

/** What one archiver run needs of the topics table, read in one scan. */
export interface ArchiveView {
  readonly topics: TopicMetadata[];
  readonly tombstones: TopicTombstone[];
  readonly schedules: ArchiveScheduleEntry[];
}

function triggerFromItem(item: Item): StoredTrigger {
  return {
    name: (item[TopicAttr.name]?.S ?? '').slice('trigger#'.length),
    settings: item[TriggerAttr.settings]?.S ?? '{}',
    version: Number(item[TriggerAttr.version]?.N ?? '0'),
    createdAt: Number(item[TriggerAttr.createdAt]?.N ?? '0'),
    updatedAt: Number(item[TriggerAttr.updatedAt]?.N ?? '0'),
    lastError: item[TriggerAttr.lastError]?.S,
  };
}

/** Reads and writes the topics table. Stateless and cheap to create. */
export class TopicStore {
  readonly #ctx: StorageContext;

  constructor(ctx: StorageContext) {
    this.#ctx = ctx;
  }

  #send<T>(operation: string, fn: () => Promise<T>): Promise<T> {
    return withRetry(operation, fn, this.#ctx.retry);
  }

  /** Writes a new topic's item. Returns false when an item of that name exists. */
  async create(topic: TopicMetadata): Promise<boolean> {
    try {
      await this.#send(`Creating topic ${topic.name}`, () =>
        this.#ctx.ddb.send(
          new PutItemCommand({
            TableName: this.#ctx.tables.topics,
            Item: topicItem(topic),
            ConditionExpression: 'attribute_not_exists(#name)',
            ExpressionAttributeNames: { '#name': TopicAttr.name },
          }),
        ),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  /** A live topic, read consistently; undefined when there is none of that name. */
  async get(name: string): Promise<TopicMetadata | undefined> {
    const out = await this.#send(`Reading topic ${name}`, () =>
      this.#ctx.ddb.send(
        new GetItemCommand({
          TableName: this.#ctx.tables.topics,
          Key: { [TopicAttr.name]: { S: name } },
          ConsistentRead: true,
        }),
      ),
    );
    return out.Item?.[TopicAttr.kind]?.S === 'topic' ? topicFromItem(out.Item) : undefined;
  }

  /** Every live topic (in the table's order). */
  async listTopics(): Promise<TopicMetadata[]> {
    return (await this.#scan('topic')).map(topicFromItem);
  }

  /** Every tombstone (in the table's order). */
  async listTombstones(): Promise<TopicTombstone[]> {
    return (await this.#scan('tombstone')).map(tombstoneFromItem);
  }

  /**
   * Swaps a topic's item for its tombstone in one transaction, conditional on the topic still
   * being this incarnation. Returns false when it is not (deleted, or recreated, since). On MRSC,
   * which has no transactions, in two writes that keep the swap all or nothing
   * ({@link #tombstoneThenDelete}).
   */
  async replaceWithTombstone(topic: TopicMetadata): Promise<boolean> {
    if (isStronglyConsistent(this.#ctx)) return this.#tombstoneThenDelete(topic);
    try {
      await this.#send(`Deleting topic ${topic.name}`, () =>
        this.#ctx.ddb.send(
          new TransactWriteItemsCommand({
            TransactItems: [
              {
                Delete: {
                  TableName: this.#ctx.tables.topics,
                  Key: { [TopicAttr.name]: { S: topic.name } },
                  ConditionExpression: '#inc = :inc',
                  ExpressionAttributeNames: { '#inc': TopicAttr.incarnation },
                  ExpressionAttributeValues: { ':inc': { S: topic.incarnation } },
                },
              },
              { Put: { TableName: this.#ctx.tables.topics, Item: tombstoneItem(topic) } },
            ],
          }),
        ),
      );
      return true;
    } catch (error) {
      if (error instanceof TransactionCanceledException) return false;
      throw error;
    }
  }

  /**
   * The swap without a transaction, still all or nothing as far as any reader can tell. The
   * tombstone goes first, and it is inert while the topic item still names its incarnation: purges
   * skip such a tombstone (`TopicRegistry.finishPurges`). Then the topic item is deleted on the
   * transaction's condition: that one write deletes the topic. A delete stopped between the two
   * leaves the topic live, and deleting it again finishes the swap (the tombstone is rewritten as
   * it was). Losing the race to another delete of this incarnation returns false as the transaction
   * would, and leaves the tombstone, which is that delete's too (same key).
   */
  async #tombstoneThenDelete(topic: TopicMetadata): Promise<boolean> {
    await this.#send(`Deleting topic ${topic.name} (its tombstone)`, () =>
      this.#ctx.ddb.send(
        new PutItemCommand({ TableName: this.#ctx.tables.topics, Item: tombstoneItem(topic) }),
      ),
    );
    try {
      await this.#send(`Deleting topic ${topic.name}`, () =>
        this.#ctx.ddb.send(
          new DeleteItemCommand({
            TableName: this.#ctx.tables.topics,
            Key: { [TopicAttr.name]: { S: topic.name } },
            ConditionExpression: '#inc = :inc',
            ExpressionAttributeNames: { '#inc': TopicAttr.incarnation },
            ExpressionAttributeValues: { ':inc': { S: topic.incarnation } },
          }),
        ),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  /** Removes a tombstone once its incarnation is purged. */
  async deleteTombstone(tombstone: TopicTombstone): Promise<void> {
    await this.#send(`Removing the tombstone of ${tombstone.topic.name}`, () =>
      this.#ctx.ddb.send(
        new DeleteItemCommand({
          TableName: this.#ctx.tables.topics,
          Key: { [TopicAttr.name]: { S: tombstone.key } },
        }),
      ),
    );
  }

  /** Sets a topic's partition count; undefined when the topic is no longer `current`'s incarnation. */
  setPartitions(current: TopicMetadata, partitions: number): Promise<TopicMetadata | undefined> {
    return this.#update(
      current,
      'SET #parts = :parts',
      { ':parts': { N: String(partitions) } },
      { '#parts': TopicAttr.partitions },
    );
  }

  /** Replaces a topic's explicit configs; undefined when the topic is no longer `current`'s incarnation. */
  setConfigs(
    current: TopicMetadata,
    configs: Readonly<Record<string, string>>,
  ): Promise<TopicMetadata | undefined> {
    return this.#update(
      current,
      'SET #cfg = :cfg',
      { ':cfg': { M: stringMap(configs) } },
      { '#cfg': TopicAttr.configs },
    );
  }

  async #update(
    current: TopicMetadata,
    expression: string,
    values: Item,
    names: Record<string, string>,
  ): Promise<TopicMetadata | undefined> {
    try {
      const out = await this.#send(`Updating topic ${current.name}`, () =>
        this.#ctx.ddb.send(
          new UpdateItemCommand({
            TableName: this.#ctx.tables.topics,
            Key: { [TopicAttr.name]: { S: current.name } },
            UpdateExpression: expression,
            ConditionExpression: '#inc = :inc',
            ExpressionAttributeNames: { ...names, '#inc': TopicAttr.incarnation },
            ExpressionAttributeValues: { ...values, ':inc': { S: current.incarnation } },
            ReturnValues: 'ALL_NEW',
          }),
        ),
      );
      return topicFromItem(out.Attributes ?? {});
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return undefined;
      throw error;
    }
  }

  // ---------- leader epochs ----------

  /** A topic incarnation's leader epochs; undefined when it never failed over. */
  async getEpochs(topic: string, incarnation: string, consistent = true): Promise<TopicEpochs | undefined> {
    const out = await this.#send(`Reading the leader epochs of topic ${topic}`, () =>
      this.#ctx.ddb.send(
        new GetItemCommand({
          TableName: this.#ctx.tables.topics,
          Key: { [TopicAttr.name]: { S: epochsKey(topic, incarnation) } },
          ConsistentRead: consistent,
        }),
      ),
    );
    return out.Item && out.Item[TopicAttr.incarnation]?.S === incarnation
      ? epochsFromItem(out.Item)
      : undefined;
  }

  /**
   * Writes a topic incarnation's leader epochs, conditional on the item being at the version before
   * (`epochs.version - 1`; absent for the first failover). False when another failover wrote first.
   */
  async putEpochs(topic: string, incarnation: string, epochs: TopicEpochs): Promise<boolean> {
    const first = epochs.version === 1;
    try {
      await this.#send(`Recording the leader epochs of topic ${topic}`, () =>
        this.#ctx.ddb.send(
          new PutItemCommand({
            TableName: this.#ctx.tables.topics,
            Item: {
              [TopicAttr.name]: { S: epochsKey(topic, incarnation) },
              [TopicAttr.kind]: { S: 'epochs' },
              [TopicAttr.incarnation]: { S: incarnation },
              [EpochAttr.version]: { N: String(epochs.version) },
              [EpochAttr.changes]: { L: epochs.changes.map((c) => ({ M: changeItem(c) })) },
            },
            ConditionExpression: first ? 'attribute_not_exists(#name)' : '#ver = :ver',
            ExpressionAttributeNames: first ? { '#name': TopicAttr.name } : { '#ver': EpochAttr.version },
            ...(first ? {} : { ExpressionAttributeValues: { ':ver': { N: String(epochs.version - 1) } } }),
          }),
        ),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  /** Deletes a purged incarnation's epoch item (if any). */
  async deleteEpochs(topic: string, incarnation: string): Promise<void> {
    await this.#send(`Removing the leader epochs of topic ${topic}`, () =>
      this.#ctx.ddb.send(
        new DeleteItemCommand({
          TableName: this.#ctx.tables.topics,
          Key: { [TopicAttr.name]: { S: epochsKey(topic, incarnation) } },
        }),
      ),
    );
  }

  // ---------- triggers ----------

  /** Writes a new trigger's item. Returns false when a trigger of that name exists. */
  async createTrigger(stored: StoredTrigger): Promise<boolean> {
    try {
      await this.#send(`Creating trigger ${stored.name}`, () =>
        this.#ctx.ddb.send(
          new PutItemCommand({
            TableName: this.#ctx.tables.topics,
            Item: {
              [TopicAttr.name]: { S: triggerKey(stored.name) },
              [TopicAttr.kind]: { S: 'trigger' },
              [TriggerAttr.settings]: { S: stored.settings },
              [TriggerAttr.version]: { N: '1' },
              [TriggerAttr.createdAt]: { N: String(stored.createdAt) },
              [TriggerAttr.updatedAt]: { N: String(stored.createdAt) },
            },
            ConditionExpression: 'attribute_not_exists(#name)',
            ExpressionAttributeNames: { '#name': TopicAttr.name },
          }),
        ),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  /** A trigger's item (strongly consistent), or undefined. */
  async getTrigger(name: string): Promise<StoredTrigger | undefined> {
    const out = await this.#send(`Reading trigger ${name}`, () =>
      this.#ctx.ddb.send(
        new GetItemCommand({
          TableName: this.#ctx.tables.topics,
          Key: { [TopicAttr.name]: { S: triggerKey(name) } },
          ConsistentRead: true,
        }),
      ),
    );
    return out.Item?.[TopicAttr.kind]?.S === 'trigger' ? triggerFromItem(out.Item) : undefined;
  }

  /** Every trigger (a scan of the table: for admins and the dispatcher). */
  async listTriggers(): Promise<StoredTrigger[]> {
    return (await this.#scan('trigger')).map(triggerFromItem);
  }

  /**
   * Every trigger and every live topic (with its leader epochs), in one scan (the dispatcher's sweep
   * needs both).
   */
  async listTriggersAndTopics(): Promise<{ triggers: StoredTrigger[]; topics: TopicMetadata[] }> {
    const triggers: StoredTrigger[] = [];
    const topics: Item[] = [];
    const epochs: Item[] = [];
    for (const item of await this.#scan('trigger', 'topic', 'epochs')) {
      const kind = item[TopicAttr.kind]?.S;
      if (kind === 'trigger') triggers.push(triggerFromItem(item));
      else if (kind === 'epochs') epochs.push(item);
      else topics.push(item);
    }
    return { triggers, topics: withEpochs(topics, epochs) };
  }

  /** Replaces a trigger's settings if it is still at `version`; false when it changed or is gone. */
  async updateTrigger(name: string, version: number, settings: string, now: number): Promise<boolean> {
    try {
      await this.#send(`Updating trigger ${name}`, () =>
        this.#ctx.ddb.send(
          new UpdateItemCommand({
            TableName: this.#ctx.tables.topics,
            Key: { [TopicAttr.name]: { S: triggerKey(name) } },
            UpdateExpression: 'SET #cfg = :cfg, #ver = :next, #upd = :now',
            ConditionExpression: '#ver = :ver',
            ExpressionAttributeNames: {
              '#cfg': TriggerAttr.settings,
              '#ver': TriggerAttr.version,
              '#upd': TriggerAttr.updatedAt,
            },
            ExpressionAttributeValues: {
              ':cfg': { S: settings },
              ':ver': { N: String(version) },
              ':next': { N: String(version + 1) },
              ':now': { N: String(now) },
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

  /** Records (or clears, with undefined) the last delivery error of a trigger that still exists. */
  async setTriggerError(name: string, lastError: string | undefined): Promise<void> {
    try {
      await this.#send(`Recording the state of trigger ${name}`, () =>
        this.#ctx.ddb.send(
          new UpdateItemCommand({
            TableName: this.#ctx.tables.topics,
            Key: { [TopicAttr.name]: { S: triggerKey(name) } },
            UpdateExpression: lastError === undefined ? 'REMOVE #err' : 'SET #err = :err',
            ConditionExpression: 'attribute_exists(#name)',
            ExpressionAttributeNames: { '#err': TriggerAttr.lastError, '#name': TopicAttr.name },
            ...(lastError === undefined ? {} : { ExpressionAttributeValues: { ':err': { S: lastError } } }),
          }),
        ),
      );
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
  }

  /** Deletes a trigger's item; false when there was none. */
  async deleteTrigger(name: string): Promise<boolean> {
    const out = await this.#send(`Deleting trigger ${name}`, () =>
      this.#ctx.ddb.send(
        new DeleteItemCommand({
          TableName: this.#ctx.tables.topics,
          Key: { [TopicAttr.name]: { S: triggerKey(name) } },
          ReturnValues: 'ALL_OLD',
        }),
      ),
    );
    return out.Attributes?.[TopicAttr.kind]?.S === 'trigger';
  }

  // ---------- archive schedules ----------

  /**
   * Live topics, tombstones and archive schedules in one consistent scan: an archiver run reads
   * the topics table once, whatever it holds.
   */
  async archiveView(): Promise<ArchiveView> {
    const view: { topics: TopicMetadata[]; tombstones: TopicTombstone[]; schedules: ArchiveScheduleEntry[] } =
      {
        topics: [],
        tombstones: [],
        schedules: [],
      };
    const topics: Item[] = [];
    const epochs: Item[] = [];
    for (const item of await this.#scan('topic', 'tombstone', 'schedule', 'epochs')) {
      const kind = item[TopicAttr.kind]?.S;
      if (kind === 'topic') topics.push(item);
      else if (kind === 'tombstone') view.tombstones.push(tombstoneFromItem(item));
      else if (kind === 'epochs') epochs.push(item);
      else {
        const entry = scheduleFromItem(item);
        if (entry) view.schedules.push(entry);
      }
    }
    view.topics.push(...withEpochs(topics, epochs));
    return view;
  }

  /**
   * Records what an archiver visit of a partition found. The doorbell's `rung` is left as it is:
   * a ring that came after the visit started must still count.
   */
  async recordArchiveVisit(ref: PartitionRef, visit: ArchiveVisitRecord): Promise<void> {
    const sets = ['#kind = :kind', '#s = :s', '#e = :e', '#b = :b'];
    const values: Item = {
      ':kind': { S: 'schedule' },
      ':s': { N: String(visit.seen) },
      ':e': { N: String(visit.end) },
      ':b': { S: visit.basis },
    };
    if (visit.due !== undefined) {
      sets.push('#d = :d');
      values[':d'] = { N: String(visit.due) };
    }
    await this.#send(`Recording the archive schedule of ${archiveScheduleKey(ref)}`, () =>
      this.#ctx.ddb.send(
        new UpdateItemCommand({
          TableName: this.#ctx.tables.topics,
          Key: { [TopicAttr.name]: { S: archiveScheduleKey(ref) } },
          UpdateExpression: `SET ${sets.join(', ')}${visit.due === undefined ? ' REMOVE #d' : ''}`,
          ExpressionAttributeNames: {
            '#kind': TopicAttr.kind,
            '#s': ScheduleAttr.seen,
            '#e': ScheduleAttr.end,
            '#b': ScheduleAttr.basis,
            '#d': ScheduleAttr.due,
          },
          ExpressionAttributeValues: values,
        }),
      ),
    );
  }

  /** Records that the archiver found no batch at a partition's recorded end at `at`. */
  async recordArchiveProbe(ref: PartitionRef, at: number): Promise<void> {
    await this.#send(`Recording the archive schedule of ${archiveScheduleKey(ref)}`, () =>
      this.#ctx.ddb.send(
        new UpdateItemCommand({
          TableName: this.#ctx.tables.topics,
          Key: { [TopicAttr.name]: { S: archiveScheduleKey(ref) } },
          UpdateExpression: 'SET #kind = :kind, #p = :p',
          ExpressionAttributeNames: { '#kind': TopicAttr.kind, '#p': ScheduleAttr.probed },
          ExpressionAttributeValues: { ':kind': { S: 'schedule' }, ':p': { N: String(at) } },
        }),
      ),
    );
  }

  /**
   * Records that records reached a partition at `at` (the doorbell), creating the schedule item if
   * there is none. Never moves the ring back: returns false when a ring at least as recent is
   * recorded already.
   */
  async ringArchiveSchedule(ref: PartitionRef, at: number): Promise<boolean> {
    try {
      await this.#send(`Ringing the archive schedule of ${archiveScheduleKey(ref)}`, () =>
        this.#ctx.ddb.send(
          new UpdateItemCommand({
            TableName: this.#ctx.tables.topics,
            Key: { [TopicAttr.name]: { S: archiveScheduleKey(ref) } },
            UpdateExpression: 'SET #kind = :kind, #r = :r',
            ConditionExpression: 'attribute_not_exists(#r) OR #r < :r',
            ExpressionAttributeNames: { '#kind': TopicAttr.kind, '#r': ScheduleAttr.rung },
            ExpressionAttributeValues: { ':kind': { S: 'schedule' }, ':r': { N: String(at) } },
          }),
        ),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  /** Deletes archive schedule items (of deleted incarnations), 25 per `BatchWriteItem`. */
  deleteArchiveSchedules(refs: readonly PartitionRef[]): Promise<void> {
    return batchWriteAll(
      { ddb: this.#ctx.ddb, table: this.#ctx.tables.topics, retry: this.#ctx.retry },
      refs.map((ref) => ({ DeleteRequest: { Key: { [TopicAttr.name]: { S: archiveScheduleKey(ref) } } } })),
      'Deleting archive schedules',
    );
  }

  // ---------- producer ids ----------

  /**
   * Reserves `count` consecutive producer ids with one atomic `ADD` on the counter item and
   * returns the first (ids start at 0). A write retried after a lost response reserves another
   * block: ids may be skipped, never handed out twice.
   */
  async reserveProducerIds(count: number): Promise<bigint> {
    const out = await this.#send('Allocating producer ids', () =>
      this.#ctx.ddb.send(
        new UpdateItemCommand({
          TableName: this.#ctx.tables.topics,
          Key: { [TopicAttr.name]: { S: PRODUCER_ID_COUNTER_KEY } },
          UpdateExpression: 'SET #kind = :kind ADD #next :count',
          ExpressionAttributeNames: { '#kind': TopicAttr.kind, '#next': CounterAttr.next },
          ExpressionAttributeValues: { ':kind': { S: 'counter' }, ':count': { N: String(count) } },
          ReturnValues: 'UPDATED_NEW',
        }),
      ),
    );
    const next = out.Attributes?.[CounterAttr.next]?.N;
    if (next === undefined) throw new LogInvariantError('The producer id counter returned no value');
    return BigInt(next) - BigInt(count);
  }

  /** Every item of these kinds (a filter: the scan reads, and is billed for, the whole table). */
  async #scan(...kinds: readonly ItemKind[]): Promise<Item[]> {
    const items: Item[] = [];
    let startKey: Item | undefined;
    const values = Object.fromEntries(kinds.map((kind, i) => [`:k${i}`, { S: kind }]));
    do {
      const page = await this.#send('Listing topics', () =>
        this.#ctx.ddb.send(
          new ScanCommand({
            TableName: this.#ctx.tables.topics,
            FilterExpression:
              kinds.length === 1 ? '#kind = :k0' : `#kind IN (${Object.keys(values).join(', ')})`,
            ExpressionAttributeNames: { '#kind': TopicAttr.kind },
            ExpressionAttributeValues: values,
            ConsistentRead: true,
            ...(startKey ? { ExclusiveStartKey: startKey } : {}),
          }),
        ),
      );
      items.push(...(page.Items ?? []));
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    return items;
  }
}

function stringMap(record: Readonly<Record<string, string>>): Item {
  return Object.fromEntries(Object.entries(record).map(([k, v]) => [k, { S: v }]));
}

function topicItem(topic: TopicMetadata): Item {
  return {
    [TopicAttr.name]: { S: topic.name },
    [TopicAttr.kind]: { S: 'topic' },
    [TopicAttr.incarnation]: { S: topic.incarnation },
    [TopicAttr.partitions]: { N: String(topic.partitions) },
    [TopicAttr.configs]: { M: stringMap(topic.configs) },
    [TopicAttr.createdAt]: { N: String(topic.createdAt) },
  };
}

/** The tombstone of one incarnation: the topic's item under {@link tombstoneKey}. */
function tombstoneItem(topic: TopicMetadata): Item {
  return {
    ...topicItem(topic),
    [TopicAttr.name]: { S: tombstoneKey(topic.name, topic.incarnation) },
    [TopicAttr.kind]: { S: 'tombstone' },
  };
}

function topicFromItem(item: Item): TopicMetadata {
  const configs = Object.fromEntries(
    Object.entries(item[TopicAttr.configs]?.M ?? {}).flatMap(([k, v]) =>
      v.S === undefined ? [] : [[k, v.S]],
    ),
  );
  return {
    name: item[TopicAttr.name]?.S ?? '',
    incarnation: item[TopicAttr.incarnation]?.S ?? '',
    partitions: Number(item[TopicAttr.partitions]?.N ?? '0'),
    configs,
    config: parseTopicConfig(configs),
    createdAt: Number(item[TopicAttr.createdAt]?.N ?? '0'),
  };
}

/** Topics from their items, each with its incarnation's epoch item when there is one among `epochs`. */
function withEpochs(topics: readonly Item[], epochs: readonly Item[]): TopicMetadata[] {
  const byKey = new Map(epochs.map((item) => [item[TopicAttr.name]?.S, item]));
  return topics.map((item) => {
    const topic = topicFromItem(item);
    const found = byKey.get(epochsKey(topic.name, topic.incarnation));
    return found ? { ...topic, epochs: epochsFromItem(found) } : topic;
  });
}

function changeItem(change: EpochChange): Item {
  return {
    e: { N: String(change.epoch) },
    r: { S: change.region },
    o: { S: change.origin },
    at: { N: String(change.at) },
    s: { L: change.startOffsets.map((offset) => ({ N: String(offset) })) },
  };
}

const ORIGINS: readonly EpochOrigin[] = ['created', 'planned', 'forced'];

function epochsFromItem(item: Item): TopicEpochs {
  const changes = (item[EpochAttr.changes]?.L ?? []).map((value): EpochChange => {
    const m = value.M ?? {};
    return {
      epoch: Number(m.e?.N ?? '0'),
      region: m.r?.S ?? '',
      origin: ORIGINS.find((o) => o === m.o?.S) ?? 'forced',
      at: Number(m.at?.N ?? '0'),
      startOffsets: (m.s?.L ?? []).map((v) => Number(v.N ?? '0')),
    };
  });
  return { version: Number(item[EpochAttr.version]?.N ?? '0'), changes };
}

function tombstoneFromItem(item: Item): TopicTombstone {
  const key = item[TopicAttr.name]!.S!;
  const stored = topicFromItem(item);
  // The item carries the dead topic's attributes under the tombstone's key.
  const name = parseTombstoneKey(key)?.topic ?? key;
  return { key, topic: { ...stored, name } };
}

/** A schedule item's entry; undefined for an item whose key is not a schedule's. */
function scheduleFromItem(item: Item): ArchiveScheduleEntry | undefined {
  const key = item[TopicAttr.name]?.S ?? '';
  const ref = parseArchiveScheduleKey(key);
  if (!ref) return undefined;
  const num = (name: string) => (item[name]?.N === undefined ? undefined : Number(item[name].N));
  return {
    key,
    ref,
    due: num(ScheduleAttr.due),
    seen: num(ScheduleAttr.seen),
    end: num(ScheduleAttr.end),
    basis: item[ScheduleAttr.basis]?.S,
    probed: num(ScheduleAttr.probed),
    rung: num(ScheduleAttr.rung),
  };
}
