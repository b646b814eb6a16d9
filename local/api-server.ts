/**
 * The HTTP API on the developer's machine: the very handler the Lambda function runs, behind a
 * `node:http` server that turns each request into an API Gateway HTTP API (payload v2) event.
 * Like API Gateway with IAM authorization, it refuses requests without a SigV4 `Authorization`
 * header (403 `{"message":"Forbidden"}`); like LocalStack, it does not verify the signature.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { type ApiHandler, createApiHandler } from '../functions/api/app.ts';
import { matchRoute } from '../functions/api/router.ts';
import { localTelemetry } from '../functions/telemetry.ts';
import { Tributary, type TributaryOptions } from '../sdk/src/client.ts';
import { StackNotReadyError } from '../sdk/src/errors.ts';

/** API Gateway's own payload limit: bigger requests are refused before any function runs. */
const GATEWAY_MAX_BYTES = 10 * 1024 * 1024;
/** The API function's timeout (API Gateway's integration limit is 30 s). */
const FUNCTION_TIMEOUT_MS = 29_000;

/** Options of {@link startApiServer}. */
export interface ApiServerOptions {
  /** Where the handler's SDK client connects (the local stack's edge). */
  readonly connection: TributaryOptions;
  /** Port; `0` picks a free one. */
  readonly port: number;
  /** Only loopback. @default '127.0.0.1' */
  readonly host?: '127.0.0.1';
}

/** A running local API. */
export interface ApiServer {
  /** Base URL, e.g. `http://127.0.0.1:4567` (routes start with `/v1/`). */
  readonly url: string;
  /** Stops accepting requests, ends idle connections and closes the SDK client. Idempotent. */
  stop(): Promise<void>;
}

/** Starts the API over a running stack. */
export async function startApiServer(options: ApiServerOptions): Promise<ApiServer> {
  const host = options.host ?? '127.0.0.1';
  const tributary = new Tributary(options.connection);
  const handler = createApiHandler(tributary, localTelemetry('ERROR'));
  // Aborted on stop: long-polls in progress answer at once instead of holding the shutdown.
  const stopping = new AbortController();
  const inFlight = new Set<Promise<void>>();
  const server = createServer((req, res) => {
    const served = serve(handler, req, res, stopping.signal).catch((error: unknown) => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ message: `Internal Server Error: ${String(error)}` }));
    });
    inFlight.add(served);
    void served.finally(() => inFlight.delete(served));
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
    tributary.close();
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
      })().finally(() => tributary.close());
      return stopped;
    },
  };
}

async function serve(
  handler: ApiHandler,
  req: IncomingMessage,
  res: ServerResponse,
  signal: AbortSignal,
): Promise<void> {
  const authorization = req.headers.authorization ?? '';
  if (!authorization.startsWith('AWS4-HMAC-SHA256 ')) {
    req.resume();
    return send(res, 403, { message: 'Forbidden' });
  }
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > GATEWAY_MAX_BYTES) {
    req.resume();
    return send(res, 413, { message: 'Request Entity Too Large' });
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > GATEWAY_MAX_BYTES) return send(res, 413, { message: 'Request Entity Too Large' });
    chunks.push(chunk as Buffer);
  }
  const started = Date.now();
  const result = await handler(toEvent(req, Buffer.concat(chunks)), {
    awsRequestId: randomUUID(),
    signal,
    getRemainingTimeInMillis: () => FUNCTION_TIMEOUT_MS - (Date.now() - started),
  });
  res.writeHead(result.statusCode ?? 200, result.headers as Record<string, string>);
  res.end(result.body ?? '');
}

function toEvent(req: IncomingMessage, body: Buffer): APIGatewayProxyEventV2 {
  const url = new URL(req.url ?? '/', 'http://localhost');
  const method = (req.method ?? 'GET').toUpperCase();
  const match = matchRoute(method, url.pathname);
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(',') : value;
  }
  const query: Record<string, string> = {};
  // API Gateway joins repeated query parameters with commas.
  for (const [name, value] of url.searchParams)
    query[name] = name in query ? `${query[name]},${value}` : value;
  const contentType = headers['content-type'] ?? '';
  const text = contentType === '' || /json|text/.test(contentType);
  const now = new Date();
  return {
    version: '2.0',
    routeKey: match ? `${match.route.method} ${match.route.path}` : '$default',
    rawPath: url.pathname,
    rawQueryString: url.search.replace(/^\?/, ''),
    headers,
    ...(Object.keys(query).length > 0 ? { queryStringParameters: query } : {}),
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
      routeKey: match ? `${match.route.method} ${match.route.path}` : '$default',
      stage: '$default',
      time: now.toUTCString(),
      timeEpoch: now.getTime(),
    },
  };
}

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}
