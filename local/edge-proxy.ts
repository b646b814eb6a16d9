/**
 * The LocalStack-style edge: one HTTP port in front of DynamoDB Local, the S3 emulator and the
 * local Lambda service, so a client only needs `AWS_ENDPOINT_URL`. Requests are routed by their
 * `x-amz-target` header (the DynamoDB and DynamoDB Streams JSON protocols always send it; S3 never
 * does), and Lambda's REST paths (`/2015-03-31/functions/...`) unless signed for S3. Bodies stream
 * through in both directions; headers, Host included, pass unchanged, so the emulators see what
 * the client sent (neither checks SigV4 signatures).
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

/** The error body each protocol's SDK parses into a readable error. */
function badGateway(upstream: Upstream, message: string): { contentType: string; body: string } {
  if (upstream === 'lambda') {
    // REST-JSON: without x-amzn-errortype the SDK takes the error's name from `__type`.
    return {
      contentType: 'application/json',
      body: JSON.stringify({ __type: 'BadGateway', Type: 'Service', message }),
    };
  }
  if (upstream === 'dynamodb') {
    return {
      contentType: 'application/x-amz-json-1.0',
      body: JSON.stringify({ __type: 'com.amazonaws.dynamodb.v20120810#BadGateway', message }),
    };
  }
  const escaped = message.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  return {
    contentType: 'application/xml',
    body: `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>BadGateway</Code><Message>${escaped}</Message></Error>`,
  };
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

  const forward = (req: IncomingMessage, res: ServerResponse): void => {
    const upstream = routeRequest(req.headers, req.url);
    const target = upstreams[upstream];
    if (target === undefined) {
      req.resume();
      const { contentType, body } = badGateway(
        upstream,
        'Tributary edge proxy: no local Lambda service behind this edge.',
      );
      res.writeHead(502, { 'content-type': contentType, 'content-length': Buffer.byteLength(body) });
      res.end(body);
      return;
    }
    const upstreamReq = httpRequest({
      host: target.host,
      port: target.port,
      method: req.method,
      path: req.url,
      // Node answered any `Expect: 100-continue` already; the body follows regardless.
      headers: forwardableHeaders(req.headers, ['expect']),
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
      const { contentType, body } = badGateway(
        upstream,
        `Tributary edge proxy: ${UPSTREAM_NAMES[upstream]} at ${target.host}:${target.port} is not reachable ` +
          `(${error.message}). Is the local stack still running?`,
      );
      res.writeHead(502, {
        'content-type': contentType,
        'content-length': Buffer.byteLength(body),
        connection: 'close',
      });
      res.end(body);
    });

    // The client went away before the response was complete: abandon the upstream exchange too.
    res.on('close', () => {
      if (!res.writableFinished) upstreamReq.destroy();
    });
    req.pipe(upstreamReq);
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
