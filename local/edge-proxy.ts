/**
 * The LocalStack-style edge: one HTTP port in front of DynamoDB Local, the S3 emulator and the
 * local Lambda service, so a client only needs `AWS_ENDPOINT_URL`. Requests are routed by their
 * `x-amz-target` header (the DynamoDB and DynamoDB Streams JSON protocols always send it; S3 never
 * does), and Lambda's REST paths (`/2015-03-31/functions/...`) unless signed for S3. Bodies stream
 * through in both directions; headers, Host included, pass unchanged, so the emulators see what
 * the client sent (neither checks SigV4 signatures). An optional DynamoDB guard (the MRSC mode of
 * a multi-region stack) reads each DynamoDB request whole first and may answer it with an error of
 * DynamoDB's own shape instead of forwarding it.
 */
import {
  Agent,
  createServer,
  request as httpRequest,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type OutgoingHttpHeaders,
  type ServerResponse,
} from 'node:http';
import { pipeline } from 'node:stream';
import { StackNotReadyError } from '../sdk/src/index.ts';
import { LAMBDA_PATH_PREFIX } from './lambda/invoke-wire.ts';

/** Where the edge sends a request. */
export type Upstream = 'dynamodb' | 's3' | 'lambda';

/** An emulator the edge forwards to. */
export interface UpstreamAddress {
  readonly host: string;
  readonly port: number;
}

/** A DynamoDB or DynamoDB Streams request as the edge received it, for a {@link DynamoDBGuard}. */
export interface DynamoDBRequest {
  /** The `x-amz-target` header, e.g. `DynamoDB_20120810.PutItem`. */
  readonly target: string;
  /** The JSON body, as sent. */
  readonly body: string;
}

/** An error the edge answers itself instead of forwarding a request, in DynamoDB's JSON error shape. */
export interface EdgeRefusal {
  /** HTTP status: 400 for a client error, 5xx for a (retriable) server error. */
  readonly status: number;
  /** The error's name, as DynamoDB's `__type` carries it (`ValidationException`). */
  readonly errorType: string;
  readonly message: string;
}

/** Decides, per DynamoDB request, whether the edge refuses it (returns the refusal) or forwards it. */
export type DynamoDBGuard = (request: DynamoDBRequest) => EdgeRefusal | undefined;

/** Options of {@link startEdgeProxy}. */
export interface EdgeProxyOptions {
  /** Loopback address to listen on. */
  readonly host: '127.0.0.1';
  /** Port to listen on; 0 picks a free one. */
  readonly port: number;
  /** Without `lambda`, Lambda requests are answered with 502. */
  readonly upstreams: Readonly<Record<'dynamodb' | 's3', UpstreamAddress>> & {
    readonly lambda?: UpstreamAddress;
  };
  /**
   * Consulted for every request routed to DynamoDB Local, once its body has arrived (such requests
   * are then buffered instead of streamed; DynamoDB's are at most 16 MB).
   * @default none: every request is forwarded, streaming
   */
  readonly dynamodbGuard?: DynamoDBGuard;
}

/** A running edge proxy. */
export interface EdgeProxy {
  /** `http://<host>:<port>`. */
  readonly endpoint: string;
  readonly port: number;
  /** Stops listening and closes open connections. Idempotent. */
  stop(): Promise<void>;
}

const DYNAMODB_TARGET_PREFIXES = ['DynamoDB_20120810', 'DynamoDBStreams_20120810'];

const UPSTREAM_NAMES: Record<Upstream, string> = {
  dynamodb: 'DynamoDB Local',
  s3: 'the S3 emulator',
  lambda: 'the local Lambda service',
};

/** The service in a SigV4 credential scope: `AKID/20250101/us-east-1/<service>/aws4_request`. */
const SCOPE_SERVICE = /\/\d{8}\/[^/]+\/([^/]+)\/aws4_request/;

/** The service a request was signed for (Authorization header, or a presigned URL's X-Amz-Credential). */
function signingService(headers: IncomingHttpHeaders, url: string): string | undefined {
  const authorization = headers.authorization ?? '';
  const credential = authorization.startsWith('AWS4-HMAC-SHA256')
    ? authorization
    : (URL.parse(url, 'http://edge')?.searchParams.get('X-Amz-Credential') ?? '');
  return SCOPE_SERVICE.exec(credential)?.[1];
}

/** Headers that describe one hop's connection, not the message (RFC 9110 §7.6.1). */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'upgrade', 'te', 'trailer']);

/**
 * DynamoDB and DynamoDB Streams requests go to DynamoDB Local, Lambda's paths to the Lambda
 * service (unless signed for S3: a path-style request to a bucket named `2015-03-31` stays S3's);
 * everything else is S3.
 */
export function routeRequest(headers: IncomingHttpHeaders, url = ''): Upstream {
  const target = headers['x-amz-target'];
  const value = Array.isArray(target) ? target[0] : target;
  if (value !== undefined && DYNAMODB_TARGET_PREFIXES.some((prefix) => value.startsWith(prefix))) {
    return 'dynamodb';
  }
  if (url.startsWith(LAMBDA_PATH_PREFIX) && signingService(headers, url) !== 's3') return 'lambda';
  return 's3';
}

/** Copies headers minus hop-by-hop ones (and those the `Connection` header names). */
export function forwardableHeaders(
  headers: IncomingHttpHeaders,
  drop: readonly string[] = [],
): OutgoingHttpHeaders {
  const named = (headers.connection ?? '')
    .split(',')
    .map((name) => name.trim().toLowerCase())
    .filter((name) => name !== '');
  const skip = new Set([...HOP_BY_HOP, ...named, ...drop]);
  const out: OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined && !skip.has(name)) out[name] = value;
  }
  return out;
}

/** DynamoDB's JSON error body: the SDK takes the error's name from `__type` after the `#`. */
function dynamodbError(errorType: string, message: string): { contentType: string; body: string } {
  return {
    contentType: 'application/x-amz-json-1.0',
    body: JSON.stringify({ __type: `com.amazonaws.dynamodb.v20120810#${errorType}`, message }),
  };
}

/** The error body each protocol's SDK parses into a readable error. */
function badGateway(upstream: Upstream, message: string): { contentType: string; body: string } {
  if (upstream === 'lambda') {
    // REST-JSON: without x-amzn-errortype the SDK takes the error's name from `__type`.
    return {
      contentType: 'application/json',
      body: JSON.stringify({ __type: 'BadGateway', Type: 'Service', message }),
    };
  }
  if (upstream === 'dynamodb') return dynamodbError('BadGateway', message);
  const escaped = message.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  return {
    contentType: 'application/xml',
    body: `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>BadGateway</Code><Message>${escaped}</Message></Error>`,
  };
}

/** Answers a request with an error the edge makes itself. */
function answer(
  res: ServerResponse,
  status: number,
  { contentType, body }: { contentType: string; body: string },
  extraHeaders: OutgoingHttpHeaders = {},
): void {
  res.writeHead(status, {
    'content-type': contentType,
    'content-length': Buffer.byteLength(body),
    ...extraHeaders,
  });
  res.end(body);
}

/**
 * Starts the edge on `host:port`.
 * @throws StackNotReadyError when the port cannot be bound (the `cause` carries the errno, e.g.
 * `EADDRINUSE`).
 */
export async function startEdgeProxy(options: EdgeProxyOptions): Promise<EdgeProxy> {
  const { host, upstreams } = options;
  const agents: Record<Upstream, Agent> = {
    dynamodb: new Agent({ keepAlive: true }),
    s3: new Agent({ keepAlive: true }),
    lambda: new Agent({ keepAlive: true }),
  };

  /** Sends `req` on to `upstream`: its body streamed, or `body` when it was read already. */
  const send = (
    req: IncomingMessage,
    res: ServerResponse,
    upstream: Upstream,
    target: UpstreamAddress,
    body?: Buffer,
  ): void => {
    const upstreamReq = httpRequest({
      host: target.host,
      port: target.port,
      method: req.method,
      path: req.url,
      // Node answered any `Expect: 100-continue` already; the body follows regardless. A body read
      // whole goes with its own length, whatever framing the client chose.
      headers:
        body === undefined
          ? forwardableHeaders(req.headers, ['expect'])
          : {
              ...forwardableHeaders(req.headers, ['expect', 'transfer-encoding', 'content-length']),
              'content-length': body.length,
            },
      agent: agents[upstream],
    });

    upstreamReq.on('response', (upstreamRes) => {
      res.writeHead(
        upstreamRes.statusCode ?? 502,
        upstreamRes.statusMessage,
        forwardableHeaders(upstreamRes.headers, ['transfer-encoding']),
      );
      pipeline(upstreamRes, res, (error) => {
        if (error) upstreamReq.destroy();
      });
    });

    upstreamReq.on('error', (error) => {
      if (res.headersSent) {
        res.destroy(error);
        return;
      }
      req.unpipe(upstreamReq);
      req.resume();
      answer(
        res,
        502,
        badGateway(
          upstream,
          `Tributary edge proxy: ${UPSTREAM_NAMES[upstream]} at ${target.host}:${target.port} is not reachable ` +
            `(${error.message}). Is the local stack still running?`,
        ),
        { connection: 'close' },
      );
    });

    // The client went away before the response was complete: abandon the upstream exchange too.
    res.on('close', () => {
      if (!res.writableFinished) upstreamReq.destroy();
    });
    if (body === undefined) req.pipe(upstreamReq);
    else upstreamReq.end(body);
  };

  /** Reads a DynamoDB request whole, and answers the guard's refusal or forwards it. */
  const guarded = (
    req: IncomingMessage,
    res: ServerResponse,
    guard: DynamoDBGuard,
    target: UpstreamAddress,
  ): void => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    // A client that goes away mid-body has no one to answer.
    req.on('error', () => res.destroy());
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const header = req.headers['x-amz-target'];
      const refusal = guard({
        target: (Array.isArray(header) ? header[0] : header) ?? '',
        body: body.toString('utf8'),
      });
      if (refusal) {
        answer(res, refusal.status, dynamodbError(refusal.errorType, refusal.message));
        return;
      }
      send(req, res, 'dynamodb', target, body);
    });
  };

  const forward = (req: IncomingMessage, res: ServerResponse): void => {
    const upstream = routeRequest(req.headers, req.url);
    const target = upstreams[upstream];
    if (target === undefined) {
      req.resume();
      answer(
        res,
        502,
        badGateway(upstream, 'Tributary edge proxy: no local Lambda service behind this edge.'),
      );
      return;
    }
    if (upstream === 'dynamodb' && options.dynamodbGuard !== undefined) {
      guarded(req, res, options.dynamodbGuard, target);
      return;
    }
    send(req, res, upstream, target);
  };

  const server = createServer(forward);
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => {
      const message =
        error.code === 'EADDRINUSE'
          ? `Port ${options.port} on ${host} is already in use (another Tributary stack or LocalStack?)`
          : `The edge proxy could not listen on ${host}:${options.port}: ${error.message}`;
      reject(new StackNotReadyError(message, error));
    });
    server.listen({ host, port: options.port, exclusive: true }, resolve);
  });
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : options.port;

  let stopping: Promise<void> | undefined;
  return {
    endpoint: `http://${host}:${port}`,
    port,
    stop: () => {
      stopping ??= new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
        agents.dynamodb.destroy();
        agents.s3.destroy();
        agents.lambda.destroy();
      });
      return stopping;
    },
  };
}
