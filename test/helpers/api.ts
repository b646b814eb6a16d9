/**
 * Raw calls to the local HTTP API (the Lambda handler behind the test stack's API server), for
 * tests of the wire format and status codes. The local server verifies SigV4 signatures as API
 * Gateway does, so requests are signed for real with `@smithy/signature-v4` — by default as the
 * SDK's HTTP transport signs them against a loopback endpoint (`test`/`test`, `us-east-1`,
 * `execute-api`) — and can be signed wrongly on purpose, or sent as raw bytes.
 */
import { connect } from 'node:net';
import { Hash } from '@smithy/hash-node';
import { SignatureV4 } from '@smithy/signature-v4';
import { testStackConfig } from './stack.ts';

/** A response: status and parsed JSON body (undefined when empty). */
export interface ApiResponse {
  readonly status: number;
  // biome-ignore lint/suspicious/noExplicitAny: tests read arbitrary response fields
  readonly body: any;
}

/** How a request is signed; each default is what the SDK's HTTP transport does locally. */
export interface Signing {
  /** @default 'test' */
  readonly accessKeyId?: string;
  /** @default 'test' */
  readonly secretAccessKey?: string;
  /** Signed as `X-Amz-Security-Token`. @default none */
  readonly sessionToken?: string;
  /** @default 'us-east-1' */
  readonly region?: string;
  /** @default 'execute-api' */
  readonly service?: string;
  /** @default now */
  readonly signingDate?: Date;
  /** Whether `host` is among the signed headers. @default true */
  readonly signHost?: boolean;
  /**
   * Sign this method, path (with query) or body instead of the one sent: a request altered after
   * it was signed. @default what is sent
   */
  readonly as?: { readonly method?: string; readonly path?: string; readonly body?: unknown };
  /** Sign in the query (a presigned URL valid this many seconds) instead of the Authorization header. */
  readonly presignExpiresIn?: number;
}

/** Options of {@link api}. */
export interface ApiOptions {
  /** `false` sends no signature at all. @default true */
  readonly signed?: boolean;
  /** How to sign. @default as the SDK does */
  readonly signing?: Signing;
  /** Headers sent after signing (not signed), replacing any of the same name. */
  readonly headers?: Readonly<Record<string, string>>;
  /** The API's base URL. @default the test stack's API */
  readonly baseUrl?: string;
}

/** Calls the API; `body` is JSON-encoded unless it is already a string. */
export async function api(
  method: string,
  path: string,
  body?: unknown,
  options: ApiOptions = {},
): Promise<ApiResponse> {
  const base = options.baseUrl ?? testStackConfig().apiUrl;
  let url = new URL(`${base}${path}`);
  const text = encode(body);
  let headers: Record<string, string> = { 'content-type': 'application/json' };
  if (options.signed !== false) {
    const signing = options.signing ?? {};
    const as = signing.as ?? {};
    const signed = await sign(
      as.method ?? method,
      as.path === undefined ? url : new URL(`${base}${as.path}`),
      as.body === undefined ? text : encode(as.body),
      signing,
    );
    headers = { ...headers, ...signed.headers };
    if (signed.search !== undefined) url = new URL(`${url.origin}${url.pathname}?${signed.search}`);
  }
  const response = await fetch(url, {
    method,
    headers: { ...headers, ...options.headers },
    ...(text === undefined ? {} : { body: text }),
  });
  const raw = await response.text();
  return { status: response.status, body: raw === '' ? undefined : JSON.parse(raw) };
}

function encode(body: unknown): string | undefined {
  if (body === undefined) return undefined;
  return typeof body === 'string' ? body : JSON.stringify(body);
}

/**
 * The signature of a request: the headers to send (without `host`, which `fetch` sets itself), or
 * for a presigned request the query string to send instead.
 */
export async function sign(
  method: string,
  url: URL,
  body: string | undefined,
  signing: Signing,
): Promise<{ headers: Record<string, string>; search?: string }> {
  const signer = new SignatureV4({
    service: signing.service ?? 'execute-api',
    region: signing.region ?? 'us-east-1',
    credentials: {
      accessKeyId: signing.accessKeyId ?? 'test',
      secretAccessKey: signing.secretAccessKey ?? 'test',
      ...(signing.sessionToken === undefined ? {} : { sessionToken: signing.sessionToken }),
    },
    sha256: Hash.bind(null, 'sha256'),
  });
  const query: Record<string, string | string[]> = {};
  for (const [name, value] of url.searchParams) {
    const seen = query[name];
    query[name] = seen === undefined ? value : Array.isArray(seen) ? [...seen, value] : [seen, value];
  }
  const request = {
    method,
    protocol: url.protocol,
    hostname: url.hostname,
    ...(url.port ? { port: Number(url.port) } : {}),
    path: url.pathname,
    query,
    headers: {
      ...(signing.signHost === false ? {} : { host: url.host }),
      'content-type': 'application/json',
    },
    ...(body === undefined ? {} : { body }),
  };
  const signingDate = signing.signingDate ?? new Date();
  if (signing.presignExpiresIn !== undefined) {
    const presigned = await signer.presign(request, { signingDate, expiresIn: signing.presignExpiresIn });
    const search = Object.entries(presigned.query ?? {})
      .flatMap(([name, value]) =>
        (Array.isArray(value) ? value : [value]).map((v) => [name, v ?? ''] as const),
      )
      .map(([name, value]) => `${encodeURIComponent(name)}=${encodeURIComponent(value)}`)
      .join('&');
    return { headers: {}, search };
  }
  const signed = await signer.sign(request, { signingDate });
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(signed.headers)) {
    if (name.toLowerCase() !== 'host') headers[name] = value;
  }
  return { headers };
}

/** A response read off the wire. */
export interface RawResponse {
  readonly status: number;
  /** Header values by lower-case name. */
  readonly headers: Readonly<Record<string, string>>;
  // biome-ignore lint/suspicious/noExplicitAny: tests read arbitrary response fields
  readonly body: any;
}

/**
 * Sends `bytes` as they are on a new connection to the API and reads the response until the server
 * closes the connection: for requests `fetch` would refuse to send (malformed, oversized).
 */
export function rawHttp(bytes: string | Buffer, baseUrl = testStackConfig().apiUrl): Promise<RawResponse> {
  const { hostname, port } = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const socket = connect({ host: hostname, port: Number(port) }, () => socket.write(bytes));
    // A server that never answers fails the test instead of hanging it.
    socket.setTimeout(15_000, () => socket.destroy(new Error('no response from the API within 15 s')));
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.once('error', reject);
    socket.once('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const split = text.indexOf('\r\n\r\n');
      const [statusLine = '', ...lines] = text.slice(0, split < 0 ? text.length : split).split('\r\n');
      const headers: Record<string, string> = {};
      for (const line of lines) {
        const colon = line.indexOf(':');
        if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
      }
      const body = split < 0 ? '' : text.slice(split + 4);
      try {
        resolve({
          status: Number(statusLine.split(' ')[1]),
          headers,
          body: body === '' ? undefined : JSON.parse(body),
        });
      } catch (error) {
        reject(
          new Error(`The API's response is not one JSON body: ${JSON.stringify(text)}`, { cause: error }),
        );
      }
    });
  });
}
