/**
 * The HTTP API parses exactly what its OpenAPI document says and refuses the rest with a typed
 * 4xx in the error envelope — never a 500 — and a refused request writes nothing (no topic
 * created, configs and partition counts unchanged, high watermarks unchanged, no group made).
 *
 * Requests go through the local server (signed HTTP, the way a client sends them) and straight
 * to the Lambda handler with API Gateway's events (for what an HTTP client cannot send or the
 * local server rewrites: any content type, bytes that are not UTF-8, a `__proto__` query key,
 * API Gateway's `pathParameters` beside a malformed raw path).
 */
import { randomBytes } from 'node:crypto';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiHandler } from '../../../functions/api/app.ts';
import { findRoute } from '../../../functions/api/router.ts';
import { localTelemetry } from '../../../functions/telemetry.ts';
import { InvalidConfigError } from '../../../sdk/src/errors.ts';
import { TOPIC_CONFIGS } from '../../../sdk/src/topics/configs.ts';
import { type ApiResponse, api } from '../../helpers/api.ts';
import { testClient, testDirectTransport, uniqueTopic } from '../../helpers/tributary.ts';

const topic = uniqueTopic('strict');
const direct = testClient();
const admin = direct.admin();
const transport = testDirectTransport();
const handler = createApiHandler(transport, localTelemetry('SILENT'), { sessionKey: randomBytes(32) });
afterAll(() => {
  direct.close();
  transport.close();
});

interface EventOptions {
  /** Body text, or bytes (sent base64-encoded, as API Gateway sends a binary body). */
  readonly body?: string | Buffer;
  /** Header names lower-cased, as API Gateway gives them. @default content-type: application/json with a body */
  readonly headers?: Readonly<Record<string, string>>;
  /** Query parameters as API Gateway parses them (own properties, so `__proto__` stays a key). */
  readonly query?: Readonly<Record<string, string>>;
  /**
   * `gateway`: API Gateway matched the route and passes `pathParameters` (each segment decoded when
   * it can be, else raw); `$default`: the local server's fallback, the handler matches the path.
   * @default 'gateway'
   */
  readonly routing?: 'gateway' | '$default';
}

/** Calls the Lambda handler with the event API Gateway (HTTP API, payload v2) would deliver. */
async function invoke(method: string, path: string, options: EventOptions = {}): Promise<ApiResponse> {
  const route = options.routing === '$default' ? undefined : findRoute(method, path);
  const pathParameters: Record<string, string> = {};
  if (route) {
    const template = route.path.split('/');
    path.split('/').forEach((segment, i) => {
      const name = /^\{(\w+)\}$/.exec(template[i] ?? '')?.[1];
      if (!name) return;
      try {
        pathParameters[name] = decodeURIComponent(segment);
      } catch {
        pathParameters[name] = segment;
      }
    });
  }
  const body = options.body;
  const headers = options.headers ?? (body === undefined ? {} : { 'content-type': 'application/json' });
  const routeKey = route ? `${route.method} ${route.path}` : '$default';
  const result = await handler({
    version: '2.0',
    routeKey,
    rawPath: path,
    rawQueryString: new URLSearchParams(options.query ?? {}).toString(),
    headers: { ...headers },
    ...(options.query ? { queryStringParameters: options.query } : {}),
    ...(route ? { pathParameters } : {}),
    ...(body === undefined
      ? { isBase64Encoded: false }
      : typeof body === 'string'
        ? { body, isBase64Encoded: false }
        : { body: body.toString('base64'), isBase64Encoded: true }),
    requestContext: { http: { method }, requestId: 'strict-input', routeKey },
  } as unknown as APIGatewayProxyEventV2);
  const text = result.body ?? '';
  return { status: result.statusCode ?? 0, body: text === '' ? undefined : JSON.parse(text) };
}

/** A refusal: the status, the code, exactly the error envelope, and (optionally) what it says. */
function expectRefusal(response: ApiResponse, status: number, code: string, says?: RegExp): void {
  expect(response.status, JSON.stringify(response.body)).toBe(status);
  expect(Object.keys(response.body)).toEqual(['error']);
  const { error } = response.body;
  expect(error).toEqual({
    code,
    message: expect.any(String),
    retriable: false,
    ...(error.details === undefined ? {} : { details: expect.any(Object) }),
  });
  if (says) expect(error.message).toMatch(says);
}

async function highWatermarks(name = topic): Promise<number[]> {
  return (await admin.describeTopic(name)).partitions.map((p) => p.highWatermark);
}

async function topicExists(name: string): Promise<boolean> {
  return (await admin.listTopics()).some((t) => t.name === name);
}

async function groupExists(group: string): Promise<boolean> {
  return (await admin.listGroups()).some((g) => g.groupId === group);
}

/** Everything a refused request could have changed about the test topic. */
async function topicState() {
  const described = await admin.describeTopic(topic);
  return {
    partitions: described.partitions.length,
    highWatermarks: described.partitions.map((p) => p.highWatermark),
    configs: described.configs,
  };
}

/** A raw JSON body with `value` (JSON text) in place of the string "$". */
function withValue(template: unknown, value: string): string {
  return JSON.stringify(template).replace('"$"', value);
}

/** JSON texts that are not integers. */
const NOT_INTEGERS = ['true', 'false', '"1"', '"0x1"', 'null', '[1]', '{}', '1.5', '1e400', '-1.5'];

/** Percent-encodings `decodeURIComponent` refuses. */
const BAD_ENCODINGS = ['%zz', '%', 'a%', '%2', '%FF', '%C0%AF', '%E0%80%AF', '%ED%A0%80', '%C3'];

/** Integers in a query or path written any way but canonical decimal digits. */
const NON_CANONICAL = [
  '0x1',
  '',
  '1e3',
  '+1',
  '%201',
  '1%20',
  '01',
  '-0',
  '1.0',
  'Infinity',
  '1,2',
  '%EF%BC%91',
];

type Send = (method: string, path: string, body?: unknown) => Promise<ApiResponse>;
const viaServer: Send = (method, path, body) => api(method, path, body);
const viaHandler: Send = (method, path, body) => {
  const [pathname = '', search = ''] = path.split('?');
  const query = Object.fromEntries(new URLSearchParams(search));
  return invoke(method, pathname, {
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
    ...(search === '' ? {} : { query }),
  });
};

beforeAll(async () => {
  await admin.createTopic({ topic, partitions: 2, configs: { 'retention.ms': 3_600_000 } });
  await direct.producer({ lingerMs: 0 }).send({ topic, messages: [{ value: 'first', partition: 0 }] });
});

describe.each([
  ['the local server', viaServer],
  ['the Lambda handler', viaHandler],
])('through %s', (_, send) => {
  describe('malformed percent-encoding in a path segment is a 400, never a 500', () => {
    it.each(BAD_ENCODINGS)('%s in each parameter of each kind of route', async (bad) => {
      const before = await topicState();
      const group = `strict-${randomBytes(4).toString('hex')}`;
      const cases: [string, string, unknown?][] = [
        ['GET', `/v1/topics/${topic}${bad}`],
        ['DELETE', `/v1/topics/${topic}${bad}`],
        ['PATCH', `/v1/topics/${topic}${bad}/configs`, { configs: { 'retention.ms': 1000 } }],
        ['POST', `/v1/topics/${topic}${bad}/partitions`, { totalPartitions: 3 }],
        ['POST', `/v1/topics/${topic}${bad}/records`, { records: [{ value: 'x', partition: 0 }] }],
        ['GET', `/v1/topics/${topic}/partitions/${bad}/records?offset=0`],
        ['GET', `/v1/topics/${topic}/partitions/0${bad}/offsets`],
        ['GET', `/v1/groups/${group}${bad}`],
        ['POST', `/v1/groups/${group}${bad}/members`, { topics: [topic] }],
        ['POST', `/v1/groups/${group}/members/m${bad}/heartbeat`, { session: 'x' }],
        ['POST', `/v1/groups/${group}/members/m/topics/${topic}${bad}/records`, { session: 'x' }],
      ];
      for (const [method, path, body] of cases) {
        expectRefusal(await send(method, path, body), 400, 'INVALID_ARGUMENT', /percent-encoded UTF-8/);
      }
      expect(await topicState()).toEqual(before);
      expect(await groupExists(group)).toBe(false);
    });
  });

  describe('integers in queries and paths: canonical decimal digits only', () => {
    it.each(NON_CANONICAL)('refuses %j as an offset, a limit, a timestamp and a partition', async (text) => {
      const records = `/v1/topics/${topic}/partitions/0/records`;
      for (const [path, field] of [
        [`${records}?offset=${text}`, 'query.offset'],
        [`${records}?offset=0&maxRecords=${text}`, 'query.maxRecords'],
        [`${records}?offset=0&maxBytes=${text}`, 'query.maxBytes'],
        [`${records}?offset=0&maxWaitMs=${text}`, 'query.maxWaitMs'],
        [`/v1/topics/${topic}/partitions/0/offsets?timestamp=${text}`, 'query.timestamp'],
        [`/v1/topics/${topic}/partitions/${text}/records?offset=0`, 'path.partition'],
        [`/v1/topics/${topic}/partitions/${text}/offsets`, 'path.partition'],
      ] as const) {
        // An empty path segment matches no route: a 404, also typed.
        if (text === '' && field === 'path.partition') {
          expectRefusal(await send('GET', path), 404, 'NOT_FOUND');
          continue;
        }
        expectRefusal(
          await send('GET', path),
          400,
          'INVALID_ARGUMENT',
          new RegExp(field.replace('.', '\\.')),
        );
      }
    });

    it('takes canonical integers (as the SDK writes them) and refuses those out of range', async () => {
      const ok = await send(
        'GET',
        `/v1/topics/${topic}/partitions/0/records?offset=0&maxRecords=10&maxWaitMs=0`,
      );
      expect(ok.status).toBe(200);
      expect(ok.body.records).toHaveLength(1);
      expect((await send('GET', `/v1/topics/${topic}/partitions/1/offsets?timestamp=0`)).status).toBe(200);
      for (const path of [
        `/v1/topics/${topic}/partitions/0/records?offset=9007199254740992`,
        `/v1/topics/${topic}/partitions/0/records?offset=0&maxRecords=0`,
        `/v1/topics/${topic}/partitions/0/records?offset=0&maxWaitMs=20001`,
        `/v1/topics/${topic}/partitions/1000001/offsets`,
      ]) {
        expectRefusal(await send('GET', path), 400, 'INVALID_ARGUMENT');
      }
    });
  });

  describe('integers in JSON bodies: JSON integers only', () => {
    it.each(NOT_INTEGERS)('refuses %s for every numeric field, writing nothing', async (value) => {
      const before = await topicState();
      const created = uniqueTopic('strict-num');
      const group = `strict-${randomBytes(4).toString('hex')}`;
      expectRefusal(
        await send('POST', '/v1/topics', withValue({ topic: created, partitions: '$' }, value)),
        400,
        'INVALID_ARGUMENT',
        /body\.partitions/,
      );
      expectRefusal(
        await send('POST', `/v1/topics/${topic}/partitions`, withValue({ totalPartitions: '$' }, value)),
        400,
        'INVALID_ARGUMENT',
        /body\.totalPartitions/,
      );
      const produce = `/v1/topics/${topic}/records`;
      for (const [body, field] of [
        [{ records: [{ value: 'x', partition: '$' }] }, /records\[0\]\.partition/],
        [{ records: [{ value: 'x', partition: 0, timestamp: '$' }] }, /records\[0\]\.timestamp/],
        [{ records: [{ value: 'x', partition: 0 }], expectedOffset: '$' }, /expectedOffset/],
        [
          {
            records: [{ value: 'x', partition: 0 }],
            producer: { id: '1', sequences: [{ partition: 0, sequence: '$' }] },
          },
          /producer\.sequences\[0\]\.sequence/,
        ],
      ] as const) {
        expectRefusal(await send('POST', produce, withValue(body, value)), 400, 'INVALID_ARGUMENT', field);
      }
      const member = `/v1/groups/${group}/members/m`;
      for (const [path, body, field] of [
        [`/v1/groups/${group}/members`, { topics: [topic], sessionTimeoutMs: '$' }, /sessionTimeoutMs/],
        [
          `${member}/heartbeat`,
          { session: 's', release: [{ topic, partition: '$' }] },
          /release\[0\]\.partition/,
        ],
        [
          `/v1/groups/${group}/offsets`,
          { memberId: 'm', session: 's', offsets: [{ topic, partition: 0, offset: '$', epoch: 0 }] },
          /offsets\[0\]\.offset/,
        ],
        [
          `/v1/groups/${group}/offsets`,
          { memberId: 'm', session: 's', offsets: [{ topic, partition: 0, offset: 0, epoch: '$' }] },
          /offsets\[0\]\.epoch/,
        ],
        [`${member}/topics/${topic}/records`, { session: 's', maxRecords: '$' }, /maxRecords/],
        [`${member}/topics/${topic}/records`, { session: 's', maxBytes: '$' }, /maxBytes/],
        [`${member}/topics/${topic}/records`, { session: 's', maxWaitMs: '$' }, /maxWaitMs/],
        [
          `${member}/topics/${topic}/records`,
          { session: 's', positions: [{ partition: 0, offset: '$' }] },
          /positions\[0\]\.offset/,
        ],
      ] as const) {
        expectRefusal(await send('POST', path, withValue(body, value)), 400, 'INVALID_ARGUMENT', field);
      }
      expect(await topicExists(created)).toBe(false);
      expect(await groupExists(group)).toBe(false);
      expect(await topicState()).toEqual(before);
    });

    it('keeps the SDK codes for integers out of range: INVALID_PARTITIONS', async () => {
      const before = await topicState();
      for (const partitions of [0, -1, 5000]) {
        const created = uniqueTopic('strict-range');
        expectRefusal(
          await send('POST', '/v1/topics', { topic: created, partitions }),
          400,
          'INVALID_PARTITIONS',
        );
        expect(await topicExists(created)).toBe(false);
      }
      for (const totalPartitions of [1, 5000]) {
        expectRefusal(
          await send('POST', `/v1/topics/${topic}/partitions`, { totalPartitions }),
          400,
          'INVALID_PARTITIONS',
        );
      }
      expect(await topicState()).toEqual(before);
    });
  });

  describe('unknown keys in bodies and queries', () => {
    it('refuses them everywhere, writing nothing', async () => {
      const before = await topicState();
      const created = uniqueTopic('strict-keys');
      const bodies: [string, string, unknown][] = [
        ['POST', '/v1/topics', { topic: created, extra: 1 }],
        ['POST', '/v1/topics', { topic: created, partition: 2 }],
        ['PATCH', `/v1/topics/${topic}/configs`, { configs: { 'retention.ms': 1000 }, extra: true }],
        ['POST', `/v1/topics/${topic}/partitions`, { totalPartitions: 3, partitions: 3 }],
        ['POST', `/v1/topics/${topic}/records`, { records: [{ value: 'x', partition: 0 }], extra: 1 }],
        ['POST', `/v1/topics/${topic}/records`, { records: [{ value: 'x', partition: 0, offset: 5 }] }],
      ];
      for (const [method, path, body] of bodies) {
        expectRefusal(await send(method, path, body), 400, 'INVALID_ARGUMENT', /Unrecognized key/);
      }
      const queries = [
        `/v1/topics/${topic}?offsets=false&extra=1`,
        `/v1/topics/${topic}/partitions/0/records?offset=0&max=1`,
        `/v1/topics/${topic}/partitions/0/offsets?time=1`,
        '/v1/groups/nobody?x=1',
      ];
      for (const path of queries) expectRefusal(await send('GET', path), 400, 'INVALID_ARGUMENT');
      // Routes that take no query refuse any.
      expectRefusal(await send('GET', '/v1/topics?limit=10'), 400, 'INVALID_ARGUMENT', /takes no query/);
      expectRefusal(
        await send('DELETE', `/v1/topics/${topic}?force=true`),
        400,
        'INVALID_ARGUMENT',
        /takes no query/,
      );
      expect(await topicExists(created)).toBe(false);
      expect(await topicState()).toEqual(before);
    });

    it('refuses a body sent to a route that takes none, deleting nothing', async () => {
      expectRefusal(
        await send('DELETE', `/v1/topics/${topic}`, {}),
        400,
        'INVALID_ARGUMENT',
        /takes no body/,
      );
      expect(await topicExists(topic)).toBe(true);
    });
  });

  describe('topic configs: each key in its own type, unknown keys INVALID_CONFIG', () => {
    const BAD_VALUES: [string, string][] = [
      ['retention.ms', 'true'],
      ['retention.ms', '"1h"'],
      ['retention.ms', '" 1000"'],
      ['retention.ms', '"1e3"'],
      ['retention.ms', '"+5"'],
      ['retention.ms', '1.5'],
      ['retention.ms', '[1000]'],
      ['retention.ms', '{}'],
      ['segment.bytes', '"0x100000"'],
      ['segment.bytes', '1023'],
      ['remote.storage.enable', '1'],
      ['remote.storage.enable', '"yes"'],
      ['compression.type', '1'],
      ['compression.type', 'false'],
      ['compression.type', '"brotli"'],
      ['message.timestamp.type', '"Now"'],
      ['home.region', '5'],
    ];
    const BUILT_IN_KEYS = [
      'constructor',
      'toString',
      'hasOwnProperty',
      'valueOf',
      '__proto__',
      '__defineSetter__',
    ];
    const UNKNOWN_KEYS = [...BUILT_IN_KEYS, 'no.such.config', 'Retention.ms', ''];

    it.each(BAD_VALUES)('refuses %s = %s on create and alter, writing nothing', async (key, value) => {
      const before = await topicState();
      const created = uniqueTopic('strict-cfg');
      const configs = `{${JSON.stringify(key)}:${value}}`;
      for (const [method, path, body] of [
        ['POST', '/v1/topics', `{"topic":${JSON.stringify(created)},"configs":${configs}}`],
        ['PATCH', `/v1/topics/${topic}/configs`, `{"configs":${configs}}`],
      ] as const) {
        const response = await send(method, path, body);
        expectRefusal(response, 400, 'INVALID_CONFIG');
        expect(response.body.error.details).toEqual({ key });
      }
      expect(await topicExists(created)).toBe(false);
      expect(await topicState()).toEqual(before);
    });

    it.each(UNKNOWN_KEYS)(
      'refuses the unknown key %j on create, alter and reset, writing nothing',
      async (key) => {
        const before = await topicState();
        const created = uniqueTopic('strict-cfg');
        for (const [method, path, body] of [
          [
            'POST',
            '/v1/topics',
            `{"topic":${JSON.stringify(created)},"configs":{${JSON.stringify(key)}:"1"}}`,
          ],
          ['PATCH', `/v1/topics/${topic}/configs`, `{"configs":{${JSON.stringify(key)}:"1"}}`],
          ['PATCH', `/v1/topics/${topic}/configs`, `{"configs":{${JSON.stringify(key)}:null}}`],
          [
            'PATCH',
            `/v1/topics/${topic}/configs`,
            `{"configs":{"retention.ms":null,${JSON.stringify(key)}:null}}`,
          ],
        ] as const) {
          const response = await send(method, path, body);
          expectRefusal(response, 400, 'INVALID_CONFIG', /unknown config/);
          expect(response.body.error.details).toEqual({ key });
        }
        expect(await topicExists(created)).toBe(false);
        expect(await topicState()).toEqual(before);
      },
    );

    it('takes every key in each of its documented forms', async () => {
      const created = uniqueTopic('strict-cfg-ok');
      const response = await send('POST', '/v1/topics', {
        topic: created,
        configs: {
          'retention.ms': '7200000',
          'retention.bytes': -1,
          'remote.storage.enable': false,
          'segment.bytes': 1_048_576,
          'compression.type': 'zstd',
          'message.timestamp.type': 'LogAppendTime',
        },
      });
      expect(response.status).toBe(201);
      expect((await admin.describeTopic(created)).configs).toMatchObject({
        'retention.ms': '7200000',
        'remote.storage.enable': 'false',
        'segment.bytes': '1048576',
      });
      const altered = await send('PATCH', `/v1/topics/${created}/configs`, {
        configs: { 'remote.storage.enable': 'true', 'retention.ms': null },
      });
      expect(altered.status).toBe(204);
      expect((await admin.describeTopic(created)).configs).toMatchObject({
        'remote.storage.enable': 'true',
        'retention.ms': TOPIC_CONFIGS['retention.ms']!.default,
      });
      await admin.deleteTopic(created);
    });
  });

  describe('large and deep input is refused in a small answer', () => {
    it('a 4 MB topic name, config key and config value', async () => {
      const huge = 'x'.repeat(4 * 1024 * 1024);
      const name = await send('POST', '/v1/topics', { topic: `${huge}!` });
      expectRefusal(name, 400, 'INVALID_TOPIC_NAME');
      const key = await send('POST', '/v1/topics', {
        topic: uniqueTopic('strict-big'),
        configs: { [huge]: 1 },
      });
      expectRefusal(key, 400, 'INVALID_CONFIG', /unknown config/);
      const value = await send('PATCH', `/v1/topics/${topic}/configs`, { configs: { 'retention.ms': huge } });
      expectRefusal(value, 400, 'INVALID_CONFIG', /a string of 4194304 characters/);
      for (const response of [name, key, value])
        expect(JSON.stringify(response.body).length).toBeLessThan(20_000);
    });

    it('a config value nested a million levels deep', async () => {
      const before = await topicState();
      const deep = `${'['.repeat(1_000_000)}${']'.repeat(1_000_000)}`;
      const response = await send(
        'PATCH',
        `/v1/topics/${topic}/configs`,
        `{"configs":{"retention.ms":${deep}}}`,
      );
      expectRefusal(response, 400, 'INVALID_CONFIG', /an array is not an integer/);
      expect(await topicState()).toEqual(before);
    });

    it('10,000 bad records: the first problems, and how many more', async () => {
      const before = await topicState();
      const records = Array.from({ length: 10_000 }, () => ({ value: 1 }));
      const response = await send('POST', `/v1/topics/${topic}/records`, { records });
      expectRefusal(response, 400, 'INVALID_ARGUMENT', /records\[19\]\.value.*\(and 9980 more\)$/);
      expect(response.body.error.message).not.toMatch(/records\[20\]/);
      expect(await topicState()).toEqual(before);
    });
  });

  describe('duplicate keys, encodings and JSON shape of bodies', () => {
    it.each<[string, (created: string) => string]>([
      ['produce', () => '{"records":[{"value":"a","partition":0}],"records":[{"value":"b","partition":1}]}'],
      ['produce (escaped spelling)', () => '{"records":[{"value":"a","partition":0,"\\u0070artition":1}]}'],
      ['produce (header)', () => '{"records":[{"value":"a","partition":0,"headers":{"h":"1","h":"2"}}]}'],
      ['create', (created) => `{"topic":"${created}","topic":"${created}-2"}`],
      [
        'create (configs)',
        (created) => `{"topic":"${created}","configs":{"retention.ms":1000,"retention.ms":2000}}`,
      ],
      ['alter', () => '{"configs":{"retention.ms":1000,"retention.\\u006ds":2000}}'],
      ['grow', () => '{"totalPartitions":3,"totalPartitions":4}'],
    ])('refuses a duplicate key in %s, writing nothing', async (kind, body) => {
      const before = await topicState();
      const created = uniqueTopic('strict-dup');
      const path = kind.startsWith('produce')
        ? `/v1/topics/${topic}/records`
        : kind.startsWith('create')
          ? '/v1/topics'
          : kind === 'alter'
            ? `/v1/topics/${topic}/configs`
            : `/v1/topics/${topic}/partitions`;
      const method = kind === 'alter' ? 'PATCH' : 'POST';
      expectRefusal(await send(method, path, body(created)), 400, 'INVALID_ARGUMENT', /twice/);
      expect(await topicExists(created)).toBe(false);
      expect(await topicState()).toEqual(before);
    });

    it.each([
      ['a byte order mark', '\ufeff{"records":[{"value":"a","partition":0}]}', /byte order mark/],
      ['a top-level array', '[{"records":[{"value":"a","partition":0}]}]', /must be a JSON object/],
      ['a top-level string', '"records"', /must be a JSON object/],
      ['top-level null', 'null', /must be a JSON object/],
      ['invalid JSON', '{"records":[{"value":"a"', /not valid JSON/],
    ])('refuses %s, writing nothing', async (_, body, says) => {
      const before = await topicState();
      expectRefusal(await send('POST', `/v1/topics/${topic}/records`, body), 400, 'INVALID_ARGUMENT', says);
      expect(await topicState()).toEqual(before);
    });

    it.each([
      ['no padding', 'aGk'],
      ['base64url', '-_-_'],
      ['base64url among standard characters', 'ab_d'],
      ['non-zero trailing bits', 'aGl='],
      ['whitespace', 'aG k='],
      ['too much padding', 'aA==='],
    ])('refuses base64 with %s in a value, a key and a header, writing nothing', async (_, bad) => {
      const before = await topicState();
      const produce = (record: Record<string, unknown>) =>
        send('POST', `/v1/topics/${topic}/records`, {
          encoding: 'base64',
          records: [
            { value: 'b2s=', partition: 0 },
            { partition: 0, ...record },
          ],
        });
      for (const [record, field] of [
        [{ value: bad }, /records\[1\]\.value is not valid base64/],
        [{ value: 'b2s=', key: bad }, /records\[1\]\.key is not valid base64/],
        [{ value: 'b2s=', headers: { h: bad } }, /records\[1\]\.headers\.h is not valid base64/],
        [
          { value: 'b2s=', headers: { h: ['b2s=', bad] } },
          /records\[1\]\.headers\.h\[1\] is not valid base64/,
        ],
      ] as const) {
        expectRefusal(await produce(record), 400, 'INVALID_ARGUMENT', field);
      }
      expect(await topicState()).toEqual(before);
    });
  });
});

describe('the Lambda handler', () => {
  it.each(BAD_ENCODINGS)(
    'refuses %s in the raw path though API Gateway passed pathParameters',
    async (bad) => {
      const before = await topicState();
      // API Gateway matched the route and passed a parameter that decodes cleanly; the raw path says otherwise.
      const response = await handler({
        version: '2.0',
        routeKey: 'DELETE /v1/topics/{topic}',
        rawPath: `/v1/topics/${topic}${bad}`,
        rawQueryString: '',
        headers: {},
        pathParameters: { topic },
        isBase64Encoded: false,
        requestContext: { http: { method: 'DELETE' }, requestId: 'strict-input' },
      } as unknown as APIGatewayProxyEventV2);
      expectRefusal(
        { status: response.statusCode ?? 0, body: JSON.parse(response.body ?? '') },
        400,
        'INVALID_ARGUMENT',
        /percent-encoded UTF-8/,
      );
      expect(await topicState()).toEqual(before);
    },
  );

  it.each(BAD_ENCODINGS)(
    'refuses %s on the $default route (the local server could not match)',
    async (bad) => {
      expectRefusal(
        await invoke('GET', `/v1/topics/${topic}/partitions/${bad}/records`, {
          routing: '$default',
          query: { offset: '0' },
        }),
        400,
        'INVALID_ARGUMENT',
        /path parameter partition/,
      );
    },
  );

  describe('content type', () => {
    const body = JSON.stringify({ records: [{ value: 'a', partition: 1 }] });

    it.each([
      ['none', {}],
      ['text/plain', { 'content-type': 'text/plain' }],
      ['application/x-www-form-urlencoded', { 'content-type': 'application/x-www-form-urlencoded' }],
      ['application/jsonl', { 'content-type': 'application/jsonl' }],
      ['application/json-patch+json', { 'content-type': 'application/json-patch+json' }],
      ['text/json', { 'content-type': 'text/json' }],
      ['a Latin-1 charset', { 'content-type': 'application/json; charset=iso-8859-1' }],
      ['two types', { 'content-type': 'application/json, text/plain' }],
      ['an empty value', { 'content-type': '' }],
    ])('refuses %s with 415 UNSUPPORTED_MEDIA_TYPE, writing nothing', async (_, headers) => {
      const before = await topicState();
      const created = uniqueTopic('strict-ct');
      expectRefusal(
        await invoke('POST', `/v1/topics/${topic}/records`, { body, headers }),
        415,
        'UNSUPPORTED_MEDIA_TYPE',
      );
      expectRefusal(
        await invoke('POST', '/v1/topics', { body: JSON.stringify({ topic: created }), headers }),
        415,
        'UNSUPPORTED_MEDIA_TYPE',
      );
      expect(await topicExists(created)).toBe(false);
      expect(await topicState()).toEqual(before);
    });

    it.each([
      'application/json',
      'Application/JSON',
      'application/json; charset=utf-8',
      'application/json;charset=UTF-8',
      'application/json; charset="utf-8"',
      ' application/json ; foo=bar',
    ])('takes %j', async (contentType) => {
      const [before] = await highWatermarks();
      const response = await invoke('POST', `/v1/topics/${topic}/records`, {
        body: JSON.stringify({ records: [{ value: 'ct', partition: 0 }] }),
        headers: { 'content-type': contentType },
      });
      expect(response.status).toBe(200);
      expect((await highWatermarks())[0]).toBe(before! + 1);
    });
  });

  it.each([
    ['invalid UTF-8', Buffer.from('{"records":[{"value":"\xff","partition":0}]}', 'latin1')],
    [
      'an overlong UTF-8 form',
      Buffer.concat([
        Buffer.from('{"records":[{"value":"'),
        Buffer.from([0xc0, 0xaf]),
        Buffer.from('","partition":0}]}'),
      ]),
    ],
    [
      'a UTF-16 surrogate in UTF-8',
      Buffer.concat([
        Buffer.from('{"records":[{"value":"'),
        Buffer.from([0xed, 0xa0, 0x80]),
        Buffer.from('","partition":0}]}'),
      ]),
    ],
    [
      'a byte order mark',
      Buffer.concat([
        Buffer.from([0xef, 0xbb, 0xbf]),
        Buffer.from('{"records":[{"value":"a","partition":0}]}'),
      ]),
    ],
  ])('refuses a body with %s, writing nothing', async (_, bytes) => {
    const before = await topicState();
    expectRefusal(
      await invoke('POST', `/v1/topics/${topic}/records`, { body: bytes }),
      400,
      'INVALID_ARGUMENT',
      /UTF-8|byte order mark/,
    );
    expect(await topicState()).toEqual(before);
  });

  it('refuses a body on GET routes (which no HTTP client sends, but an event can carry)', async () => {
    expectRefusal(
      await invoke('GET', '/v1/topics', { body: '{}' }),
      400,
      'INVALID_ARGUMENT',
      /takes no body/,
    );
    expectRefusal(
      await invoke('GET', `/v1/topics/${topic}/partitions/0/records`, { body: '{}', query: { offset: '0' } }),
      400,
      'INVALID_ARGUMENT',
      /takes no body/,
    );
  });

  it('refuses a __proto__ query key as unknown, on routes with and without a query', async () => {
    const query = JSON.parse('{"offset":"0","__proto__":"1"}') as Record<string, string>;
    expectRefusal(
      await invoke('GET', `/v1/topics/${topic}/partitions/0/records`, { query }),
      400,
      'INVALID_ARGUMENT',
      /__proto__/,
    );
    expectRefusal(
      await invoke('GET', '/v1/topics', { query: JSON.parse('{"__proto__":"1"}') }),
      400,
      'INVALID_ARGUMENT',
      /__proto__/,
    );
  });

  it('clips an error response that would echo megabytes back', async () => {
    const name = 'q'.repeat(2 * 1024 * 1024);
    const response = await invoke('GET', '/v1/topics', { query: { [name]: '1' } });
    expectRefusal(
      response,
      400,
      'INVALID_ARGUMENT',
      /^GET \/v1\/topics takes no query parameters; got "q+…$/,
    );
    expect(JSON.stringify(response.body).length).toBeLessThan(20_000);
  });

  it('ignores the SigV4 presigning parameters (the authorizer reads them) and nothing else', async () => {
    const presign = {
      'X-Amz-Algorithm': 'AWS4-HMAC-SHA256',
      'X-Amz-Credential': 'test/20260101/us-east-1/execute-api/aws4_request',
      'X-Amz-Date': '20260101T000000Z',
      'X-Amz-Expires': '60',
      'X-Amz-SignedHeaders': 'host',
      'X-Amz-Signature': '0'.repeat(64),
    };
    expect((await invoke('GET', '/v1/topics', { query: presign })).status).toBe(200);
    expect((await invoke('GET', `/v1/topics/${topic}/partitions/0/offsets`, { query: presign })).status).toBe(
      200,
    );
    expectRefusal(
      await invoke('GET', '/v1/topics', { query: { ...presign, 'x-amz-signature': '0' } }),
      400,
      'INVALID_ARGUMENT',
    );
  });

  it('passes a record header named __proto__ through to the log', async () => {
    const response = await invoke('POST', `/v1/topics/${topic}/records`, {
      body: '{"records":[{"value":"proto","partition":1,"headers":{"__proto__":"p","h":"1"}}]}',
    });
    expect(response.status).toBe(200);
    const { offset } = response.body.records[0];
    const fetched = await invoke('GET', `/v1/topics/${topic}/partitions/1/records`, {
      query: { offset: String(offset), encoding: 'utf8', maxRecords: '1' },
    });
    expect(fetched.status).toBe(200);
    expect(fetched.body.records[0].headers).toEqual([
      { key: '__proto__', value: 'p' },
      { key: 'h', value: '1' },
    ]);
  });
});

describe('extremes within the documented ranges', () => {
  it('are answered without a 5xx', async () => {
    const extremeTopic = uniqueTopic('strict-extreme');
    await admin.createTopic({ topic: extremeTopic, partitions: 1 });
    const max = Number.MAX_SAFE_INTEGER;
    const calls: [string, string, unknown?][] = [
      ['POST', `/v1/topics/${extremeTopic}/records`, { records: [{ value: 'a', timestamp: max }] }],
      [
        'POST',
        `/v1/topics/${extremeTopic}/records`,
        {
          records: [
            { value: 'b', timestamp: 0 },
            { value: 'c', timestamp: max },
          ],
        },
      ],
      ['POST', `/v1/topics/${extremeTopic}/records`, { records: [{ value: 'd', partition: 1_000_000 }] }],
      [
        'POST',
        `/v1/topics/${extremeTopic}/records`,
        { records: [{ value: 'e', partition: 0 }], expectedOffset: max },
      ],
      [
        'GET',
        `/v1/topics/${extremeTopic}/partitions/0/records?offset=0&maxBytes=4194304&maxRecords=10000&encoding=utf8`,
      ],
      ['GET', `/v1/topics/${extremeTopic}/partitions/0/records?offset=${max}`],
      ['GET', `/v1/topics/${extremeTopic}/partitions/1000000/records?offset=0`],
      ['GET', `/v1/topics/${extremeTopic}/partitions/0/offsets?timestamp=${max}`],
      ['GET', `/v1/topics/${extremeTopic}/partitions/0/offsets?timestamp=0`],
      ['GET', `/v1/topics/${extremeTopic}`],
      ['POST', `/v1/topics/${extremeTopic}/partitions`, { totalPartitions: 4096 }],
      [
        'PATCH',
        `/v1/topics/${extremeTopic}/configs`,
        { configs: { 'retention.ms': max, 'retention.bytes': String(max) } },
      ],
      ['PATCH', `/v1/topics/${extremeTopic}/configs`, { configs: { 'retention.ms': -1, 'segment.ms': max } }],
      ['POST', '/v1/topics', { topic: uniqueTopic('strict-extreme'), partitions: 4096 }],
    ];
    for (const [method, path, body] of calls) {
      const response = await api(method, path, body);
      expect(response.status, `${method} ${path}: ${JSON.stringify(response.body)}`).toBeLessThan(500);
    }
    const read = await api('GET', `/v1/topics/${extremeTopic}/partitions/0/records?offset=0&encoding=utf8`);
    expect(read.status).toBe(200);
    expect(read.body.records.map((r: { timestamp: number }) => r.timestamp)).toEqual([max, 0, max]);
  });
});

describe("the SDK's direct admin", () => {
  it.each(['no.such.config', 'constructor', '__proto__'])(
    'refuses resetting the unknown config %j, changing nothing',
    async (key) => {
      const before = await topicState();
      const changes = JSON.parse(`{"retention.ms":null,${JSON.stringify(key)}:null}`);
      const refused = await admin.alterTopicConfigs(topic, changes).catch((error: unknown) => error);
      expect(refused).toBeInstanceOf(InvalidConfigError);
      expect(refused).toMatchObject({ key });
      expect(await topicState()).toEqual(before);
    },
  );

  it.each(['constructor', 'toString', 'valueOf', '__proto__'])(
    'refuses creating a topic with the config %j',
    async (key) => {
      const created = uniqueTopic('strict-sdk');
      const configs = JSON.parse(`{${JSON.stringify(key)}:"1"}`);
      await expect(admin.createTopic({ topic: created, configs })).rejects.toBeInstanceOf(InvalidConfigError);
      expect(await topicExists(created)).toBe(false);
    },
  );
});
