/**
 * The local API's SigV4 verifier without a network: parsing the Authorization header and the
 * X-Amz-Date, the credential-scope and clock checks with AWS's texts, and verification of requests
 * signed by the SDK's own signer (`@smithy/signature-v4`) — including what a tampering client
 * could try: a changed body under the original `x-amz-content-sha256`, an added security token.
 */
import { createHash } from 'node:crypto';
import { Hash } from '@smithy/hash-node';
import { SignatureV4 } from '@smithy/signature-v4';
import { describe, expect, it } from 'vitest';
import {
  checkClock,
  checkScope,
  formatAmzDate,
  GATEWAY_MESSAGES,
  parseAmzDate,
  parseAuthorizationHeader,
  parseCredential,
  type ReceivedRequest,
  SigV4Verifier,
} from '../../../local/sigv4-verifier.ts';
import { routeOf } from '../../../sdk/src/api/routes.ts';
import { buildRequest } from '../../../sdk/src/transport/http-client.ts';

const NOW = Date.UTC(2026, 0, 15, 12, 0, 0);
const AMZ_NOW = '20260115T120000Z';
const SIGNATURE = 'a'.repeat(64);
const HOST = '127.0.0.1:4567';

describe('parseAuthorizationHeader', () => {
  it('reads the credential, the signed headers and the signature', () => {
    const parsed = parseAuthorizationHeader(
      `AWS4-HMAC-SHA256 Credential=AKID/20260115/us-east-1/execute-api/aws4_request, SignedHeaders=content-type;host;x-amz-date, Signature=${SIGNATURE}`,
    );
    expect(parsed).toEqual({
      ok: true,
      value: {
        credential: {
          accessKeyId: 'AKID',
          date: '20260115',
          region: 'us-east-1',
          service: 'execute-api',
          terminator: 'aws4_request',
        },
        signedHeaders: ['content-type', 'host', 'x-amz-date'],
        signature: SIGNATURE,
      },
    });
  });

  it('takes the fields without spaces after the commas too', () => {
    const parsed = parseAuthorizationHeader(
      `AWS4-HMAC-SHA256 Credential=k/20260115/us-east-1/execute-api/aws4_request,SignedHeaders=host,Signature=${SIGNATURE}`,
    );
    expect(parsed.ok).toBe(true);
  });

  it.each([
    ['another scheme', 'Bearer abc'],
    [
      'SigV4a',
      `AWS4-ECDSA-P256-SHA256 Credential=k/20260115/execute-api/aws4_request, SignedHeaders=host, Signature=${SIGNATURE}`,
    ],
    ['no fields', 'AWS4-HMAC-SHA256'],
    [
      'a missing Signature',
      'AWS4-HMAC-SHA256 Credential=k/20260115/us-east-1/execute-api/aws4_request, SignedHeaders=host',
    ],
    [
      'a repeated field',
      `AWS4-HMAC-SHA256 Credential=k/20260115/us-east-1/execute-api/aws4_request, SignedHeaders=host, Signature=${SIGNATURE}, Signature=${SIGNATURE}`,
    ],
    [
      'an unknown field',
      `AWS4-HMAC-SHA256 Credential=k/20260115/us-east-1/execute-api/aws4_request, SignedHeaders=host, Signature=${SIGNATURE}, Extra=1`,
    ],
    [
      'a short credential',
      `AWS4-HMAC-SHA256 Credential=k/20260115/us-east-1, SignedHeaders=host, Signature=${SIGNATURE}`,
    ],
    [
      'a fake signature',
      'AWS4-HMAC-SHA256 Credential=k/20260115/us-east-1/execute-api/aws4_request, SignedHeaders=host, Signature=0',
    ],
    [
      'upper-case signed headers',
      `AWS4-HMAC-SHA256 Credential=k/20260115/us-east-1/execute-api/aws4_request, SignedHeaders=Host, Signature=${SIGNATURE}`,
    ],
  ])('refuses %s as malformed, with API Gateway\'s "Forbidden"', (_, header) => {
    const parsed = parseAuthorizationHeader(header);
    expect(parsed.ok).toBe(false);
    if (parsed.ok) return;
    expect(parsed.refusal).toMatchObject({ reason: 'malformed', gatewayMessage: 'Forbidden' });
    expect(parsed.refusal.detail).not.toBe('');
  });
});

describe('parseCredential and parseAmzDate', () => {
  it('splits a credential into five non-empty parts with an 8-digit date', () => {
    expect(parseCredential('AKID/20260115/eu-west-1/s3/aws4_request')).toMatchObject({
      region: 'eu-west-1',
      service: 's3',
    });
    expect(parseCredential('AKID//us-east-1/execute-api/aws4_request')).toBeUndefined();
    expect(parseCredential('AKID/2026-01-15/us-east-1/execute-api/aws4_request')).toBeUndefined();
    expect(parseCredential('A/B/20260115/us-east-1/execute-api/aws4_request')).toBeUndefined();
  });

  it('reads YYYYMMDDTHHMMSSZ and nothing that only looks like it', () => {
    expect(parseAmzDate(AMZ_NOW)?.getTime()).toBe(NOW);
    expect(formatAmzDate(NOW)).toBe(AMZ_NOW);
    for (const bad of ['20260230T120000Z', '20260115T250000Z', '2026-01-15T12:00:00Z', '20260115T120000', ''])
      expect(parseAmzDate(bad), bad).toBeUndefined();
  });
});

describe('checkScope', () => {
  const scope = (text: string) => parseCredential(`AKID/${text}`)!;

  it('passes the day of X-Amz-Date, the region, execute-api and aws4_request', () => {
    expect(
      checkScope(scope('20260115/us-east-1/execute-api/aws4_request'), AMZ_NOW, 'us-east-1'),
    ).toBeUndefined();
  });

  it.each([
    [
      '20260114/us-east-1/execute-api/aws4_request',
      "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '20260114' != '20260115', from '20260115T120000Z'.",
    ],
    [
      '20260115/eu-west-1/execute-api/aws4_request',
      "Credential should be scoped to a valid region, not 'eu-west-1'. ",
    ],
    ['20260115/us-east-1/s3/aws4_request', "Credential should be scoped to correct service: 'execute-api'. "],
    [
      '20260115/us-east-1/execute-api/aws5_request',
      "Credential should be scoped with a valid terminator: 'aws4_request', not 'aws5_request'. ",
    ],
  ])("refuses %s with AWS's text", (text, message) => {
    const refusal = checkScope(scope(text), AMZ_NOW, 'us-east-1');
    expect(refusal).toMatchObject({ reason: 'scope', gatewayMessage: message });
    expect(refusal?.detail).toContain('20260115/us-east-1/execute-api/aws4_request');
  });
});

describe('checkClock', () => {
  const at = (ms: number) => ({ amz: formatAmzDate(ms), date: new Date(ms) });

  it('allows 5 minutes of skew either way', () => {
    for (const ms of [NOW, NOW - 300_000, NOW + 300_000]) {
      const { amz, date } = at(ms);
      expect(checkClock(amz, date, NOW), amz).toBeUndefined();
    }
  });

  it("refuses a date over 5 minutes old as expired, in AWS's words", () => {
    const { amz, date } = at(NOW - 301_000);
    expect(checkClock(amz, date, NOW)).toMatchObject({
      reason: 'expired',
      gatewayMessage:
        'Signature expired: 20260115T115459Z is now earlier than 20260115T115500Z (20260115T120000Z - 5 min.)',
    });
  });

  it('refuses a date over 5 minutes ahead as not yet current', () => {
    const { amz, date } = at(NOW + 301_000);
    expect(checkClock(amz, date, NOW)).toMatchObject({
      reason: 'not-yet-current',
      gatewayMessage:
        'Signature not yet current: 20260115T120501Z is still later than 20260115T120500Z (20260115T120000Z + 5 min.)',
    });
  });

  it('keeps a presigned request good until it expires, and no longer', () => {
    const { amz, date } = at(NOW - 3_600_000);
    expect(checkClock(amz, date, NOW, 3600)).toBeUndefined();
    expect(checkClock(amz, date, NOW + 1000, 3600)).toMatchObject({ reason: 'expired' });
    const ahead = at(NOW + 301_000);
    expect(checkClock(ahead.amz, ahead.date, NOW, 3600)).toMatchObject({ reason: 'not-yet-current' });
  });
});

describe('SigV4Verifier', () => {
  const verifier = new SigV4Verifier({
    credentials: [
      { accessKeyId: 'test', secretAccessKey: 'test' },
      { accessKeyId: 'rotated', secretAccessKey: 'old' },
      { accessKeyId: 'rotated', secretAccessKey: 'new' },
    ],
    region: 'us-east-1',
    now: () => NOW,
  });

  interface Signed {
    method: string;
    path: string;
    query: Record<string, string>;
    headers: Record<string, string>;
    body?: string;
  }

  /** Signs as the SDK's HttpClient does (its buildRequest, its signer settings). */
  async function signAsSdk(
    built: { method: string; path: string; query: Record<string, string>; body?: string | undefined },
    credentials = { accessKeyId: 'test', secretAccessKey: 'test' } as {
      accessKeyId: string;
      secretAccessKey: string;
      sessionToken?: string;
    },
  ): Promise<Signed> {
    const signer = new SignatureV4({
      service: 'execute-api',
      region: 'us-east-1',
      credentials,
      sha256: Hash.bind(null, 'sha256'),
    });
    const signed = await signer.sign(
      {
        method: built.method,
        protocol: 'http:',
        hostname: '127.0.0.1',
        port: 4567,
        path: built.path,
        query: { ...built.query },
        headers: { host: HOST, ...(built.body === undefined ? {} : { 'content-type': 'application/json' }) },
        ...(built.body === undefined ? {} : { body: built.body }),
      },
      { signingDate: new Date(NOW) },
    );
    return {
      method: built.method,
      path: built.path,
      query: built.query,
      headers: signed.headers,
      ...(built.body === undefined ? {} : { body: built.body }),
    };
  }

  function received(signed: Signed, changes: Partial<ReceivedRequest> = {}): ReceivedRequest {
    const search = Object.keys(signed.query)
      .sort()
      .map((name) => `${encodeURIComponent(name)}=${encodeURIComponent(signed.query[name]!)}`)
      .join('&');
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(signed.headers)) headers[name.toLowerCase()] = value;
    return {
      method: signed.method,
      target: `${signed.path}${search ? `?${search}` : ''}`,
      headers,
      body: Buffer.from(signed.body ?? ''),
      ...changes,
    };
  }

  const produce = buildRequest(
    `http://${HOST}`,
    routeOf('produce'),
    { topic: 'orders' },
    {},
    { records: [{ value: 'x' }] },
  );
  const fetchRecords = buildRequest(
    `http://${HOST}`,
    routeOf('fetch'),
    { topic: 'a topic/with:odd*chars', partition: 0 },
    { offset: 7, maxWaitMs: 0, encoding: 'base64' },
  );

  it('accepts what the SDK signs: a produce, and a fetch with encoded path parameters and a query', async () => {
    for (const built of [produce, fetchRecords]) {
      const verdict = await verifier.verify(received(await signAsSdk(built)));
      expect(verdict, built.path).toEqual({ ok: true, accessKeyId: 'test' });
    }
    expect(fetchRecords.path).toContain('a%20topic%2Fwith%3Aodd*chars');
  });

  it('tries each secret of an access key (a rotated key)', async () => {
    const verdict = await verifier.verify(
      received(await signAsSdk(produce, { accessKeyId: 'rotated', secretAccessKey: 'new' })),
    );
    expect(verdict).toEqual({ ok: true, accessKeyId: 'rotated' });
  });

  it('accepts a signed session token', async () => {
    const signed = await signAsSdk(produce, {
      accessKeyId: 'test',
      secretAccessKey: 'test',
      sessionToken: 'token-1',
    });
    expect(signed.headers['x-amz-security-token']).toBe('token-1');
    expect((await verifier.verify(received(signed))).ok).toBe(true);
  });

  it('refuses a session token added after signing', async () => {
    const signed = await signAsSdk(produce);
    const verdict = await verifier.verify(
      received(signed, { headers: { ...received(signed).headers, 'x-amz-security-token': 'added' } }),
    );
    expect(verdict).toMatchObject({
      ok: false,
      refusal: { reason: 'mismatch', gatewayMessage: GATEWAY_MESSAGES.mismatch },
    });
  });

  it('refuses a body changed after signing even though the signed x-amz-content-sha256 still names the old one', async () => {
    const signed = await signAsSdk(produce);
    expect(signed.headers['x-amz-content-sha256']).toBe(
      createHash('sha256').update(produce.body!).digest('hex'),
    );
    const tampered = received(signed, { body: Buffer.from('{"records":[{"value":"y"}]}') });
    expect(await verifier.verify(tampered)).toMatchObject({ ok: false, refusal: { reason: 'mismatch' } });
  });

  it.each([
    ['the method', (r: ReceivedRequest) => ({ ...r, method: 'PUT' })],
    ['the path', (r: ReceivedRequest) => ({ ...r, target: r.target.replace('orders', 'others') })],
    [
      'a signed header',
      (r: ReceivedRequest) => ({ ...r, headers: { ...r.headers, 'content-type': 'text/plain' } }),
    ],
    ['the host', (r: ReceivedRequest) => ({ ...r, headers: { ...r.headers, host: '127.0.0.1:9999' } })],
    ['a query added', (r: ReceivedRequest) => ({ ...r, target: `${r.target}?expectedOffset=3` })],
  ])('refuses a request whose %s changed after signing', async (_, change) => {
    const verdict = await verifier.verify(change(received(await signAsSdk(produce))));
    expect(verdict).toMatchObject({
      ok: false,
      refusal: { reason: 'mismatch', gatewayMessage: GATEWAY_MESSAGES.mismatch },
    });
  });

  it('refuses a changed query value', async () => {
    const signed = received(await signAsSdk(fetchRecords));
    const verdict = await verifier.verify({
      ...signed,
      target: signed.target.replace('offset=7', 'offset=8'),
    });
    expect(verdict).toMatchObject({ ok: false, refusal: { reason: 'mismatch' } });
  });

  it('refuses a wrong secret and an unknown key with their texts', async () => {
    const wrong = await verifier.verify(
      received(await signAsSdk(produce, { accessKeyId: 'test', secretAccessKey: 'nope' })),
    );
    expect(wrong).toMatchObject({
      ok: false,
      refusal: { reason: 'mismatch', gatewayMessage: GATEWAY_MESSAGES.mismatch },
    });
    const unknown = await verifier.verify(
      received(await signAsSdk(produce, { accessKeyId: 'who', secretAccessKey: 'test' })),
    );
    expect(unknown).toMatchObject({
      ok: false,
      refusal: {
        reason: 'unknown-key',
        gatewayMessage: 'The security token included in the request is invalid.',
      },
    });
  });

  it('refuses a signature that does not cover host', async () => {
    const signed = received(await signAsSdk(produce));
    const authorization = String(signed.headers.authorization).replace('content-type;host;', 'content-type;');
    const verdict = await verifier.verify({ ...signed, headers: { ...signed.headers, authorization } });
    expect(verdict).toMatchObject({
      ok: false,
      refusal: {
        reason: 'host-unsigned',
        gatewayMessage: "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.",
      },
    });
  });

  it('refuses requests without a signature, without X-Amz-Date, and with both forms', async () => {
    const signed = received(await signAsSdk(produce));
    const { authorization: _, ...unsigned } = signed.headers;
    expect(await verifier.verify({ ...signed, headers: unsigned })).toMatchObject({
      ok: false,
      refusal: { reason: 'missing', gatewayMessage: 'Forbidden' },
    });
    const { 'x-amz-date': __, ...undated } = signed.headers;
    expect(await verifier.verify({ ...signed, headers: undated })).toMatchObject({
      ok: false,
      refusal: { reason: 'malformed', gatewayMessage: GATEWAY_MESSAGES.noDate },
    });
    expect(
      await verifier.verify({ ...signed, target: `${signed.target}?X-Amz-Signature=${SIGNATURE}` }),
    ).toMatchObject({
      ok: false,
      refusal: { reason: 'malformed', gatewayMessage: 'Forbidden' },
    });
  });

  it('refuses a date over 5 minutes off before comparing signatures', async () => {
    const late = new SigV4Verifier({
      credentials: [{ accessKeyId: 'test', secretAccessKey: 'test' }],
      region: 'us-east-1',
      now: () => NOW + 360_000,
    });
    expect(await late.verify(received(await signAsSdk(produce)))).toMatchObject({
      ok: false,
      refusal: { reason: 'expired' },
    });
  });

  describe('presigned (query) form', () => {
    async function presign(
      expiresIn: number,
      credentials = { accessKeyId: 'test', secretAccessKey: 'test' },
    ): Promise<ReceivedRequest> {
      const signer = new SignatureV4({
        service: 'execute-api',
        region: 'us-east-1',
        credentials,
        sha256: Hash.bind(null, 'sha256'),
      });
      const presigned = await signer.presign(
        {
          method: 'GET',
          protocol: 'http:',
          hostname: '127.0.0.1',
          port: 4567,
          path: '/v1/topics/orders',
          query: {},
          headers: { host: HOST },
        },
        { signingDate: new Date(NOW - 60_000), expiresIn },
      );
      const search = Object.entries(presigned.query ?? {})
        .map(([name, value]) => `${encodeURIComponent(name)}=${encodeURIComponent(String(value))}`)
        .join('&');
      return {
        method: 'GET',
        target: `/v1/topics/orders?${search}`,
        headers: { host: HOST },
        body: Buffer.alloc(0),
      };
    }

    it('accepts a presigned request within its expiry', async () => {
      expect(await verifier.verify(await presign(300))).toEqual({ ok: true, accessKeyId: 'test' });
    });

    it('refuses it once expired, or with its signature or path changed', async () => {
      expect(await verifier.verify(await presign(30))).toMatchObject({
        ok: false,
        refusal: { reason: 'expired' },
      });
      const good = await presign(300);
      const signature = /X-Amz-Signature=([0-9a-f]{64})/.exec(good.target)![1]!;
      const flipped = signature.replace(/.$/, (c) => (c === '0' ? '1' : '0'));
      expect(
        await verifier.verify({ ...good, target: good.target.replace(signature, flipped) }),
      ).toMatchObject({
        ok: false,
        refusal: { reason: 'mismatch' },
      });
      expect(
        await verifier.verify({ ...good, target: good.target.replace('orders', 'others') }),
      ).toMatchObject({
        ok: false,
        refusal: { reason: 'mismatch' },
      });
      expect(
        await verifier.verify({
          ...good,
          target: good.target.replace(/X-Amz-Expires=\d+/, 'X-Amz-Expires=99999999'),
        }),
      ).toMatchObject({
        ok: false,
        refusal: { reason: 'malformed' },
      });
    });
  });
});
