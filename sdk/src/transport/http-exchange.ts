/**
 * One signed exchange with the HTTP API: SigV4 headers for `execute-api`, the `fetch`, and the
 * response read back into a result or the Tributary error it stands for (`http-response.ts`, which
 * checks our error bodies with the API's zod schema). The `HttpClient` (`http-client.ts`) loads
 * this module with a dynamic `import()` on its first call, so a process that never calls the API
 * loads neither the signer nor zod.
 */
import { Hash } from '@smithy/hash-node';
import { SignatureV4 } from '@smithy/signature-v4';
import type { Credentials } from '../connection.ts';
import { InternalError, type TributaryError } from '../errors.ts';
import {
  type ExchangeContext,
  errorFromNetwork,
  errorFromResponse,
  statusMeansNotApplied,
} from './http-response.ts';

/** A request ready to sign and send. */
export interface BuiltRequest {
  readonly method: string;
  readonly url: URL;
  /** Path as sent: the endpoint's base path and the route with each parameter percent-encoded. */
  readonly path: string;
  /** Query parameters as strings (undefined values left out). */
  readonly query: Readonly<Record<string, string>>;
  /** JSON text, or undefined for requests without a body. */
  readonly body: string | undefined;
}

/** How one exchange ended: the success body, or the failure and whether it certainly had no effect. */
export type Attempt<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly error: TributaryError; readonly notApplied: boolean };

/** What an exchange is signed with. */
export interface SignedExchangeOptions {
  /** Region of the API (part of the signature). */
  readonly region: string;
  readonly credentials: NonNullable<Credentials>;
}

/** Signs and sends requests of one client. */
export class SignedExchange {
  readonly #signer: SignatureV4;

  constructor(options: SignedExchangeOptions) {
    this.#signer = new SignatureV4({
      service: 'execute-api',
      region: options.region,
      credentials: options.credentials,
      sha256: Hash.bind(null, 'sha256'),
    });
  }

  /**
   * One signed exchange; never throws for HTTP or network failures (they are returned).
   * `mayHaveTakenEffect` is added to the messages of failures after which the request may still
   * have taken effect (for requests that are not retried then).
   */
  async attempt<T>(
    built: BuiltRequest,
    timeoutMs: number,
    mayHaveTakenEffect: string | undefined,
    cancel: AbortSignal | undefined,
  ): Promise<Attempt<T>> {
    const headers = await this.#sign(built);
    const context: ExchangeContext = {
      method: built.method,
      path: built.path,
      requestBytes: built.body === undefined ? 0 : Buffer.byteLength(built.body),
      ...(mayHaveTakenEffect === undefined ? {} : { mayHaveTakenEffect }),
    };
    let response: Response;
    let text: string;
    try {
      response = await fetch(built.url, {
        method: built.method,
        headers,
        ...(built.body === undefined ? {} : { body: built.body }),
        signal: cancel
          ? AbortSignal.any([cancel, AbortSignal.timeout(timeoutMs)])
          : AbortSignal.timeout(timeoutMs),
      });
      text = await response.text();
    } catch (thrown) {
      const failure = errorFromNetwork(thrown, timeoutMs, context);
      return { ok: false, error: failure.error, notApplied: failure.notSent };
    }
    const requestId =
      response.headers.get('apigw-requestid') ?? response.headers.get('x-amzn-requestid') ?? undefined;
    if (response.ok) {
      if (response.status === 204 || text === '') return { ok: true, value: undefined as T };
      try {
        return { ok: true, value: JSON.parse(text) as T };
      } catch {
        const error = new InternalError(
          `${built.method} ${built.path} answered HTTP ${response.status} with a body that is not JSON`,
          requestId,
        );
        return { ok: false, error, notApplied: false };
      }
    }
    return {
      ok: false,
      error: errorFromResponse(response.status, text, { ...context, ...(requestId ? { requestId } : {}) }),
      notApplied: statusMeansNotApplied(response.status),
    };
  }

  /** SigV4 headers for the request (service `execute-api`), less `host`, which `fetch` sets itself. */
  async #sign(built: BuiltRequest): Promise<Record<string, string>> {
    const signed = await this.#signer.sign({
      method: built.method,
      protocol: built.url.protocol,
      hostname: built.url.hostname,
      ...(built.url.port ? { port: Number(built.url.port) } : {}),
      path: built.path,
      query: { ...built.query },
      headers: {
        host: built.url.host,
        ...(built.body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(built.body === undefined ? {} : { body: built.body }),
    });
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(signed.headers)) {
      if (name.toLowerCase() !== 'host') headers[name] = value;
    }
    return headers;
  }
}
