/**
 * `new Tributary(options)`: the SDK's entry point. It opens one transport — direct (DynamoDB and
 * S3) or HTTP (the API) — and hands out admin, producer and consumer objects that share it.
 */
import type { Admin } from './admin.ts';
import type { Archiver, ArchiverOptions } from './archive/archiver.ts';
import { Consumer, type ConsumerOptions } from './consumer.ts';
import { UnsupportedOperationError } from './errors.ts';
import { GroupConsumer, type GroupConsumerOptions } from './groups/group-consumer.ts';
import type { Producer } from './producer.ts';
import type { ProducerOptions } from './producer-input.ts';
import { type Deserializer, type RawValue, rawDeserializer, rawSerializer } from './serde.ts';
import { DirectTransport, type TributaryOptions } from './transport/direct-transport.ts';
import { HttpTransport, type HttpTributaryOptions } from './transport/http-transport.ts';

/** A client of one Tributary deployment. Create one per process and share it. */
export class Tributary {
  /** Where this client points (for messages and diagnostics). */
  readonly endpoint: string | undefined;
  readonly region: string;
  /** How this client reaches the deployment. */
  readonly transport: 'direct' | 'http';
  readonly #transport: DirectTransport | HttpTransport;

  constructor(options: TributaryOptions | HttpTributaryOptions = {}) {
    if (options.transport === 'http') {
      this.transport = 'http';
      this.#transport = new HttpTransport(options);
    } else {
      this.transport = 'direct';
      this.#transport = new DirectTransport(options);
    }
    this.endpoint = this.#transport.endpoint;
    this.region = this.#transport.region;
  }

  /** Topic and consumer group administration. */
  admin(): Admin {
    return this.#transport.admin();
  }

  /**
   * The archiver: moves old batches to S3 segments and applies retention when you call
   * `run()`. Deployments run it on a schedule; run it yourself to archive on demand.
   * Direct transport only (deployments run it as a scheduled function).
   */
  archiver(options?: ArchiverOptions): Archiver {
    if (!(this.#transport instanceof DirectTransport)) {
      throw new UnsupportedOperationError(
        'The archiver works on the tables and bucket directly; deployed stacks run it on a schedule. ' +
          "Use transport: 'direct' to run it yourself.",
      );
    }
    return this.#transport.archiver(options);
  }

  /** A producer; values are strings or bytes unless a `serializer` is given. */
  producer(options?: ProducerOptions<RawValue>): Producer<RawValue>;
  producer<V>(
    options: ProducerOptions<V> & { serializer: NonNullable<ProducerOptions<V>['serializer']> },
  ): Producer<V>;
  producer<V>(options: ProducerOptions<V> = {}): Producer<V> {
    const serializer = options.serializer ?? (rawSerializer as NonNullable<ProducerOptions<V>['serializer']>);
    return this.#transport.producer<V>({ ...options, serializer });
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
      return new GroupConsumer<V>((group) => this.#transport.groupBackend(group), {
        ...options,
        deserializer,
      });
    }
    return new Consumer<V>(this.#transport.sources(), { ...options, deserializer });
  }

  /**
   * Releases the AWS clients this object created (not ones passed in); over HTTP, cancels calls
   * still in flight (a consumer's long-poll).
   */
  close(): void {
    this.#transport.close();
  }
}
