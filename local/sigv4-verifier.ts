/**
 * SigV4 verification for the local HTTP API, as API Gateway's IAM authorizer does it: the request
 * that arrived is signed again with `@smithy/signature-v4` (the signer the SDK's HTTP transport
 * uses) under the claimed date and the secret of the claimed access key, and the two signatures
 * are compared in constant time. Parsing and the scope and clock checks are pure functions.
 *
 * What is signed again is exactly what the API's handler will be given: the method, the path as
 * received (the signer normalizes and escapes it the way the client's signer did), the query as
 * the handler decodes it, the headers named in `SignedHeaders` with the values the handler sees,
 * and the body's bytes — so nothing the handler acts on can differ from what the caller signed.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { Hash } from '@smithy/hash-node';
import { SignatureV4 } from '@smithy/signature-v4';

/** An access key pair the local API accepts signatures from. */
export interface LocalCredential {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
}

/** The service every signature must be scoped to (API Gateway's). */
export const SIGV4_SERVICE = 'execute-api';
/** AWS's clock-skew rule: `X-Amz-Date` may be at most this far from the server's clock, either way. */
export const MAX_CLOCK_SKEW_MS = 5 * 60_000;
/** Longest validity of a presigned request (SigV4's one week). */
export const MAX_PRESIGNED_EXPIRES_S = 7 * 24 * 60 * 60;

const ALGORITHM = 'AWS4-HMAC-SHA256';
const TERMINATOR = 'aws4_request';
const CONTENT_SHA256 = 'x-amz-content-sha256';
const SECURITY_TOKEN = 'x-amz-security-token';
/** The query parameters of a presigned request that carry the signature itself. */
const PRESIGN_PARAMS = {
  algorithm: 'X-Amz-Algorithm',
  credential: 'X-Amz-Credential',
  date: 'X-Amz-Date',
  expires: 'X-Amz-Expires',
  signedHeaders: 'X-Amz-SignedHeaders',
  signature: 'X-Amz-Signature',
} as const;

/** API Gateway's own texts for the refusals (its `{"message": ...}` body), trailing spaces included. */
export const GATEWAY_MESSAGES = {
  forbidden: 'Forbidden',
  mismatch:
    'The request signature we calculated does not match the signature you provided. Check your AWS ' +
    'Secret Access Key and signing method. Consult the service documentation for details.',
  unknownKey: 'The security token included in the request is invalid.',
  hostUnsigned: "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.",
  noDate: "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.",
} as const;

/** Why a request was refused. */
export type RefusalReason =
  /** No SigV4 signature at all. */
  | 'missing'
  /** An Authorization header or presigned query that is not well-formed SigV4. */
  | 'malformed'
  /** The credential scope is not `<day of X-Amz-Date>/<region>/execute-api/aws4_request`. */
  | 'scope'
  /** `host` is not among the signed headers. */
  | 'host-unsigned'
  /** The access key is not one of the known credentials. */
  | 'unknown-key'
  /** `X-Amz-Date` is too old (or the presigned request has expired). */
  | 'expired'
  /** `X-Amz-Date` is too far in the future. */
  | 'not-yet-current'
  /** The signature is not the one the request and the key's secret give. */
  | 'mismatch';

/** A refused request: API Gateway's text and Tributary's explanation. */
export interface SignatureRefusal {
  readonly reason: RefusalReason;
  /** What API Gateway answers, word for word (its `{"message": ...}`). */
  readonly gatewayMessage: string;
  /** What went wrong and what to do, for Tributary's error envelope. */
  readonly detail: string;
}

/** The outcome of a verification. */
export type Verdict =
  | { readonly ok: true; readonly accessKeyId: string }
  | { readonly ok: false; readonly refusal: SignatureRefusal };

/** The parts of a credential (`AKID/20250101/us-east-1/execute-api/aws4_request`). */
export interface ParsedCredential {
  readonly accessKeyId: string;
  /** `YYYYMMDD`. */
  readonly date: string;
  readonly region: string;
  readonly service: string;
  readonly terminator: string;
}

/** The signature a request claims, from its Authorization header or its presigned query. */
export interface ClaimedSignature {
  readonly form: 'header' | 'query';
  readonly credential: ParsedCredential;
  /** Lower-case header names, in the order given. */
  readonly signedHeaders: readonly string[];
  /** 64 lower-case hex digits. */
  readonly signature: string;
  /** `X-Amz-Date` as sent (`YYYYMMDDTHHMMSSZ`). */
  readonly amzDate: string;
  /** The instant `amzDate` stands for. */
  readonly signedAt: Date;
  /** Validity of a presigned request, in seconds (query form only). */
  readonly expiresSeconds?: number;
}

/** The request as the server received it. */
export interface ReceivedRequest {
  readonly method: string;
  /** The request target as received, not decoded: path and query (Node's `req.url`). */
  readonly target: string;
  /** Header values by lower-case name, as Node gives them (`req.headers`). */
  readonly headers: Readonly<Record<string, string | readonly string[] | undefined>>;
  readonly body: Uint8Array;
}

/** The refusal of a request that carries no signature at all. */
export const UNSIGNED: SignatureRefusal = {
  reason: 'missing',
  gatewayMessage: GATEWAY_MESSAGES.forbidden,
  detail:
    'The request is not signed: every route needs an AWS SigV4 Authorization header (service execute-api)',
};

/** A parsed value, or why the request is refused. */
export type Parsed<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly refusal: SignatureRefusal };

function refused(
  reason: RefusalReason,
  gatewayMessage: string,
  detail: string,
): { ok: false; refusal: SignatureRefusal } {
  return { ok: false, refusal: { reason, gatewayMessage, detail } };
}

function malformed(detail: string): { ok: false; refusal: SignatureRefusal } {
  return refused('malformed', GATEWAY_MESSAGES.forbidden, detail);
}

/** Parses `AKID/YYYYMMDD/region/service/aws4_request`. */
export function parseCredential(value: string): ParsedCredential | undefined {
  const parts = value.split('/');
  if (parts.length !== 5 || parts.some((part) => part === '')) return undefined;
  const [accessKeyId, date, region, service, terminator] = parts as [string, string, string, string, string];
  if (!/^\d{8}$/.test(date)) return undefined;
  return { accessKeyId, date, region, service, terminator };
}

/** The instant of an `X-Amz-Date` (`YYYYMMDDTHHMMSSZ`), or undefined if it is not one. */
export function parseAmzDate(value: string): Date | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(value);
  if (!m) return undefined;
  const date = new Date(Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!));
  // Date.UTC rolls 20250230 over into March: only a date that formats back to itself is one.
  return formatAmzDate(date.getTime()) === value ? date : undefined;
}

/** `YYYYMMDDTHHMMSSZ` of an instant (ms since the epoch). */
export function formatAmzDate(ms: number): string {
  return new Date(ms)
    .toISOString()
    .replace(/\.\d{3}Z$/, 'Z')
    .replace(/[-:]/g, '');
}

/**
 * Parses an `Authorization: AWS4-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=...`
 * value into its credential, signed headers and signature.
 */
export function parseAuthorizationHeader(
  value: string,
): Parsed<Pick<ClaimedSignature, 'credential' | 'signedHeaders' | 'signature'>> {
  const space = value.indexOf(' ');
  const algorithm = space < 0 ? value : value.slice(0, space);
  if (algorithm !== ALGORITHM) {
    return malformed(
      `The Authorization header's scheme is "${algorithm}"; the API takes SigV4 with ${ALGORITHM} only`,
    );
  }
  const fields = new Map<string, string>();
  for (const part of value.slice(space + 1).split(',')) {
    const item = part.trim();
    const eq = item.indexOf('=');
    const name = eq < 0 ? item : item.slice(0, eq);
    if (eq < 0 || fields.has(name)) {
      return malformed(`The Authorization header has a malformed or repeated field "${name}"`);
    }
    fields.set(name, item.slice(eq + 1));
  }
  const credentialText = fields.get('Credential');
  const signedHeadersText = fields.get('SignedHeaders');
  const signature = fields.get('Signature');
  if (credentialText === undefined || signedHeadersText === undefined || signature === undefined) {
    return malformed('The Authorization header needs the fields Credential, SignedHeaders and Signature');
  }
  const unknown = [...fields.keys()].filter(
    (name) => !['Credential', 'SignedHeaders', 'Signature'].includes(name),
  );
  if (unknown.length > 0)
    return malformed(`The Authorization header has unknown fields: ${unknown.join(', ')}`);
  return claimedParts(credentialText, signedHeadersText, signature, 'The Authorization header');
}

function claimedParts(
  credentialText: string,
  signedHeadersText: string,
  signature: string,
  where: string,
): Parsed<Pick<ClaimedSignature, 'credential' | 'signedHeaders' | 'signature'>> {
  const credential = parseCredential(credentialText);
  if (!credential) {
    return malformed(
      `${where}'s Credential "${credentialText}" is not AKID/YYYYMMDD/region/service/aws4_request`,
    );
  }
  const signedHeaders = signedHeadersText.split(';');
  if (signedHeaders.some((name) => !/^[a-z0-9!#$%&'*+.^_`|~-]+$/.test(name))) {
    return malformed(
      `${where}'s SignedHeaders "${signedHeadersText}" is not a list of lower-case header names`,
    );
  }
  if (!/^[0-9a-f]{64}$/.test(signature)) {
    return malformed(`${where}'s Signature is not 64 lower-case hex digits`);
  }
  return { ok: true, value: { credential, signedHeaders, signature } };
}

/**
 * The credential scope check: the scope's date is the day of `X-Amz-Date`, its region the API's,
 * its service `execute-api` and its terminator `aws4_request` (the texts are AWS's).
 */
export function checkScope(
  credential: ParsedCredential,
  amzDate: string,
  region: string,
): SignatureRefusal | undefined {
  const scope = `${credential.date}/${credential.region}/${credential.service}/${credential.terminator}`;
  const wanted = `${amzDate.slice(0, 8)}/${region}/${SIGV4_SERVICE}/${TERMINATOR}`;
  const detail = `The signature's credential scope is ${scope}; this API takes ${wanted}`;
  if (credential.date !== amzDate.slice(0, 8)) {
    return {
      reason: 'scope',
      gatewayMessage:
        'Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: ' +
        `'${credential.date}' != '${amzDate.slice(0, 8)}', from '${amzDate}'.`,
      detail,
    };
  }
  if (credential.region !== region) {
    return {
      reason: 'scope',
      gatewayMessage: `Credential should be scoped to a valid region, not '${credential.region}'. `,
      detail,
    };
  }
  if (credential.service !== SIGV4_SERVICE) {
    return {
      reason: 'scope',
      gatewayMessage: `Credential should be scoped to correct service: '${SIGV4_SERVICE}'. `,
      detail,
    };
  }
  if (credential.terminator !== TERMINATOR) {
    return {
      reason: 'scope',
      gatewayMessage: `Credential should be scoped with a valid terminator: '${TERMINATOR}', not '${credential.terminator}'. `,
      detail,
    };
  }
  return undefined;
}

/**
 * AWS's clock rule: `X-Amz-Date` within {@link MAX_CLOCK_SKEW_MS} of the server's clock, either
 * way; a presigned request (`expiresSeconds`) is good from then until its expiry instead.
 */
export function checkClock(
  amzDate: string,
  signedAt: Date,
  nowMs: number,
  expiresSeconds?: number,
): SignatureRefusal | undefined {
  const now = formatAmzDate(nowMs);
  const signed = signedAt.getTime();
  if (signed > nowMs + MAX_CLOCK_SKEW_MS) {
    return {
      reason: 'not-yet-current',
      gatewayMessage: `Signature not yet current: ${amzDate} is still later than ${formatAmzDate(nowMs + MAX_CLOCK_SKEW_MS)} (${now} + 5 min.)`,
      detail: `The request was signed at ${amzDate}, more than 5 minutes after the server's clock (${now}): check the client's clock`,
    };
  }
  if (expiresSeconds !== undefined) {
    if (signed + expiresSeconds * 1000 < nowMs) {
      return {
        reason: 'expired',
        gatewayMessage: `Signature expired: ${amzDate} is now earlier than ${formatAmzDate(nowMs - expiresSeconds * 1000)} (${now} - ${expiresSeconds} sec.)`,
        detail: `The presigned request was signed at ${amzDate} for ${expiresSeconds} s and has expired (server clock ${now})`,
      };
    }
    return undefined;
  }
  if (signed < nowMs - MAX_CLOCK_SKEW_MS) {
    return {
      reason: 'expired',
      gatewayMessage: `Signature expired: ${amzDate} is now earlier than ${formatAmzDate(nowMs - MAX_CLOCK_SKEW_MS)} (${now} - 5 min.)`,
      detail: `The request was signed at ${amzDate}, more than 5 minutes before the server's clock (${now}): sign each request when it is sent, and check the client's clock`,
    };
  }
  return undefined;
}

/** The request's path (as received) and query string (without `?`), split without decoding. */
export function splitTarget(target: string): { readonly path: string; readonly query: string } {
  const q = target.indexOf('?');
  return q < 0 ? { path: target, query: '' } : { path: target.slice(0, q), query: target.slice(q + 1) };
}

/**
 * The query as the handler decodes it (`URLSearchParams`, as the server builds the event), as
 * the signer takes it: repeated names become arrays.
 */
export function queryOf(rawQuery: string): Record<string, string | string[]> {
  const query: Record<string, string | string[]> = {};
  for (const [name, value] of new URLSearchParams(rawQuery)) {
    const seen = query[name];
    query[name] = seen === undefined ? value : Array.isArray(seen) ? [...seen, value] : [seen, value];
  }
  return query;
}

function headerValue(headers: ReceivedRequest['headers'], name: string): string | undefined {
  const value = headers[name];
  if (value === undefined) return undefined;
  return typeof value === 'string' ? value : value.join(',');
}

function single(query: Record<string, string | string[]>, name: string): string | undefined {
  const value = query[name];
  return typeof value === 'string' ? value : undefined;
}

/**
 * The signature a request claims (header or presigned form) and its date, or why it has none
 * that can be checked. Both forms at once are refused, as AWS does.
 */
export function readClaim(request: Pick<ReceivedRequest, 'target' | 'headers'>): Parsed<ClaimedSignature> {
  const authorization = headerValue(request.headers, 'authorization');
  const query = queryOf(splitTarget(request.target).query);
  const presigned = PRESIGN_PARAMS.algorithm in query || PRESIGN_PARAMS.signature in query;
  if (authorization !== undefined && presigned) {
    return malformed(
      'The request is signed twice (an Authorization header and X-Amz-* query parameters); use one',
    );
  }
  if (authorization === undefined && !presigned) return { ok: false, refusal: UNSIGNED };
  if (authorization !== undefined) {
    const parts = parseAuthorizationHeader(authorization);
    if (!parts.ok) return parts;
    const amzDate = headerValue(request.headers, 'x-amz-date');
    if (amzDate === undefined) {
      return refused(
        'malformed',
        GATEWAY_MESSAGES.noDate,
        'The request has no X-Amz-Date header (the local API does not take a Date header instead)',
      );
    }
    const signedAt = parseAmzDate(amzDate);
    if (!signedAt) return malformed(`X-Amz-Date "${amzDate}" is not YYYYMMDDTHHMMSSZ`);
    return { ok: true, value: { form: 'header', ...parts.value, amzDate, signedAt } };
  }
  const fields: Record<keyof typeof PRESIGN_PARAMS, string | undefined> = {
    algorithm: single(query, PRESIGN_PARAMS.algorithm),
    credential: single(query, PRESIGN_PARAMS.credential),
    date: single(query, PRESIGN_PARAMS.date),
    expires: single(query, PRESIGN_PARAMS.expires),
    signedHeaders: single(query, PRESIGN_PARAMS.signedHeaders),
    signature: single(query, PRESIGN_PARAMS.signature),
  };
  const absent = (Object.keys(fields) as (keyof typeof PRESIGN_PARAMS)[]).filter(
    (key) => fields[key] === undefined,
  );
  if (absent.length > 0) {
    return malformed(
      `The presigned request needs each of ${Object.values(PRESIGN_PARAMS).join(', ')} once; ` +
        `missing or repeated: ${absent.map((key) => PRESIGN_PARAMS[key]).join(', ')}`,
    );
  }
  const { algorithm, credential, date, expires, signedHeaders, signature } = fields as Record<
    keyof typeof PRESIGN_PARAMS,
    string
  >;
  if (algorithm !== ALGORITHM)
    return malformed(`X-Amz-Algorithm is "${algorithm}"; the API takes ${ALGORITHM} only`);
  const parts = claimedParts(credential, signedHeaders, signature, 'The presigned request');
  if (!parts.ok) return parts;
  const signedAt = parseAmzDate(date);
  if (!signedAt) return malformed(`X-Amz-Date "${date}" is not YYYYMMDDTHHMMSSZ`);
  const expiresSeconds = Number(expires);
  if (!/^\d+$/.test(expires) || expiresSeconds < 1 || expiresSeconds > MAX_PRESIGNED_EXPIRES_S) {
    return malformed(
      `X-Amz-Expires "${expires}" is not a whole number of seconds from 1 to ${MAX_PRESIGNED_EXPIRES_S}`,
    );
  }
  return { ok: true, value: { form: 'query', ...parts.value, amzDate: date, signedAt, expiresSeconds } };
}

/** Options of {@link SigV4Verifier}. */
export interface SigV4VerifierOptions {
  /** The access key pairs whose signatures are accepted (an access key may appear with several secrets). */
  readonly credentials: readonly LocalCredential[];
  /** The region signatures must be scoped to. */
  readonly region: string;
  /** The server's clock (ms since the epoch). @default Date.now */
  readonly now?: () => number;
}

/**
 * Verifies SigV4 signatures (service `execute-api`) of requests as received, in the header form
 * and the presigned (query) form. A `Date` header cannot stand in for `X-Amz-Date`, and a signed
 * `date` header does not verify (the signer always signs `x-amz-date`, as every AWS SDK does).
 */
export class SigV4Verifier {
  readonly #secrets = new Map<string, string[]>();
  readonly #region: string;
  readonly #now: () => number;

  constructor(options: SigV4VerifierOptions) {
    for (const { accessKeyId, secretAccessKey } of options.credentials) {
      this.#secrets.set(accessKeyId, [...(this.#secrets.get(accessKeyId) ?? []), secretAccessKey]);
    }
    this.#region = options.region;
    this.#now = options.now ?? Date.now;
  }

  /**
   * Every check that needs no body: the claim's form, scope, signed host, known key and clock.
   * The server runs it before reading a body, so a request that cannot pass is refused at once.
   */
  precheck(request: Pick<ReceivedRequest, 'target' | 'headers'>): Parsed<ClaimedSignature> {
    const read = readClaim(request);
    if (!read.ok) return read;
    const claim = read.value;
    const scope = checkScope(claim.credential, claim.amzDate, this.#region);
    if (scope) return { ok: false, refusal: scope };
    if (!claim.signedHeaders.includes('host')) {
      return refused(
        'host-unsigned',
        GATEWAY_MESSAGES.hostUnsigned,
        `The signature covers ${claim.signedHeaders.join(', ')} but not host: sign the host header`,
      );
    }
    const { accessKeyId } = claim.credential;
    if (!this.#secrets.has(accessKeyId)) {
      return refused(
        'unknown-key',
        GATEWAY_MESSAGES.unknownKey,
        `The access key "${accessKeyId}" is not one the local API accepts (by default test/test, ` +
          "local/local, and AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY of the stack's environment; " +
          '`npm start -- --no-verify-signatures` turns verification off)',
      );
    }
    const clock = checkClock(claim.amzDate, claim.signedAt, this.#now(), claim.expiresSeconds);
    if (clock) return { ok: false, refusal: clock };
    return read;
  }

  /** Whether the request carries a valid signature by a known key; never throws for bad input. */
  async verify(request: ReceivedRequest): Promise<Verdict> {
    const checked = this.precheck(request);
    if (!checked.ok) return checked;
    const claim = checked.value;
    const { accessKeyId } = claim.credential;
    const secrets = this.#secrets.get(accessKeyId) ?? [];
    const mismatch = refused(
      'mismatch',
      GATEWAY_MESSAGES.mismatch,
      `The signature does not match the request signed with the secret of "${accessKeyId}": check the ` +
        'secret, and that the method, path, query, signed headers and body are sent exactly as signed',
    );
    if (
      claim.form === 'header' &&
      request.headers[SECURITY_TOKEN] !== undefined &&
      !claim.signedHeaders.includes(SECURITY_TOKEN)
    ) {
      // A token added after signing would otherwise ride along unauthenticated.
      return mismatch;
    }
    const signable = this.#signable(request, claim);
    if (!signable) return mismatch;
    for (const secretAccessKey of secrets) {
      const expected = await this.#signatureWith({ accessKeyId, secretAccessKey }, signable, claim);
      if (sameSignature(expected, claim.signature)) return { ok: true, accessKeyId };
    }
    return mismatch;
  }

  /** The request to sign again, or undefined when a signed header is absent (it cannot match). */
  #signable(request: ReceivedRequest, claim: ClaimedSignature): SignableRequest | undefined {
    const { path, query: rawQuery } = splitTarget(request.target);
    const query = queryOf(rawQuery);
    if (claim.form === 'query') {
      // The signer adds the signing parameters itself, from the date, key and expiry checked above.
      for (const name of Object.values(PRESIGN_PARAMS)) delete query[name];
    }
    const headers: Record<string, string> = {};
    for (const name of claim.signedHeaders) {
      const value = headerValue(request.headers, name);
      if (value === undefined) return undefined;
      headers[name] = value;
    }
    if (CONTENT_SHA256 in headers) {
      // The signer trusts this header as the body's hash: give it the hash of the body that arrived,
      // so a body changed after signing cannot pass under the original hash.
      headers[CONTENT_SHA256] = createHash('sha256').update(request.body).digest('hex');
    }
    return {
      method: request.method.toUpperCase(),
      protocol: 'http:',
      hostname: 'localhost',
      path,
      query,
      headers,
      ...(request.body.length > 0 ? { body: request.body } : {}),
    };
  }

  async #signatureWith(
    credentials: LocalCredential,
    request: SignableRequest,
    claim: ClaimedSignature,
  ): Promise<string> {
    const signer = new SignatureV4({
      service: SIGV4_SERVICE,
      region: this.#region,
      credentials,
      sha256: Hash.bind(null, 'sha256'),
      // Only what the client signed is signed again; the body's hash header, if any, is in `headers`.
      applyChecksum: false,
    });
    const signableHeaders = new Set(claim.signedHeaders);
    if (claim.form === 'query') {
      const presigned = await signer.presign(request, {
        signingDate: claim.signedAt,
        ...(claim.expiresSeconds === undefined ? {} : { expiresIn: claim.expiresSeconds }),
        signableHeaders,
        // Signed x-amz-* headers stay headers, as the client sent them.
        unhoistableHeaders: new Set(claim.signedHeaders.filter((name) => name.startsWith('x-amz-'))),
      });
      const signature = presigned.query?.[PRESIGN_PARAMS.signature];
      return typeof signature === 'string' ? signature : '';
    }
    const signed = await signer.sign(request, { signingDate: claim.signedAt, signableHeaders });
    return /Signature=([0-9a-f]{64})$/.exec(signed.headers.authorization ?? '')?.[1] ?? '';
  }
}

interface SignableRequest {
  readonly method: string;
  readonly protocol: string;
  readonly hostname: string;
  readonly path: string;
  readonly query: Record<string, string | string[]>;
  readonly headers: Record<string, string>;
  readonly body?: Uint8Array;
}

function sameSignature(expected: string, claimed: string): boolean {
  const a = Buffer.from(expected, 'utf8');
  const b = Buffer.from(claimed, 'utf8');
  return a.length === b.length && timingSafeEqual(a, b);
}
