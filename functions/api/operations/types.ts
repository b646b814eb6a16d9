/** The shape of an operation: validated input in, the success body out. */
import type { z } from 'zod';
import type { Admin } from '../../../sdk/src/index.ts';
import type {
  CONTRACT,
  GroupSessions,
  OperationId,
  OperationResult,
  PartitionSourceFactory,
  RequestAppender,
  TopicMetadata,
} from '../../../sdk/src/internal.ts';

/** What operations call: the SDK, built once per process. */
export interface ApiDeps {
  readonly admin: Admin;
  /** Appends produce requests (idempotent ones exactly once, across instances and retries). */
  readonly producer: RequestAppender;
  readonly sessions: GroupSessions;
  readonly sources: PartitionSourceFactory;
  /** A topic's metadata, read fresh from the registry (one read). */
  readonly topicMetadata: (topic: string) => Promise<TopicMetadata>;
  /** Forgets cached metadata of a topic this API changed (deleted, recreated, grown). */
  readonly invalidateTopic: (topic: string) => void;
  /** Aborted when the request's time is nearly up (long-polls return early). */
  readonly signal?: AbortSignal;
}

type Parsed<T> = T extends z.ZodType ? z.output<T> : undefined;
type Contract = typeof CONTRACT;

/** An operation's validated input. */
export interface OperationInput<O extends OperationId> {
  readonly params: Parsed<Contract[O] extends { params: infer P } ? P : undefined>;
  readonly query: Parsed<Contract[O] extends { query: infer Q } ? Q : undefined>;
  readonly body: Parsed<Contract[O] extends { body: infer B } ? B : undefined>;
}

/** Implements one operation. */
export type Operation<O extends OperationId> = (
  input: OperationInput<O>,
  deps: ApiDeps,
) => Promise<OperationResult<O>>;

/** Implementations of a set of operations. */
export type Operations<O extends OperationId> = { readonly [K in O]: Operation<K> };
