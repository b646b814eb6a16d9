/**
 * What request handlers work with: the gateway's storage (one direct transport, one appender and
 * one reader shared by every connection, so partitions' cached tails are shared), the broker it
 * advertises, and the connection the request came on.
 */
import type { Admin } from '../sdk/src/index.ts';
import type {
  DirectTransport,
  ProducerIdAllocator,
  RawBatchAppender,
  RawLogReader,
} from '../sdk/src/internal.ts';
import type { GroupCoordinator } from './group-coordinator.ts';
import type { ApiName, KafkaRequest, ResponseInput } from './protocol/index.ts';
import type { SequenceGate } from './sequence-gate.ts';

/** The one broker every gateway process advertises: node 0, the leader of every partition. */
export interface AdvertisedBroker {
  readonly nodeId: 0;
  readonly host: string;
  readonly port: number;
}

/** Shared by every connection of one gateway process. */
export interface GatewayContext {
  readonly transport: DirectTransport;
  readonly admin: Admin;
  readonly appender: RawBatchAppender;
  readonly reader: RawLogReader;
  readonly producerIds: ProducerIdAllocator;
  /** Classic consumer group coordination (every gateway coordinates every group). */
  readonly groups: GroupCoordinator;
  readonly broker: AdvertisedBroker;
  readonly clusterId: string;
  /** Partitions read at once by one Fetch or ListOffsets request. */
  readonly readConcurrency: number;
  /** Longest a Fetch waits for `minBytes`, whatever its `maxWaitMs` asks (ms). */
  readonly maxFetchWaitMs: number;
  readonly log: (line: string) => void;
}

/** One request's scope: the gateway, and the connection it arrived on. */
export interface RequestScope {
  readonly gateway: GatewayContext;
  /** Aborted when the connection closes (a Fetch stops waiting). */
  readonly signal: AbortSignal;
  /** The client's address, as consumer group descriptions show it. */
  readonly clientHost: string;
  /** The connection's idempotent producers' failed sequences (see `sequence-gate.ts`). */
  readonly sequences: SequenceGate;
  /**
   * Closes the connection once this request is done: how Kafka tells a client that an unanswered
   * request (Produce with acks 0) failed.
   */
  readonly closeAfter: (reason: string) => void;
}

/** A decoded request of API `N`. */
export type RequestOf<N extends ApiName> = Extract<KafkaRequest, { readonly api: N }>;

/** Returned by a handler for a request Kafka answers with nothing (Produce with acks 0). */
export const NO_RESPONSE: unique symbol = Symbol('no response');

/** Answers one request of API `N`. Domain failures are error codes in the response, never throws. */
export type Handler<N extends ApiName> = (
  request: RequestOf<N>,
  scope: RequestScope,
) => Promise<ResponseInput<N> | typeof NO_RESPONSE>;
