/**
 * The trigger routes of the HTTP API, called raw (signed as the SDK signs): status codes, the
 * wire format of a description (ISO dates, nulls for what is undefined) and every kind of
 * refusal as a typed 4xx with the error envelope — a JSON type only the schema sees, a range only
 * the SDK checks, a reference to something missing, a conflict — each writing nothing: no trigger
 * (this file's listing is unchanged) and no consumer group (GROUP_NOT_FOUND for the group it
 * would have used).
 */
import { randomBytes } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { TriggerDescriptionBody, TriggerList } from '../../../sdk/src/api/schemas.ts';
import { type ApiResponse, api } from '../../helpers/api.ts';
import { uniqueTopic } from '../../helpers/tributary.ts';

const PREFIX = `api-trg-${randomBytes(4).toString('hex')}-`;
const topic = uniqueTopic('api-trg');

function triggerName(): string {
  return `${PREFIX}${randomBytes(4).toString('hex')}`;
}

/** A typed refusal: the status of its code and exactly the error envelope, with `details` as given. */
function expectError(
  response: ApiResponse,
  status: number,
  code: string,
  details: Record<string, unknown> = {},
) {
  expect(response.status, JSON.stringify(response.body)).toBe(status);
  expect(Object.keys(response.body)).toEqual(['error']);
  expect(response.body.error).toMatchObject({ code, message: expect.any(String), retriable: false });
  for (const key of Object.keys(response.body.error)) {
    expect(['code', 'message', 'retriable', 'details']).toContain(key);
  }
  if (Object.keys(details).length > 0) expect(response.body.error.details).toMatchObject(details);
}

async function ours(): Promise<string[]> {
  const listed = await api('GET', '/v1/triggers');
  expect(listed.status).toBe(200);
  return TriggerList.parse(listed.body)
    .triggers.map((t) => t.name)
    .filter((name) => name.startsWith(PREFIX));
}

/** Asserts that nothing of a refused create exists: no trigger of that name, no group. */
async function expectNothingCreated(before: readonly string[], name: string, groupId = `trigger-${name}`) {
  expect(await ours()).toEqual(before);
  expectError(await api('GET', `/v1/triggers/${name}`), 404, 'TRIGGER_NOT_FOUND');
  expectError(await api('GET', `/v1/groups/${groupId}`), 404, 'GROUP_NOT_FOUND');
}

function body(change: Record<string, unknown> = {}, name = triggerName()): Record<string, unknown> {
  return { name, topic, functionName: 'recorder', startingPosition: 'LATEST', ...change };
}

describe('trigger routes', () => {
  beforeAll(async () => {
    expect((await api('POST', '/v1/topics', { topic, partitions: 2 })).status).toBe(201);
  });

  it('creates (201), lists, describes, updates and deletes (204) a trigger, with ISO dates and nulls', async () => {
    const name = triggerName();
    const created = await api('POST', '/v1/triggers', {
      name,
      topic,
      functionName: 'recorder',
      startingPosition: 'TRIM_HORIZON',
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const description = TriggerDescriptionBody.parse(created.body);
    expect(description).toMatchObject({ name, topic, functionName: 'recorder', state: 'Enabled' });
    expect(Date.parse(description.createdAt)).not.toBeNaN();
    expect(description.updatedAt).toBe(description.createdAt);
    // Undefined on the SDK side is null on the wire, never a missing key.
    expect(created.body.settings.startingPositionTimestamp).toBeNull();
    expect(created.body.settings.scalingConfig).toEqual({ maximumConcurrency: null });
    expect(created.body.lastError).toBeNull();
    expect(created.body.settings.maximumBatchingWindowInSeconds).toBe(0.5);
    expect(created.body.partitions).toHaveLength(2);
    for (const p of created.body.partitions) {
      expect(Object.keys(p).sort()).toEqual(
        ['committedOffset', 'dueAt', 'highWatermark', 'inFlight', 'lag', 'lagMs', 'partition'].sort(),
      );
      expect(p.dueAt === null || !Number.isNaN(Date.parse(p.dueAt))).toBe(true);
    }

    const listed = await api('GET', '/v1/triggers');
    expect(listed.status).toBe(200);
    expect(listed.body.triggers).toContainEqual({
      name,
      topic,
      functionName: 'recorder',
      groupId: `trigger-${name}`,
      state: 'Enabled',
    });
    const described = await api('GET', `/v1/triggers/${name}`);
    expect(described.status).toBe(200);
    expect(described.body.settings).toEqual(created.body.settings);

    const updated = await api('PATCH', `/v1/triggers/${name}`, {
      enabled: false,
      batchSize: 10,
      scalingConfig: { maximumConcurrency: 2 },
    });
    expect(updated.status, JSON.stringify(updated.body)).toBe(200);
    expect(updated.body).toMatchObject({
      state: 'Disabled',
      settings: { enabled: false, batchSize: 10, scalingConfig: { maximumConcurrency: 2 } },
    });

    const deleted = await api('DELETE', `/v1/triggers/${name}`);
    expect(deleted).toEqual({ status: 204, body: undefined });
    expectError(await api('GET', `/v1/triggers/${name}`), 404, 'TRIGGER_NOT_FOUND', { trigger: name });
    expectError(await api('DELETE', `/v1/triggers/${name}`), 404, 'TRIGGER_NOT_FOUND');
  });

  it.each([
    // JSON types: refused by the API's schema, with the SDK's code and the setting's path.
    ['batchSize as a string', { batchSize: '10' }, 'batchSize'],
    ['batchSize as a fraction', { batchSize: 2.5 }, 'batchSize'],
    ['enabled as a string', { enabled: 'true' }, 'enabled'],
    ['a null setting', { maximumRetryAttempts: null }, 'maximumRetryAttempts'],
    ['a name that is a number', { name: 12 }, 'name'],
    ['an unknown starting position', { startingPosition: 'EARLIEST' }, 'startingPosition'],
    ['filters that are not an array', { filterCriteria: { filters: '{}' } }, 'filterCriteria.filters'],
    [
      'a pattern that is not a string',
      { filterCriteria: { filters: [{ pattern: {} }] } },
      'filterCriteria.filters[0].pattern',
    ],
    ['a destinationConfig string', { destinationConfig: 'kafka://x' }, 'destinationConfig'],
    ['an unknown key', { batchsize: 10 }, 'batchsize'],
    ['an unknown nested key', { scalingConfig: { maximum: 3 } }, 'scalingConfig.maximum'],
    ['a __proto__ key', JSON.parse('{"__proto__": {"batchSize": 5}}'), '__proto__'],
    // Ranges and rules: passed by the schema, refused by the SDK before anything is written.
    ['batchSize 0', { batchSize: 0 }, 'batchSize'],
    ['batchSize 10001', { batchSize: 10_001 }, 'batchSize'],
    ['a batching window of 301', { maximumBatchingWindowInSeconds: 301 }, 'maximumBatchingWindowInSeconds'],
    ['maximumRetryAttempts -2', { maximumRetryAttempts: -2 }, 'maximumRetryAttempts'],
    ['maximumRecordAgeInSeconds 59', { maximumRecordAgeInSeconds: 59 }, 'maximumRecordAgeInSeconds'],
    [
      'maximumConcurrency 1001',
      { scalingConfig: { maximumConcurrency: 1001 } },
      'scalingConfig.maximumConcurrency',
    ],
    ['an illegal name', { name: 'a b' }, 'name'],
    ['an illegal function name', { functionName: 'no spaces' }, 'functionName'],
    ['a timestamp with LATEST', { startingPositionTimestamp: 5 }, 'startingPositionTimestamp'],
    [
      'the source topic as destination',
      { destinationConfig: { onFailure: { destination: `kafka://${topic}` } } },
      'destinationConfig.onFailure.destination',
    ],
  ])(
    'refuses %s with 400 INVALID_TRIGGER naming the setting, writing nothing',
    async (_, change, setting) => {
      const before = await ours();
      const request = body(change);
      const name =
        typeof request.name === 'string' && !request.name.includes(' ') ? request.name : triggerName();
      expectError(await api('POST', '/v1/triggers', request), 400, 'INVALID_TRIGGER', { setting });
      await expectNothingCreated(before, name);
    },
  );

  it.each([
    ['name', 'name'],
    ['functionName', 'functionName'],
    ['startingPosition', 'startingPosition'],
  ])('refuses a create without %s with 400 INVALID_TRIGGER', async (missing, setting) => {
    const before = await ours();
    const request = body();
    delete request[missing];
    expectError(await api('POST', '/v1/triggers', request), 400, 'INVALID_TRIGGER', { setting });
    expect(await ours()).toEqual(before);
  });

  it('answers missing references with 404 and a duplicate with 409, writing nothing', async () => {
    const missingTopic = uniqueTopic('api-trg-missing');
    let before = await ours();
    let request = body({ topic: missingTopic });
    expectError(await api('POST', '/v1/triggers', request), 404, 'TOPIC_NOT_FOUND', { topic: missingTopic });
    await expectNothingCreated(before, request.name as string);

    request = body({ functionName: 'no-such-function' });
    expectError(await api('POST', '/v1/triggers', request), 404, 'FUNCTION_NOT_FOUND', {
      functionName: 'no-such-function',
    });
    await expectNothingCreated(before, request.name as string);

    request = body({ destinationConfig: { onFailure: { destination: `tributary://${missingTopic}` } } });
    expectError(await api('POST', '/v1/triggers', request), 404, 'TOPIC_NOT_FOUND', { topic: missingTopic });
    await expectNothingCreated(before, request.name as string);

    const name = triggerName();
    expect((await api('POST', '/v1/triggers', body({}, name))).status).toBe(201);
    before = await ours();
    expectError(
      await api('POST', '/v1/triggers', body({ groupId: `other-${name}` }, name)),
      409,
      'TRIGGER_ALREADY_EXISTS',
      { trigger: name },
    );
    expect(await ours()).toEqual(before);
    expectError(await api('GET', `/v1/groups/other-${name}`), 404, 'GROUP_NOT_FOUND');
    expect((await api('DELETE', `/v1/triggers/${name}`)).status).toBe(204);
  });

  it('refuses bad updates with typed 4xx and changes nothing', async () => {
    const name = triggerName();
    expect((await api('POST', '/v1/triggers', body({ batchSize: 5 }, name))).status).toBe(201);
    const before = (await api('GET', `/v1/triggers/${name}`)).body;
    const refused: readonly [unknown, number, string, Record<string, unknown>][] = [
      [{ topic: uniqueTopic('other') }, 400, 'INVALID_TRIGGER', { setting: 'topic' }],
      [{ startingPosition: 'TRIM_HORIZON' }, 400, 'INVALID_TRIGGER', { setting: 'startingPosition' }],
      [{ groupId: 'g2' }, 400, 'INVALID_TRIGGER', { setting: 'groupId' }],
      [{ batchSize: '7' }, 400, 'INVALID_TRIGGER', { setting: 'batchSize' }],
      [{ batchSize: 10_001 }, 400, 'INVALID_TRIGGER', { setting: 'batchSize' }],
      [{ bogus: true }, 400, 'INVALID_TRIGGER', { setting: 'bogus' }],
      [{ functionName: 'no-such-function' }, 404, 'FUNCTION_NOT_FOUND', {}],
    ];
    for (const [update, status, code, details] of refused) {
      expectError(await api('PATCH', `/v1/triggers/${name}`, update), status, code, details);
    }
    // Repeating a create-only setting is no change, and allowed.
    const same = await api('PATCH', `/v1/triggers/${name}`, { topic, startingPosition: 'LATEST' });
    expect(same.status).toBe(200);
    expect(same.body.settings).toEqual(before.settings);
    expect((await api('GET', `/v1/triggers/${name}`)).body.settings).toEqual(before.settings);

    expectError(
      await api('PATCH', `/v1/triggers/${triggerName()}`, { batchSize: 1 }),
      404,
      'TRIGGER_NOT_FOUND',
    );
    expectError(await api('PATCH', `/v1/triggers/${name}`, '[]'), 400, 'INVALID_ARGUMENT');
    expect((await api('GET', `/v1/triggers/${name}`)).body.settings).toEqual(before.settings);
    expect((await api('DELETE', `/v1/triggers/${name}`)).status).toBe(204);
  });

  it('answers a name no trigger can have with 404 TRIGGER_NOT_FOUND, and refuses stray input', async () => {
    expectError(await api('GET', '/v1/triggers/a%20b'), 404, 'TRIGGER_NOT_FOUND');
    expectError(await api('GET', '/v1/triggers/..%2e'), 404, 'TRIGGER_NOT_FOUND');
    const long = await api('DELETE', `/v1/triggers/${'x'.repeat(3000)}`);
    expectError(long, 404, 'TRIGGER_NOT_FOUND');
    // The name is quoted by its start only.
    expect(long.body.error.details.trigger.length).toBeLessThan(100);
    expectError(await api('GET', '/v1/triggers?limit=1'), 400, 'INVALID_ARGUMENT');
    expectError(
      await api('DELETE', `/v1/triggers/${triggerName()}`, { force: true }),
      400,
      'INVALID_ARGUMENT',
    );
  });
});
