/**
 * A loopback HTTP proxy between the SDK's HTTP client and the API that makes the network between
 * them misbehave, for tests of what a client can and cannot know after a request: it forwards a
 * request and then drops the response, holds it, resets the connection before forwarding, or
 * answers 502/504 itself (after forwarding, as a gateway that lost the function's answer does).
 * Requests and signatures pass through unchanged (the `host` header included), so the API verifies
 * the client's SigV4 signature as it would without the proxy. Given several APIs (instances over
 * the same tables), it sends requests to them in turn, so a retry reaches another instance.
 */
import { createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/** What the proxy does with one request. */
export type ProxyAction =
  /** Forward it and relay the response. */
  | { readonly kind: 'pass' }
  /** Forward it, wait for the API's response, then reset the client's connection: the response is lost. */
  | { readonly kind: 'drop-response' }
  /** Reset the client's connection without forwarding: the API never sees the request. */
  | { readonly kind: 'reset' }
  /** Forward it and relay the response after `ms`. */
  | { readonly kind: 'delay'; readonly ms: number }
  /** Forward it, then answer `status` (502 or 504) with API Gateway's body instead of the API's response. */
  | { readonly kind: 'gateway-error'; readonly status: 502 | 504 }
  /** Hold the request until `release` resolves, then forward it and relay the response. */
  | { readonly kind: 'hold'; readonly release: Promise<void> };

/** A request as the proxy sees it. */
export interface ProxiedRequest {
  readonly method: string;
  readonly url: string;
  readonly body: string;
}

/** Chooses the action for each request. */
export type ProxyRule = (request: ProxiedRequest) => ProxyAction;

/** What the proxy did, by action, and the API's statuses it saw (forwarded requests only). */
export interface ProxyCounts {
  pass: number;
  dropResponse: number;
  reset: number;
  delay: number;
  gatewayError: number;
  hold: number;
  /** Statuses of the API's responses, including those the client never got. */
  readonly statuses: number[];
}

/** A running proxy. */
export interface ChaosProxy {
  /** `http://127.0.0.1:<port>`: point the client's `endpoint` here. */
  readonly url: string;
  readonly counts: ProxyCounts;
  /** Replaces the rule (e.g. to stop injecting faults for the final reads). */
  setRule(rule: ProxyRule): void;
  close(): Promise<void>;
}

/** Starts a proxy to `targets` (API base URLs, used in turn) applying `rule` to each request. */
export async function startChaosProxy(
  targets: string | readonly string[],
  rule: ProxyRule,
): Promise<ChaosProxy> {
  const upstreams = (typeof targets === 'string' ? [targets] : targets).map((t) => new URL(t));
  let turn = 0;
  let current = rule;
  const counts: ProxyCounts = {
    pass: 0,
    dropResponse: 0,
    reset: 0,
    delay: 0,
    gatewayError: 0,
    hold: 0,
    statuses: [],
  };
  const sockets = new Set<Socket>();

  const forward = (req: IncomingMessage, body: Buffer) =>
    new Promise<{ status: number; headers: IncomingMessage['headers']; body: Buffer }>((resolve, reject) => {
      const upstream = upstreams[turn++ % upstreams.length]!;
      const out = httpRequest(
        {
          host: upstream.hostname,
          port: upstream.port,
          method: req.method,
          path: req.url,
          // Unchanged, `host` included: it is part of the client's signature.
          headers: req.headers,
        },
        (response) => {
          const chunks: Buffer[] = [];
          response.on('data', (chunk: Buffer) => chunks.push(chunk));
          response.once('end', () => {
            counts.statuses.push(response.statusCode ?? 0);
            resolve({
              status: response.statusCode ?? 0,
              headers: response.headers,
              body: Buffer.concat(chunks),
            });
          });
          response.once('error', reject);
        },
      );
      out.once('error', reject);
      out.end(body);
    });

  const relay = (res: ServerResponse, answer: Awaited<ReturnType<typeof forward>>) => {
    const headers = { ...answer.headers };
    delete headers['transfer-encoding'];
    res
      .writeHead(answer.status, { ...headers, 'content-length': String(answer.body.length) })
      .end(answer.body);
  };

  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    const action = current({ method: req.method ?? '', url: req.url ?? '', body: body.toString('utf8') });
    try {
      switch (action.kind) {
        case 'pass':
          counts.pass++;
          relay(res, await forward(req, body));
          return;
        case 'reset':
          counts.reset++;
          req.socket.destroy();
          return;
        case 'drop-response':
          counts.dropResponse++;
          await forward(req, body);
          req.socket.destroy();
          return;
        case 'delay': {
          counts.delay++;
          const answer = await forward(req, body);
          await new Promise((resolve) => setTimeout(resolve, action.ms));
          relay(res, answer);
          return;
        }
        case 'gateway-error': {
          counts.gatewayError++;
          await forward(req, body);
          const text = JSON.stringify({
            message: action.status === 502 ? 'Internal Server Error' : 'Endpoint request timed out',
          });
          res.writeHead(action.status, { 'content-type': 'application/json' }).end(text);
          return;
        }
        case 'hold':
          counts.hold++;
          await action.release;
          relay(res, await forward(req, body));
          return;
      }
    } catch {
      // The API went away under a forwarded request: the client sees a reset, as through a gateway.
      req.socket.destroy();
    }
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen({ host: '127.0.0.1', port: 0 }, resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    counts,
    setRule: (next) => {
      current = next;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      }),
  };
}

/** Probabilities of each fault (the rest of the requests pass). */
export interface FaultRates {
  readonly dropResponse: number;
  readonly reset: number;
  readonly delay: number;
  readonly gatewayError: number;
}

/**
 * A rule injecting faults at random from a seeded generator into the requests `applies` selects
 * (others pass): drop the response, reset, delay up to `maxDelayMs`, or a 502/504 after forwarding.
 */
export function randomFaults(
  random: () => number,
  rates: FaultRates,
  maxDelayMs: number,
  applies: (request: ProxiedRequest) => boolean = () => true,
): ProxyRule {
  return (request) => {
    if (!applies(request)) return { kind: 'pass' };
    const roll = random();
    let below = rates.dropResponse;
    if (roll < below) return { kind: 'drop-response' };
    below += rates.reset;
    if (roll < below) return { kind: 'reset' };
    below += rates.delay;
    if (roll < below) return { kind: 'delay', ms: Math.floor(random() * maxDelayMs) };
    below += rates.gatewayError;
    if (roll < below) return { kind: 'gateway-error', status: random() < 0.5 ? 502 : 504 };
    return { kind: 'pass' };
  };
}
