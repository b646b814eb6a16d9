/**
 * Requests to a local API exactly as written: the request target, headers and body bytes go on the
 * wire untouched (no URL normalization, no re-encoding, bodies that are not UTF-8 or not JSON), and
 * are still signed for real with SigV4 — over the same raw target the local server signs again,
 * so a request that is malformed on purpose reaches the handler instead of failing the signature.
 * `test/helpers/api.ts` signs the WHATWG-normalized URL and a text body, which cannot express those.
 */
import { type Agent, request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { Hash } from '@smithy/hash-node';
import { SignatureV4 } from '@smithy/signature-v4';

/** A request as it goes on the wire. */
export interface WireRequest {
  readonly method: string;
  /** The target's path as sent (already percent-encoded or deliberately malformed). */
  readonly path: string;
  /** The raw query string without `?`; empty for none. */
  readonly query: string;
  /** `undefined` sends no `content-type` header. */
  readonly contentType: string | undefined;
  readonly body: Buffer | undefined;
  /** `false` sends the request without any signature. @default true */
  readonly signed?: boolean;
}

/** A response as read off the wire. */
export interface WireResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  /** The body as text (UTF-8). */
  readonly text: string;
}

/** Signing identity; the defaults are what the SDK signs with against a loopback endpoint. */
export interface WireSigning {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly region: string;
}

const DEFAULT_SIGNING: WireSigning = { accessKeyId: 'test', secretAccessKey: 'test', region: 'us-east-1' };

/** Characters `http.request` refuses in a path: such targets are written on a socket instead. */
const UNSENDABLE_BY_CLIENT = /[^\u0021-\u00ff]/;

/** The decoded query as the local server hands it to its signer (`URLSearchParams`, repeats as arrays). */
function signableQuery(raw: string): Record<string, string | string[]> {
  const query: Record<string, string | string[]> = {};
  for (const [name, value] of new URLSearchParams(raw)) {
    const seen = query[name];
    query[name] = seen === undefined ? value : Array.isArray(seen) ? [...seen, value] : [seen, value];
  }
  return query;
}

/** The headers to send for `request` to `host` (`127.0.0.1:port`), signed unless it says otherwise. */
export async function wireHeaders(
  request: WireRequest,
  host: string,
  signing: WireSigning = DEFAULT_SIGNING,
): Promise<Record<string, string>> {
  const headers: Record<string, string> = { host };
  if (request.contentType !== undefined) headers['content-type'] = request.contentType;
  if (request.signed === false) return headers;
  const [hostname = '', port] = host.split(':');
  const signer = new SignatureV4({
    service: 'execute-api',
    region: signing.region,
    credentials: { accessKeyId: signing.accessKeyId, secretAccessKey: signing.secretAccessKey },
    sha256: Hash.bind(null, 'sha256'),
  });
  const signed = await signer.sign(
    {
      method: request.method,
      protocol: 'http:',
      hostname,
      ...(port ? { port: Number(port) } : {}),
      path: request.path,
      query: signableQuery(request.query),
      headers,
      ...(request.body && request.body.length > 0 ? { body: new Uint8Array(request.body) } : {}),
    },
    { signingDate: new Date() },
  );
  return { ...(signed.headers as Record<string, string>) };
}

/** Sends `request` to the API at `baseUrl` (`http://127.0.0.1:port`) and reads the whole response. */
export async function sendWire(
  baseUrl: string,
  request: WireRequest,
  agent: Agent,
  signing: WireSigning = DEFAULT_SIGNING,
): Promise<WireResponse> {
  const { host, hostname, port } = new URL(baseUrl);
  const headers = await wireHeaders(request, host, signing);
  const target = request.query === '' ? request.path : `${request.path}?${request.query}`;
  const body = request.body ?? Buffer.alloc(0);
  if (UNSENDABLE_BY_CLIENT.test(target))
    return sendOnSocket(hostname, Number(port), request.method, target, headers, body);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: hostname,
        port: Number(port),
        method: request.method,
        path: target,
        agent,
        setHost: false,
        headers: { ...headers, ...(body.length > 0 ? { 'content-length': String(body.length) } : {}) },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.once('error', reject);
        res.once('end', () => {
          const flat: Record<string, string> = {};
          for (const [name, value] of Object.entries(res.headers)) {
            if (value !== undefined) flat[name] = Array.isArray(value) ? value.join(', ') : value;
          }
          resolve({
            status: res.statusCode ?? 0,
            headers: flat,
            text: Buffer.concat(chunks).toString('utf8'),
          });
        });
      },
    );
    // A server that never answers fails the test instead of hanging it.
    req.setTimeout(30_000, () =>
      req.destroy(new Error(`no response to ${request.method} ${target} within 30 s`)),
    );
    req.once('error', reject);
    req.end(body);
  });
}

/**
 * Writes a request whose target `http.request` would refuse (spaces, control or non-Latin-1
 * characters) on a fresh connection, closed after the response, and parses the response.
 */
function sendOnSocket(
  host: string,
  port: number,
  method: string,
  target: string,
  headers: Record<string, string>,
  body: Buffer,
): Promise<WireResponse> {
  return new Promise((resolve, reject) => {
    const head =
      `${method} ${target} HTTP/1.1\r\n` +
      Object.entries({ ...headers, 'content-length': String(body.length), connection: 'close' })
        .map(([name, value]) => `${name}: ${value}\r\n`)
        .join('') +
      '\r\n';
    const chunks: Buffer[] = [];
    const socket = connect({ host, port }, () =>
      socket.end(Buffer.concat([Buffer.from(head, 'utf8'), body])),
    );
    socket.setTimeout(30_000, () =>
      socket.destroy(new Error(`no response to ${method} ${target} within 30 s`)),
    );
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.once('error', reject);
    socket.once('close', () => {
      const raw = Buffer.concat(chunks);
      const split = raw.indexOf('\r\n\r\n');
      const head = raw.subarray(0, split < 0 ? raw.length : split).toString('latin1');
      const [statusLine = '', ...lines] = head.split('\r\n');
      const parsed: Record<string, string> = {};
      for (const line of lines) {
        const colon = line.indexOf(':');
        if (colon > 0) parsed[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
      }
      const rest = split < 0 ? Buffer.alloc(0) : raw.subarray(split + 4);
      resolve({
        status: Number(statusLine.split(' ')[1] ?? 0),
        headers: parsed,
        text: (parsed['transfer-encoding'] === 'chunked' ? dechunk(rest) : rest).toString('utf8'),
      });
    });
  });
}

/** The payload of a chunked body. */
function dechunk(body: Buffer): Buffer {
  const parts: Buffer[] = [];
  let at = 0;
  for (;;) {
    const eol = body.indexOf('\r\n', at);
    if (eol < 0) break;
    const size = Number.parseInt(body.subarray(at, eol).toString('latin1'), 16);
    if (!(size > 0)) break;
    parts.push(body.subarray(eol + 2, eol + 2 + size));
    at = eol + 2 + size + 2;
  }
  return Buffer.concat(parts);
}
