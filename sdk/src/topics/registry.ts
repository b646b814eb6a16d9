/**
 * The topic registry: create, describe, list, alter, grow and delete topics.
 *
 * A topic item names the topic's current incarnation; log keys include it, so a topic deleted
 * and created again starts from an empty log even if old items are still being purged.
 * Deletion first swaps the topic item for a tombstone in one transaction (the topic disappears
 * at once), then purges the old incarnation's items, then removes the tombstone; an interrupted
 * purge is resumed by the next delete or by {@link TopicRegistry.resumePurges}.
 */
import { randomBytes } from 'node:crypto';
import {
  type AttributeValue,
  BatchWriteItemCommand,
  ConditionalCheckFailedException,
  DeleteItemCommand,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  ScanCommand,
  TransactionCanceledException,
  TransactWriteItemsCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { DeleteObjectsCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import type { StorageContext } from '../context.ts';
import { InvalidPartitionsError, TopicAlreadyExistsError, TopicNotFoundError } from '../errors.ts';
import {
  LogAttr,
  type PartitionRef,
  partitionKey,
  producerStateKey,
  segmentManifestKey,
  TopicAttr,
  tombstoneKey,
  topicObjectPrefix,
} from '../keys.ts';
import { sleep, withRetry } from '../retry.ts';
import { parseTopicConfig, type TopicConfig, validateTopicConfigs } from './configs.ts';
import { validateTopicName } from './names.ts';

/** Most partitions a topic may have. */
export const MAX_PARTITIONS = 4096;

/** A topic as stored in the registry. */
export interface TopicMetadata {
  readonly name: string;
  /** Id of this incarnation of the name; part of every log key. */
  readonly incarnation: string;
  readonly partitions: number;
  /** Configs set explicitly (strings, Kafka names). */
  readonly configs: Readonly<Record<string, string>>;
  /** Typed configs with defaults applied. */
  readonly config: TopicConfig;
  readonly createdAt: number;
}

/** Progress of a deletion's purge, reported after each page of deleted items. */
export interface PurgeProgress {
  readonly topic: string;
  readonly partition: number;
  readonly partitions: number;
  readonly itemsDeleted: number;
}

type Item = Record<string, AttributeValue>;

/** Throws {@link InvalidPartitionsError} unless `n` is a valid partition count. */
export function validatePartitionCount(n: unknown): asserts n is number {
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > MAX_PARTITIONS) {
    throw new InvalidPartitionsError(`A topic needs 1..${MAX_PARTITIONS} partitions; got ${String(n)}.`);
  }
}

/** The registry of one Tributary deployment (one topics table). */
export class TopicRegistry {
  readonly #ctx: StorageContext;

  constructor(ctx: StorageContext) {
    this.#ctx = ctx;
  }

  #retry<T>(operation: string, fn: () => Promise<T>): Promise<T> {
    return withRetry(operation, fn, this.#ctx.retry);
  }

  /** Creates a topic. Validates everything before writing. */
  async create(
    name: string,
    partitions: number,
    configs: Readonly<Record<string, string | number | boolean>> = {},
  ): Promise<TopicMetadata> {
    validateTopicName(name);
    validatePartitionCount(partitions);
    const stored = validateTopicConfigs(configs);
    const topic: TopicMetadata = {
      name,
      incarnation: randomBytes(5).toString('hex'),
      partitions,
      configs: stored,
      config: parseTopicConfig(stored),
      createdAt: this.#ctx.now(),
    };
    try {
      await this.#retry(`Creating topic ${name}`, () =>
        this.#ctx.ddb.send(
          new PutItemCommand({
            TableName: this.#ctx.tables.topics,
            Item: toItem(topic),
            ConditionExpression: 'attribute_not_exists(#name)',
            ExpressionAttributeNames: { '#name': TopicAttr.name },
          }),
        ),
      );
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) throw new TopicAlreadyExistsError(name);
      throw error;
    }
    return topic;
  }

  /** Reads a topic; throws {@link TopicNotFoundError} if it does not exist. */
  async get(name: string): Promise<TopicMetadata> {
    validateTopicName(name);
    const out = await this.#retry(`Reading topic ${name}`, () =>
      this.#ctx.ddb.send(
        new GetItemCommand({
          TableName: this.#ctx.tables.topics,
          Key: { [TopicAttr.name]: { S: name } },
          ConsistentRead: true,
        }),
      ),
    );
    if (out.Item?.[TopicAttr.kind]?.S !== 'topic') throw new TopicNotFoundError(name);
    return fromItem(out.Item);
  }

  /** All live topics, sorted by name. */
  async list(): Promise<TopicMetadata[]> {
    return (await this.#scan('topic')).map(fromItem).sort((a, b) => a.name.localeCompare(b.name));
  }

  /** Raises the partition count (it can only grow, as in Kafka). */
  async addPartitions(name: string, totalPartitions: number): Promise<TopicMetadata> {
    validatePartitionCount(totalPartitions);
    const current = await this.get(name);
    if (totalPartitions <= current.partitions) {
      throw new InvalidPartitionsError(
        `Topic "${name}" has ${current.partitions} partitions; the new count must be larger (partitions can only be added).`,
      );
    }
    return this.#update(
      current,
      'SET #parts = :parts',
      { ':parts': { N: String(totalPartitions) } },
      {
        '#parts': TopicAttr.partitions,
      },
    );
  }

  /** Sets (and with `null`, resets to default) configs of a topic. */
  async alterConfigs(
    name: string,
    changes: Readonly<Record<string, string | number | boolean | null>>,
  ): Promise<TopicMetadata> {
    const current = await this.get(name);
    const kept: Record<string, string> = { ...current.configs };
    const set = new Map<string, string | number | boolean>();
    for (const [key, value] of Object.entries(changes)) {
      if (value === null) delete kept[key];
      else set.set(key, value);
    }
    const stored = validateTopicConfigs(Object.fromEntries(set), kept);
    return this.#update(
      current,
      'SET #cfg = :cfg',
      { ':cfg': { M: stringMap(stored) } },
      { '#cfg': TopicAttr.configs },
    );
  }

  /**
   * Deletes a topic: it disappears at once; its records are purged before this resolves. Also
   * finishes earlier interrupted purges of the same name.
   */
  async delete(name: string, onProgress?: (p: PurgeProgress) => void): Promise<void> {
    const topic = await this.get(name);
    try {
      await this.#retry(`Deleting topic ${name}`, () =>
        this.#ctx.ddb.send(
          new TransactWriteItemsCommand({
            TransactItems: [
              {
                Delete: {
                  TableName: this.#ctx.tables.topics,
                  Key: { [TopicAttr.name]: { S: name } },
                  ConditionExpression: '#inc = :inc',
                  ExpressionAttributeNames: { '#inc': TopicAttr.incarnation },
                  ExpressionAttributeValues: { ':inc': { S: topic.incarnation } },
                },
              },
              {
                Put: {
                  TableName: this.#ctx.tables.topics,
                  Item: {
                    ...toItem(topic),
                    [TopicAttr.name]: { S: tombstoneKey(name, topic.incarnation) },
                    [TopicAttr.kind]: { S: 'tombstone' },
                  },
                },
              },
            ],
          }),
        ),
      );
    } catch (error) {
      if (error instanceof TransactionCanceledException) throw new TopicNotFoundError(name);
      throw error;
    }
    await this.resumePurges(name, onProgress);
  }

  /** Purges the records of deleted topics (all, or those of one name) and drops their tombstones. */
  async resumePurges(name?: string, onProgress?: (p: PurgeProgress) => void): Promise<number> {
    const tombstones = (await this.#scan('tombstone')).filter(
      (t) => name === undefined || t[TopicAttr.name]?.S?.startsWith(`${name}:`),
    );
    for (const item of tombstones) {
      const dead = fromItem(item);
      const topicName = item[TopicAttr.name]!.S!.split(':')[0]!;
      for (let partition = 0; partition < dead.partitions; partition++) {
        await this.#purgePartition(
          { topic: topicName, incarnation: dead.incarnation, partition },
          dead.partitions,
          onProgress,
        );
      }
      await this.#purgeObjects(topicObjectPrefix(topicName, dead.incarnation));
      await this.#retry(`Removing the tombstone of ${topicName}`, () =>
        this.#ctx.ddb.send(
          new DeleteItemCommand({
            TableName: this.#ctx.tables.topics,
            Key: { [TopicAttr.name]: item[TopicAttr.name]! },
          }),
        ),
      );
    }
    return tombstones.length;
  }

  async #purgePartition(
    ref: PartitionRef,
    partitions: number,
    onProgress?: (p: PurgeProgress) => void,
  ): Promise<void> {
    let deleted = 0;
    // The partition's batches and stubs, its segment manifest, and its producers' sequence state.
    for (const pk of [partitionKey(ref), segmentManifestKey(ref), producerStateKey(ref)]) {
      deleted = await this.#purgeItems(ref, pk, partitions, deleted, onProgress);
    }
  }

  async #purgeItems(
    ref: PartitionRef,
    pk: string,
    partitions: number,
    deletedBefore: number,
    onProgress?: (p: PurgeProgress) => void,
  ): Promise<number> {
    let deleted = deletedBefore;
    let startKey: Item | undefined;
    do {
      const page = await this.#retry(`Purging ${pk}`, () =>
        this.#ctx.ddb.send(
          new QueryCommand({
            TableName: this.#ctx.tables.log,
            KeyConditionExpression: '#pk = :pk',
            ExpressionAttributeNames: { '#pk': LogAttr.partitionKey, '#off': LogAttr.offset },
            ExpressionAttributeValues: { ':pk': { S: pk } },
            ProjectionExpression: '#pk, #off',
            ConsistentRead: true,
            ...(startKey ? { ExclusiveStartKey: startKey } : {}),
          }),
        ),
      );
      startKey = page.LastEvaluatedKey;
      const keys = page.Items ?? [];
      for (let i = 0; i < keys.length; i += 25) {
        await this.#batchDelete(keys.slice(i, i + 25));
      }
      deleted += keys.length;
      onProgress?.({ topic: ref.topic, partition: ref.partition, partitions, itemsDeleted: deleted });
    } while (startKey);
    return deleted;
  }

  /** Deletes every S3 object of a deleted incarnation (archived segments, large batches). */
  async #purgeObjects(prefix: string): Promise<void> {
    let token: string | undefined;
    do {
      const page = await this.#retry(`Listing objects under ${prefix}`, () =>
        this.#ctx.s3.send(
          new ListObjectsV2Command({
            Bucket: this.#ctx.bucket,
            Prefix: prefix,
            ...(token ? { ContinuationToken: token } : {}),
          }),
        ),
      );
      const keys = (page.Contents ?? []).flatMap((o) => (o.Key ? [{ Key: o.Key }] : []));
      if (keys.length > 0) {
        await this.#retry(`Deleting objects under ${prefix}`, () =>
          this.#ctx.s3.send(
            new DeleteObjectsCommand({ Bucket: this.#ctx.bucket, Delete: { Objects: keys, Quiet: true } }),
          ),
        );
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  }

  async #batchDelete(keys: Item[]): Promise<void> {
    let requests = keys.map((Key) => ({ DeleteRequest: { Key } }));
    for (let attempt = 0; requests.length > 0; attempt++) {
      const out = await this.#retry('Purging log items', () =>
        this.#ctx.ddb.send(new BatchWriteItemCommand({ RequestItems: { [this.#ctx.tables.log]: requests } })),
      );
      const unprocessed = out.UnprocessedItems?.[this.#ctx.tables.log] ?? [];
      requests = unprocessed.flatMap((r) =>
        r.DeleteRequest?.Key ? [{ DeleteRequest: { Key: r.DeleteRequest.Key } }] : [],
      );
      if (requests.length > 0) await sleep(Math.min(1_000, 20 * 2 ** attempt));
    }
  }

  async #scan(kind: 'topic' | 'tombstone'): Promise<Item[]> {
    const items: Item[] = [];
    let startKey: Item | undefined;
    do {
      const page = await this.#retry('Listing topics', () =>
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

  async #update(
    current: TopicMetadata,
    expression: string,
    values: Item,
    names: Record<string, string>,
  ): Promise<TopicMetadata> {
    try {
      const out = await this.#retry(`Updating topic ${current.name}`, () =>
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
      return fromItem(out.Attributes ?? {});
    } catch (error) {
      // The topic was deleted (and perhaps recreated) since we read it.
      if (error instanceof ConditionalCheckFailedException) throw new TopicNotFoundError(current.name);
      throw error;
    }
  }
}

function stringMap(record: Readonly<Record<string, string>>): Item {
  return Object.fromEntries(Object.entries(record).map(([k, v]) => [k, { S: v }]));
}

function toItem(topic: TopicMetadata): Item {
  return {
    [TopicAttr.name]: { S: topic.name },
    [TopicAttr.kind]: { S: 'topic' },
    [TopicAttr.incarnation]: { S: topic.incarnation },
    [TopicAttr.partitions]: { N: String(topic.partitions) },
    [TopicAttr.configs]: { M: stringMap(topic.configs) },
    [TopicAttr.createdAt]: { N: String(topic.createdAt) },
  };
}

function fromItem(item: Item): TopicMetadata {
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
