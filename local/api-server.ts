/**
 * The HTTP API on the developer's machine: the very handler the Lambda function runs, behind a
 * `node:http` server that turns each request into an API Gateway HTTP API (payload v2) event.
 *
 * Like API Gateway with IAM authorization, it verifies each request's SigV4 signature (service
 * `execute-api`, see `sigv4-verifier.ts`) before the handler runs, and refuses what API Gateway
 * refuses itself: a missing or bad signature (403) and a payload over 10 MB (413). Every refusal
 * the server makes itself carries both shapes a client may expect: API Gateway's own
 * `{"message": ...}` with its text, and Tributary's `{"error": {code, message, retriable}}`.
 * A presigned request's `X-Amz-*` query parameters are left in the event's query, so the routes
 * that take a query (and refuse parameters they do not know) refuse them with 400.
 */

import { isUtf8 } from 'node:buffer';
import { randomBytes, randomUUID } from 'node:crypto';
import {
  createServer,
  type IncomingMessage,
  maxHeaderSize,
  type ServerResponse,
  STATUS_CODES,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { type ApiHandler, createApiHandler } from '../functions/api/app.ts';
import { matchRoute, type RouteMatch } from '../functions/api/router.ts';
import { localTelemetry } from '../functions/telemetry.ts';
import {
  AccessDeniedError,
  HeadersTooLargeError,
  InternalError,
  InvalidArgumentError,
  RequestTooLargeError,
  StackNotReadyError,
  TimeoutError,
  type TributaryError,
  type TributaryOptions,
} from '../sdk/src/index.ts';
import { DirectTransport, errorToResponse, LOOPBACK_CREDENTIALS } from '../sdk/src/internal.ts';
import {
  type LocalCredential,
  type SignatureRefusal,
  SigV4Verifier,
  splitTarget,
  UNSIGNED,
} from './sigv4-verifier.ts';

/** API Gateway's own payload limit: bigger requests are refused before any function runs. */
const GATEWAY_MAX_BYTES = 10 * 1024 * 1024;
/** The API function's timeout (API Gateway's integration limit is 30 s). */
const FUNCTION_TIMEOUT_MS = 29_000;
/** The region signatures are scoped to when the connection names none (the local stack's). */
const DEFAULT_REGION = 'us-east-1';

/**
 * How the server checks SigV4 signatures: `verify` computes each request's signature again and
 * refuses any that does not match a known key (as API Gateway's IAM authorizer does); `presence`
 * only requires a SigV4 `Authorization` header or presigned query (as LocalStack does by default).
 */
export type SignatureCheck = 'verify' | 'presence';

/** Options of {@link startApiServer}. */
export interface ApiServerOptions {
  /** Where the handler's SDK client connects (the local stack's edge). */
  readonly connection: TributaryOptions;
  /** Port; `0` picks a free one. */
  readonly port: number;
  /** Only loopback. @default '127.0.0.1' */
  readonly host?: '127.0.0.1';
  /**
   * How signatures are checked; signatures are scoped to the connection's region.
   * @default 'verify'
   */
  readonly signatures?: SignatureCheck | undefined;
  /**
   * The key pairs whose signatures `verify` accepts (ignored by `presence`).
   * @default {@link defaultApiCredentials} of the connection and the process environment
   */
  readonly credentials?: readonly LocalCredential[] | undefined;
  /**
   * Secret group sessions are signed with (at least 32 bytes).
   * @default a random key of this server: sessions it issued end with it
   */
  readonly sessionKey?: Uint8Array;
  /**
   * How long an idempotent produce request's claim lasts (ms); tests of crashed attempts shorten it.
   * @default the function timeout (29 s) plus 5 s, as in AWS
   */
  readonly produceClaimTimeoutMs?: number;
}

/** A running local API. */
export interface ApiServer {
  /** Base URL, e.g. `http://127.0.0.1:4567` (routes start with `/v1/`). */
  readonly url: string;
  /** Stops accepting requests, ends idle connections and closes the SDK client. Idempotent. */
  stop(): Promise<void>;
}

/**
 * The key pairs the local API accepts by default: `test`/`test` (what the SDK signs with against a
 * loopback endpoint when no credentials are in the environment), the connection's own static pair
 * (`local`/`local` in the local stack), and the pair in `AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY`
 * when the environment has both (a user with real credentials there signs with them).
 */
export function defaultApiCredentials(
  connection: Pick<TributaryOptions, 'credentials'>,
  env: NodeJS.ProcessEnv = process.env,
): LocalCredential[] {
  // The dummy pair the SDK signs with against a loopback endpoint when no credentials are set.
  const pairs: LocalCredential[] = [{ ...LOOPBACK_CREDENTIALS }];
  const own = connection.credentials;
  if (
    typeof own === 'object' &&
    typeof own.accessKeyId === 'string' &&
    typeof own.secretAccessKey === 'string'
  ) {
    pairs.push({ accessKeyId: own.accessKeyId, secretAccessKey: own.secretAccessKey });
  }
  const { AWS_ACCESS_KEY_ID: accessKeyId, AWS_SECRET_ACCESS_KEY: secretAccessKey } = env;
  if (accessKeyId && secretAccessKey) pairs.push({ accessKeyId, secretAccessKey });
  return pairs;
}

/** What a request is checked with before the handler sees it. */
interface Gate {
  readonly signatures: SignatureCheck;
  readonly verifier: SigV4Verifier;
}

/** Starts the API over a running stack. */
export async function startApiServer(options: ApiServerOptions): Promise<ApiServer> {
  const host = options.host ?? '127.0.0.1';
  const gate: Gate = {
    signatures: options.signatures ?? 'verify',
    verifier: new SigV4Verifier({
      credentials: options.credentials ?? defaultApiCredentials(options.connection),
      region: options.connection.region ?? DEFAULT_REGION,
    }),
  };
  const direct = new DirectTransport(options.connection);
  const handler = createApiHandler(direct, localTelemetry('ERROR'), {
    sessionKey: options.sessionKey ?? randomBytes(32),
    // Nothing ends a local request at the function timeout; the claim's fence stops its writes.
    produceClaimTimeoutMs: options.produceClaimTimeoutMs ?? FUNCTION_TIMEOUT_MS + 5_000,
  });
  // Aborted on stop: long-polls in progress answer at once instead of holding the shutdown.
  const stopping = new AbortController();
  const inFlight = new Set<Promise<void>>();
  const server = createServer((req, res) => {
    const served = serve(handler, gate, req, res, stopping.signal).catch((error: unknown) => {
      const failure = new InternalError(`The local API server failed: ${String(error)}`);
      if (res.headersSent) res.end();
      else refuse(res, 'Internal Server Error', failure);
    });
    inFlight.add(served);
    void served.finally(() => inFlight.delete(served));
  });
  // Node's parser refuses some requests before any handler runs (headers over its limit,
  // malformed requests) and would answer with an empty body: answer with the envelope instead.
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Duplex) => {
    answerClientError(error, socket, maxHeaderSize);
  });
  // Long-polls hold a request for up to 20 s; keep-alive sockets are reused by the SDK.
  server.requestTimeout = FUNCTION_TIMEOUT_MS + 5_000;
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host, port: options.port, exclusive: true }, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (error) {
    direct.close();
    throw new StackNotReadyError(`Cannot serve the HTTP API on ${host}:${options.port}`, error);
  }
  const { port } = server.address() as AddressInfo;
  let stopped: Promise<void> | undefined;
  return {
    url: `http://${host}:${port}`,
    stop: () => {
      stopped ??= (async () => {
        stopping.abort();
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        await Promise.allSettled([...inFlight]);
        server.closeAllConnections();
        await closed;
      })().finally(() => direct.close());
      return stopped;
    },
  };
}

async function serve(
  handler: ApiHandler,
  gate: Gate,
  req: IncomingMessage,
  res: ServerResponse,
  signal: AbortSignal,
): Promise<void> {
  const target = req.url ?? '/';
  // Everything but the signature itself can be checked before the body is read.
  const early =
    gate.signatures === 'verify' ? gate.verifier.precheck({ target, headers: req.headers }) : presence(req);
  if (!early.ok) {
    req.resume();
    return refuseSignature(res, early.refusal);
  }
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > GATEWAY_MAX_BYTES) {
    req.resume();
    return refuse(res, 'Request Entity Too Large', new RequestTooLargeError(declared, GATEWAY_MAX_BYTES), {
      connection: 'close',
    });
  }
  const body = await readBody(req, GATEWAY_MAX_BYTES);
  if (typeof body === 'number') {
    return refuse(res, 'Request Entity Too Large', new RequestTooLargeError(body, GATEWAY_MAX_BYTES), {
      connection: 'close',
    });
  }
  if (gate.signatures === 'verify') {
    const verdict = await gate.verifier.verify({
      method: req.method ?? 'GET',
      target,
      headers: req.headers,
      body,
    });
    if (!verdict.ok) return refuseSignature(res, verdict.refusal);
  }
  const started = Date.now();
  const result = await handler(toEvent(req, body), {
    awsRequestId: randomUUID(),
    signal,
    getRemainingTimeInMillis: () => FUNCTION_TIMEOUT_MS - (Date.now() - started),
  });
  res.writeHead(result.statusCode ?? 200, result.headers as Record<string, string>);
  res.end(result.body ?? '');
}

/** `presence`: a SigV4 header or presigned query is there; whose, and whether it matches, is not checked. */
function presence(req: IncomingMessage): { ok: true } | { ok: false; refusal: SignatureRefusal } {
  const authorization = req.headers.authorization ?? '';
  const presigned = new URLSearchParams(splitTarget(req.url ?? '/').query).get('X-Amz-Algorithm');
  if (authorization.startsWith('AWS4-HMAC-SHA256 ') || presigned === 'AWS4-HMAC-SHA256') return { ok: true };
  return { ok: false, refusal: UNSIGNED };
}

/**
 * The body's bytes, or its size so far once it passes `limit` (the rest is discarded, so the
 * refusal can still be answered on the connection).
 */
function readBody(req: IncomingMessage, limit: number): Promise<Buffer | number> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) {
        chunks.push(chunk);
        return;
      }
      req.off('data', onData);
      req.off('end', onEnd);
      req.resume();
      resolve(size);
    };
    const onEnd = () => resolve(Buffer.concat(chunks));
    req.on('data', onData);
    req.once('end', onEnd);
    req.once('error', reject);
    req.once('close', () => {
      if (!req.complete) reject(new Error('the client closed the connection before the body arrived'));
    });
  });
}

/**
 * The event API Gateway would deliver. Never throws: a path the router cannot decode (malformed
 * percent-encoding) becomes a `$default` event without path parameters, which the handler answers.
 */
function toEvent(req: IncomingMessage, body: Buffer): APIGatewayProxyEventV2 {
  const target = req.url ?? '/';
  const url = parseTarget(target);
  const method = (req.method ?? 'GET').toUpperCase();
  let match: RouteMatch | undefined;
  try {
    match = matchRoute(method, url.pathname);
  } catch {
    match = undefined;
  }
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(',') : value;
  }
  // API Gateway joins repeated query parameters with commas. A Map keeps every name, `__proto__`
  // included, as the handler must see it (and refuse it).
  const joined = new Map<string, string>();
  for (const [name, value] of url.searchParams) {
    const previous = joined.get(name);
    joined.set(name, previous === undefined ? value : `${previous},${value}`);
  }
  const query: Record<string, string> = Object.fromEntries(joined);
  const contentType = headers['content-type'] ?? '';
  // Text bodies go as text only when they are valid UTF-8; otherwise as base64, as API Gateway
  // does for binary payloads, so the handler sees the real bytes (and refuses them).
  const text = (contentType === '' || /json|text/.test(contentType)) && isUtf8(body);
  const now = new Date();
  const routeKey = match ? `${match.route.method} ${match.route.path}` : '$default';
  return {
    version: '2.0',
    routeKey,
    rawPath: url.pathname,
    rawQueryString: url.search.replace(/^\?/, ''),
    headers,
    ...(joined.size > 0 ? { queryStringParameters: query } : {}),
    ...(match ? { pathParameters: { ...match.params } } : {}),
    ...(body.length > 0
      ? { body: text ? body.toString('utf8') : body.toString('base64'), isBase64Encoded: !text }
      : { isBase64Encoded: false }),
    requestContext: {
      accountId: '000000000000',
      apiId: 'local',
      domainName: headers.host ?? 'localhost',
      domainPrefix: 'local',
      http: {
        method,
        path: url.pathname,
        protocol: `HTTP/${req.httpVersion}`,
        sourceIp: req.socket.remoteAddress ?? '127.0.0.1',
        userAgent: headers['user-agent'] ?? '',
      },
      requestId: randomUUID(),
      routeKey,
      stage: '$default',
      time: now.toUTCString(),
      timeEpoch: now.getTime(),
    },
  };
}

/**
 * The request target as a URL. An origin-form target is taken as a path on this server (so
 * `//x/v1/topics` stays that path rather than naming a host `x`); an absolute-form one as given.
 */
function parseTarget(target: string): URL {
  try {
    return new URL(target.startsWith('/') ? `http://localhost${target}` : target);
  } catch {
    // Node's parser lets through only targets that parse; keep the event well-formed regardless.
    return new URL('http://localhost/');
  }
}

/** The body of a refusal the server makes itself: API Gateway's text and Tributary's envelope. */
function refusalBody(gatewayMessage: string, error: TributaryError): { status: number; json: string } {
  const { status, body } = errorToResponse(error);
  return { status, json: JSON.stringify({ message: gatewayMessage, ...body }) };
}

function refuse(
  res: ServerResponse,
  gatewayMessage: string,
  error: TributaryError,
  headers: Record<string, string> = {},
): void {
  const { status, json } = refusalBody(gatewayMessage, error);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': String(Buffer.byteLength(json)),
    ...headers,
  });
  res.end(json);
}

function refuseSignature(res: ServerResponse, refusal: SignatureRefusal): void {
  refuse(res, refusal.gatewayMessage, new AccessDeniedError(refusal.detail));
}

/**
 * Answers a request Node's parser refused (no request or response object exists): 431 for a
 * request line and headers over the limit, 408 for one that did not arrive in time, 400 for a
 * malformed one, each with the envelope, written as a whole HTTP response on the socket.
 */
function answerClientError(error: NodeJS.ErrnoException, socket: Duplex, maxHeaderBytes: number): void {
  // A response still being written on this connection (`_httpMessage`, as Node's own handler
  // checks) must not be interleaved with another: then the connection is only closed.
  const busy = (socket as Duplex & { _httpMessage?: unknown })._httpMessage;
  if (error.code === 'ECONNRESET' || !socket.writable || busy) {
    socket.destroy();
    return;
  }
  let status: number;
  let gatewayMessage: string;
  let failure: TributaryError;
  if (error.code === 'HPE_HEADER_OVERFLOW') {
    failure = new HeadersTooLargeError(maxHeaderBytes);
    status = 431;
    gatewayMessage = 'Request Header Fields Too Large';
  } else if (error.code === 'ERR_HTTP_REQUEST_TIMEOUT') {
    failure = new TimeoutError('The request did not arrive in time; send it again.');
    status = 408;
    gatewayMessage = 'Request Timeout';
  } else {
    failure = new InvalidArgumentError(`The request is not valid HTTP/1.1 (${error.code ?? error.message}).`);
    status = 400;
    gatewayMessage = 'Bad Request';
  }
  const { json } = refusalBody(gatewayMessage, failure);
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\n` +
      'content-type: application/json\r\n' +
      `content-length: ${Buffer.byteLength(json)}\r\n` +
      'connection: close\r\n\r\n' +
      json,
  );
}
