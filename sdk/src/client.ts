/**
 * `new Tributary(options)`: the SDK's entry point. It owns the AWS clients and hands out admin,
 * producer and consumer objects that share them.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { type Admin, DirectAdmin } from './admin.ts';
import { Archiver, type ArchiverOptions } from './archive/archiver.ts';
import { Consumer, type ConsumerOptions } from './consumer.ts';
import type { StorageContext } from './context.ts';
import { InvalidArgumentError, UnsupportedOperationError } from './errors.ts';
import { DirectGroupBackend } from './groups/group-backend.ts';
import { GroupConsumer, type GroupConsumerOptions } from './groups/group-consumer.ts';
import { isLoopbackEndpoint } from './loopback.ts';
import { DirectProducer, type Producer, type ProducerOptions } from './producer.ts';
import { DEFAULT_RETRY_POLICY, type RetryPolicy } from './retry.ts';
import { DEFAULT_BUCKET_NAME, DEFAULT_TABLE_PREFIX, type TableNames, tableNames } from './schema.ts';
import { type Deserializer, type RawValue, rawDeserializer, rawSerializer } from './serde.ts';
import { TopicRegistry } from './topics/registry.ts';
import { TopicCache } from './topics/topic-cache.ts';
import { directSources } from './transport/direct-source.ts';
import { HttpAdmin } from './transport/http-admin.ts';
import { HttpClient } from './transport/http-client.ts';
import { HttpGroupBackend } from './transport/http-group.ts';
import { HttpProducer } from './transport/http-producer.ts';
import { httpSources } from './transport/http-source.ts';
import { HttpTopicSource } from './transport/http-topic-source.ts';

/** AWS credentials, as the AWS SDK accepts them. */
export type Credentials = NonNullable<ConstructorParameters<typeof DynamoDBClient>[0]>['credentials'];

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
  /** Backoff and deadline for retrying throttling and transient errors. */
  readonly retry?: Partial<RetryPolicy>;
  /** How long topic metadata is cached before it is read again. @default 30000 */
  readonly metadataMaxAgeMs?: number;
}

/**
 * How to reach a Tributary deployment through its HTTP API (for apps without table access):
 * requests are signed with SigV4 for `execute-api`. The same producer, consumer and admin
 * interface as the direct transport; `archiver()` and exactly-once `transaction()` /
 * `sendAtomically()` need the direct transport.
 */
export interface HttpTributaryOptions {
  readonly transport: 'http';
  /** The API's URL (the stack's `ApiUrl` output, or the local stack's `http://127.0.0.1:4567`). */
  readonly endpoint: string;
  /** Region of the API (part of the signature). @default `AWS_REGION`, else `us-east-1` */
  readonly region?: string;
  /**
   * Credentials to sign with. @default the standard AWS credential chain; against a loopback
   * endpoint with none configured, dummy ones (the local API checks signatures are present only)
   */
  readonly credentials?: Credentials;
  /** Backoff and deadline for retrying throttling and transient errors. */
  readonly retry?: Partial<RetryPolicy>;
  /** How long topic metadata is cached before it is read again. @default 30000 */
  readonly metadataMaxAgeMs?: number;
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
  /** How this client reaches the deployment. */
  readonly transport: 'direct' | 'http';
  readonly #direct: DirectTransport | undefined;
  readonly #http: HttpTransport | undefined;

  constructor(options: TributaryOptions | HttpTributaryOptions = {}) {
    const region = options.region ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? 'us-east-1';
    this.region = region;
    const retry = { ...DEFAULT_RETRY_POLICY, ...options.retry };
    if (options.transport === 'http') {
      if (typeof options.endpoint !== 'string' || !/^https?:\/\//.test(options.endpoint)) {
        throw new InvalidArgumentError(
          `The http transport needs the API's URL as endpoint (http:// or https://); got ${JSON.stringify(options.endpoint)}`,
        );
      }
      this.transport = 'http';
      this.endpoint = options.endpoint;
      const client = new HttpClient({
        endpoint: options.endpoint,
        region,
        retry,
        ...(options.credentials ? { credentials: options.credentials } : {}),
      });
      this.#http = {
        client,
        topics: new TopicCache(new HttpTopicSource(client), options.metadataMaxAgeMs ?? 30_000, Date.now),
      };
      return;
    }
    const endpoint = options.endpoint ?? process.env.AWS_ENDPOINT_URL;
    const local = endpoint !== undefined && isLoopbackEndpoint(endpoint);
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
    this.transport = 'direct';
    this.endpoint = endpoint;
    const ctx: StorageContext = {
      ddb: options.dynamoDBClient ?? new DynamoDBClient(common),
      s3: options.s3Client ?? new S3Client({ ...common, forcePathStyle: endpoint !== undefined }),
      tables: options.tables ?? tableNames(options.tablePrefix ?? DEFAULT_TABLE_PREFIX),
      bucket: options.bucket ?? DEFAULT_BUCKET_NAME,
      retry,
      now: Date.now,
    };
    const registry = new TopicRegistry(ctx);
    this.#direct = {
      ctx,
      registry,
      topics: new TopicCache(registry, options.metadataMaxAgeMs ?? 30_000, ctx.now),
      ownsClients: !options.dynamoDBClient && !options.s3Client,
    };
    internals.set(this, { ctx, topics: this.#direct.topics });
  }

  /** Topic and consumer group administration. */
  admin(): Admin {
    if (this.#http) return new HttpAdmin(this.#http.client);
    const direct = this.#direct!;
    return new DirectAdmin(direct.ctx, direct.registry);
  }

  /**
   * The archiver: moves old batches to S3 segments and applies retention when you call
   * `run()`. Deployments run it on a schedule; run it yourself to archive on demand.
   * Direct transport only (deployments run it as a scheduled function).
   */
  archiver(options?: ArchiverOptions): Archiver {
    if (!this.#direct) {
      throw new UnsupportedOperationError(
        'The archiver works on the tables and bucket directly; deployed stacks run it on a schedule. ' +
          "Use transport: 'direct' to run it yourself.",
      );
    }
    return new Archiver(this.#direct.ctx, this.#direct.registry, options);
  }

  /** A producer; values are strings or bytes unless a `serializer` is given. */
  producer(options?: ProducerOptions<RawValue>): Producer<RawValue>;
  producer<V>(
    options: ProducerOptions<V> & { serializer: NonNullable<ProducerOptions<V>['serializer']> },
  ): Producer<V>;
  producer<V>(options: ProducerOptions<V> = {}): Producer<V> {
    const serializer = options.serializer ?? (rawSerializer as NonNullable<ProducerOptions<V>['serializer']>);
    if (this.#http)
      return new HttpProducer<V>(this.#http.client, this.#http.topics, { ...options, serializer });
    const direct = this.#direct!;
    return new DirectProducer<V>(direct.ctx, direct.topics, { ...options, serializer });
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
    const http = this.#http;
    const direct = this.#direct;
    if (options.groupId !== undefined) {
      const backend = http
        ? (group: string) => new HttpGroupBackend(http.client, group)
        : (group: string) => new DirectGroupBackend(direct!.ctx, direct!.topics, group);
      return new GroupConsumer<V>(backend, { ...options, deserializer });
    }
    const sources = http ? httpSources(http.client) : directSources(direct!.ctx, direct!.topics);
    return new Consumer<V>(sources, { ...options, deserializer });
  }

  /**
   * Releases the AWS clients this object created (not ones passed in); over HTTP, cancels calls
   * still in flight (a consumer's long-poll).
   */
  close(): void {
    this.#http?.client.close();
    if (!this.#direct?.ownsClients) return;
    this.#direct.ctx.ddb.destroy();
    this.#direct.ctx.s3.destroy();
  }
}

interface DirectTransport {
  readonly ctx: StorageContext;
  readonly registry: TopicRegistry;
  readonly topics: TopicCache;
  readonly ownsClients: boolean;
}

interface HttpTransport {
  readonly client: HttpClient;
  readonly topics: TopicCache;
}
