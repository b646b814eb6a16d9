/**
 * The HTTP transport's client: one SigV4-signed JSON request per API operation, built from the
 * route table and typed by the contract. Failures come back as the same error classes the direct
 * transport raises (see `http-response.ts`); retriable ones are retried with the SDK's one retry
 * helper, except where a retry could write records twice (see {@link HttpClient.call}).
 *
 * Constructing a client is cheap and loads nothing heavy: the signer and the response decoding
 * (which uses the API's zod schemas) live in `http-exchange.ts`, imported on the first call.
 */
import { defaultProvider } from '@aws-sdk/credential-provider-node';
import type { OperationBody, OperationQuery, OperationResult } from '../api/contract.ts';
import { MAX_FETCH_WAIT_MS } from '../api/limits.ts';
import { type OperationId, type RouteDefinition, routeOf } from '../api/routes.ts';
import { type Credentials, defaultCredentials } from '../connection.ts';
import { ClientClosedError, InvalidArgumentError } from '../errors.ts';
import { DEFAULT_RETRY_POLICY, type RetryPolicy, withRetry } from '../retry.ts';
import type { Attempt, BuiltRequest, SignedExchange } from './http-exchange.ts';

/** How to reach the API. */
export interface HttpClientOptions {
  /**
   * Base URL of the API: `https://{api-id}.execute-api.{region}.amazonaws.com` (with a stage
   * path, if any), a custom domain, or the local stack's `http://127.0.0.1:4567`.
   */
  readonly endpoint: string;
  /** Region the API is in (part of the signature). */
  readonly region: string;
  /**
   * Credentials requests are signed with. @default the standard AWS credential chain; against a
   * loopback endpoint with no credentials in the environment, dummy `test`/`test` (one of the
   * pairs the local API verifies signatures against)
   */
  readonly credentials?: Credentials;
  /** Backoff and deadline for retrying throttling and transient failures. @default DEFAULT_RETRY_POLICY */
  readonly retry?: RetryPolicy;
  /**
   * How long one request may take before it fails with `TimeoutError`. Long-polls get at least
   * their `maxWaitMs` plus a margin. @default 30000 (API Gateway's integration limit)
   */
  readonly timeoutMs?: number;
}

/** One call's inputs: path parameters, query and JSON body, as the contract defines them. */
export interface CallRequest<O extends OperationId> {
  /** Values of the route's `{name}` path segments. */
  readonly params?: Readonly<Record<string, string | number>>;
  readonly query?: OperationQuery<O>;
  readonly body?: OperationBody<O>;
  /** Cancels the call (a consumer closing during a long-poll); it then fails with `ClientClosedError`. */
  readonly signal?: AbortSignal;
}

/** Default per-request timeout: API Gateway ends integrations at 30 s. */
const DEFAULT_TIMEOUT_MS = 30_000;
/** How much longer than its requested wait a long-poll may take before the client gives up. */
const LONG_POLL_MARGIN_MS = 10_000;

const MAY_HAVE_WRITTEN =
  'The records may or may not have been appended: produce requests without a producer id are not ' +
  'retried after they may have reached the API, so that no record is written twice.';

/**
 * Builds the request of an operation: `endpoint`'s origin and base path, the route's path with
 * every parameter `encodeURIComponent`-ed, query values as strings, and the body as JSON.
 */
export function buildRequest(
  endpoint: string,
  route: RouteDefinition,
  params: Readonly<Record<string, string | number>> = {},
  query: Readonly<Record<string, unknown>> = {},
  body?: unknown,
): BuiltRequest {
  const base = new URL(endpoint);
  const routePath = route.path.replace(/\{(\w+)\}/g, (_, name: string) => {
    const value = params[name];
    if (value === undefined || value === '') {
      throw new InvalidArgumentError(`${route.operationId} needs the path parameter "${name}"`);
    }
    return encodeURIComponent(String(value));
  });
  const path = `${base.pathname.replace(/\/+$/, '')}${routePath}`;
  const strings: Record<string, string> = {};
  for (const [name, value] of Object.entries(query)) {
    if (value !== undefined) strings[name] = String(value);
  }
  const search = Object.keys(strings)
    .sort()
    .map((name) => `${encodeURIComponent(name)}=${encodeURIComponent(strings[name]!)}`)
    .join('&');
  const url = new URL(`${base.origin}${path}${search ? `?${search}` : ''}`);
  return {
    method: route.method,
    url,
    path,
    query: strings,
    body: body === undefined ? undefined : JSON.stringify(body),
  };
}

/**
 * The credentials to sign with: the given ones; else, for a loopback endpoint with no
 * credentials in the environment, `test`/`test` (as the direct transport does for the local
 * stack); else the standard AWS chain (environment, SSO, profiles, container and instance roles).
 */
export function signingCredentials(
  endpoint: string,
  credentials: Credentials | undefined,
): NonNullable<Credentials> {
  return defaultCredentials(endpoint, credentials) ?? defaultProvider();
}

/** Calls the API's operations. Shared by one client's admin, producers and consumers. */
export class HttpClient {
  /** The API's base URL. */
  readonly endpoint: string;
  readonly #region: string;
  readonly #credentials: NonNullable<Credentials>;
  readonly #retry: RetryPolicy;
  readonly #timeoutMs: number;
  /** Aborted by {@link close}: cancels every call in flight (long-polls included). */
  readonly #closing = new AbortController();
  /** The signer and sender, loaded by the first call. */
  #exchange: Promise<SignedExchange> | undefined;

  constructor(options: HttpClientOptions) {
    this.endpoint = options.endpoint;
    this.#region = options.region;
    this.#retry = options.retry ?? DEFAULT_RETRY_POLICY;
    this.#timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.#credentials = signingCredentials(options.endpoint, options.credentials);
  }

  /**
   * Calls an operation and returns its success body (`undefined` for 204). Failures throw the
   * error the API reported (the same class and fields as on the direct transport) or, for
   * failures of API Gateway or the network, `AccessDeniedError`, `ThrottledError`,
   * `ServiceUnavailableError`, `TimeoutError`, `RequestTooLargeError`, `RouteNotFoundError` or
   * `InternalError`.
   *
   * Retriable failures are retried (backoff and deadline from the client's retry policy). A
   * `produce` with a `producer` part is idempotent (the API recognises a retry of it per
   * partition), so it is retried like any other call: lost responses, timeouts, 5xx, throttling
   * and `PRODUCE_IN_PROGRESS` alike. A `produce` without one is retried only when the request
   * certainly had no effect — HTTP 429 or 503 (throttled or unavailable before anything was
   * written), or a connection that could not be opened. Such a produce that fails after it may
   * have reached the API (no response, a timeout, HTTP 502/504) is surfaced at once, its message
   * saying the records may have been appended; retrying it is the caller's choice.
   */
  async call<O extends OperationId>(
    operationId: O,
    request: CallRequest<O> = {},
  ): Promise<OperationResult<O>> {
    const route = routeOf(operationId);
    const built = buildRequest(
      this.endpoint,
      route,
      request.params,
      (request.query ?? {}) as Record<string, unknown>,
      request.body,
    );
    const idempotent =
      operationId !== 'produce' ||
      (request.body as { producer?: unknown } | undefined)?.producer !== undefined;
    const waitMs = waitOf(request);
    const timeoutMs = waitMs > 0 ? Math.max(this.#timeoutMs, waitMs + LONG_POLL_MARGIN_MS) : this.#timeoutMs;
    if (this.#closing.signal.aborted) throw new ClientClosedError('request');
    const exchange = await this.#signedExchange();
    const mayHaveTakenEffect = idempotent ? undefined : MAY_HAVE_WRITTEN;
    // The client's close() ends this call too, long-polls included.
    const cancel = request.signal
      ? AbortSignal.any([request.signal, this.#closing.signal])
      : this.#closing.signal;
    let outcome: Attempt<OperationResult<O>>;
    try {
      outcome = await withRetry(
        `${route.method} ${built.path}`,
        async () => {
          const attempt: Attempt<OperationResult<O>> = await exchange.attempt(
            built,
            timeoutMs,
            mayHaveTakenEffect,
            cancel,
          );
          if (attempt.ok) return attempt;
          // Cancelled by the caller: not retriable, so withRetry surfaces it at once.
          if (cancel.aborted) throw new ClientClosedError('request');
          // Thrown errors are retried when retriable; a returned one is surfaced without retry.
          if (idempotent || attempt.notApplied) throw attempt.error;
          return attempt;
        },
        this.#retry,
        cancel,
      );
    } catch (error) {
      // A backoff cut short by close() (or the caller's signal) ends as a closed client, typed.
      if (cancel.aborted) throw new ClientClosedError('request');
      throw error;
    }
    if (!outcome.ok) throw outcome.error;
    return outcome.value;
  }

  /** Cancels every call in flight; later calls fail with `ClientClosedError`. */
  close(): void {
    this.#closing.abort();
  }

  /** The exchange, loaded once (a failed load is tried again by the next call). */
  #signedExchange(): Promise<SignedExchange> {
    this.#exchange ??= import('./http-exchange.ts').then(
      (loaded) => new loaded.SignedExchange({ region: this.#region, credentials: this.#credentials }),
      (error: unknown) => {
        this.#exchange = undefined;
        throw error;
      },
    );
    return this.#exchange;
  }
}

/** The long-poll wait a request asks for (`maxWaitMs` in its query or body), capped as the API caps it. */
function waitOf(request: CallRequest<OperationId>): number {
  const asked =
    (request.query as { maxWaitMs?: unknown } | undefined)?.maxWaitMs ??
    (request.body as { maxWaitMs?: unknown } | undefined)?.maxWaitMs;
  const ms = Number(asked ?? 0);
  return Number.isFinite(ms) && ms > 0 ? Math.min(ms, MAX_FETCH_WAIT_MS) : 0;
}
