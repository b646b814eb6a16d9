/**
 * The messages between an execution environment (parent side, `execution-environment.ts`) and
 * the worker thread running the handler (`handler-worker.ts`). One invocation at a time per
 * worker, as in a Lambda execution environment.
 */
import type { ErrorPayload } from './error-payload.ts';

/** The worker's `workerData`: what it needs to load the handler and build each context. */
export interface WorkerInit {
  readonly modulePath: string;
  readonly exportName: string;
  /** `billing.handler`, for the runtime's error messages. */
  readonly handler: string;
  readonly functionName: string;
  /** A string, as the Node.js runtime gives it (`context.memoryLimitInMB`). */
  readonly memoryLimitInMB: string;
  readonly logGroupName: string;
  readonly logStreamName: string;
}

/** Parent to worker: run the handler once. */
export interface InvokeMessage {
  readonly type: 'invoke';
  readonly requestId: string;
  /** The request's payload, JSON text (already checked to parse). */
  readonly event: string;
  /** When the invocation times out (epoch ms), for `getRemainingTimeInMillis()`. */
  readonly deadlineMs: number;
  readonly invokedFunctionArn: string;
  /** The decoded `X-Amz-Client-Context`, when the caller sent one. */
  readonly clientContext: unknown;
}

/** Worker to parent. */
export type WorkerMessage =
  /** The module loaded and the handler export is a function. */
  | { readonly type: 'ready' }
  /** Loading failed; the worker is of no further use. */
  | { readonly type: 'init-failed'; readonly error: ErrorPayload }
  /** One line the handler logged through `console`, in Lambda's text format. */
  | { readonly type: 'log'; readonly line: string }
  /** The invocation succeeded; `payload` is the result as JSON text. */
  | { readonly type: 'response'; readonly requestId: string; readonly payload: string }
  /** The invocation failed (a throw, a rejection, an error passed to the callback). */
  | { readonly type: 'error'; readonly requestId: string; readonly error: ErrorPayload }
  /**
   * An uncaught exception or unhandled rejection: it fails the invocation in progress, if any,
   * and the worker must be replaced (Lambda's runtime exits the process).
   */
  | { readonly type: 'fatal'; readonly requestId: string | undefined; readonly error: ErrorPayload };
