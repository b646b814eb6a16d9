/**
 * The `Custom::TributaryTrigger` handler (what `TributaryEventSource` deploys) against the real
 * emulators: CloudFormation's Create, Update and Delete events, shaped as CloudFormation sends them,
 * with trigger configurations shaped as the construct writes them (every setting written out; the
 * exact text is asserted in test/infra/event-source.test.ts).
 */
import { randomBytes } from 'node:crypto';
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TRIGGER_RESOURCE_PROPERTY } from '../../../functions/environment.ts';
import { triggerResourceHandler } from '../../../functions/trigger-resource/trigger-resource.ts';
import { FunctionNotFoundError, type TriggerConfig, TriggerNotFoundError } from '../../../sdk/src/index.ts';
import type { DirectTransport } from '../../../sdk/src/internal.ts';
import { freshTablePrefix } from '../../helpers/stack.ts';
import { testDirectTransport, uniqueTopic } from '../../helpers/tributary.ts';

/** A function the local stack's Lambda service knows (registered by global-setup). */
const FUNCTION = 'recorder';

let transport: DirectTransport;
let topic: string;
let otherTopic: string;
beforeAll(async () => {
  // Tables of their own: the stack's dispatcher never sees these triggers (it watches the default ones).
  transport = testDirectTransport({ tablePrefix: await freshTablePrefix('trres') });
  topic = uniqueTopic('res');
  otherTopic = uniqueTopic('res');
  await transport.admin().createTopic({ topic, partitions: 2 });
  await transport.admin().createTopic({ topic: otherTopic, partitions: 1 });
});
afterAll(() => transport.close());

const handler = () => triggerResourceHandler(transport.triggers());

function properties(config: TriggerConfig): { ServiceToken: string; [key: string]: string } {
  return {
    ServiceToken: 'arn:aws:lambda:us-east-1:000000000000:function:provider',
    [TRIGGER_RESOURCE_PROPERTY]: JSON.stringify(config),
  };
}

const common = {
  ServiceToken: 'arn:aws:lambda:us-east-1:000000000000:function:provider',
  ResponseURL: 'https://cloudformation-custom-resource-response.example/response',
  StackId: 'arn:aws:cloudformation:us-east-1:000000000000:stack/Orders/1',
  LogicalResourceId: 'TargetTributaryTriggerorders',
  ResourceType: 'Custom::TributaryTrigger',
};

function createEvent(config: TriggerConfig): CloudFormationCustomResourceEvent {
  return {
    ...common,
    RequestType: 'Create',
    RequestId: randomBytes(8).toString('hex'),
    ResourceProperties: properties(config),
  };
}

function updateEvent(
  physicalId: string,
  config: TriggerConfig,
  old: TriggerConfig,
): CloudFormationCustomResourceEvent {
  return {
    ...common,
    RequestType: 'Update',
    RequestId: randomBytes(8).toString('hex'),
    PhysicalResourceId: physicalId,
    ResourceProperties: properties(config),
    OldResourceProperties: properties(old),
  };
}

function deleteEvent(physicalId: string, config: TriggerConfig): CloudFormationCustomResourceEvent {
  return {
    ...common,
    RequestType: 'Delete',
    RequestId: randomBytes(8).toString('hex'),
    PhysicalResourceId: physicalId,
    ResourceProperties: properties(config),
  };
}

/** A configuration as `TributaryEventSource` writes it: every setting but the batching window written out. */
function config(overrides: Partial<TriggerConfig> = {}): TriggerConfig {
  return {
    name: `res-${randomBytes(5).toString('hex')}`,
    topic,
    functionName: FUNCTION,
    enabled: true,
    startingPosition: 'TRIM_HORIZON',
    batchSize: 100,
    maximumRetryAttempts: -1,
    maximumRecordAgeInSeconds: -1,
    bisectBatchOnFunctionError: false,
    functionResponseTypes: [],
    destinationConfig: { onFailure: { destination: '' } },
    filterCriteria: { filters: [] },
    scalingConfig: {},
    ...overrides,
  };
}

describe('the trigger resource handler', () => {
  it('creates the trigger, and a repeated Create finds it and succeeds', async () => {
    const wanted = config({
      batchSize: 500,
      maximumBatchingWindowInSeconds: 2,
      functionResponseTypes: ['ReportBatchItemFailures'],
      destinationConfig: { onFailure: { destination: `tributary://${otherTopic}` } },
      filterCriteria: { filters: [{ pattern: '{"value":{"type":["created"]}}' }] },
    });
    const event = createEvent(wanted);
    const result = await handler()(event);
    expect(result).toEqual({
      PhysicalResourceId: wanted.name,
      Data: { TriggerName: wanted.name, GroupId: `trigger-${wanted.name}` },
    });
    const created = await transport.triggers().get(wanted.name);
    expect(created.settings).toMatchObject({
      topic,
      functionName: FUNCTION,
      batchSize: 500,
      functionResponseTypes: ['ReportBatchItemFailures'],
      destinationConfig: { onFailure: { destination: `tributary://${otherTopic}` } },
      filterCriteria: { filters: [{ pattern: '{"value":{"type":["created"]}}' }] },
    });

    // CloudFormation (or Lambda retrying the provider framework) repeats the Create.
    await expect(handler()(event)).resolves.toEqual(result);
    expect((await transport.triggers().get(wanted.name)).stored).toEqual(created.stored);
  });

  it('refuses to take over a trigger of the same name with other settings, and leaves it alone', async () => {
    const theirs = config();
    await transport.admin().createTrigger(theirs);
    const before = (await transport.triggers().get(theirs.name)).stored;
    await expect(handler()(createEvent({ ...theirs, batchSize: 7 }))).rejects.toThrow(
      /already exists\. .*settings differ.*another triggerName/,
    );
    expect((await transport.triggers().get(theirs.name)).stored).toEqual(before);
  });

  it('updates settings in place, resetting the ones the stack no longer sets', async () => {
    const first = config({
      batchSize: 50,
      scalingConfig: { maximumConcurrency: 2 },
      bisectBatchOnFunctionError: true,
    });
    await handler()(createEvent(first));
    const second = config({ name: first.name, batchSize: 80, enabled: false });
    const result = await handler()(updateEvent(first.name, second, first));
    expect(result.PhysicalResourceId).toBe(first.name);
    const { settings, stored } = await transport.triggers().get(first.name);
    expect(settings).toMatchObject({
      batchSize: 80,
      enabled: false,
      bisectBatchOnFunctionError: false,
    });
    expect(settings.scalingConfig.maximumConcurrency).toBeUndefined();
    expect(stored.version).toBe(2);
  });

  it('refuses to change a create-only setting under the same name, naming the setting', async () => {
    const first = config();
    await handler()(createEvent(first));
    await expect(
      handler()(updateEvent(first.name, { ...first, startingPosition: 'LATEST' }, first)),
    ).rejects.toThrow(
      /startingPosition cannot change from "TRIM_HORIZON" to "LATEST".*Give the event source a new triggerName/,
    );
    await expect(handler()(updateEvent(first.name, { ...first, topic: otherTopic }, first))).rejects.toThrow(
      /topic cannot change/,
    );
    expect((await transport.triggers().get(first.name)).settings).toMatchObject({
      topic,
      startingPosition: 'TRIM_HORIZON',
    });
  });

  it('replaces a trigger whose name changed: creates the new one; the old one goes with its Delete', async () => {
    const first = config();
    await handler()(createEvent(first));
    const renamed = { ...config(), topic: otherTopic };
    const result = await handler()(updateEvent(first.name, renamed, first));
    expect(result.PhysicalResourceId).toBe(renamed.name);
    expect((await transport.triggers().get(renamed.name)).settings.topic).toBe(otherTopic);
    // CloudFormation then deletes the old physical id.
    await handler()(deleteEvent(first.name, first));
    await expect(transport.triggers().get(first.name)).rejects.toBeInstanceOf(TriggerNotFoundError);
    expect((await transport.triggers().get(renamed.name)).settings.name).toBe(renamed.name);
  });

  it('puts back a trigger deleted outside CloudFormation when the stack updates it', async () => {
    const first = config();
    await handler()(createEvent(first));
    await transport.admin().deleteTrigger(first.name);
    await handler()(updateEvent(first.name, { ...first, batchSize: 9 }, first));
    expect((await transport.triggers().get(first.name)).settings.batchSize).toBe(9);
  });

  it('deletes the trigger, and a repeated Delete (or one of a trigger already gone) succeeds', async () => {
    const first = config();
    await handler()(createEvent(first));
    await expect(handler()(deleteEvent(first.name, first))).resolves.toEqual({
      PhysicalResourceId: first.name,
    });
    await expect(transport.triggers().get(first.name)).rejects.toBeInstanceOf(TriggerNotFoundError);
    await expect(handler()(deleteEvent(first.name, first))).resolves.toEqual({
      PhysicalResourceId: first.name,
    });
  });

  it('fails a Create naming a function that does not exist, and writes nothing', async () => {
    const missing = config({ functionName: 'no-such-function' });
    await expect(handler()(createEvent(missing))).rejects.toBeInstanceOf(FunctionNotFoundError);
    await expect(transport.triggers().get(missing.name)).rejects.toBeInstanceOf(TriggerNotFoundError);
  });

  it('fails on a resource without a readable trigger configuration, saying which property', async () => {
    const event = createEvent(config());
    await expect(
      handler()({
        ...event,
        ResourceProperties: { ServiceToken: common.ServiceToken, [TRIGGER_RESOURCE_PROPERTY]: '{' },
      }),
    ).rejects.toThrow(`property ${TRIGGER_RESOURCE_PROPERTY} is not JSON`);
    await expect(
      handler()({ ...event, ResourceProperties: { ServiceToken: common.ServiceToken } }),
    ).rejects.toThrow(`property ${TRIGGER_RESOURCE_PROPERTY} is missing`);
  });
});
