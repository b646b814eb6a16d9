/**
 * The local API verifies SigV4 as API Gateway's IAM authorizer does, and every refusal it makes
 * itself carries API Gateway's `{"message"}` text and Tributary's error envelope: correctly signed
 * requests (raw, presigned, and the SDK's own HTTP transport) pass; wrong secrets, unknown keys,
 * requests altered after signing, other scopes, stale or future dates and an unsigned host are
 * refused with 403 and write nothing; the parser's own refusals (431, 400) and API Gateway's
 * payload limit (413) come with the envelope too.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ApiServer, startApiServer } from '../../../local/api-server.ts';
import { AccessDeniedError, InvalidGroupIdError, Tributary } from '../../../sdk/src/index.ts';
import { api, rawHttp, type Signing, sign } from '../../helpers/api.ts';
import { testStackConfig } from '../../helpers/stack.ts';
import { testClient, uniqueTopic } from '../../helpers/tributary.ts';

const MISMATCH =
  'The request signature we calculated does not match the signature you provided. Check your AWS ' +
  'Secret Access Key and signing method. Consult the service documentation for details.';
const FAKE_SIGNATURE =
  'AWS4-HMAC-SHA256 Credential=test/20261124/us-east-1/execute-api/aws4_request, SignedHeaders=host, Signature=0';

const topic = uniqueTopic('sig');
const direct = testClient();
const admin = direct.admin();
afterAll(() => direct.close());

async function highWatermark(): Promise<number> {
  const described = await admin.describeTopic(topic);
  return described.partitions[0]!.highWatermark;
}

/** A 403 of the server itself: API Gateway's text and the ACCESS_DENIED envelope. */
function expectDenied(response: { status: number; body: unknown }, message: string | RegExp) {
  expect(response.status).toBe(403);
  expect(response.body).toEqual({
    message: typeof message === 'string' ? message : expect.stringMatching(message),
    error: { code: 'ACCESS_DENIED', message: expect.any(String), retriable: false },
  });
}

const produce = (signing: Signing, body: unknown = { records: [{ value: 'sent', partition: 0 }] }) =>
  api('POST', `/v1/topics/${topic}/records`, body, { signing });

describe('SigV4 verification of the local API', () => {
  beforeAll(async () => {
    await admin.createTopic({ topic, partitions: 1 });
  });

  it('serves a correctly signed request, in the header and in the presigned form', async () => {
    const before = await highWatermark();
    const produced = await produce({});
    expect(produced.status).toBe(200);
    expect(await highWatermark()).toBe(before + 1);
    // A route without query parameters: the handler is given the X-Amz-* parameters too, and the
    // routes that take a query refuse unknown ones.
    const presigned = await api('GET', '/v1/topics', undefined, { signing: { presignExpiresIn: 60 } });
    expect(presigned.status).toBe(200);
    expect(presigned.body.topics.map((t: { name: string }) => t.name)).toContain(topic);
    const expired = await api('GET', '/v1/topics', undefined, {
      signing: { presignExpiresIn: 60, signingDate: new Date(Date.now() - 2 * 60_000) },
    });
    expectDenied(expired, /^Signature expired: /);
  });

  it('accepts a signed session token (temporary credentials)', async () => {
    const response = await api('GET', `/v1/topics/${topic}`, undefined, {
      signing: { sessionToken: 'FwoGZXIvYXdzE' },
    });
    expect(response.status).toBe(200);
  });

  it.each<[string, Signing, string | RegExp]>([
    ['a wrong secret', { secretAccessKey: 'not-test' }, MISMATCH],
    [
      'an unknown access key',
      { accessKeyId: 'AKIAUNKNOWN', secretAccessKey: 'test' },
      'The security token included in the request is invalid.',
    ],
    [
      'a body changed after signing',
      { as: { body: { records: [{ value: 'signed', partition: 0 }] } } },
      MISMATCH,
    ],
    ['a path changed after signing', { as: { path: `/v1/topics/${topic}-other/records` } }, MISMATCH],
    ['a query added after signing', { as: { path: `/v1/topics/${topic}/records?x=1` } }, MISMATCH],
    ['another service', { service: 's3' }, "Credential should be scoped to correct service: 'execute-api'. "],
    [
      'another region',
      { region: 'eu-west-1' },
      "Credential should be scoped to a valid region, not 'eu-west-1'. ",
    ],
    [
      'a date 6 minutes old',
      { signingDate: new Date(Date.now() - 6 * 60_000) },
      /^Signature expired: \d{8}T\d{6}Z is now earlier than \d{8}T\d{6}Z \(\d{8}T\d{6}Z - 5 min\.\)$/,
    ],
    [
      'a date 6 minutes ahead',
      { signingDate: new Date(Date.now() + 6 * 60_000) },
      /^Signature not yet current: \d{8}T\d{6}Z is still later than \d{8}T\d{6}Z \(\d{8}T\d{6}Z \+ 5 min\.\)$/,
    ],
    [
      'host not signed',
      { signHost: false },
      "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.",
    ],
  ])('refuses a produce with %s with 403 and writes nothing', async (_, signing, message) => {
    const before = await highWatermark();
    expectDenied(await produce(signing), message);
    expect(await highWatermark()).toBe(before);
  });

  it('refuses a query changed after signing', async () => {
    const path = `/v1/topics/${topic}/partitions/0/records?offset=1`;
    const response = await api('GET', path, undefined, {
      signing: { as: { path: `/v1/topics/${topic}/partitions/0/records?offset=0` } },
    });
    expectDenied(response, MISMATCH);
  });

  it('refuses a method changed after signing (a GET turned into a DELETE), and the topic stays', async () => {
    const response = await api('DELETE', `/v1/topics/${topic}`, undefined, {
      signing: { as: { method: 'GET' } },
    });
    expectDenied(response, MISMATCH);
    expect((await admin.describeTopic(topic)).name).toBe(topic);
  });

  it('refuses unsigned and fake-signed requests with "Forbidden"', async () => {
    expectDenied(await api('GET', `/v1/topics/${topic}`, undefined, { signed: false }), 'Forbidden');
    const fake = await api('GET', `/v1/topics/${topic}`, undefined, {
      signed: false,
      headers: { authorization: FAKE_SIGNATURE },
    });
    expectDenied(fake, 'Forbidden');
  });

  it("keeps the SDK's HTTP transport working, encoded path parameters included, and maps refusals to AccessDeniedError", async () => {
    const http = testClient({ transport: 'http' });
    try {
      expect((await http.admin().describeTopic(topic)).name).toBe(topic);
      // `%20`, `%3A` and `%2F` in the signed path: the handler, not the signature check, refuses the name.
      await expect(http.admin().describeGroup('a group:/x')).rejects.toBeInstanceOf(InvalidGroupIdError);
    } finally {
      http.close();
    }
    const { apiUrl, region } = testStackConfig();
    const wrong = new Tributary({
      transport: 'http',
      endpoint: apiUrl,
      region,
      credentials: { accessKeyId: 'test', secretAccessKey: 'wrong' },
      retry: { deadlineMs: 1_000 },
    });
    try {
      const refused = await wrong
        .admin()
        .describeTopic(topic)
        .catch((error: unknown) => error);
      expect(refused).toBeInstanceOf(AccessDeniedError);
      expect((refused as AccessDeniedError).message).toContain('does not match');
    } finally {
      wrong.close();
    }
  });
});

describe("refusals of the server's HTTP layer", () => {
  const host = () => new URL(testStackConfig().apiUrl).host;

  it('answers a 20 KB request line with 431 and the envelope', async () => {
    const response = await rawHttp(
      `GET /v1/topics/${'a'.repeat(20 * 1024)} HTTP/1.1\r\nHost: ${host()}\r\n\r\n`,
    );
    expect(response.status).toBe(431);
    expect(response.headers['content-type']).toBe('application/json');
    expect(response.body).toEqual({
      message: 'Request Header Fields Too Large',
      error: {
        code: 'HEADERS_TOO_LARGE',
        message: expect.stringContaining('request line and headers'),
        retriable: false,
        details: { limitBytes: expect.any(Number) },
      },
    });
  });

  it('answers a malformed request with 400 and the envelope', async () => {
    const response = await rawHttp('NOT HTTP AT ALL\r\n\r\n');
    expect(response.status).toBe(400);
    expect(response.body).toEqual({
      message: 'Bad Request',
      error: { code: 'INVALID_ARGUMENT', message: expect.any(String), retriable: false },
    });
  });

  it('answers a declared payload over 10 MB with 413 and the envelope, before reading it', async () => {
    const url = new URL(`${testStackConfig().apiUrl}/v1/topics/${topic}/records`);
    const { headers } = await sign('POST', url, undefined, {});
    const lines = Object.entries(headers).map(([name, value]) => `${name}: ${value}\r\n`);
    const response = await rawHttp(
      `POST ${url.pathname} HTTP/1.1\r\nHost: ${url.host}\r\n${lines.join('')}content-length: ${11 * 1024 * 1024}\r\n\r\n`,
    );
    expect(response.status).toBe(413);
    expect(response.body).toEqual({
      message: 'Request Entity Too Large',
      error: {
        code: 'REQUEST_TOO_LARGE',
        message: expect.any(String),
        retriable: false,
        details: { sizeBytes: 11 * 1024 * 1024, limitBytes: 10 * 1024 * 1024 },
      },
    });
  });

  it.each(['%zz', '%FF', '%'])(
    'does not fail with a 500 on a path with malformed percent-encoding (%s)',
    async (bad) => {
      const response = await api('GET', `/v1/topics/${bad}`);
      expect(response.status).toBeLessThan(500);
      expect(response.body).toMatchObject({
        error: { code: expect.any(String), message: expect.any(String) },
      });
    },
  );
});

describe('a server started with its own options', () => {
  let presence: ApiServer;
  let custom: ApiServer;
  beforeAll(async () => {
    const { endpoint, region, tablePrefix, bucket } = testStackConfig();
    const connection = {
      endpoint,
      region,
      tablePrefix,
      bucket,
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    };
    presence = await startApiServer({ connection, port: 0, signatures: 'presence' });
    custom = await startApiServer({
      connection,
      port: 0,
      credentials: [{ accessKeyId: 'AKIACUSTOM', secretAccessKey: 'custom-secret' }],
    });
  });
  afterAll(() => Promise.all([presence?.stop(), custom?.stop()]));

  it("with verification off ('presence'), passes a fake signature but still refuses none", async () => {
    const fake = await api('GET', `/v1/topics/${topic}`, undefined, {
      baseUrl: presence.url,
      signed: false,
      headers: { authorization: FAKE_SIGNATURE },
    });
    expect(fake.status).toBe(200);
    expect(fake.body.name).toBe(topic);
    expectDenied(
      await api('GET', `/v1/topics/${topic}`, undefined, { baseUrl: presence.url, signed: false }),
      'Forbidden',
    );
  });

  it('with its own credentials, accepts only those', async () => {
    const signing = { accessKeyId: 'AKIACUSTOM', secretAccessKey: 'custom-secret' };
    expect(
      (await api('GET', `/v1/topics/${topic}`, undefined, { baseUrl: custom.url, signing })).status,
    ).toBe(200);
    expectDenied(
      await api('GET', `/v1/topics/${topic}`, undefined, { baseUrl: custom.url }),
      'The security token included in the request is invalid.',
    );
  });
});
