/**
 * `new Tributary(options)`: the SDK's entry point. It owns the AWS clients and hands out admin,
 * producer and consumer objects that share them.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { Admin } from './admin.ts';
import { Archiver, type ArchiverOptions } from './archive/archiver.ts';
import { Consumer, type ConsumerOptions } from './consumer.ts';
import type { StorageContext } from './context.ts';
import { DirectGroupBackend } from './groups/group-backend.ts';
import { GroupConsumer, type GroupConsumerOptions } from './groups/group-consumer.ts';
import { Producer, type ProducerOptions } from './producer.ts';
import { DEFAULT_RETRY_POLICY, type RetryPolicy } from './retry.ts';
import { DEFAULT_BUCKET_NAME, DEFAULT_TABLE_PREFIX, type TableNames, tableNames } from './schema.ts';
import { type Deserializer, type RawValue, rawDeserializer, rawSerializer } from './serde.ts';
import { TopicRegistry } from './topics/registry.ts';
import { TopicCache } from './topics/topic-cache.ts';
import { directSources } from './transport/direct-source.ts';

/** AWS credentials, as the AWS SDK accepts them. */
export type Credentials = NonNullable<ConstructorParameters<typeof DynamoDBClient>[0]>['credentials'];

/** How to reach a Tributary deployment. */
export interface TributaryOptions {
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
  /** Backoff and deadline for retrying throttling and transient errors. */
  readonly retry?: Partial<RetryPolicy>;
  /** How long topic metadata is cached before it is read again. @default 30000 */
  readonly metadataMaxAgeMs?: number;
}

function isLoopback(endpoint: string): boolean {
  try {
    const host = new URL(endpoint).hostname;
    return host === 'localhost' || host === '[::1]' || host.startsWith('127.');
  } catch {
    return false;
  }
}

/** What the API's handlers (same repository, not the public SDK) reach below the public surface. */
export interface TributaryInternals {
  readonly ctx: StorageContext;
  readonly topics: TopicCache;
}

const internals = new WeakMap<Tributary, TributaryInternals>();

/** @internal The storage a direct-transport client uses (for the Lambda handlers). */
export function internalsOf(tributary: Tributary): TributaryInternals {
  const found = internals.get(tributary);
  if (!found) throw new Error('Not a direct-transport Tributary client');
  return found;
}

/** A client of one Tributary deployment. Create one per process and share it. */
export class Tributary {
  /** Where this client points (for messages and diagnostics). */
  readonly endpoint: string | undefined;
  readonly region: string;
  readonly #ctx: StorageContext;
  readonly #registry: TopicRegistry;
  readonly #topics: TopicCache;
  readonly #ownsClients: boolean;

  constructor(options: TributaryOptions = {}) {
    const endpoint = options.endpoint ?? process.env.AWS_ENDPOINT_URL;
    const region = options.region ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? 'us-east-1';
    const local = endpoint !== undefined && isLoopback(endpoint);
    const hasEnvCredentials = Boolean(process.env.AWS_ACCESS_KEY_ID || process.env.AWS_PROFILE);
    const credentials =
      options.credentials ??
      (local && !hasEnvCredentials ? { accessKeyId: 'test', secretAccessKey: 'test' } : undefined);
    const common = {
      region,
      // Tributary retries itself (one policy, and appends must retry at the same slot).
      maxAttempts: 1,
      ...(endpoint ? { endpoint } : {}),
      ...(credentials ? { credentials } : {}),
    };
    this.endpoint = endpoint;
    this.region = region;
    this.#ownsClients = !options.dynamoDBClient && !options.s3Client;
    this.#ctx = {
      ddb: options.dynamoDBClient ?? new DynamoDBClient(common),
      s3: options.s3Client ?? new S3Client({ ...common, forcePathStyle: endpoint !== undefined }),
      tables: options.tables ?? tableNames(options.tablePrefix ?? DEFAULT_TABLE_PREFIX),
      bucket: options.bucket ?? DEFAULT_BUCKET_NAME,
      retry: { ...DEFAULT_RETRY_POLICY, ...options.retry },
      now: Date.now,
    };
    this.#registry = new TopicRegistry(this.#ctx);
    this.#topics = new TopicCache(this.#registry, options.metadataMaxAgeMs ?? 30_000, this.#ctx.now);
    internals.set(this, { ctx: this.#ctx, topics: this.#topics });
  }

  /** Topic administration. */
  admin(): Admin {
    return new Admin(this.#ctx, this.#registry);
  }

  /**
   * The archiver: moves old batches to S3 segments and applies retention when you call
   * `run()`. Deployments run it on a schedule; run it yourself to archive on demand.
   */
  archiver(options?: ArchiverOptions): Archiver {
    return new Archiver(this.#ctx, this.#registry, options);
  }

  /** A producer; values are strings or bytes unless a `serializer` is given. */
  producer(options?: ProducerOptions<RawValue>): Producer<RawValue>;
  producer<V>(
    options: ProducerOptions<V> & { serializer: NonNullable<ProducerOptions<V>['serializer']> },
  ): Producer<V>;
  producer<V>(options: ProducerOptions<V> = {}): Producer<V> {
    const serializer = options.serializer ?? (rawSerializer as NonNullable<ProducerOptions<V>['serializer']>);
    return new Producer<V>(this.#ctx, this.#topics, { ...options, serializer });
  }

  /**
   * A consumer. With a `groupId`, a member of that consumer group (`subscribe` + `run`);
   * without, a consumer of partitions you `assign`. Values are Buffers unless a `deserializer`
   * is given.
   */
  consumer(
    options: GroupConsumerOptions<Buffer | null> & { deserializer?: undefined },
  ): GroupConsumer<Buffer | null>;
  consumer<V>(options: GroupConsumerOptions<V> & { deserializer: Deserializer<V> }): GroupConsumer<V>;
  consumer(options?: ConsumerOptions<Buffer | null> & { groupId?: undefined }): Consumer<Buffer | null>;
  consumer<V>(
    options: ConsumerOptions<V> & { deserializer: Deserializer<V>; groupId?: undefined },
  ): Consumer<V>;
  consumer<V>(
    options: (ConsumerOptions<V> & { groupId?: undefined }) | GroupConsumerOptions<V> = {},
  ): Consumer<V> | GroupConsumer<V> {
    const deserializer = options.deserializer ?? (rawDeserializer as Deserializer<V>);
    if (options.groupId !== undefined) {
      return new GroupConsumer<V>((group) => new DirectGroupBackend(this.#ctx, this.#topics, group), {
        ...options,
        deserializer,
      });
    }
    return new Consumer<V>(directSources(this.#ctx, this.#topics), { ...options, deserializer });
  }

  /** Releases the AWS clients this object created (not ones passed in). */
  close(): void {
    if (!this.#ownsClients) return;
    this.#ctx.ddb.destroy();
    this.#ctx.s3.destroy();
  }
}
