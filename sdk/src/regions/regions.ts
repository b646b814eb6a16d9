/**
 * The deployment's regions as one client sees them, and the one place that decides where each
 * topic's appends, reads and each group's coordination go (the {@link RegionRouting} every store
 * follows through its {@link StorageContext}):
 * - appends go to the topic's home region (its `home.region`, else the deployment's home), whatever
 *   the client's region — MREC global tables resolve two regions writing one slot by last writer
 *   wins, so a second writing region would make an acknowledged batch vanish;
 * - reads go to the client's own region (`readFrom: 'local'`) or the home (`'home'`);
 * - consumer groups coordinate in one region (`groupRegion`), so their leases and fenced commits
 *   never depend on last-writer-wins either.
 *
 * With `consistency: 'strong'` (MRSC global tables) none of that routing is needed: a conditional
 * write is checked against every region, so appends, reads and groups use the client's own region
 * (`home.region` routes nothing; `groupRegion` still applies when given).
 *
 * Each region has its own storage context: its own DynamoDB client at its endpoint, sharing the
 * client's S3 client, table names, retry policy and clock. They are created on first use.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { ReadPlacement, RegionRouting, StorageContext } from '../context.ts';
import { InvalidConfigError, NotHomeRegionError, UnknownRegionError } from '../errors.ts';
import type { TopicMetadata } from '../topics/topic-metadata.ts';
import type { DeploymentRegions } from './deployment.ts';
import { epochsHome } from './leader-epochs.ts';

/** A region's DynamoDB client, and whether closing the client should destroy it. */
export interface RegionClient {
  readonly ddb: DynamoDBClient;
  readonly owned: boolean;
}

/** What every region's storage context shares: everything but the DynamoDB client. */
export type SharedStorage = Omit<StorageContext, 'ddb' | 'region' | 'regions'>;

export class Regions implements RegionRouting {
  readonly deployment: DeploymentRegions;
  readonly names: readonly string[];
  readonly home: string;
  readonly own: string;
  readonly consistency: 'eventual' | 'strong';
  readonly #shared: SharedStorage;
  readonly #client: (region: string) => RegionClient;
  readonly #contexts = new Map<string, { ctx: StorageContext; owned: boolean }>();

  /** `client` creates (or hands over) a region's DynamoDB client, once per region. */
  constructor(
    deployment: DeploymentRegions,
    shared: SharedStorage,
    client: (region: string) => RegionClient,
  ) {
    this.deployment = deployment;
    this.names = deployment.names;
    this.home = deployment.home;
    this.own = deployment.own;
    this.consistency = deployment.consistency;
    this.#shared = shared;
    this.#client = client;
  }

  context(region: string): StorageContext {
    const known = this.#contexts.get(region);
    if (known) return known.ctx;
    if (!this.names.includes(region)) throw new UnknownRegionError(region, this.names, 'Region');
    const { ddb, owned } = this.#client(region);
    const ctx: StorageContext = { ...this.#shared, ddb, region, regions: this };
    this.#contexts.set(region, { ctx, owned });
    return ctx;
  }

  homeOf(topic: TopicMetadata): string {
    // A failover records the home with the epoch it starts, in an item only failovers write: it
    // wins over `home.region`, which a concurrent alter written elsewhere could overwrite (LWW).
    const failedOver = epochsHome(topic.epochs);
    if (failedOver !== undefined && this.names.includes(failedOver)) return failedOver;
    const configured = topic.config.homeRegion;
    if (configured === undefined) return this.home;
    // A topic created by a client that did not know the regions (or before the list changed).
    if (!this.names.includes(configured)) {
      throw new UnknownRegionError(configured, this.names, `The home.region of topic "${topic.name}"`);
    }
    return configured;
  }

  forAppends(topic: TopicMetadata): StorageContext {
    // MRSC: the offset chain's conditional puts see every region's writes, so appends from here are
    // as safe as the home's and need no round trip to it.
    if (this.consistency === 'strong') return this.context(this.own);
    const home = this.homeOf(topic);
    if (home !== this.own && this.deployment.appends === 'refuse') {
      throw new NotHomeRegionError(topic.name, home, this.own);
    }
    return this.context(home);
  }

  forReads(topic: TopicMetadata): ReadPlacement {
    // MRSC: this region's copy is the latest (strongly consistent reads), never a lagging replica.
    if (this.consistency === 'strong') return { ctx: this.context(this.own) };
    const home = this.homeOf(topic);
    if (this.deployment.readFrom === 'home' || home === this.own) return { ctx: this.context(home) };
    return {
      ctx: this.context(this.own),
      replica: { homeRegion: home, home: () => this.context(home), gaps: this.deployment.replicaGaps },
    };
  }

  forGroups(): StorageContext {
    return this.context(this.deployment.groupRegion);
  }

  checkHomeRegion(region: string): void {
    if (!this.names.includes(region)) {
      throw new InvalidConfigError(
        'home.region',
        `"${region}" is not one of the deployment's regions (${this.names.join(', ')})`,
      );
    }
  }

  /** Destroys the DynamoDB clients created for regions (not ones passed in). */
  close(): void {
    for (const { ctx, owned } of this.#contexts.values()) if (owned) ctx.ddb.destroy();
  }
}
