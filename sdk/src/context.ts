/** What the storage modules need to talk to AWS: clients, physical names, retry policy, clock. */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { S3Client } from '@aws-sdk/client-s3';
import type { RetryPolicy } from './retry.ts';
import type { TableNames } from './schema.ts';
import type { TopicMetadata } from './topics/topic-metadata.ts';

/** Shared by every storage module of one {@link Tributary} client. */
export interface StorageContext {
  readonly ddb: DynamoDBClient;
  readonly s3: S3Client;
  readonly tables: TableNames;
  readonly bucket: string;
  readonly retry: RetryPolicy;
  /** Wall clock in epoch ms; injectable so tests can move time. */
  readonly now: () => number;
  /**
   * The region whose tables `ddb` reaches. Set only when the client knows the deployment's regions;
   * batches written through this context are then stamped with it (and the leader epoch and time).
   */
  readonly region?: string;
  /**
   * The deployment's regions, when the client knows them: where a topic's appends, reads and a
   * group's coordination go (`regions/regions.ts`). Absent: one region, this context's.
   */
  readonly regions?: RegionRouting;
}

/** Where a read of a topic goes. */
export interface ReadPlacement {
  /** The storage the reads use. */
  readonly ctx: StorageContext;
  /** Set when `ctx` holds a replica of the topic's log, not its home copy. */
  readonly replica?: ReplicaReading;
}

/** How a reader of a replica treats offsets the replica does not hold yet. */
export interface ReplicaReading {
  /** The topic's home region. */
  readonly homeRegion: string;
  /** The home region's storage (created on first use). */
  readonly home: () => StorageContext;
  /** `wait`: a gap ends the fetch, the next one looks again; `read-home`: the gap is read from home. */
  readonly gaps: 'wait' | 'read-home';
}

/**
 * The one place that decides which region's tables a topic's appends, reads and a consumer group's
 * coordination use. Implemented by `Regions` (`regions/regions.ts`); declared here, in the leaf the
 * stores already import, so that they can follow it without an import cycle.
 */
export interface RegionRouting {
  /** The deployment's regions, home region first. */
  readonly names: readonly string[];
  /** The deployment's home region (the first of {@link names}). */
  readonly home: string;
  /** The client's own region. */
  readonly own: string;
  /**
   * How the global tables replicate. `strong` (MRSC): every region's conditional writes see every
   * region, so appends, reads and groups all use the client's own region, and nothing may use a
   * transaction or TTL; `eventual` (MREC): per topic home, as below.
   */
  readonly consistency: 'eventual' | 'strong';
  /** The storage of one of the deployment's regions (created on first use). */
  context(region: string): StorageContext;
  /**
   * The topic's home region: the region of its current leader epoch once a failover moved it, else
   * its `home.region`, else the deployment's home.
   */
  homeOf(topic: TopicMetadata): string;
  /**
   * Where the topic's appends go: its home region's storage, or `NotHomeRegionError` when that is
   * not the client's region and the client refuses to forward (`appends: 'refuse'`).
   */
  forAppends(topic: TopicMetadata): StorageContext;
  /** Where the topic's reads go (`readFrom`), and how a replica's gaps are treated (`replicaGaps`). */
  forReads(topic: TopicMetadata): ReadPlacement;
  /** Where consumer groups coordinate (`groupRegion`). */
  forGroups(): StorageContext;
  /**
   * Checks a `home.region` a topic is being created or altered with (`InvalidConfigError` unless it
   * names one of the deployment's regions).
   */
  checkHomeRegion(region: string): void;
}
