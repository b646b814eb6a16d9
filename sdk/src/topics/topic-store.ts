/**
 * The topics table's one store: every DynamoDB command on the topics table is built here, and
 * topic items are mapped to and from {@link TopicMetadata} here. The registry (`registry.ts`)
 * keeps the domain logic: validation, incarnations, config changes and purges.
 *
 * The table holds one item per live topic (`name` = the topic, `kind = topic`) and one per
 * deletion still purging (`name` = {@link tombstoneKey}, `kind = tombstone`). A failed condition
 * comes back as a value (`false`, `undefined`); every other error propagates untouched.
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
import type { StorageContext } from '../context.ts';
import { parseTombstoneKey, TopicAttr, TriggerAttr, tombstoneKey, triggerKey } from '../keys.ts';
import { withRetry } from '../retry.ts';
import { parseTopicConfig } from './configs.ts';
import type { TopicMetadata } from './topic-metadata.ts';

type Item = Record<string, AttributeValue>;

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
    return (await this.#scan('tombstone')).map((item) => {
      const key = item[TopicAttr.name]!.S!;
      const stored = topicFromItem(item);
      // The item carries the dead topic's attributes under the tombstone's key.
      const name = parseTombstoneKey(key)?.topic ?? key;
      return { key, topic: { ...stored, name } };
    });
  }

  /**
   * Swaps a topic's item for its tombstone in one transaction, conditional on the topic still
   * being this incarnation. Returns false when it is not (deleted, or recreated, since).
   */
  async replaceWithTombstone(topic: TopicMetadata): Promise<boolean> {
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
              {
                Put: {
                  TableName: this.#ctx.tables.topics,
                  Item: {
                    ...topicItem(topic),
                    [TopicAttr.name]: { S: tombstoneKey(topic.name, topic.incarnation) },
                    [TopicAttr.kind]: { S: 'tombstone' },
                  },
                },
              },
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

  async #scan(kind: 'topic' | 'tombstone' | 'trigger'): Promise<Item[]> {
    const items: Item[] = [];
    let startKey: Item | undefined;
    do {
      const page = await this.#send('Listing topics', () =>
        this.#ctx.ddb.send(
          new ScanCommand({
            TableName: this.#ctx.tables.topics,
            FilterExpression: '#kind = :kind',
            ExpressionAttributeNames: { '#kind': TopicAttr.kind },
            ExpressionAttributeValues: { ':kind': { S: kind } },
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
