/**
 * A loopback HTTP server that records each request and answers as a test says, for unit tests of
 * the SDK's HTTP client itself (URLs, signatures, error mapping, batching). It stands in for the
 * API's wire, never for DynamoDB or S3.
 */
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A request as the server received it. */
export interface CapturedRequest {
  readonly method: string;
  /** Path and query as sent. */
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

/** How to answer: a status with a JSON (object) or raw (string) body, or `'hang-up'` to drop the connection. */
export type Reply = { readonly status: number; readonly body?: unknown } | 'hang-up';

/** A running capture server. */
export interface CaptureServer {
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  readonly requests: CapturedRequest[];
  close(): Promise<void>;
}

/** Starts a server on 127.0.0.1 (a free port) answering each request with `reply(request)`. */
export async function startCaptureServer(
  reply: (request: CapturedRequest) => Reply | Promise<Reply>,
): Promise<CaptureServer> {
  const requests: CapturedRequest[] = [];
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const request: CapturedRequest = {
      method: req.method ?? '',
      url: req.url ?? '',
      headers: req.headers,
      body: Buffer.concat(chunks).toString('utf8'),
    };
    requests.push(request);
    const answer = await reply(request);
    if (answer === 'hang-up') {
      req.socket.destroy();
      return;
    }
    if (answer.body === undefined) {
      res.writeHead(answer.status).end();
      return;
    }
    const text = typeof answer.body === 'string' ? answer.body : JSON.stringify(answer.body);
    res
      .writeHead(answer.status, { 'content-type': 'application/json', 'apigw-requestid': 'req-1' })
      .end(text);
  });
  await new Promise<void>((resolve) => server.listen({ host: '127.0.0.1', port: 0 }, resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
