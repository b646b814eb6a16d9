/**
 * Trigger administration over both transports, against the local stack (whose Lambda Invoke API
 * knows the fixture functions `recorder`, `recorder-partial` and `recorder-slow`): create, list,
 * describe, update, enable, disable and delete; and every refused request — each invalid setting
 * and range edge, an unknown topic, function or destination topic, a destination equal to the
 * source, a duplicate name, a change of a create-only setting — gives its typed error and creates
 * nothing: no trigger (the listing of this file's triggers is unchanged, the name is unknown) and
 * no consumer group (`describeGroup` of the group it would have used is GROUP_NOT_FOUND).
 *
 * The stack's dispatcher runs meanwhile and may deliver these triggers, so delivery state
 * (committed offsets, due times, in-flight flags) is never asserted as a fixed value here.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import {
  type Admin,
  FunctionNotFoundError,
  GroupNotFoundError,
  InvalidTriggerError,
  TopicNotFoundError,
  TriggerAlreadyExistsError,
  type TriggerConfig,
  type TriggerDescription,
  TriggerNotFoundError,
  type TriggerUpdate,
} from '../../../sdk/src/index.ts';
import { TRANSPORTS, testClient, uniqueTopic } from '../../helpers/tributary.ts';

/** Every trigger of this file starts with it, so its listing is this file's alone. */
const PREFIX = `adm-${randomBytes(4).toString('hex')}-`;

const LEGAL_GROUP_ID = /^[a-zA-Z0-9._-]{1,249}$/;

function triggerName(): string {
  return `${PREFIX}${randomBytes(4).toString('hex')}`;
}

const direct = testClient();
afterAll(() => direct.close());

/** This file's triggers, as `admin` lists them. */
async function ours(admin: Admin): Promise<string[]> {
  return (await admin.listTriggers()).map((t) => t.name).filter((name) => name.startsWith(PREFIX));
}

/** What a settled description shows regardless of what the dispatcher did meanwhile. */
function stable(d: TriggerDescription) {
  return {
    name: d.name,
    topic: d.topic,
    functionName: d.functionName,
    groupId: d.groupId,
    state: d.state,
    settings: d.settings,
    createdAt: d.createdAt,
    updatedAt: d.updatedAt,
    partitions: d.partitions.map((p) => ({ partition: p.partition, highWatermark: p.highWatermark })),
  };
}

/**
 * Invalid settings, one per setting and range edge: the config change and the setting the
 * refusal names. Casts stand for what a JavaScript caller (or a JSON file) may send.
 */
const INVALID: readonly (readonly [string, Record<string, unknown>, string])[] = [
  ['an empty name', { name: '' }, 'name'],
  ['a name with a space', { name: 'a b' }, 'name'],
  ['the name "."', { name: '.' }, 'name'],
  ['the name ".."', { name: '..' }, 'name'],
  ['a name of 250 characters', { name: 'n'.repeat(250) }, 'name'],
  ['a name that is not a string', { name: 7 }, 'name'],
  ['an illegal topic name', { topic: 'no/slash' }, 'topic'],
  ['no function', { functionName: undefined }, 'functionName'],
  ['an empty function name', { functionName: '' }, 'functionName'],
  ['an illegal function name', { functionName: 'bad name' }, 'functionName'],
  [
    'a function ARN of 141 characters',
    { functionName: `arn:aws:lambda:us-east-1:123456789012:function:${'f'.repeat(64)}:${'q'.repeat(29)}` },
    'functionName',
  ],
  ['an illegal group id', { groupId: 'bad group' }, 'groupId'],
  ['a group id of 250 characters', { groupId: 'g'.repeat(250) }, 'groupId'],
  ['enabled that is not a boolean', { enabled: 'yes' }, 'enabled'],
  ['no starting position', { startingPosition: undefined }, 'startingPosition'],
  ['an unknown starting position', { startingPosition: 'EARLIEST' }, 'startingPosition'],
  ['AT_TIMESTAMP without a timestamp', { startingPosition: 'AT_TIMESTAMP' }, 'startingPositionTimestamp'],
  [
    'AT_TIMESTAMP with a negative timestamp',
    { startingPosition: 'AT_TIMESTAMP', startingPositionTimestamp: -1 },
    'startingPositionTimestamp',
  ],
  ['a timestamp with LATEST', { startingPositionTimestamp: 1_700_000_000 }, 'startingPositionTimestamp'],
  ['batchSize 0', { batchSize: 0 }, 'batchSize'],
  ['batchSize 10001', { batchSize: 10_001 }, 'batchSize'],
  ['batchSize 1.5', { batchSize: 1.5 }, 'batchSize'],
  ['batchSize as a string', { batchSize: '10' }, 'batchSize'],
  ['a batching window of -1', { maximumBatchingWindowInSeconds: -1 }, 'maximumBatchingWindowInSeconds'],
  ['a batching window of 301', { maximumBatchingWindowInSeconds: 301 }, 'maximumBatchingWindowInSeconds'],
  [
    'a batching window of 0.5 (the default cannot be set)',
    { maximumBatchingWindowInSeconds: 0.5 },
    'maximumBatchingWindowInSeconds',
  ],
  ['maximumRetryAttempts -2', { maximumRetryAttempts: -2 }, 'maximumRetryAttempts'],
  ['maximumRetryAttempts 10001', { maximumRetryAttempts: 10_001 }, 'maximumRetryAttempts'],
  ['maximumRecordAgeInSeconds -2', { maximumRecordAgeInSeconds: -2 }, 'maximumRecordAgeInSeconds'],
  ['maximumRecordAgeInSeconds 0', { maximumRecordAgeInSeconds: 0 }, 'maximumRecordAgeInSeconds'],
  ['maximumRecordAgeInSeconds 59', { maximumRecordAgeInSeconds: 59 }, 'maximumRecordAgeInSeconds'],
  ['maximumRecordAgeInSeconds 604801', { maximumRecordAgeInSeconds: 604_801 }, 'maximumRecordAgeInSeconds'],
  ['bisect that is not a boolean', { bisectBatchOnFunctionError: 'true' }, 'bisectBatchOnFunctionError'],
  ['an unknown response type', { functionResponseTypes: ['Everything'] }, 'functionResponseTypes'],
  [
    'a repeated response type',
    { functionResponseTypes: ['ReportBatchItemFailures', 'ReportBatchItemFailures'] },
    'functionResponseTypes',
  ],
  [
    'a destination that is no URI or ARN',
    { destinationConfig: { onFailure: { destination: 'somewhere' } } },
    'destinationConfig.onFailure.destination',
  ],
  [
    'a destination topic with an illegal name',
    { destinationConfig: { onFailure: { destination: 'kafka://bad name' } } },
    'destinationConfig.onFailure.destination',
  ],
  [
    'an SNS destination',
    { destinationConfig: { onFailure: { destination: 'arn:aws:sns:us-east-1:123456789012:t' } } },
    'destinationConfig.onFailure.destination',
  ],
  [
    'a FIFO queue destination',
    { destinationConfig: { onFailure: { destination: 'arn:aws:sqs:us-east-1:123456789012:q.fifo' } } },
    'destinationConfig.onFailure.destination',
  ],
  [
    'an unknown key in destinationConfig',
    { destinationConfig: { onSuccess: { destination: '' } } },
    'destinationConfig.onSuccess',
  ],
  [
    'six filters',
    { filterCriteria: { filters: Array.from({ length: 6 }, () => ({ pattern: '{"value":["a"]}' })) } },
    'filterCriteria.filters',
  ],
  [
    'a filter that is not JSON',
    { filterCriteria: { filters: [{ pattern: '{' }] } },
    'filterCriteria.filters[0].pattern',
  ],
  [
    'a filter with an unknown operator',
    { filterCriteria: { filters: [{ pattern: '{"value":[{"like":"a"}]}' }] } },
    'filterCriteria.filters[0].pattern',
  ],
  ['maximumConcurrency 0', { scalingConfig: { maximumConcurrency: 0 } }, 'scalingConfig.maximumConcurrency'],
  [
    'maximumConcurrency 1001',
    { scalingConfig: { maximumConcurrency: 1001 } },
    'scalingConfig.maximumConcurrency',
  ],
  ['a misspelt setting', { batchsize: 10 }, 'batchsize'],
];

describe.each(TRANSPORTS)('trigger administration (%s transport)', (transport) => {
  const client = testClient({ transport });
  afterAll(() => client.close());
  const admin = client.admin();

  async function topicOf(partitions = 2): Promise<string> {
    const topic = uniqueTopic('trg-adm');
    await admin.createTopic({ topic, partitions });
    return topic;
  }

  /** Asserts that a refused create left nothing behind: no trigger, no group. */
  async function expectNothingCreated(before: readonly string[], name: unknown, groupId: string) {
    expect(await ours(admin)).toEqual(before);
    if (typeof name === 'string' && name !== '') {
      await expect(direct.admin().describeTrigger(name)).rejects.toBeInstanceOf(TriggerNotFoundError);
    }
    await expect(direct.admin().describeGroup(groupId)).rejects.toBeInstanceOf(GroupNotFoundError);
  }

  it('creates, lists, describes, updates, disables, enables and deletes a trigger', async () => {
    const topic = await topicOf(2);
    const dlq = await topicOf(1);
    const name = triggerName();

    const created = await admin.createTrigger({
      name,
      topic,
      functionName: 'recorder',
      startingPosition: 'TRIM_HORIZON',
    });
    expect(created).toMatchObject({
      name,
      topic,
      functionName: 'recorder',
      groupId: `trigger-${name}`,
      state: 'Enabled',
      lastError: undefined,
    });
    // Every default resolved, with the ESM's values.
    expect(created.settings).toEqual({
      name,
      topic,
      functionName: 'recorder',
      groupId: `trigger-${name}`,
      enabled: true,
      startingPosition: 'TRIM_HORIZON',
      startingPositionTimestamp: undefined,
      batchSize: 100,
      maximumBatchingWindowInSeconds: 0.5,
      maximumRetryAttempts: -1,
      maximumRecordAgeInSeconds: -1,
      bisectBatchOnFunctionError: false,
      functionResponseTypes: [],
      destinationConfig: { onFailure: { destination: '' } },
      filterCriteria: { filters: [] },
      scalingConfig: { maximumConcurrency: undefined },
    });
    expect(created.createdAt).toBeInstanceOf(Date);
    expect(created.updatedAt.getTime()).toBe(created.createdAt.getTime());
    expect(created.partitions.map((p) => [p.partition, p.highWatermark, p.lag])).toEqual([
      [0, 0, 0],
      [1, 0, 0],
    ]);
    // The trigger's group exists from the start.
    expect((await direct.admin().describeGroup(`trigger-${name}`)).groupId).toBe(`trigger-${name}`);

    expect((await admin.listTriggers()).find((t) => t.name === name)).toEqual({
      name,
      topic,
      functionName: 'recorder',
      groupId: `trigger-${name}`,
      state: 'Enabled',
    });
    // Both transports describe the same trigger alike.
    const described = await admin.describeTrigger(name);
    expect(described.createdAt).toBeInstanceOf(Date);
    expect(stable(described)).toEqual(stable(await direct.admin().describeTrigger(name)));
    expect(stable(described)).toEqual(stable(created));

    // Every updatable setting at its upper edge, and another function.
    const raised = await admin.updateTrigger(name, {
      functionName: 'recorder-partial',
      batchSize: 10_000,
      maximumBatchingWindowInSeconds: 300,
      maximumRetryAttempts: 10_000,
      maximumRecordAgeInSeconds: 604_800,
      bisectBatchOnFunctionError: true,
      functionResponseTypes: ['ReportBatchItemFailures'],
      destinationConfig: { onFailure: { destination: `tributary://${dlq}` } },
      filterCriteria: { filters: [{ pattern: '{"value":{"kind":["order"]}}' }] },
      scalingConfig: { maximumConcurrency: 1000 },
    });
    expect(raised.functionName).toBe('recorder-partial');
    expect(raised.settings).toMatchObject({
      functionName: 'recorder-partial',
      batchSize: 10_000,
      maximumBatchingWindowInSeconds: 300,
      maximumRetryAttempts: 10_000,
      maximumRecordAgeInSeconds: 604_800,
      bisectBatchOnFunctionError: true,
      functionResponseTypes: ['ReportBatchItemFailures'],
      destinationConfig: { onFailure: { destination: `tributary://${dlq}` } },
      filterCriteria: { filters: [{ pattern: '{"value":{"kind":["order"]}}' }] },
      scalingConfig: { maximumConcurrency: 1000 },
    });
    expect(raised.updatedAt.getTime()).toBeGreaterThanOrEqual(created.createdAt.getTime());
    expect(raised.createdAt.getTime()).toBe(created.createdAt.getTime());

    // The lower edges; the rest stays as it was.
    const lowered = await admin.updateTrigger(name, {
      batchSize: 1,
      maximumBatchingWindowInSeconds: 0,
      maximumRetryAttempts: -1,
      maximumRecordAgeInSeconds: 60,
      scalingConfig: { maximumConcurrency: 1 },
    });
    expect(lowered.settings).toMatchObject({
      functionName: 'recorder-partial',
      batchSize: 1,
      maximumBatchingWindowInSeconds: 0,
      maximumRetryAttempts: -1,
      maximumRecordAgeInSeconds: 60,
      bisectBatchOnFunctionError: true,
      scalingConfig: { maximumConcurrency: 1 },
    });

    // Empty forms reset; create-only settings may be repeated unchanged (re-applying a config).
    const reset = await admin.updateTrigger(name, {
      topic,
      startingPosition: 'TRIM_HORIZON',
      groupId: `trigger-${name}`,
      functionResponseTypes: [],
      destinationConfig: {},
      filterCriteria: {},
      scalingConfig: {},
      maximumRecordAgeInSeconds: -1,
      bisectBatchOnFunctionError: false,
    } as TriggerUpdate);
    expect(reset.settings).toMatchObject({
      functionResponseTypes: [],
      destinationConfig: { onFailure: { destination: '' } },
      filterCriteria: { filters: [] },
      maximumRecordAgeInSeconds: -1,
      bisectBatchOnFunctionError: false,
    });
    expect(reset.settings.scalingConfig.maximumConcurrency).toBeUndefined();
    expect(stable(await direct.admin().describeTrigger(name))).toEqual(stable(reset));

    const disabled = await admin.updateTrigger(name, { enabled: false });
    expect(disabled.state).toBe('Disabled');
    expect(disabled.settings.enabled).toBe(false);
    expect((await admin.listTriggers()).find((t) => t.name === name)?.state).toBe('Disabled');
    const enabled = await admin.updateTrigger(name, { enabled: true });
    expect(enabled.state).toBe('Enabled');
    expect((await direct.admin().describeTrigger(name)).state).toBe('Enabled');

    await admin.deleteTrigger(name);
    await expect(admin.describeTrigger(name)).rejects.toBeInstanceOf(TriggerNotFoundError);
    expect(await ours(admin)).not.toContain(name);
    // The group and its offsets stay: a trigger created on it later resumes there.
    expect((await direct.admin().describeGroup(`trigger-${name}`)).groupId).toBe(`trigger-${name}`);
    await expect(admin.deleteTrigger(name)).rejects.toBeInstanceOf(TriggerNotFoundError);
  });

  it('creates with every optional setting, a group id of its own and a starting timestamp', async () => {
    const topic = await topicOf(1);
    const dlq = await topicOf(1);
    const name = triggerName();
    const groupId = `g-${name}`;
    const config: TriggerConfig = {
      name,
      topic,
      functionName: 'recorder-slow',
      groupId,
      enabled: false,
      startingPosition: 'AT_TIMESTAMP',
      startingPositionTimestamp: 1_700_000_000.5,
      batchSize: 7,
      maximumBatchingWindowInSeconds: 2,
      maximumRetryAttempts: 0,
      maximumRecordAgeInSeconds: 3600,
      bisectBatchOnFunctionError: true,
      functionResponseTypes: ['ReportBatchItemFailures'],
      destinationConfig: { onFailure: { destination: `kafka://${dlq}` } },
      filterCriteria: {
        filters: [{ pattern: '{"value":["a"]}' }, { pattern: '{"value":[{"prefix":"b"}]}' }],
      },
      scalingConfig: { maximumConcurrency: 3 },
    };
    const created = await admin.createTrigger(config);
    expect(created.state).toBe('Disabled');
    expect(created.groupId).toBe(groupId);
    expect(created.settings).toEqual({
      ...config,
      destinationConfig: { onFailure: { destination: `kafka://${dlq}` } },
      scalingConfig: { maximumConcurrency: 3 },
    });
    // AT_TIMESTAMP resolved and committed an offset for the partition at once.
    expect(created.partitions).toHaveLength(1);
    expect(created.partitions[0]?.committedOffset).toBe(0);
    expect((await direct.admin().describeGroup(groupId)).groupId).toBe(groupId);
    await admin.deleteTrigger(name);
  });

  it.each(INVALID)('refuses %s with InvalidTriggerError and creates nothing', async (_, change, setting) => {
    const topic = await topicOf(1);
    const name = triggerName();
    const config: Record<string, unknown> = {
      name,
      topic,
      functionName: 'recorder',
      startingPosition: 'LATEST',
    };
    for (const [key, value] of Object.entries(change)) {
      if (value === undefined) delete config[key];
      else config[key] = value;
    }
    const before = await ours(admin);
    const error = await admin.createTrigger(config as unknown as TriggerConfig).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidTriggerError);
    expect(error).toMatchObject({ code: 'INVALID_TRIGGER', setting, retriable: false });
    // The group the trigger would have committed in (its default one where the name makes no legal id).
    const wouldBe = `trigger-${String(config.name)}`;
    await expectNothingCreated(
      before,
      config.name,
      LEGAL_GROUP_ID.test(wouldBe) ? wouldBe : `trigger-${name}`,
    );
  });

  it('refuses an unknown topic, function or destination topic, and its own topic as destination', async () => {
    const topic = await topicOf(1);
    const missing = uniqueTopic('trg-missing');
    const cases: readonly [
      Partial<TriggerConfig>,
      new (...args: never[]) => Error,
      Record<string, unknown>,
    ][] = [
      [{ topic: missing }, TopicNotFoundError, { code: 'TOPIC_NOT_FOUND', topic: missing }],
      [
        { functionName: 'no-such-function' },
        FunctionNotFoundError,
        { code: 'FUNCTION_NOT_FOUND', functionName: 'no-such-function' },
      ],
      [
        { functionName: 'arn:aws:lambda:us-east-1:000000000000:function:no-such-function:live' },
        FunctionNotFoundError,
        { code: 'FUNCTION_NOT_FOUND', functionName: 'no-such-function' },
      ],
      [
        { destinationConfig: { onFailure: { destination: `tributary://${missing}` } } },
        TopicNotFoundError,
        { code: 'TOPIC_NOT_FOUND', topic: missing },
      ],
      [
        { destinationConfig: { onFailure: { destination: `kafka://${topic}` } } },
        InvalidTriggerError,
        { code: 'INVALID_TRIGGER', setting: 'destinationConfig.onFailure.destination' },
      ],
    ];
    for (const [change, type, fields] of cases) {
      const name = triggerName();
      const before = await ours(admin);
      const error = await admin
        .createTrigger({ name, topic, functionName: 'recorder', startingPosition: 'TRIM_HORIZON', ...change })
        .catch((e: unknown) => e);
      expect(error, JSON.stringify(change)).toBeInstanceOf(type);
      expect(error).toMatchObject(fields);
      await expectNothingCreated(before, name, `trigger-${name}`);
    }
  });

  it('refuses a duplicate name, and leaves the existing trigger as it was', async () => {
    const topic = await topicOf(1);
    const other = await topicOf(1);
    const name = triggerName();
    const first = await admin.createTrigger({
      name,
      topic,
      functionName: 'recorder',
      startingPosition: 'LATEST',
    });
    const before = await ours(admin);
    const groupId = `dup-${name}`;
    const error = await admin
      .createTrigger({
        name,
        topic: other,
        functionName: 'recorder-partial',
        groupId,
        startingPosition: 'LATEST',
      })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TriggerAlreadyExistsError);
    expect(error).toMatchObject({ code: 'TRIGGER_ALREADY_EXISTS', trigger: name });
    expect(await ours(admin)).toEqual(before);
    await expect(direct.admin().describeGroup(groupId)).rejects.toBeInstanceOf(GroupNotFoundError);
    expect(stable(await admin.describeTrigger(name))).toEqual(stable(first));
    await admin.deleteTrigger(name);
  });

  it('refuses bad updates with typed errors and changes nothing', async () => {
    const topic = await topicOf(1);
    const other = await topicOf(1);
    const name = triggerName();
    await admin.createTrigger({
      name,
      topic,
      functionName: 'recorder',
      startingPosition: 'LATEST',
      batchSize: 5,
    });
    const before = stable(await admin.describeTrigger(name));
    const cases: readonly [
      Record<string, unknown>,
      new (...args: never[]) => Error,
      Record<string, unknown>,
    ][] = [
      [{ topic: other }, InvalidTriggerError, { setting: 'topic' }],
      [{ startingPosition: 'TRIM_HORIZON' }, InvalidTriggerError, { setting: 'startingPosition' }],
      [{ groupId: 'another-group' }, InvalidTriggerError, { setting: 'groupId' }],
      [{ name: `${name}-2` }, InvalidTriggerError, { setting: 'name' }],
      [{ startingPositionTimestamp: 5 }, InvalidTriggerError, { setting: 'startingPositionTimestamp' }],
      [{ batchSize: 0 }, InvalidTriggerError, { setting: 'batchSize' }],
      [{ batchSize: 10_001 }, InvalidTriggerError, { setting: 'batchSize' }],
      [{ maximumRecordAgeInSeconds: 59 }, InvalidTriggerError, { setting: 'maximumRecordAgeInSeconds' }],
      [
        { scalingConfig: { maximumConcurrency: 1001 } },
        InvalidTriggerError,
        { setting: 'scalingConfig.maximumConcurrency' },
      ],
      [{ enabled: 'no' }, InvalidTriggerError, { setting: 'enabled' }],
      [{ batchsize: 5 }, InvalidTriggerError, { setting: 'batchsize' }],
      [
        { destinationConfig: { onFailure: { destination: `kafka://${topic}` } } },
        InvalidTriggerError,
        { setting: 'destinationConfig.onFailure.destination' },
      ],
      [{ functionName: 'no-such-function' }, FunctionNotFoundError, { functionName: 'no-such-function' }],
      [
        { destinationConfig: { onFailure: { destination: `kafka://${uniqueTopic('trg-missing')}` } } },
        TopicNotFoundError,
        {},
      ],
    ];
    for (const [update, type, fields] of cases) {
      const error = await admin.updateTrigger(name, update as TriggerUpdate).catch((e: unknown) => e);
      expect(error, JSON.stringify(update)).toBeInstanceOf(type);
      expect(error).toMatchObject(fields);
      expect(stable(await direct.admin().describeTrigger(name)), JSON.stringify(update)).toEqual(before);
    }
    const unknown = triggerName();
    await expect(admin.updateTrigger(unknown, { batchSize: 1 })).rejects.toBeInstanceOf(TriggerNotFoundError);
    await expect(admin.describeTrigger(unknown)).rejects.toBeInstanceOf(TriggerNotFoundError);
    await expect(admin.deleteTrigger(unknown)).rejects.toBeInstanceOf(TriggerNotFoundError);
    // A name no trigger can have is unknown too (on HTTP it never becomes a path segment).
    await expect(admin.describeTrigger('')).rejects.toBeInstanceOf(TriggerNotFoundError);
    await expect(admin.describeTrigger('a/b')).rejects.toBeInstanceOf(TriggerNotFoundError);
    expect(await ours(admin)).toContain(name);
    await admin.deleteTrigger(name);
  });
});

describe('trigger functions', () => {
  it('refuses a function whose timeout is over 14 minutes, creating nothing', async () => {
    const client = testClient();
    try {
      const admin = client.admin();
      const topic = uniqueTopic('trig-long');
      await admin.createTopic({ topic });
      const name = `long-${topic}`;
      const refused = await admin
        .createTrigger({ name, topic, functionName: 'recorder-too-long', startingPosition: 'LATEST' })
        .catch((e: unknown) => e);
      expect(refused).toBeInstanceOf(InvalidTriggerError);
      expect((refused as InvalidTriggerError).setting).toBe('functionName');
      expect((await admin.listTriggers()).map((t) => t.name)).not.toContain(name);
      await expect(admin.describeGroup(`trigger-${name}`)).rejects.toBeInstanceOf(GroupNotFoundError);
    } finally {
      client.close();
    }
  });
});
