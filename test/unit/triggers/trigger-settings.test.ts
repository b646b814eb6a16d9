import { describe, expect, it } from 'vitest';
import { errorFromBody, errorToResponse } from '../../../sdk/src/api/error-codec.ts';
import { InvalidTriggerError } from '../../../sdk/src/errors.ts';
import {
  batchingWindowMs,
  effectiveMaximumRetryAttempts,
  maximumRecordAgeMs,
  onFailureDestination,
  parseFunctionName,
  reportsBatchItemFailures,
  type TriggerConfig,
  type TriggerUpdate,
  updateTriggerSettings,
  validateTriggerConfig,
} from '../../../sdk/src/triggers/trigger-settings.ts';

const base: TriggerConfig = {
  name: 'orders-projector',
  topic: 'orders',
  functionName: 'projector',
  startingPosition: 'LATEST',
};

function invalid(config: unknown): InvalidTriggerError {
  try {
    validateTriggerConfig(config as TriggerConfig);
  } catch (error) {
    if (error instanceof InvalidTriggerError) return error;
    throw error;
  }
  throw new Error('expected the settings to be refused');
}

describe('validateTriggerConfig', () => {
  it("resolves the ESM's defaults", () => {
    const settings = validateTriggerConfig(base);
    expect(settings).toEqual({
      name: 'orders-projector',
      topic: 'orders',
      functionName: 'projector',
      groupId: 'trigger-orders-projector',
      enabled: true,
      startingPosition: 'LATEST',
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
    expect(batchingWindowMs(settings)).toBe(500);
    expect(maximumRecordAgeMs(settings)).toBe(Number.POSITIVE_INFINITY);
    expect(effectiveMaximumRetryAttempts(settings)).toBe(Number.POSITIVE_INFINITY);
    expect(onFailureDestination(settings)).toBeUndefined();
    expect(reportsBatchItemFailures(settings)).toBe(false);
  });

  it('keeps every setting given, and never mutates the input', () => {
    const config: TriggerConfig = {
      ...base,
      groupId: 'projector-group',
      enabled: false,
      startingPosition: 'AT_TIMESTAMP',
      startingPositionTimestamp: 1_767_225_600,
      batchSize: 10_000,
      maximumBatchingWindowInSeconds: 300,
      maximumRetryAttempts: 10_000,
      maximumRecordAgeInSeconds: 604_800,
      bisectBatchOnFunctionError: true,
      functionResponseTypes: ['ReportBatchItemFailures'],
      destinationConfig: { onFailure: { destination: 'arn:aws:sqs:eu-west-1:111122223333:dlq' } },
      filterCriteria: { filters: [{ pattern: '{"value": {"type": ["order"]}}' }] },
      scalingConfig: { maximumConcurrency: 1000 },
    };
    const frozen = structuredClone(config);
    const settings = validateTriggerConfig(config);
    expect(config).toEqual(frozen);
    expect(settings).toMatchObject({ ...config, scalingConfig: { maximumConcurrency: 1000 } });
    expect(effectiveMaximumRetryAttempts(settings)).toBe(10_000);
    expect(maximumRecordAgeMs(settings)).toBe(604_800_000);
    expect(reportsBatchItemFailures(settings)).toBe(true);
    expect(onFailureDestination(settings)).toEqual({
      kind: 'sqs',
      arn: 'arn:aws:sqs:eu-west-1:111122223333:dlq',
      region: 'eu-west-1',
      accountId: '111122223333',
      queueName: 'dlq',
    });
  });

  it.each<[string, Partial<Record<keyof TriggerConfig, unknown>>, string, RegExp]>([
    ['a missing name', { name: undefined }, 'name', /1-249 characters/],
    ['an illegal name', { name: 'a b' }, 'name', /1-249 characters/],
    ['a reserved name', { name: '..' }, 'name', /not "\." or "\.\."/],
    ['an illegal topic', { topic: 'a/b' }, 'topic', /1-249 characters/],
    ['a missing function', { functionName: undefined }, 'functionName', /required/],
    ['an illegal group id', { groupId: 'a:b' }, 'groupId', /1-249 characters/],
    ['a non-boolean enabled', { enabled: 'yes' }, 'enabled', /true or false/],
    ['a missing starting position', { startingPosition: undefined }, 'startingPosition', /required/],
    [
      'an unknown starting position',
      { startingPosition: 'EARLIEST' },
      'startingPosition',
      /TRIM_HORIZON, LATEST, AT_TIMESTAMP/,
    ],
    [
      'AT_TIMESTAMP without a timestamp',
      { startingPosition: 'AT_TIMESTAMP' },
      'startingPositionTimestamp',
      /required/,
    ],
    [
      'a negative timestamp',
      { startingPosition: 'AT_TIMESTAMP', startingPositionTimestamp: -1 },
      'startingPositionTimestamp',
      />= 0/,
    ],
    [
      'a timestamp without AT_TIMESTAMP',
      { startingPositionTimestamp: 5 },
      'startingPositionTimestamp',
      /only allowed with/,
    ],
    ['a zero batch size', { batchSize: 0 }, 'batchSize', /1 to 10000/],
    ['a batch size over 10,000', { batchSize: 10_001 }, 'batchSize', /1 to 10000/],
    ['a fractional batch size', { batchSize: 1.5 }, 'batchSize', /integer/],
    [
      'a window of 0.5 set explicitly',
      { maximumBatchingWindowInSeconds: 0.5 },
      'maximumBatchingWindowInSeconds',
      /whole seconds/,
    ],
    [
      'a window over 300 s',
      { maximumBatchingWindowInSeconds: 301 },
      'maximumBatchingWindowInSeconds',
      /0 to 300/,
    ],
    ['retries below -1', { maximumRetryAttempts: -2 }, 'maximumRetryAttempts', /-1 to 10000/],
    ['retries over 10,000', { maximumRetryAttempts: 10_001 }, 'maximumRetryAttempts', /-1 to 10000/],
    [
      'a record age of 59 s',
      { maximumRecordAgeInSeconds: 59 },
      'maximumRecordAgeInSeconds',
      /-1 \(no limit\) or an integer from 60 to 604800/,
    ],
    ['a record age of 0', { maximumRecordAgeInSeconds: 0 }, 'maximumRecordAgeInSeconds', /60 to 604800/],
    [
      'a record age over a week',
      { maximumRecordAgeInSeconds: 604_801 },
      'maximumRecordAgeInSeconds',
      /60 to 604800/,
    ],
    [
      'a non-boolean bisect',
      { bisectBatchOnFunctionError: 1 },
      'bisectBatchOnFunctionError',
      /true or false/,
    ],
    [
      'an unknown response type',
      { functionResponseTypes: ['ReportItemFailures'] },
      'functionResponseTypes',
      /ReportBatchItemFailures/,
    ],
    [
      'a response type twice',
      { functionResponseTypes: ['ReportBatchItemFailures', 'ReportBatchItemFailures'] },
      'functionResponseTypes',
      /\[\]/,
    ],
    ['a destination that is not an object', { destinationConfig: 'x' }, 'destinationConfig', /onFailure/],
    [
      'an unknown key in the destination',
      { destinationConfig: { onSuccess: {} } },
      'destinationConfig.onSuccess',
      /not a trigger setting/,
    ],
    [
      'six filters',
      { filterCriteria: { filters: Array.from({ length: 6 }, () => ({ pattern: '{"value":["x"]}' })) } },
      'filterCriteria.filters',
      /at most 5/,
    ],
    [
      'a filter that is not a pattern',
      { filterCriteria: { filters: [{ pattern: '{"value": "x"}' }] } },
      'filterCriteria.filters[0].pattern',
      /must be an object or an array/,
    ],
    [
      'a filter on the key',
      { filterCriteria: { filters: [{ pattern: '{"key": ["x"]}' }] } },
      'filterCriteria.filters[0].pattern',
      /record value only/,
    ],
    [
      'a filter with an unknown field',
      { filterCriteria: { filters: [{ pattern: '{"value":["x"]}', Pattern: 'x' }] } },
      'filterCriteria.filters[0].Pattern',
      /not a trigger setting/,
    ],
    [
      'a concurrency of 0',
      { scalingConfig: { maximumConcurrency: 0 } },
      'scalingConfig.maximumConcurrency',
      /1 to 1000/,
    ],
    [
      'a concurrency over 1000',
      { scalingConfig: { maximumConcurrency: 1001 } },
      'scalingConfig.maximumConcurrency',
      /1 to 1000/,
    ],
    ['a misspelt setting', { batchsize: 10 } as never, 'batchsize', /not a trigger setting/],
  ])('refuses %s, naming the setting', (_, overrides, setting, allowed) => {
    const error = invalid({ ...base, ...overrides });
    expect(error.setting).toBe(setting);
    expect(error.message).toMatch(allowed);
    expect(error.message).toContain(setting);
  });

  it('refuses a default group id that would be too long', () => {
    const name = 'n'.repeat(249);
    expect(invalid({ ...base, name }).setting).toBe('groupId');
    expect(validateTriggerConfig({ ...base, name, groupId: 'g' }).groupId).toBe('g');
  });

  it('is an HTTP 400 that survives the wire', () => {
    const error = invalid({ ...base, batchSize: 0 });
    const { status, body } = errorToResponse(error);
    expect(status).toBe(400);
    const back = errorFromBody(body.error);
    expect(back).toBeInstanceOf(InvalidTriggerError);
    expect(back).toMatchObject({ code: 'INVALID_TRIGGER', setting: 'batchSize', value: '0' });
  });
});

describe('retry limits', () => {
  it.each<[number, boolean, number]>([
    [-1, false, Number.POSITIVE_INFINITY],
    [-1, true, 10],
    [0, true, 0],
    [25, true, 25],
    [25, false, 25],
  ])('maximumRetryAttempts %i with destination %s applies %d', (retries, destination, effective) => {
    const settings = validateTriggerConfig({
      ...base,
      maximumRetryAttempts: retries,
      ...(destination ? { destinationConfig: { onFailure: { destination: 'kafka://orders-dlq' } } } : {}),
    });
    expect(effectiveMaximumRetryAttempts(settings)).toBe(effective);
  });
});

describe('functionName', () => {
  it.each<[string, Record<string, string | undefined>]>([
    ['my-function', { functionName: 'my-function', qualifier: undefined }],
    ['my_function:prod', { functionName: 'my_function', qualifier: 'prod' }],
    ['my-function:3', { functionName: 'my-function', qualifier: '3' }],
    ['my-function:$LATEST', { functionName: 'my-function', qualifier: '$LATEST' }],
    ['123456789012:function:my-function', { functionName: 'my-function', accountId: '123456789012' }],
    [
      'arn:aws:lambda:us-west-2:123456789012:function:my-function:live',
      {
        functionName: 'my-function',
        qualifier: 'live',
        region: 'us-west-2',
        accountId: '123456789012',
        partition: 'aws',
      },
    ],
    [
      'arn:aws-us-gov:lambda:us-gov-west-1:123456789012:function:f',
      { functionName: 'f', region: 'us-gov-west-1', partition: 'aws-us-gov' },
    ],
    [
      'arn:aws-cn:lambda:cn-north-1:123456789012:function:f',
      { functionName: 'f', region: 'cn-north-1', partition: 'aws-cn' },
    ],
  ])('accepts %s', (value, parsed) => {
    expect(parseFunctionName(value)).toMatchObject(parsed);
    expect(validateTriggerConfig({ ...base, functionName: value }).functionName).toBe(value);
  });

  it.each([
    '',
    'my function',
    'a'.repeat(65),
    'f:a:b',
    'f:',
    'f:bad.alias',
    'arn:aws:lambda:us-west-2:12345:function:f',
    'arn:aws:s3:us-west-2:123456789012:function:f',
    'arn:aws:lambda:us-west-2:123456789012:layer:f',
    `arn:aws:lambda:us-west-2:123456789012:function:${'a'.repeat(64)}:${'q'.repeat(40)}`,
  ])('refuses %j', (value) => {
    expect(invalid({ ...base, functionName: value }).setting).toBe('functionName');
  });
});

describe('destinations', () => {
  const destination = (value: string) =>
    onFailureDestination(
      validateTriggerConfig({ ...base, destinationConfig: { onFailure: { destination: value } } }),
    );

  it.each<[string, unknown]>([
    ['', undefined],
    ['kafka://orders-dlq', { kind: 'topic', topic: 'orders-dlq' }],
    ['tributary://orders.failed', { kind: 'topic', topic: 'orders.failed' }],
    [
      'arn:aws:s3:::my-dlq-bucket',
      { kind: 's3', arn: 'arn:aws:s3:::my-dlq-bucket', bucket: 'my-dlq-bucket' },
    ],
    ['arn:aws:sqs:us-east-1:123456789012:q_1-a', { kind: 'sqs', queueName: 'q_1-a', region: 'us-east-1' }],
  ])('parses %j', (value, parsed) => {
    if (parsed === undefined) expect(destination(value)).toBeUndefined();
    else expect(destination(value)).toMatchObject(parsed as object);
  });

  it.each<[string, RegExp]>([
    ['kafka://orders', /own topic/],
    ['tributary://..', /1-249 characters/],
    ['kafka://', /1-249 characters/],
    ['arn:aws:sqs:us-east-1:123456789012:q.fifo', /FIFO/],
    ['arn:aws:sqs:us-east-1:123:q', /SQS standard queue ARN/],
    ['arn:aws:sns:us-east-1:123456789012:topic', /SNS destinations are not supported/],
    ['arn:aws:s3:::ab', /3-63 characters/],
    ['arn:aws:s3:::My-Bucket', /lowercase/],
    ['arn:aws:s3:::a..b', /must not contain/],
    ['arn:aws:s3:::192.168.1.1', /IP address/],
    ['arn:aws:s3:::bucket/prefix', /lowercase/],
    ['https://example.com', /kafka:\/\/<topic>/],
  ])('refuses %j', (value, allowed) => {
    const error = invalid({ ...base, destinationConfig: { onFailure: { destination: value } } });
    expect(error.setting).toBe('destinationConfig.onFailure.destination');
    expect(error.message).toMatch(allowed);
  });
});

describe('updateTriggerSettings', () => {
  const current = validateTriggerConfig({
    ...base,
    maximumBatchingWindowInSeconds: 5,
    filterCriteria: { filters: [{ pattern: '{"value":["x"]}' }] },
    scalingConfig: { maximumConcurrency: 4 },
    functionResponseTypes: ['ReportBatchItemFailures'],
    destinationConfig: { onFailure: { destination: 'kafka://dlq' } },
  });

  it('changes only what the update names, validated', () => {
    const updated = updateTriggerSettings(current, {
      batchSize: 7,
      functionName: 'other:live',
      enabled: false,
    });
    expect(updated).toEqual({ ...current, batchSize: 7, functionName: 'other:live', enabled: false });
    expect(() => updateTriggerSettings(current, { batchSize: 0 })).toThrow(InvalidTriggerError);
  });

  it('resets settings with their empty forms', () => {
    const updated = updateTriggerSettings(current, {
      filterCriteria: {},
      scalingConfig: {},
      functionResponseTypes: [],
      destinationConfig: { onFailure: { destination: '' } },
    });
    expect(updated.filterCriteria.filters).toEqual([]);
    expect(updated.scalingConfig.maximumConcurrency).toBeUndefined();
    expect(updated.functionResponseTypes).toEqual([]);
    expect(onFailureDestination(updated)).toBeUndefined();
    // The retry cap follows the destination: infinite again once it is gone.
    expect(effectiveMaximumRetryAttempts(current)).toBe(10);
    expect(effectiveMaximumRetryAttempts(updated)).toBe(Number.POSITIVE_INFINITY);
  });

  it.each<[string, Record<string, unknown>]>([
    ['name', { name: 'other' }],
    ['topic', { topic: 'other' }],
    ['groupId', { groupId: 'other' }],
    ['startingPosition', { startingPosition: 'TRIM_HORIZON' }],
    ['startingPositionTimestamp', { startingPositionTimestamp: 5 }],
  ])('refuses to change the create-only %s', (setting, update) => {
    expect(() => updateTriggerSettings(current, update as TriggerUpdate)).toThrow(
      expect.objectContaining({ setting, message: expect.stringMatching(/cannot change/) }),
    );
  });

  it('accepts create-only settings repeated with their current values', () => {
    const again = {
      name: current.name,
      topic: current.topic,
      groupId: current.groupId,
      startingPosition: 'LATEST',
    };
    expect(updateTriggerSettings(current, again as TriggerUpdate)).toEqual(current);
  });

  it('cannot go back to the 0.5 s default window, as in Lambda', () => {
    expect(() => updateTriggerSettings(current, { maximumBatchingWindowInSeconds: 0.5 })).toThrow(
      /whole seconds/,
    );
  });

  it('never mutates the stored settings', () => {
    const copy = structuredClone(current);
    updateTriggerSettings(current, { batchSize: 9, filterCriteria: {} });
    expect(current).toEqual(copy);
  });
});
