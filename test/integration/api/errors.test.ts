/**
 * Every refusal of the HTTP API: the status, the typed error body, and that nothing was
 * written (the partition's high watermark is unchanged after each refused produce).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { ROUTES } from '../../../sdk/src/api/routes.ts';
import { api } from '../../helpers/api.ts';
import { uniqueTopic } from '../../helpers/tributary.ts';

const topic = uniqueTopic('api-err');

async function highWatermarks(): Promise<number[]> {
  const described = await api('GET', `/v1/topics/${topic}`);
  expect(described.status).toBe(200);
  return described.body.partitions.map((p: { highWatermark: number }) => p.highWatermark);
}

function expectError(response: { status: number; body: unknown }, status: number, code: string) {
  expect(response.status).toBe(status);
  expect(response.body).toMatchObject({ error: { code, retriable: false, message: expect.any(String) } });
}

describe('HTTP API refusals', () => {
  beforeAll(async () => {
    const created = await api('POST', '/v1/topics', {
      topic,
      partitions: 2,
      configs: { 'max.message.bytes': 2048 },
    });
    expect(created.status).toBe(201);
    expect(
      (await api('POST', `/v1/topics/${topic}/records`, { records: [{ value: 'first', partition: 0 }] }))
        .status,
    ).toBe(200);
  });

  it('refuses unsigned requests on every route with 403, as API Gateway does', async () => {
    for (const route of ROUTES) {
      const path = route.path.replace(/\{[a-z]+\}/g, (p) => (p === '{partition}' ? '0' : 'x'));
      const response = await api(route.method, path, route.method === 'GET' ? undefined : {}, {
        signed: false,
      });
      // API Gateway's own body, and (from the local server) Tributary's envelope beside it.
      expect(response, `${route.method} ${route.path}`).toEqual({
        status: 403,
        body: {
          message: 'Forbidden',
          error: { code: 'ACCESS_DENIED', message: expect.any(String), retriable: false },
        },
      });
    }
  });

  it('answers unknown routes with 404 NOT_FOUND', async () => {
    expectError(await api('GET', '/v1/nothing-here'), 404, 'NOT_FOUND');
    expectError(await api('PUT', `/v1/topics/${topic}`), 404, 'NOT_FOUND');
  });

  it('refuses bad produce requests with 4xx and writes nothing', async () => {
    const before = await highWatermarks();
    const produce = (body: unknown) => api('POST', `/v1/topics/${topic}/records`, body);
    const bad = [
      {
        response: await produce('{"records": [ {"value": "x"'),
        status: 400,
        code: 'INVALID_ARGUMENT',
        says: /not valid JSON/,
      },
      {
        response: await produce({ records: [{ value: 42 }] }),
        status: 400,
        code: 'INVALID_ARGUMENT',
        says: /records\[0\]\.value/,
      },
      { response: await produce({ records: [] }), status: 400, code: 'INVALID_ARGUMENT', says: /records/ },
      {
        response: await produce({ records: [{ value: 'a' }], extra: 1 }),
        status: 400,
        code: 'INVALID_ARGUMENT',
        says: /extra/,
      },
      {
        response: await produce({
          records: [{ value: 'b2s=' }, { value: '%%%not base64' }],
          encoding: 'base64',
        }),
        status: 400,
        code: 'INVALID_ARGUMENT',
        says: /records\[1\]\.value is not valid base64/,
      },
      {
        response: await produce({
          records: [
            { value: 'ok', partition: 0 },
            { value: 'x'.repeat(4096), partition: 1 },
          ],
        }),
        status: 413,
        code: 'RECORD_TOO_LARGE',
        says: /2048/,
      },
      {
        response: await produce({ records: [{ value: 'a', partition: 7 }] }),
        status: 404,
        code: 'UNKNOWN_PARTITION',
        says: /7/,
      },
      {
        response: await produce({
          records: [
            { value: 'a', partition: 0 },
            { value: 'b', partition: 1 },
          ],
          expectedOffset: 1,
        }),
        status: 400,
        code: 'INVALID_ARGUMENT',
        says: /same partition/,
      },
      {
        response: await produce({ records: [{ value: 'a', partition: 0 }], expectedOffset: 5 }),
        status: 409,
        code: 'CONCURRENT_APPEND',
        says: /expected the next offset to be 5 but it is 1/,
      },
    ];
    for (const { response, status, code, says } of bad) {
      expectError(response, status, code);
      expect(response.body.error.message).toMatch(says);
    }
    expect(await highWatermarks()).toEqual(before);
  });

  it('refuses a body over the 6 MB Lambda payload limit with 413 REQUEST_TOO_LARGE, writing nothing', async () => {
    const before = await highWatermarks();
    const value = 'v'.repeat(1024 * 1024);
    const response = await api('POST', `/v1/topics/${topic}/records`, {
      records: Array.from({ length: 7 }, () => ({ value })),
    });
    expectError(response, 413, 'REQUEST_TOO_LARGE');
    expect(response.body.error.details).toMatchObject({ limitBytes: 6 * 1024 * 1024 });
    expect(await highWatermarks()).toEqual(before);
  });

  it('names unknown topics, partitions and groups with 404', async () => {
    expectError(
      await api('POST', '/v1/topics/no-such-topic/records', { records: [{ value: 'a' }] }),
      404,
      'TOPIC_NOT_FOUND',
    );
    expectError(
      await api('GET', '/v1/topics/no-such-topic/partitions/0/records?offset=0'),
      404,
      'TOPIC_NOT_FOUND',
    );
    expectError(
      await api('GET', `/v1/topics/${topic}/partitions/9/records?offset=0`),
      404,
      'UNKNOWN_PARTITION',
    );
    expectError(await api('GET', '/v1/groups/no-such-group'), 404, 'GROUP_NOT_FOUND');
    expectError(await api('GET', '/v1/topics/bad%20name'), 400, 'INVALID_TOPIC_NAME');
  });

  it('refuses bad fetches: missing or negative offset, a wait over 20 s, offsets out of range (416 with bounds)', async () => {
    expectError(await api('GET', `/v1/topics/${topic}/partitions/0/records`), 400, 'INVALID_ARGUMENT');
    expectError(
      await api('GET', `/v1/topics/${topic}/partitions/0/records?offset=-1`),
      400,
      'INVALID_ARGUMENT',
    );
    expectError(
      await api('GET', `/v1/topics/${topic}/partitions/0/records?offset=0&maxWaitMs=20001`),
      400,
      'INVALID_ARGUMENT',
    );
    expectError(
      await api('GET', `/v1/topics/${topic}/partitions/x/records?offset=0`),
      400,
      'INVALID_ARGUMENT',
    );
    const outOfRange = await api('GET', `/v1/topics/${topic}/partitions/0/records?offset=99`);
    expectError(outOfRange, 416, 'OFFSET_OUT_OF_RANGE');
    expect(outOfRange.body.error.details).toEqual({
      topic,
      partition: 0,
      offset: 99,
      logStartOffset: 0,
      highWatermark: 1,
    });
  });

  it('refuses bad administration: existing topic 409, bad configs and partition counts 400', async () => {
    expectError(await api('POST', '/v1/topics', { topic }), 409, 'TOPIC_ALREADY_EXISTS');
    expectError(
      await api('POST', '/v1/topics', { topic: uniqueTopic(), configs: { 'no.such': 1 } }),
      400,
      'INVALID_CONFIG',
    );
    expectError(
      await api('POST', `/v1/topics/${topic}/partitions`, { totalPartitions: 1 }),
      400,
      'INVALID_PARTITIONS',
    );
    expectError(
      await api('PATCH', `/v1/topics/${topic}/configs`, { configs: { 'retention.ms': 'soon' } }),
      400,
      'INVALID_CONFIG',
    );
  });

  it('refuses group calls with a session of another member, and commits beyond the high watermark', async () => {
    const joined = await api('POST', '/v1/groups/api-err-group/members', { topics: [topic] });
    expect(joined.status).toBe(200);
    const other = await api('POST', '/v1/groups/api-err-group/members/someone-else/heartbeat', {
      session: joined.body.session,
    });
    expectError(other, 409, 'INVALID_SESSION');
    expectError(
      await api('POST', `/v1/groups/api-err-group/members/${joined.body.memberId}/heartbeat`, {
        session: 'garbage',
      }),
      409,
      'INVALID_SESSION',
    );
    const lease = joined.body.assignment[0];
    const beyond = await api('POST', '/v1/groups/api-err-group/offsets', {
      memberId: joined.body.memberId,
      session: joined.body.session,
      offsets: [{ topic, partition: lease.partition, offset: 1000, epoch: lease.epoch }],
    });
    expectError(beyond, 416, 'OFFSET_OUT_OF_RANGE');
    expectError(
      await api('POST', '/v1/groups/bad group!/members', { topics: [topic] }),
      400,
      'INVALID_GROUP_ID',
    );
    await api('POST', `/v1/groups/api-err-group/members/${joined.body.memberId}/leave`, {
      session: joined.body.session,
    });
  });
});
