/**
 * The HTTP client: URLs from the route table, SigV4 signing, responses to results and errors,
 * and which failures are retried (never an ambiguous produce). A loopback capture server stands
 * in for the API's wire.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { errorToResponse } from '../../../sdk/src/api/error-codec.ts';
import { routeOf } from '../../../sdk/src/api/routes.ts';
import {
  AccessDeniedError,
  ClientClosedError,
  InvalidArgumentError,
  OffsetOutOfRangeError,
  OutOfOrderSequenceError,
  ProduceInProgressError,
  ServiceUnavailableError,
  ThrottledError,
  TimeoutError,
} from '../../../sdk/src/errors.ts';
import { buildRequest, HttpClient, signingCredentials } from '../../../sdk/src/transport/http-client.ts';
import { type CaptureServer, type Reply, startCaptureServer } from '../../helpers/capture-server.ts';

const credentials = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' };
const retry = { baseDelayMs: 1, maxDelayMs: 2, deadlineMs: 2_000 };

let server: CaptureServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

/** A client of a capture server that answers with `replies` in turn (the last one repeats). */
async function clientReplying(...replies: Reply[]): Promise<{ client: HttpClient; server: CaptureServer }> {
  let i = 0;
  server = await startCaptureServer(() => replies[Math.min(i++, replies.length - 1)]!);
  return {
    client: new HttpClient({ endpoint: server.url, region: 'eu-west-1', credentials, retry }),
    server,
  };
}

describe('buildRequest', () => {
  it('fills path parameters, percent-encoding each one', () => {
    const built = buildRequest('https://api.example.com', routeOf('heartbeat'), {
      group: 'g/1 ü',
      member: 'm?#&',
    });
    expect(built.method).toBe('POST');
    expect(built.path).toBe('/v1/groups/g%2F1%20%C3%BC/members/m%3F%23%26/heartbeat');
    expect(built.url.href).toBe(
      'https://api.example.com/v1/groups/g%2F1%20%C3%BC/members/m%3F%23%26/heartbeat',
    );
  });

  it('keeps the endpoint base path (a stage) and writes the query as sorted strings, leaving out undefined', () => {
    const built = buildRequest(
      'https://abc.execute-api.us-east-1.amazonaws.com/prod/',
      routeOf('fetch'),
      { topic: 'orders', partition: 3 },
      { offset: 42, maxWaitMs: 20_000, maxRecords: undefined, encoding: 'base64' },
    );
    expect(built.path).toBe('/prod/v1/topics/orders/partitions/3/records');
    expect(built.query).toEqual({ offset: '42', maxWaitMs: '20000', encoding: 'base64' });
    expect(built.url.search).toBe('?encoding=base64&maxWaitMs=20000&offset=42');
    expect(built.body).toBeUndefined();
  });

  it('writes the body as JSON and refuses a missing path parameter', () => {
    expect(buildRequest('http://127.0.0.1:1', routeOf('createTopic'), {}, {}, { topic: 't' }).body).toBe(
      '{"topic":"t"}',
    );
    expect(() => buildRequest('http://127.0.0.1:1', routeOf('describeTopic'))).toThrow(InvalidArgumentError);
  });
});

describe('signingCredentials', () => {
  it('uses given credentials, else dummy ones for a loopback endpoint without environment credentials', () => {
    expect(signingCredentials('https://api.example.com', credentials)).toBe(credentials);
    const saved = { key: process.env.AWS_ACCESS_KEY_ID, profile: process.env.AWS_PROFILE };
    delete process.env.AWS_ACCESS_KEY_ID;
    delete process.env.AWS_PROFILE;
    try {
      expect(signingCredentials('http://127.0.0.1:4567', undefined)).toEqual({
        accessKeyId: 'test',
        secretAccessKey: 'test',
      });
      expect(signingCredentials('http://localhost:4567', undefined)).toEqual({
        accessKeyId: 'test',
        secretAccessKey: 'test',
      });
      // Anything else gets the standard chain (a provider function, resolved only when signing).
      expect(typeof signingCredentials('https://api.example.com', undefined)).toBe('function');
    } finally {
      if (saved.key !== undefined) process.env.AWS_ACCESS_KEY_ID = saved.key;
      if (saved.profile !== undefined) process.env.AWS_PROFILE = saved.profile;
    }
  });
});

describe('HttpClient', () => {
  it('signs every request with SigV4 for execute-api in the client region', async () => {
    const { client, server } = await clientReplying({ status: 201, body: { name: 'orders', partitions: 2 } });
    const result = await client.call('createTopic', { body: { topic: 'orders', partitions: 2 } });
    expect(result).toEqual({ name: 'orders', partitions: 2 });
    const [request] = server.requests;
    expect(request).toMatchObject({
      method: 'POST',
      url: '/v1/topics',
      body: '{"topic":"orders","partitions":2}',
    });
    const authorization = String(request!.headers.authorization);
    expect(authorization).toMatch(
      /^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/\d{8}\/eu-west-1\/execute-api\/aws4_request, SignedHeaders=[^,]*host[^,]*, Signature=[0-9a-f]{64}$/,
    );
    expect(authorization).toContain('content-type');
    expect(request!.headers['x-amz-date']).toMatch(/^\d{8}T\d{6}Z$/);
    expect(request!.headers['content-type']).toBe('application/json');
  });

  it('sends path parameters and query as built, and returns undefined for 204', async () => {
    const { client, server } = await clientReplying({ status: 204 });
    await expect(
      client.call('deleteGroup', { params: { group: 'g 1' }, query: { force: 'true' } }),
    ).resolves.toBeUndefined();
    expect(server.requests[0]).toMatchObject({
      method: 'DELETE',
      url: '/v1/groups/g%201?force=true',
      body: '',
    });
  });

  it('throws the error class our body names, with its fields', async () => {
    const { status, body } = errorToResponse(new OffsetOutOfRangeError('orders', 0, 99, 0, 10));
    const { client } = await clientReplying({ status, body });
    const error = await client
      .call('fetch', { params: { topic: 'orders', partition: 0 }, query: { offset: 99 } })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OffsetOutOfRangeError);
    expect(error).toMatchObject({ logStartOffset: 0, highWatermark: 10, offset: 99 });
  });

  it("maps API Gateway's 403 to AccessDeniedError without retrying", async () => {
    const { client, server } = await clientReplying({ status: 403, body: { message: 'Forbidden' } });
    await expect(client.call('listTopics')).rejects.toBeInstanceOf(AccessDeniedError);
    expect(server.requests).toHaveLength(1);
  });

  it('retries retriable failures of an idempotent operation until it succeeds', async () => {
    const { client, server } = await clientReplying(
      { status: 503, body: { message: 'Service Unavailable' } },
      'hang-up',
      { status: 504, body: { message: 'Gateway Timeout' } },
      { status: 200, body: { topics: [] } },
    );
    await expect(client.call('listTopics')).resolves.toEqual({ topics: [] });
    expect(server.requests).toHaveLength(4);
  });

  it('retries a produce without a producer id refused with 429 (nothing was written), not one met by a 503', async () => {
    const produced = { topic: 't', records: [{ partition: 0, offset: 0, timestamp: 1 }] };
    const { client, server } = await clientReplying(
      { status: 429, body: { message: 'Too Many Requests' } },
      { status: 200, body: produced },
    );
    await expect(
      client.call('produce', { params: { topic: 't' }, body: { records: [{ value: 'v' }] } }),
    ).resolves.toEqual(produced);
    expect(server.requests).toHaveLength(2);
    // A 503 may follow a write that landed (an integration timeout, a lost DynamoDB response).
    const unavailable = await clientReplying(
      { status: 503, body: errorToResponse(new ServiceUnavailableError('DynamoDB unavailable')).body },
      { status: 200, body: produced },
    );
    await expect(
      unavailable.client.call('produce', { params: { topic: 't' }, body: { records: [{ value: 'v' }] } }),
    ).rejects.toBeInstanceOf(ServiceUnavailableError);
    expect(unavailable.server.requests).toHaveLength(1);
  });

  it('surfaces a produce whose response was lost, without retrying, saying it may have been written', async () => {
    const { client, server } = await clientReplying('hang-up');
    const error = await client
      .call('produce', { params: { topic: 't' }, body: { records: [{ value: 'v' }] } })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ServiceUnavailableError);
    expect((error as Error).message).toContain('may or may not have been appended');
    expect(server.requests).toHaveLength(1);
  });

  it('does not retry a produce that met a gateway 502 or 504', async () => {
    for (const status of [502, 504]) {
      const { client, server } = await clientReplying({ status, body: { message: 'Bad' } });
      const error = await client
        .call('produce', { params: { topic: 't' }, body: { records: [{ value: 'v' }] } })
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(status === 502 ? ServiceUnavailableError : TimeoutError);
      expect(server.requests).toHaveLength(1);
      await server.close();
    }
  });

  it('retries an idempotent produce (with a producer id) after a lost response, a 502, a 504 and PRODUCE_IN_PROGRESS', async () => {
    const produced = { topic: 't', records: [{ partition: 0, offset: 0, timestamp: 1 }] };
    const { client, server } = await clientReplying(
      'hang-up',
      { status: 502, body: { message: 'Internal Server Error' } },
      { status: 504, body: { message: 'Endpoint request timed out' } },
      errorToResponse(new ProduceInProgressError('t', 0, '7', 0)),
      { status: 200, body: produced },
    );
    const body = {
      records: [{ value: 'v', partition: 0 }],
      producer: { id: '7', sequences: [{ partition: 0, sequence: 0 }] },
    };
    await expect(client.call('produce', { params: { topic: 't' }, body })).resolves.toEqual(produced);
    // Every attempt carried the same request.
    expect(server.requests).toHaveLength(5);
    expect(new Set(server.requests.map((r) => r.body))).toEqual(new Set([JSON.stringify(body)]));
  });

  it('does not retry an idempotent produce refused as out of order', async () => {
    const { client, server } = await clientReplying(
      errorToResponse(new OutOfOrderSequenceError('t', 0, '7', 5, 0)),
    );
    const body = {
      records: [{ value: 'v', partition: 0 }],
      producer: { id: '7', sequences: [{ partition: 0, sequence: 5 }] },
    };
    await expect(client.call('produce', { params: { topic: 't' }, body })).rejects.toBeInstanceOf(
      OutOfOrderSequenceError,
    );
    expect(server.requests).toHaveLength(1);
  });

  it('gives up on a request after its timeout, and gives a long-poll its wait plus a margin', async () => {
    server = await startCaptureServer(
      (request) =>
        new Promise((resolve) =>
          setTimeout(
            () => resolve({ status: 200, body: { topics: [] } }),
            request.url.includes('maxWaitMs') ? 400 : 300,
          ),
        ),
    );
    const client = new HttpClient({
      endpoint: server.url,
      region: 'us-east-1',
      credentials,
      retry: { ...retry, deadlineMs: 0 },
      timeoutMs: 100,
    });
    await expect(client.call('listTopics')).rejects.toBeInstanceOf(TimeoutError);
    // maxWaitMs=0 asks for no wait: the timeout stays 100 ms.
    await expect(
      client.call('fetch', { params: { topic: 't', partition: 0 }, query: { offset: 0, maxWaitMs: 0 } }),
    ).rejects.toBeInstanceOf(TimeoutError);
    await expect(
      client.call('fetch', { params: { topic: 't', partition: 0 }, query: { offset: 0, maxWaitMs: 200 } }),
    ).resolves.toEqual({ topics: [] });
  });

  it('retries throttling only until the retry deadline, then throws the last error', async () => {
    const { server } = await clientReplying({ status: 429, body: { message: 'Too Many Requests' } });
    const client = new HttpClient({
      endpoint: server.url,
      region: 'us-east-1',
      credentials,
      retry: { baseDelayMs: 5, maxDelayMs: 10, deadlineMs: 100 },
    });
    const started = Date.now();
    await expect(client.call('listGroups')).rejects.toBeInstanceOf(ThrottledError);
    expect(server.requests.length).toBeGreaterThan(1);
    expect(Date.now() - started).toBeLessThan(2_000);
  });
});

describe('HttpClient.close', () => {
  it('ends a call in flight with ClientClosedError, and refuses later calls', async () => {
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    server = await startCaptureServer(async () => {
      await held;
      return { status: 200, body: { topics: [] } };
    });
    const client = new HttpClient({ endpoint: server.url, region: 'eu-west-1', credentials, retry });
    const call = client.call('listTopics').catch((e: unknown) => e);
    while (server.requests.length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    client.close();
    expect(await call).toBeInstanceOf(ClientClosedError);
    await expect(client.call('listTopics')).rejects.toBeInstanceOf(ClientClosedError);
    release();
  });
});
