/**
 * What a `Tributary` client asks of its transport. The client decides what the user gets
 * (serializer defaults, plain or group consumer); the transport builds the objects that reach the
 * deployment — directly (`direct-transport.ts`) or through the HTTP API (`http-transport.ts`).
 */
import type { Admin } from '../admin.ts';
import type { GroupBackend } from '../groups/group-backend.ts';
import type { Producer } from '../producer.ts';
import type { ProducerOptions } from '../producer-input.ts';
import type { Serializer } from '../serde.ts';
import type { PartitionSourceFactory } from './partition-source.ts';

/** One client's way to a deployment. */
export interface Transport {
  /** Where the transport points (for messages and diagnostics). */
  readonly endpoint: string | undefined;
  readonly region: string;
  /** Topic and consumer group administration. */
  admin(): Admin;
  /** A producer with the given (serializer-resolved) options. */
  producer<V>(options: ProducerOptions<V> & { readonly serializer: Serializer<V> }): Producer<V>;
  /** Where consumers of assigned partitions read from. */
  sources(): PartitionSourceFactory;
  /** The transport half of a group consumer, for one group. */
  groupBackend(groupId: string): GroupBackend;
  /** Releases what the transport holds (clients it created, calls in flight). */
  close(): void;
}
