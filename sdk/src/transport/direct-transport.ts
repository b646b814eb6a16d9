/**
 * The direct transport: DynamoDB and S3 with the caller's IAM credentials. It owns the storage one
 * client runs on — the AWS clients, table and bucket names, retry policy and clock (the
 * {@link StorageContext}), the topic registry and a topic metadata cache — and builds the admin,
 * producers, partition sources, group backends and the archiver on it.
 *
 * Our own processes that work below the public client (the API's handler) construct one from the
 * same options through the SDK's internal entry and use its storage directly.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { LambdaClient, type LambdaClientConfig } from '@aws-sdk/client-lambda';
import { S3Client } from '@aws-sdk/client-s3';
import { type Admin, DirectAdmin } from '../admin.ts';
import { Archiver, type ArchiverOptions } from '../archive/archiver.ts';
import { type Credentials, defaultCredentials, resolveRegion } from '../connection.ts';
import type { StorageContext } from '../context.ts';
import { DirectGroupBackend, type GroupBackend } from '../groups/group-backend.ts';
import { DirectProducer, type Producer } from '../producer.ts';
import type { ProducerOptions } from '../producer-input.ts';
import {
  type AppendRouting,
  CONSISTENCY_ENVIRONMENT_VARIABLE,
  type DeploymentRegions,
  REGIONS_ENVIRONMENT_VARIABLE,
  type ReadFrom,
  type RegionEndpoint,
  type ReplicaGapPolicy,
  type ReplicationConsistency,
  resolveDeployment,
  WITNESS_REGION_ENVIRONMENT_VARIABLE,
} from '../regions/deployment.ts';
import { type RegionClient, Regions } from '../regions/regions.ts';
import { DEFAULT_RETRY_POLICY, type RetryPolicy } from '../retry.ts';
import { DEFAULT_BUCKET_NAME, DEFAULT_TABLE_PREFIX, type TableNames, tableNames } from '../schema.ts';
import type { Serializer } from '../serde.ts';
import { TopicRegistry } from '../topics/registry.ts';
import { TopicCache } from '../topics/topic-cache.ts';
import { lookUpFunction } from '../triggers/function-lookup.ts';
import { TriggerRegistry } from '../triggers/trigger-registry.ts';
import { directSources } from './direct-source.ts';
import type { PartitionSourceFactory } from './partition-source.ts';
import type { Transport } from './transport.ts';

/** How to reach a Tributary deployment directly: its DynamoDB tables and S3 bucket. */
export interface TributaryOptions {
  /** `direct` (the default): DynamoDB and S3 with the caller's IAM credentials; the lowest latency. */
  readonly transport?: 'direct';
  /**
   * One endpoint for DynamoDB and S3: the local stack's edge (`http://127.0.0.1:4566`), LocalStack,
   * or omitted for real AWS.
   * @default the `AWS_ENDPOINT_URL` environment variable, else AWS's regional endpoints
   */
  readonly endpoint?: string;
  /** @default `AWS_REGION`, else `us-east-1` */
  readonly region?: string;
  /** Prefix of the table names (the local stack's are `tributary-log`, `tributary-topics`). @default 'tributary-' */
  readonly tablePrefix?: string;
  /** Exact table names (e.g. from a deployed stack's outputs); overrides `tablePrefix`. */
  readonly tables?: TableNames;
  /** Archive bucket. @default 'tributary-archive' */
  readonly bucket?: string;
  /**
   * Credentials for AWS. @default the standard AWS credential chain; against a loopback endpoint
   * with no credentials configured, LocalStack-style dummy credentials
   */
  readonly credentials?: Credentials;
  /** Use this DynamoDB client instead of creating one (custom config, middleware, tracing). */
  readonly dynamoDBClient?: DynamoDBClient;
  /** Use this S3 client instead of creating one. */
  readonly s3Client?: S3Client;
  /**
   * Use this Lambda client (trigger administration checks that functions exist; the dispatcher
   * invokes them) instead of creating one on first use at `endpoint`.
   */
  readonly lambdaClient?: LambdaClient;
  /** Backoff and deadline for retrying throttling and transient errors. */
  readonly retry?: Partial<RetryPolicy>;
  /** How long topic metadata is cached before it is read again. @default 30000 */
  readonly metadataMaxAgeMs?: number;
  /**
   * The deployment's regions (its tables are DynamoDB global tables replicated to each), home region
   * first; `region` must be one of them. Appends of a topic then go to its home region, reads to
   * this client's own (see README, "Regions"). Each region's DynamoDB is reached at its `endpoint`
   * (or with its `dynamoDBClient`); S3 stays this client's own.
   * @default the `TRIBUTARY_REGIONS` environment variable (comma-separated names, home first), else
   * none: one region, this client's
   */
  readonly regions?: readonly RegionEndpoint[];
  /**
   * With `regions`: what an append to a topic homed in another region does. `forward` writes it to
   * the home region's tables; `refuse` throws `NotHomeRegionError` and writes nothing.
   * @default 'forward'
   */
  readonly appends?: AppendRouting;
  /**
   * With `regions`: which copy consumers and admin lookups read. `local` reads this client's own
   * region (a replica when the topic's home is elsewhere); `home` reads the topic's home region.
   * @default 'local'
   */
  readonly readFrom?: ReadFrom;
  /**
   * With `regions`, reading a replica: offsets it does not hold yet are waited for (`wait`: a fetch
   * returns what is contiguous and the next fetch looks again) or read from the home region
   * (`read-home`). Never skipped, never reported as corruption.
   * @default 'wait'
   */
  readonly replicaGaps?: ReplicaGapPolicy;
  /**
   * With `regions`: the region whose groups table consumer groups coordinate in (leases, members,
   * committed offsets). Members may run in any region.
   * @default the deployment's home region (the first of `regions`); with `consistency: 'strong'`,
   * this client's region
   */
  readonly groupRegion?: string;
  /**
   * With `regions`: how the global tables replicate. `eventual` (MREC) as above. `strong` (MRSC
   * global tables: three regions of one region set, the replicas in `regions` and a witness, if
   * any, in `witnessRegion`; else `InvalidArgumentError`): a
   * conditional write is checked against every region, so appends go to this client's own region
   * (`home.region` routes nothing), reads and groups too; transactions (`sendAtomically`, a
   * group's `transaction`) are refused with `UnsupportedOperationError`, and multi-partition
   * commits, offset resets and topic deletion work without them (README, "Regions").
   * @default the `TRIBUTARY_CONSISTENCY` environment variable, else 'eventual'
   */
  readonly consistency?: ReplicationConsistency;
  /**
   * With `consistency: 'strong'` and two replica regions in `regions`: the deployment's witness
   * region (it votes in the MRSC quorum and holds no replica, so no client reads or writes there).
   * @default the `TRIBUTARY_WITNESS_REGION` environment variable, else none (three replicas)
   */
  readonly witnessRegion?: string;
}

/** The direct transport of one client, and the storage it runs on. */
export class DirectTransport implements Transport {
  readonly endpoint: string | undefined;
  readonly region: string;
  /** The AWS clients, physical names, retry policy and clock every storage module shares (this region's). */
  readonly ctx: StorageContext;
  /** The deployment's regions, when the client knows them (`regions` or `TRIBUTARY_REGIONS`). */
  readonly regions: Regions | undefined;
  /** The topic registry table. */
  readonly registry: TopicRegistry;
  /** Topic metadata, cached for `metadataMaxAgeMs`. */
  readonly topics: TopicCache;
  /** Whether {@link close} destroys the AWS clients (only when this transport created both). */
  readonly #ownsClients: boolean;
  readonly #ownsS3: boolean;
  readonly #lambdaConfig: LambdaClientConfig;
  readonly #ownsLambda: boolean;
  #lambda: LambdaClient | undefined;

  constructor(options: TributaryOptions = {}) {
    const region = resolveRegion(options.region);
    const deployment = resolveDeployment({
      region,
      regions: options.regions,
      environment: process.env[REGIONS_ENVIRONMENT_VARIABLE],
      appends: options.appends,
      readFrom: options.readFrom,
      replicaGaps: options.replicaGaps,
      groupRegion: options.groupRegion,
      consistency: options.consistency,
      consistencyEnvironment: process.env[CONSISTENCY_ENVIRONMENT_VARIABLE],
      witnessRegion: options.witnessRegion,
      witnessEnvironment: process.env[WITNESS_REGION_ENVIRONMENT_VARIABLE],
    });
    const endpoint =
      options.endpoint ?? process.env.AWS_ENDPOINT_URL ?? deployment?.endpoints.get(region)?.endpoint;
    const credentials = defaultCredentials(endpoint, options.credentials);
    const common = {
      region,
      // Tributary retries itself (one policy, and appends must retry at the same slot).
      maxAttempts: 1,
      ...(endpoint ? { endpoint } : {}),
      ...(credentials ? { credentials } : {}),
    };
    this.endpoint = endpoint;
    this.region = region;
    const shared = {
      s3: options.s3Client ?? new S3Client({ ...common, forcePathStyle: endpoint !== undefined }),
      tables: options.tables ?? tableNames(options.tablePrefix ?? DEFAULT_TABLE_PREFIX),
      bucket: options.bucket ?? DEFAULT_BUCKET_NAME,
      retry: { ...DEFAULT_RETRY_POLICY, ...options.retry },
      now: Date.now,
    };
    if (deployment) {
      this.regions = new Regions(deployment, shared, (name) => regionClient(deployment, name, options));
      this.ctx = this.regions.context(region);
    } else {
      this.regions = undefined;
      this.ctx = { ...shared, ddb: options.dynamoDBClient ?? new DynamoDBClient(common) };
    }
    this.registry = new TopicRegistry(this.ctx);
    this.topics = new TopicCache(this.registry, options.metadataMaxAgeMs ?? 30_000, this.ctx.now);
    this.#ownsClients = !options.dynamoDBClient && !options.s3Client;
    this.#ownsS3 = !options.s3Client;
    this.#lambda = options.lambdaClient;
    this.#ownsLambda = options.lambdaClient === undefined;
    // Lambda retries its own throttles: the dispatcher decides about them (they never count as errors).
    this.#lambdaConfig = { ...common, maxAttempts: 1 };
  }

  /** The Lambda client (created on first use, with this transport's endpoint, region and credentials). */
  get lambda(): LambdaClient {
    this.#lambda ??= new LambdaClient(this.#lambdaConfig);
    return this.#lambda;
  }

  /** Trigger administration over this transport's tables. */
  triggers(): TriggerRegistry {
    return new TriggerRegistry(this.ctx, this.registry, (name) => lookUpFunction(this.lambda, name));
  }

  admin(): Admin {
    return new DirectAdmin(this.ctx, this.registry, this.triggers(), this.topics);
  }

  producer<V>(options: ProducerOptions<V> & { readonly serializer: Serializer<V> }): Producer<V> {
    return new DirectProducer<V>(this.ctx, this.topics, options);
  }

  sources(): PartitionSourceFactory {
    return directSources(this.ctx, this.topics);
  }

  groupBackend(groupId: string): GroupBackend {
    return new DirectGroupBackend(this.ctx, this.topics, groupId);
  }

  /** The archiver over this transport's storage. */
  archiver(options?: ArchiverOptions): Archiver {
    return new Archiver(this.ctx, this.registry, options);
  }

  /** Destroys the AWS clients this transport created (not ones passed in). */
  close(): void {
    if (this.#ownsLambda) this.#lambda?.destroy();
    if (this.regions) {
      this.regions.close();
      if (this.#ownsS3) this.ctx.s3.destroy();
      return;
    }
    if (!this.#ownsClients) return;
    this.ctx.ddb.destroy();
    this.ctx.s3.destroy();
  }
}

/**
 * A region's DynamoDB client: the one its entry (or, for the client's own region, the options)
 * hands over, else a new one at its endpoint — the entry's, else the client's (signing for that
 * region, as LocalStack serves all regions on one endpoint), else AWS's regional endpoint.
 */
function regionClient(
  deployment: DeploymentRegions,
  region: string,
  options: TributaryOptions,
): RegionClient {
  const entry = deployment.endpoints.get(region);
  const given = entry?.dynamoDBClient ?? (region === deployment.own ? options.dynamoDBClient : undefined);
  if (given) return { ddb: given, owned: false };
  const endpoint = entry?.endpoint ?? options.endpoint ?? process.env.AWS_ENDPOINT_URL;
  const credentials = defaultCredentials(endpoint, options.credentials);
  return {
    ddb: new DynamoDBClient({
      region,
      maxAttempts: 1,
      ...(endpoint ? { endpoint } : {}),
      ...(credentials ? { credentials } : {}),
    }),
    owned: true,
  };
}
