/**
 * The local Lambda service: Lambda's Invoke API (`POST /2015-03-31/functions/{FunctionName}/invocations`)
 * over the handler modules registered with it, each invocation run in a worker thread of the
 * function's pool (`function-pool.ts`). The edge proxy routes Lambda's paths here, so
 * `@aws-sdk/client-lambda` pointed at the edge endpoint works as against Lambda.
 *
 * Invocation types: `RequestResponse` runs the function and answers with its result (or its error
 * payload and `X-Amz-Function-Error: Unhandled`); `Event` answers 202 at once and runs it in the
 * background, retrying a failed attempt twice as Lambda does, after {@link ASYNC_RETRY_DELAYS_MS}
 * (Lambda waits about 1 and 2 minutes; locally 1 and 2 seconds, so a retry is seen while one
 * waits for it); `DryRun` answers 204 once the function is found. An event that fails all three
 * attempts is reported through `log` and dropped (there is no dead-letter queue or destination).
 * Other Lambda operations answer 404 `UnknownOperationException`.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { ClientClosedError, StackNotReadyError } from '../../sdk/src/index.ts';
import type { InvocationRequest } from './execution-environment.ts';
import { type LocalFunction, type RegisteredFunction, resolveFunction } from './function-definition.ts';
import { LATEST, LOCAL_ACCOUNT_ID, parseFunctionName } from './function-name.ts';
import { FunctionPool } from './function-pool.ts';
import {
  ASYNC_PAYLOAD_LIMIT_BYTES,
  functionNotFound,
  INVOKE_PATH,
  invalidEnum,
  invocationResponse,
  invocationTypeOf,
  lambdaError,
  logTypeOf,
  requestTooLarge,
  responseTooLargePayload,
  SYNC_PAYLOAD_LIMIT_BYTES,
  throttled,
  type WireResponse,
} from './invoke-wire.ts';

/** GetFunction and GetFunctionConfiguration paths. */
const CONFIGURATION_PATH = /^\/2015-03-31\/functions\/([^/]+)(\/configuration)?\/?$/;

/** Delays before the two retries of a failed `Event` invocation (Lambda's ~1 and ~2 minutes, shortened). */
export const ASYNC_RETRY_DELAYS_MS: readonly number[] = [1_000, 2_000];

/** Options of {@link startLambdaService}. */
export interface LambdaServiceOptions {
  /** Port; `0` picks a free one. */
  readonly port: number;
  /** Only loopback. @default '127.0.0.1' */
  readonly host?: '127.0.0.1';
  /** The region of the functions' ARNs and of `AWS_REGION` in their environment. */
  readonly region: string;
  /** The key pair in the functions' environment (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`). */
  readonly credentials: { readonly accessKeyId: string; readonly secretAccessKey: string };
  /** `AWS_ENDPOINT_URL` of the functions' environment (the stack's edge). @default unset */
  readonly awsEndpointUrl?: string;
  /** Functions registered from the start. @default none */
  readonly functions?: readonly LocalFunction[];
  /** Receives Lambda's log lines of every invocation, prefixed with `[function]`. @default silent */
  readonly log?: ((line: string) => void) | undefined;
}

/** The local Lambda service as a stack's user sees it. */
export interface LocalLambda {
  /** The service itself, bypassing the edge (the edge routes `/2015-03-31/functions/` here). */
  readonly endpoint: string;
  /**
   * Registers a function, or replaces the one of that name: new invocations load the module
   * afresh in new workers, invocations in progress finish on the old ones, which then end.
   * @throws InvalidArgumentError for an invalid definition (the message names the field).
   */
  register(definition: LocalFunction): RegisteredFunction;
  /** The registered functions, defaults applied, in the order they were first registered. */
  functions(): readonly RegisteredFunction[];
}

/** A running local Lambda service. */
export interface LambdaService extends LocalLambda {
  /**
   * Stops accepting requests, drops pending `Event` retries, and terminates every worker (busy
   * ones too: their invocations fail); resolves once every worker thread has ended. Idempotent.
   */
  stop(): Promise<void>;
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** The body, or 'too-large' (the rest is read and dropped, so the client sees the answer). */
async function readBody(req: IncomingMessage, limitBytes: number): Promise<Buffer | 'too-large'> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size <= limitBytes) chunks.push(chunk);
  }
  return size > limitBytes ? 'too-large' : Buffer.concat(chunks);
}

function write(res: ServerResponse, response: WireResponse): void {
  res.writeHead(response.status, response.headers);
  res.end(response.body);
}

function empty(status: 202 | 204, requestId: string): WireResponse {
  return { status, headers: { 'x-amzn-requestid': requestId, 'content-length': '0' }, body: '' };
}

/** `X-Amz-Client-Context` decoded (base64 of a JSON object), 'invalid', or undefined when absent. */
function clientContextOf(value: string | undefined): unknown {
  if (value === undefined || value === '') return undefined;
  try {
    const parsed: unknown = JSON.parse(Buffer.from(value, 'base64').toString('utf8'));
    return typeof parsed === 'object' && parsed !== null ? parsed : 'invalid';
  } catch {
    return 'invalid';
  }
}

/**
 * Starts the service on `host:port` with the given functions registered.
 * @throws InvalidArgumentError for an invalid function definition (before anything listens).
 * @throws StackNotReadyError when the port cannot be bound.
 */
export async function startLambdaService(options: LambdaServiceOptions): Promise<LambdaService> {
  const host = options.host ?? '127.0.0.1';
  const { region, log } = options;
  const pools = new Map<string, FunctionPool>();
  /** Replaced pools whose busy workers are still finishing. */
  const retiring = new Set<FunctionPool>();
  const inFlight = new Set<Promise<void>>();
  const eventRuns = new Set<Promise<void>>();
  const stopping = new AbortController();

  const register = (definition: LocalFunction): RegisteredFunction => {
    if (stopping.signal.aborted) throw new ClientClosedError('local Lambda service');
    const fn = resolveFunction(definition);
    const pool = new FunctionPool(fn, {
      region,
      credentials: options.credentials,
      awsEndpointUrl: options.awsEndpointUrl,
      log: (line) => log?.(`[${fn.name}] ${line}`),
    });
    const previous = pools.get(fn.name);
    pools.set(fn.name, pool);
    if (previous) {
      retiring.add(previous);
      void previous.close({ now: false }).finally(() => retiring.delete(previous));
    }
    return fn;
  };
  /** Runs an `Event` invocation in the background with Lambda's retries. */
  const runEvent = (name: string, request: InvocationRequest): void => {
    const attempts = ASYNC_RETRY_DELAYS_MS.length + 1;
    const run = (async () => {
      let failures = 0;
      while (!stopping.signal.aborted) {
        const pool = pools.get(name);
        if (pool === undefined) return;
        const outcome = await pool.invoke(request, { wait: true });
        // Closed: the function was replaced while the event waited; run it on the new one (or,
        // when stopping, leave). A waiting invocation is never throttled.
        if (outcome === 'closed' || outcome === 'throttled') continue;
        if (outcome.kind === 'response') return;
        failures++;
        log?.(
          `[${name}] Event invocation ${request.requestId} failed (attempt ${failures} of ${attempts}): ` +
            `${outcome.error.errorType}: ${outcome.error.errorMessage}`,
        );
        const delay = ASYNC_RETRY_DELAYS_MS[failures - 1];
        if (delay === undefined) {
          log?.(`[${name}] Event invocation ${request.requestId} dropped after ${attempts} attempts.`);
          return;
        }
        try {
          await sleep(delay, undefined, { signal: stopping.signal });
        } catch {
          return; // stopping
        }
      }
    })();
    eventRuns.add(run);
    void run.finally(() => eventRuns.delete(run));
  };

  /**
   * GetFunction (`GET /2015-03-31/functions/{name}`) and GetFunctionConfiguration (`…/configuration`)
   * for registered functions, with the fields callers need (the trigger dispatcher reads the
   * timeout; trigger creation checks that the function exists).
   */
  const functionConfiguration = (
    encoded: string,
    configurationOnly: boolean,
    qualifier: string | null,
  ): WireResponse => {
    let rawName: string;
    try {
      rawName = decodeURIComponent(encoded);
    } catch {
      rawName = encoded;
    }
    const target = parseFunctionName(rawName, qualifier ?? undefined);
    if ('kind' in target) return lambdaError('ValidationException', target.message);
    const pool = pools.get(target.name);
    const askedRegion = target.region ?? region;
    const askedAccount = target.account ?? LOCAL_ACCOUNT_ID;
    const arn = `arn:aws:lambda:${askedRegion}:${askedAccount}:function:${target.name}`;
    if (
      pool === undefined ||
      askedRegion !== region ||
      askedAccount !== LOCAL_ACCOUNT_ID ||
      (target.qualifier !== undefined && target.qualifier !== LATEST)
    ) {
      return functionNotFound(arn);
    }
    const configuration = {
      FunctionName: target.name,
      FunctionArn: arn,
      Runtime: 'nodejs22.x',
      Handler: pool.fn.handler,
      Timeout: Math.ceil(pool.fn.timeoutMs / 1000),
      MemorySize: 128,
      Version: LATEST,
      State: 'Active',
      LastUpdateStatus: 'Successful',
      PackageType: 'Zip',
      Architectures: ['x86_64'],
    };
    const body = configurationOnly
      ? configuration
      : { Configuration: configuration, Code: { RepositoryType: 'Local' } };
    return { status: 200, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) };
  };

  const answer = async (req: IncomingMessage): Promise<WireResponse> => {
    const requestId = randomUUID();
    const url = new URL(req.url ?? '/', 'http://lambda.local');
    const config = CONFIGURATION_PATH.exec(url.pathname);
    if (req.method === 'GET' && config !== null) {
      await readBody(req, 0);
      return functionConfiguration(
        config[1] ?? '',
        config[2] !== undefined,
        url.searchParams.get('Qualifier'),
      );
    }
    const match = INVOKE_PATH.exec(url.pathname);
    if (req.method !== 'POST' || match === null) {
      await readBody(req, 0);
      return lambdaError(
        'UnknownOperationException',
        `The local Lambda service implements only Invoke (POST /2015-03-31/functions/{FunctionName}/invocations), not ${req.method} ${url.pathname}.`,
      );
    }
    const typeHeader = header(req, 'x-amz-invocation-type');
    const invocationType = invocationTypeOf(typeHeader);
    const logHeader = header(req, 'x-amz-log-type');
    const logType = logTypeOf(logHeader);
    const limit = invocationType === 'Event' ? ASYNC_PAYLOAD_LIMIT_BYTES : SYNC_PAYLOAD_LIMIT_BYTES;
    const body = await readBody(req, limit);
    if (invocationType === undefined) {
      return invalidEnum('invocationType', String(typeHeader), ['Event', 'RequestResponse', 'DryRun']);
    }
    if (logType === undefined) return invalidEnum('logType', String(logHeader), ['None', 'Tail']);
    if (body === 'too-large') return requestTooLarge(limit);

    let rawName: string;
    try {
      rawName = decodeURIComponent(match[1] ?? '');
    } catch {
      rawName = match[1] ?? '';
    }
    const target = parseFunctionName(rawName, url.searchParams.get('Qualifier') ?? undefined);
    if ('kind' in target) {
      return lambdaError(
        target.kind === 'malformed' ? 'ValidationException' : 'InvalidParameterValueException',
        target.message,
      );
    }
    const { name, qualifier } = target;
    const askedRegion = target.region ?? region;
    const askedAccount = target.account ?? LOCAL_ACCOUNT_ID;
    const pool = pools.get(name);
    if (
      pool === undefined ||
      askedRegion !== region ||
      askedAccount !== LOCAL_ACCOUNT_ID ||
      (qualifier !== undefined && qualifier !== LATEST)
    ) {
      const arn = `arn:aws:lambda:${askedRegion}:${askedAccount}:function:${name}`;
      return functionNotFound(qualifier === undefined ? arn : `${arn}:${qualifier}`);
    }

    const event = body.length === 0 ? '{}' : body.toString('utf8');
    try {
      JSON.parse(event);
    } catch (error) {
      return lambdaError(
        'InvalidRequestContentException',
        `Could not parse request body into json: ${(error as Error).message}`,
      );
    }
    const clientContext = clientContextOf(header(req, 'x-amz-client-context'));
    if (clientContext === 'invalid') {
      return lambdaError(
        'InvalidRequestContentException',
        'Client context must be a valid Base64-encoded JSON object.',
      );
    }
    const invokedFunctionArn = `arn:aws:lambda:${region}:${LOCAL_ACCOUNT_ID}:function:${name}${qualifier === undefined ? '' : `:${qualifier}`}`;
    const request: InvocationRequest = { requestId, event, invokedFunctionArn, clientContext };

    if (invocationType === 'DryRun') return empty(204, requestId);
    if (invocationType === 'Event') {
      runEvent(name, request);
      return empty(202, requestId);
    }
    const outcome = await pool.invoke(request, { wait: false });
    if (outcome === 'throttled') return throttled();
    if (outcome === 'closed') {
      return lambdaError('ServiceException', 'The local Lambda service is stopping.');
    }
    const tail = logType === 'Tail' ? outcome.log : undefined;
    if (outcome.kind === 'error') {
      return invocationResponse({
        requestId,
        payload: JSON.stringify(outcome.error),
        failed: true,
        log: tail,
      });
    }
    if (Buffer.byteLength(outcome.payload) > SYNC_PAYLOAD_LIMIT_BYTES) {
      return invocationResponse({
        requestId,
        payload: JSON.stringify(responseTooLargePayload()),
        failed: true,
        log: tail,
      });
    }
    return invocationResponse({ requestId, payload: outcome.payload, failed: false, log: tail });
  };

  // Pools start no worker until invoked, so a definition failing validation here leaves nothing behind.
  for (const definition of options.functions ?? []) register(definition);

  const server = createServer((req, res) => {
    const served = answer(req).then(
      (response) => write(res, response),
      (error: unknown) => {
        if (res.headersSent) res.destroy();
        else write(res, lambdaError('ServiceException', `The local Lambda service failed: ${String(error)}`));
      },
    );
    inFlight.add(served);
    void served.finally(() => inFlight.delete(served));
  });
  // Above the edge's idle keep-alive sockets' lifetime in practice, so a reused socket is not
  // closed under a request; stop() closes them all.
  server.keepAliveTimeout = 10 * 60_000;
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host, port: options.port, exclusive: true }, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (error) {
    await Promise.all([...pools.values()].map((pool) => pool.close({ now: true })));
    throw new StackNotReadyError(
      `The local Lambda service could not listen on ${host}:${options.port}`,
      error,
    );
  }
  const { port } = server.address() as AddressInfo;

  let stopped: Promise<void> | undefined;
  return {
    endpoint: `http://${host}:${port}`,
    register,
    functions: () => [...pools.values()].map((pool) => pool.fn),
    stop: () => {
      stopped ??= (async () => {
        stopping.abort();
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        await Promise.all([...pools.values(), ...retiring].map((pool) => pool.close({ now: true })));
        // Their workers gone, invocations in progress have answered (with an error) by now.
        await Promise.allSettled([...inFlight, ...eventRuns]);
        server.closeAllConnections();
        await closed;
      })();
      return stopped;
    },
  };
}
