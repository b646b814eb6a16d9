/**
 * The topic registry: create, describe, list, alter, grow and delete topics.
 *
 * A topic item names the topic's current incarnation; log keys include it, so a topic deleted
 * and created again starts from an empty log even if old items are still being purged.
 * Deletion first swaps the topic item for a tombstone in one transaction (the topic disappears
 * at once; on MRSC, without transactions, tombstone first, then the topic item), then purges the old incarnation's items, then removes the tombstone; an interrupted
 * purge is resumed by the next delete or by {@link TopicRegistry.resumePurges}.
 *
 * With the deployment's regions known, topics are created, altered and deleted in the deployment's
 * home region (conditional writes in one region; see `regions/routing.ts`), and read in the
 * client's own region, falling back to the home for a topic not replicated here yet. A deleted
 * topic's records are purged in its home region, where its log is written. With regions, a topic is
 * read together with its leader epochs (the item failovers write, `regions/failover.ts`), from the
 * same region's table.
 */
import { randomBytes } from 'node:crypto';
import { DeleteObjectsCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import type { StorageContext } from '../context.ts';
import {
  InvalidConfigError,
  InvalidPartitionsError,
  TopicAlreadyExistsError,
  TopicNotFoundError,
} from '../errors.ts';
import { type PartitionRef, topicObjectPrefix } from '../keys.ts';
import { type LogItem, LogStore, type PartitionKeySpace } from '../log/log-store.ts';
import { partitionEpochs, type TopicEpochs } from '../regions/leader-epochs.ts';
import { homeContext, registryContext } from '../regions/routing.ts';
import { withRetry } from '../retry.ts';
import { parseTopicConfig, validateTopicConfigs } from './configs.ts';
import { validateTopicName } from './names.ts';
import { partitionRef, type TopicMetadata } from './topic-metadata.ts';
import { TopicStore, type TopicTombstone } from './topic-store.ts';

/** Most partitions a topic may have. */
export const MAX_PARTITIONS = 4096;

export type { TopicMetadata } from './topic-metadata.ts';

/** Progress of a deletion's purge, reported after each page of deleted items. */
export interface PurgeProgress {
  readonly topic: string;
  readonly partition: number;
  readonly partitions: number;
  readonly itemsDeleted: number;
}

/**
 * What a purge deletes of a partition, in this order: each leader epoch's batches and stubs (fences
 * and divergent batches too) and its re-append records, the segment manifest, producers' state.
 */
function purgedKeySpaces(epochs: TopicEpochs | undefined, partition: number): PartitionKeySpace[] {
  const numbers = partitionEpochs(epochs, partition)?.map((e) => e.epoch) ?? [0];
  return [
    ...numbers.flatMap((epoch): PartitionKeySpace[] => [
      { kind: 'batches', epoch },
      { kind: 'reappended', epoch },
    ]),
    { kind: 'segments' },
    { kind: 'producers' },
  ];
}

/** Where {@link TopicRegistry.get} reads. */
export interface TopicReadOptions {
  /**
   * With regions: read this region's topics table (only). A producer that met a failover's fence
   * reads the new home's, where the switch is written first.
   * @default the client's own region, then the deployment's home
   */
  readonly region?: string;
}

/** Throws {@link InvalidPartitionsError} unless `n` is a valid partition count. */
export function validatePartitionCount(n: unknown): asserts n is number {
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > MAX_PARTITIONS) {
    throw new InvalidPartitionsError(`A topic needs 1..${MAX_PARTITIONS} partitions; got ${String(n)}.`);
  }
}

/** The registry of one Tributary deployment (one topics table). */
export class TopicRegistry {
  readonly #ctx: StorageContext;
  /** The topics table where topics are read: this client's region. */
  readonly #topics: TopicStore;
  /** The topics table where topics are written: the deployment's home region (created on first use). */
  #written: TopicStore | undefined;

  constructor(ctx: StorageContext) {
    this.#ctx = ctx;
    this.#topics = new TopicStore(ctx);
  }

  get #home(): TopicStore {
    if (!this.#written) {
      const home = registryContext(this.#ctx);
      this.#written = home === this.#ctx ? this.#topics : new TopicStore(home);
    }
    return this.#written;
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
    const home = stored['home.region'];
    if (home !== undefined) this.#ctx.regions?.checkHomeRegion(home);
    const topic: TopicMetadata = {
      name,
      incarnation: randomBytes(5).toString('hex'),
      partitions,
      configs: stored,
      config: parseTopicConfig(stored),
      createdAt: this.#ctx.now(),
    };
    if (!(await this.#home.create(topic))) throw new TopicAlreadyExistsError(name);
    return topic;
  }

  /**
   * Reads a topic; throws {@link TopicNotFoundError} if it does not exist. With regions, from this
   * client's region, else (not replicated here yet) from the deployment's home, with its leader
   * epochs from the same table; `options.region` names the one region to read instead.
   */
  async get(name: string, options: TopicReadOptions = {}): Promise<TopicMetadata> {
    validateTopicName(name);
    const { regions } = this.#ctx;
    if (options.region !== undefined && regions) {
      const store = new TopicStore(regions.context(options.region));
      const topic = await this.#withEpochs(store, await store.get(name));
      if (!topic) throw new TopicNotFoundError(name);
      return topic;
    }
    const topic =
      (await this.#withEpochs(this.#topics, await this.#topics.get(name))) ??
      (this.#home === this.#topics
        ? undefined
        : await this.#withEpochs(this.#home, await this.#home.get(name)));
    if (!topic) throw new TopicNotFoundError(name);
    return topic;
  }

  /** Reads a topic where it is written (the deployment's home region), before changing it there. */
  async #current(name: string): Promise<TopicMetadata> {
    validateTopicName(name);
    const topic = await this.#withEpochs(this.#home, await this.#home.get(name));
    if (!topic) throw new TopicNotFoundError(name);
    return topic;
  }

  /**
   * The topic with its leader epochs from the same table (one more read, only with regions: a
   * single-region deployment never fails over).
   */
  async #withEpochs(store: TopicStore, topic: TopicMetadata | undefined): Promise<TopicMetadata | undefined> {
    if (!topic || !this.#ctx.regions) return topic;
    const epochs = await store.getEpochs(topic.name, topic.incarnation);
    return epochs ? { ...topic, epochs } : topic;
  }

  /** All live topics, sorted by name. */
  async list(): Promise<TopicMetadata[]> {
    return (await this.#topics.listTopics()).sort((a, b) => a.name.localeCompare(b.name));
  }

  /** Raises the partition count (it can only grow, as in Kafka). */
  async addPartitions(name: string, totalPartitions: number): Promise<TopicMetadata> {
    validatePartitionCount(totalPartitions);
    const current = await this.#current(name);
    if (totalPartitions <= current.partitions) {
      throw new InvalidPartitionsError(
        `Topic "${name}" has ${current.partitions} partitions; the new count must be larger (partitions can only be added).`,
      );
    }
    return updated(current, await this.#home.setPartitions(current, totalPartitions));
  }

  /** Sets (and with `null`, resets to default) configs of a topic. */
  async alterConfigs(
    name: string,
    changes: Readonly<Record<string, string | number | boolean | null>>,
  ): Promise<TopicMetadata> {
    const current = await this.#current(name);
    const kept: Record<string, string> = { ...current.configs };
    const set = new Map<string, string | number | boolean>();
    for (const [key, value] of Object.entries(changes)) {
      if (value === null) delete kept[key];
      else set.set(key, value);
    }
    const stored = validateTopicConfigs(Object.fromEntries(set), kept);
    if (Object.hasOwn(changes, 'home.region')) this.#checkHomeChange(current, stored['home.region']);
    return updated(current, await this.#home.setConfigs(current, stored));
  }

  /**
   * With regions, `home.region` may only be set to the region that already is the topic's home
   * (naming it explicitly): moving the home while the old one may still take appends would let
   * two regions write one partition, which last-writer-wins resolves by silently dropping batches.
   */
  #checkHomeChange(current: TopicMetadata, next: string | undefined): void {
    const regions = this.#ctx.regions;
    if (!regions) return;
    if (next !== undefined) regions.checkHomeRegion(next);
    const before = regions.homeOf(current);
    const after = next ?? regions.home;
    if (after !== before) {
      throw new InvalidConfigError(
        'home.region',
        `topic "${current.name}" is homed in ${before}; moving its home to ${after} needs a failover that ` +
          'first fences appends in the old home, so alterTopicConfigs may only name the current home',
      );
    }
  }

  /**
   * Deletes a topic: it disappears at once; its records are purged before this resolves. Also
   * finishes earlier interrupted purges of the same name.
   */
  async delete(name: string, onProgress?: (p: PurgeProgress) => void): Promise<void> {
    const topic = await this.#current(name);
    if (!(await this.#home.replaceWithTombstone(topic))) throw new TopicNotFoundError(name);
    await this.resumePurges(name, onProgress);
  }

  /** Purges the records of deleted topics (all, or those of one name) and drops their tombstones. */
  async resumePurges(name?: string, onProgress?: (p: PurgeProgress) => void): Promise<number> {
    const tombstones = (await this.#home.listTombstones()).filter(
      (t) => name === undefined || t.topic.name === name,
    );
    return this.finishPurges(tombstones, onProgress);
  }

  /**
   * Purges the deleted topics of `tombstones` (listed by the caller, e.g. the archiver from its one
   * scan of the table) and drops the tombstones. Returns how many it purged.
   *
   * A tombstone whose incarnation the topic item still names is skipped: on MRSC, without a
   * transaction, a delete writes the tombstone before it deletes the topic item, and one stopped
   * between the two leaves the topic live (its next delete finishes). A live incarnation is never
   * purged; once the topic item names another incarnation or none, it never names this one again.
   */
  async finishPurges(
    tombstones: readonly TopicTombstone[],
    onProgress?: (p: PurgeProgress) => void,
  ): Promise<number> {
    let purged = 0;
    for (const tombstone of tombstones) {
      if ((await this.#home.get(tombstone.topic.name))?.incarnation === tombstone.topic.incarnation) continue;
      purged++;
      // Failovers' epochs outlive the topic item (their key names the incarnation): they say which
      // key spaces hold its batches.
      const epochs = this.#ctx.regions
        ? await this.#home.getEpochs(tombstone.topic.name, tombstone.topic.incarnation)
        : undefined;
      const dead: TopicMetadata = epochs ? { ...tombstone.topic, epochs } : tombstone.topic;
      const log = new LogStore(this.#purgeContext(dead));
      for (let partition = 0; partition < dead.partitions; partition++) {
        await this.#purgePartition(log, partitionRef(dead, partition), dead, dead.partitions, onProgress);
      }
      await this.#purgeObjects(topicObjectPrefix(dead.name, dead.incarnation));
      await this.#home.deleteArchiveSchedules(
        Array.from({ length: dead.partitions }, (_, partition) => ({
          topic: dead.name,
          incarnation: dead.incarnation,
          partition,
        })),
      );
      if (epochs) await this.#home.deleteEpochs(dead.name, dead.incarnation);
      await this.#home.deleteTombstone(tombstone);
    }
    return purged;
  }

  /**
   * Where a deleted topic's records are purged: its home region, where its log is written (the
   * deletes replicate). A home no longer among the deployment's regions leaves this client's.
   */
  #purgeContext(dead: TopicMetadata): StorageContext {
    const { regions } = this.#ctx;
    if (!regions) return this.#ctx;
    return dead.config.homeRegion === undefined || regions.names.includes(dead.config.homeRegion)
      ? homeContext(this.#ctx, dead)
      : this.#ctx;
  }

  async #purgePartition(
    log: LogStore,
    ref: PartitionRef,
    dead: TopicMetadata,
    partitions: number,
    onProgress?: (p: PurgeProgress) => void,
  ): Promise<void> {
    let deleted = 0;
    for (const space of purgedKeySpaces(dead.epochs, ref.partition)) {
      deleted = await this.#purgeItems(log, ref, space, partitions, deleted, onProgress);
    }
  }

  async #purgeItems(
    log: LogStore,
    ref: PartitionRef,
    space: PartitionKeySpace,
    partitions: number,
    deletedBefore: number,
    onProgress?: (p: PurgeProgress) => void,
  ): Promise<number> {
    let deleted = deletedBefore;
    let startKey: LogItem | undefined;
    do {
      const page = await log.itemKeys(ref, space, startKey);
      startKey = page.lastKey;
      await log.deleteItems(ref, page.items);
      deleted += page.items.length;
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
}

/** The topic after an update, or {@link TopicNotFoundError} when it was deleted (and perhaps recreated) since it was read. */
function updated(current: TopicMetadata, after: TopicMetadata | undefined): TopicMetadata {
  if (!after) throw new TopicNotFoundError(current.name);
  return after;
}
