/**
 * The trigger bodies of the API against the SDK's settings: the same keys, the ranges of
 * `TRIGGER_LIMITS` stated in the document, nothing the SDK takes refused by the schema, and every
 * schema refusal the SDK's own error (INVALID_TRIGGER naming the setting's path).
 */
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  CreateTriggerBody,
  refusalOf,
  TriggerParams,
  UpdateTriggerBody,
} from '../../../sdk/src/api/schemas.ts';
import { InvalidTriggerError, TriggerNotFoundError } from '../../../sdk/src/errors.ts';
import {
  TRIGGER_LIMITS,
  type TriggerConfig,
  validateTriggerConfig,
} from '../../../sdk/src/triggers/trigger-settings.ts';

type JsonSchema = {
  properties: Record<string, JsonSchema & Record<string, unknown>>;
  required?: string[];
  additionalProperties?: boolean;
  [key: string]: unknown;
};

function documented(schema: z.ZodType): JsonSchema {
  return z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as unknown as JsonSchema;
}

const MINIMAL: TriggerConfig = { name: 'n', topic: 't', functionName: 'f', startingPosition: 'LATEST' };

/** The setting a refused parse names (the first typed refusal), or a failure when there is none. */
function refusedSetting(schema: z.ZodType, value: unknown): string {
  const parsed = schema.safeParse(value);
  expect(parsed.success, JSON.stringify(value)).toBe(false);
  const refusal = parsed.error!.issues.map(refusalOf).find((e) => e !== undefined);
  expect(refusal).toBeInstanceOf(InvalidTriggerError);
  return (refusal as InvalidTriggerError).setting;
}

describe('trigger bodies', () => {
  it('have exactly the settings of TriggerConfig, strictly, with its required ones', () => {
    const settings = Object.keys(validateTriggerConfig(MINIMAL)).sort();
    const create = documented(CreateTriggerBody);
    expect(Object.keys(create.properties).sort()).toEqual(settings);
    expect(create.additionalProperties).toBe(false);
    expect(create.required?.sort()).toEqual(['functionName', 'name', 'startingPosition', 'topic']);
    // An update may name every setting (create-only ones only to repeat them) and needs none.
    const update = documented(UpdateTriggerBody);
    expect(Object.keys(update.properties).sort()).toEqual(settings);
    expect(update.required ?? []).toEqual([]);
    expect(update.additionalProperties).toBe(false);
  });

  it('state the ranges of TRIGGER_LIMITS in the document', () => {
    const { properties: p } = documented(CreateTriggerBody);
    const L = TRIGGER_LIMITS;
    expect(p.batchSize).toMatchObject({
      type: 'integer',
      minimum: L.batchSize.min,
      maximum: L.batchSize.max,
    });
    expect(p.maximumBatchingWindowInSeconds).toMatchObject({
      type: 'integer',
      minimum: L.maximumBatchingWindowInSeconds.min,
      maximum: L.maximumBatchingWindowInSeconds.max,
    });
    expect(p.maximumRetryAttempts).toMatchObject({
      type: 'integer',
      minimum: L.maximumRetryAttempts.min,
      maximum: L.maximumRetryAttempts.max,
    });
    expect(p.maximumRecordAgeInSeconds).toMatchObject({
      type: 'integer',
      anyOf: [
        { const: -1 },
        { minimum: L.maximumRecordAgeInSeconds.min, maximum: L.maximumRecordAgeInSeconds.max },
      ],
    });
    expect(p.functionName).toMatchObject({ type: 'string', maxLength: L.functionNameLength });
    expect(p.startingPosition).toMatchObject({ enum: ['TRIM_HORIZON', 'LATEST', 'AT_TIMESTAMP'] });
    expect(p.startingPositionTimestamp).toMatchObject({ type: 'number', minimum: 0 });
    expect(p.functionResponseTypes).toMatchObject({ type: 'array', maxItems: 1 });
    const filters = (p.filterCriteria as JsonSchema).properties.filters;
    expect(filters).toMatchObject({ type: 'array', maxItems: L.filters });
    const scaling = (p.scalingConfig as JsonSchema).properties.maximumConcurrency;
    expect(scaling).toMatchObject({
      type: 'integer',
      minimum: L.maximumConcurrency.min,
      maximum: L.maximumConcurrency.max,
    });
    const destination = ((p.destinationConfig as JsonSchema).properties.onFailure as JsonSchema).properties
      .destination;
    expect(destination).toMatchObject({ type: 'string', maxLength: L.destinationLength });
  });

  it('take every configuration the SDK takes, range edges included', () => {
    const edges: TriggerConfig[] = [
      {
        ...MINIMAL,
        groupId: 'g',
        enabled: false,
        batchSize: TRIGGER_LIMITS.batchSize.min,
        maximumBatchingWindowInSeconds: 0,
        maximumRetryAttempts: -1,
        maximumRecordAgeInSeconds: -1,
        bisectBatchOnFunctionError: true,
        functionResponseTypes: [],
        destinationConfig: {},
        filterCriteria: {},
        scalingConfig: {},
      },
      {
        ...MINIMAL,
        startingPosition: 'AT_TIMESTAMP',
        startingPositionTimestamp: 1_700_000_000.25,
        batchSize: TRIGGER_LIMITS.batchSize.max,
        maximumBatchingWindowInSeconds: TRIGGER_LIMITS.maximumBatchingWindowInSeconds.max,
        maximumRetryAttempts: TRIGGER_LIMITS.maximumRetryAttempts.max,
        maximumRecordAgeInSeconds: TRIGGER_LIMITS.maximumRecordAgeInSeconds.max,
        functionResponseTypes: ['ReportBatchItemFailures'],
        destinationConfig: { onFailure: { destination: 'kafka://dlq' } },
        filterCriteria: { filters: [{ pattern: '{"value":["a"]}' }] },
        scalingConfig: { maximumConcurrency: TRIGGER_LIMITS.maximumConcurrency.max },
      },
      { ...MINIMAL, maximumRecordAgeInSeconds: TRIGGER_LIMITS.maximumRecordAgeInSeconds.min },
      { ...MINIMAL, destinationConfig: { onFailure: {} } },
    ];
    for (const config of edges) {
      validateTriggerConfig(config);
      expect(CreateTriggerBody.parse(config)).toEqual(config);
      const { name: _n, topic: _t, startingPosition: _s, ...update } = config;
      expect(UpdateTriggerBody.parse(update)).toEqual(update);
    }
  });

  it.each([
    [{ batchSize: '1' }, 'batchSize'],
    [{ batchSize: 1.5 }, 'batchSize'],
    [{ batchSize: null }, 'batchSize'],
    [{ enabled: 1 }, 'enabled'],
    [{ name: ['n'] }, 'name'],
    [{ startingPosition: 'latest' }, 'startingPosition'],
    [{ startingPositionTimestamp: '5' }, 'startingPositionTimestamp'],
    [{ functionResponseTypes: 'ReportBatchItemFailures' }, 'functionResponseTypes'],
    [{ functionResponseTypes: ['Nope'] }, 'functionResponseTypes[0]'],
    [{ destinationConfig: [] }, 'destinationConfig'],
    [{ destinationConfig: { onFailure: { destination: 5 } } }, 'destinationConfig.onFailure.destination'],
    [{ destinationConfig: { onFailure: { queue: 'q' } } }, 'destinationConfig.onFailure.queue'],
    [{ filterCriteria: { filters: [{ pattern: '{}', extra: 1 }] } }, 'filterCriteria.filters[0].extra'],
    [{ filterCriteria: { filters: [{}] } }, 'filterCriteria.filters[0].pattern'],
    [{ scalingConfig: { maximumConcurrency: '3' } }, 'scalingConfig.maximumConcurrency'],
    [{ eventSourceArn: 'arn' }, 'eventSourceArn'],
  ])('refuse %j as INVALID_TRIGGER naming %s', (change, setting) => {
    expect(refusedSetting(CreateTriggerBody, { ...MINIMAL, ...change })).toBe(setting);
    // The SDK names the same setting (for an array element, the array).
    expect(() => validateTriggerConfig({ ...MINIMAL, ...change } as unknown as TriggerConfig)).toThrow(
      InvalidTriggerError,
    );
  });

  it('refuses a missing required setting as INVALID_TRIGGER saying it is required', () => {
    const { functionName: _, ...rest } = MINIMAL;
    const parsed = CreateTriggerBody.safeParse(rest);
    const refusal = parsed.error?.issues.map(refusalOf).find((e) => e !== undefined) as InvalidTriggerError;
    expect(refusal).toMatchObject({ setting: 'functionName', value: 'undefined' });
    expect(refusal.message).toMatch(/required/);
  });

  it('answers an illegal trigger name in a path as TRIGGER_NOT_FOUND, quoting a long one by its start', () => {
    expect(TriggerParams.parse({ trigger: 'orders.v2-trigger' })).toEqual({ trigger: 'orders.v2-trigger' });
    for (const name of ['', '.', '..', 'a b', 'a/b', 'x'.repeat(250)]) {
      const parsed = TriggerParams.safeParse({ trigger: name });
      expect(parsed.success, name).toBe(false);
      const refusal = parsed.error!.issues.map(refusalOf).find((e) => e !== undefined);
      expect(refusal, name).toBeInstanceOf(TriggerNotFoundError);
      expect((refusal as TriggerNotFoundError).trigger.length).toBeLessThanOrEqual(65);
    }
  });
});
