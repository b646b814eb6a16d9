/**
 * The HTTP transport: the deployment's HTTP API, each request signed with SigV4 for
 * `execute-api`. One {@link HttpClient} per client, shared by its admin, producers and consumers,
 * and a topic metadata cache read through the API.
 *
 * Nothing here loads the signer or the API's zod schemas: the client imports them on its first
 * call (`http-exchange.ts`), so a process that only uses the direct transport never pays for them.
 */
import type { Admin } from '../admin.ts';
import { type Credentials, resolveRegion } from '../connection.ts';
import { InvalidArgumentError } from '../errors.ts';
import type { GroupBackend } from '../groups/group-backend.ts';
import type { Producer } from '../producer.ts';
import type { ProducerOptions } from '../producer-input.ts';
import { DEFAULT_RETRY_POLICY, type RetryPolicy } from '../retry.ts';
import type { Serializer } from '../serde.ts';
import { TopicCache } from '../topics/topic-cache.ts';
import { HttpAdmin } from './http-admin.ts';
import { HttpClient } from './http-client.ts';
import { HttpGroupBackend } from './http-group.ts';
import { HttpProducer } from './http-producer.ts';
import { httpSources } from './http-source.ts';
import { HttpTopicSource } from './http-topic-source.ts';
import type { PartitionSourceFactory } from './partition-source.ts';
import type { Transport } from './transport.ts';

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

/** The HTTP transport of one client. */
export class HttpTransport implements Transport {
  readonly endpoint: string;
  readonly region: string;
  readonly #client: HttpClient;
  readonly #topics: TopicCache;

  /** Throws `InvalidArgumentError` unless `endpoint` is an http(s) URL. */
  constructor(options: HttpTributaryOptions) {
    if (typeof options.endpoint !== 'string' || !/^https?:\/\//.test(options.endpoint)) {
      throw new InvalidArgumentError(
        `The http transport needs the API's URL as endpoint (http:// or https://); got ${JSON.stringify(options.endpoint)}`,
      );
    }
    this.endpoint = options.endpoint;
    this.region = resolveRegion(options.region);
    this.#client = new HttpClient({
      endpoint: options.endpoint,
      region: this.region,
      retry: { ...DEFAULT_RETRY_POLICY, ...options.retry },
      ...(options.credentials ? { credentials: options.credentials } : {}),
    });
    this.#topics = new TopicCache(
      new HttpTopicSource(this.#client),
      options.metadataMaxAgeMs ?? 30_000,
      Date.now,
    );
  }

  admin(): Admin {
    return new HttpAdmin(this.#client);
  }

  producer<V>(options: ProducerOptions<V> & { readonly serializer: Serializer<V> }): Producer<V> {
    return new HttpProducer<V>(this.#client, this.#topics, options);
  }

  sources(): PartitionSourceFactory {
    return httpSources(this.#client);
  }

  groupBackend(groupId: string): GroupBackend {
    return new HttpGroupBackend(this.#client, groupId);
  }

  /** Cancels calls still in flight (a consumer's long-poll); later calls fail with `ClientClosedError`. */
  close(): void {
    this.#client.close();
  }
}
