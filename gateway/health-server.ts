/**
 * The gateway's HTTP side listener: `GET /health` for load balancers (200 while serving, 503 while
 * stopping, so a target drains before it goes), `GET /metrics` for Prometheus-style scrapers.
 * Anything else is 404, and methods other than GET and HEAD 405.
 *
 * `/health` says whether this process serves Kafka clients; it does not probe DynamoDB or S3. A
 * storage outage affects every gateway alike, and failing the check would only make the load
 * balancer drop all of them, while clients are better served by the retriable error codes they
 * get meanwhile.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { listen } from './listen.ts';
import { PROMETHEUS_CONTENT_TYPE } from './prometheus.ts';

/** What `/health` reports. */
export interface HealthStatus {
  /** False once the gateway is stopping: answered 503. */
  readonly serving: boolean;
  /** Client connections open now. */
  readonly connections: number;
}

/** Options of {@link startHealthServer}. */
export interface HealthServerOptions {
  readonly host: string;
  /** 0 picks a free port. */
  readonly port: number;
  readonly status: () => HealthStatus;
  /** The `/metrics` body, in Prometheus' text format. */
  readonly metrics: () => string;
  /** Receives a line when the listener fails after it started. */
  readonly log: (line: string) => void;
}

/** A running health listener. */
export interface HealthServer {
  readonly host: string;
  readonly port: number;
  /** Stops listening and closes its connections (idle keep-alive ones included). */
  close(): Promise<void>;
}

export async function startHealthServer(options: HealthServerOptions): Promise<HealthServer> {
  const server = createServer((request, response) => answer(request, response, options));
  const address = await listen(server, options.host, options.port, 'The health listener');
  // A failing listen socket after start (rare) is reported, never a crash of the process.
  server.on('error', (error) => options.log(`health listener error: ${error.message}`));
  let closing: Promise<void> | undefined;
  return {
    ...address,
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closing;
    },
  };
}

function answer(request: IncomingMessage, response: ServerResponse, options: HealthServerOptions): void {
  const path = new URL(request.url ?? '/', 'http://gateway').pathname;
  const known = path === '/health' || path === '/metrics';
  if (!known) {
    send(response, 404, { error: `no such path: ${path}` });
  } else if (request.method !== 'GET' && request.method !== 'HEAD') {
    // HEAD is GET without a body (Node leaves the body out): probes that use it are answered alike.
    response.setHeader('Allow', 'GET, HEAD');
    send(response, 405, { error: `${request.method ?? '?'} is not allowed on ${path}: use GET` });
  } else if (path === '/metrics') {
    response.writeHead(200, { 'Content-Type': PROMETHEUS_CONTENT_TYPE, 'Cache-Control': 'no-store' });
    response.end(options.metrics());
  } else {
    const { serving, connections } = options.status();
    send(response, serving ? 200 : 503, { status: serving ? 'ok' : 'stopping', connections });
  }
}

function send(response: ServerResponse, status: number, body: Record<string, unknown>): void {
  response.writeHead(status, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' });
  response.end(JSON.stringify(body));
}
