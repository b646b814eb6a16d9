/**
 * A trigger's settings: the same names, defaults and ranges as a Lambda event source mapping (ESM)
 * for Kafka (`shared/reference/lambda-kafka-esm.md` §2–§5), validated in one place. The resolved
 * {@link TriggerSettings} is what is stored; derived values (the effective retry limit, the parsed
 * destination, the batching window in ms) are computed from it by the functions below, so they can
 * never disagree with the stored settings after an update.
 */
import { InvalidTriggerError } from '../errors.ts';
import { LEGAL_TOPIC_NAME } from '../topics/names.ts';
import { compileFilterPattern } from './event-filter.ts';

/** Where a trigger starts reading when its consumer group has no committed offset yet. */
export type StartingPosition = 'TRIM_HORIZON' | 'LATEST' | 'AT_TIMESTAMP';

/** The only response type Lambda's ESM knows: the function may report partial batch failures. */
export type FunctionResponseType = 'ReportBatchItemFailures';

/** One filter: the JSON text of an EventBridge pattern on the record value (see `event-filter.ts`). */
export interface TriggerFilter {
  readonly pattern: string;
}

/**
 * What a caller passes to create a trigger. Optional settings take the ESM's defaults.
 */
export interface TriggerConfig {
  /** The trigger's name: 1–249 characters of `[a-zA-Z0-9._-]`, not `.` or `..` (like a topic name). */
  readonly name: string;
  /** The source topic. Create-only. */
  readonly topic: string;
  /** The function: a name, a name with `:alias` or `:version`, a partial ARN or a full function ARN. */
  readonly functionName: string;
  /** The consumer group the trigger commits in. Create-only. @default `trigger-<name>` */
  readonly groupId?: string;
  /** @default true */
  readonly enabled?: boolean;
  /**
   * Where to start when the group has no committed offset. Required, as for Lambda's Kafka ESM
   * (and CDK's `KafkaEventSource`): a silent default of `LATEST` would skip what is already there.
   * Create-only.
   */
  readonly startingPosition: StartingPosition;
  /** Unix time in seconds; required with (and only with) `AT_TIMESTAMP`. Create-only. */
  readonly startingPositionTimestamp?: number;
  /** Most records per invocation, 1–10,000. @default 100 */
  readonly batchSize?: number;
  /**
   * Longest wait for a fuller batch, whole seconds 0–300. @default 0.5 (the Kafka ESM's 500 ms,
   * which cannot be set explicitly: once changed it cannot return to 500 ms, as in Lambda)
   */
  readonly maximumBatchingWindowInSeconds?: number;
  /** Retries after the first attempt, -1 (forever) or 0–10,000. @default -1 */
  readonly maximumRetryAttempts?: number;
  /** Oldest record age delivered, -1 (no limit) or 60–604,800 seconds. @default -1 */
  readonly maximumRecordAgeInSeconds?: number;
  /** Split a batch in two when the function fails, retrying each half. @default false */
  readonly bisectBatchOnFunctionError?: boolean;
  /** `['ReportBatchItemFailures']` to honour partial batch responses. @default [] */
  readonly functionResponseTypes?: readonly FunctionResponseType[];
  /**
   * Where records go when they are given up on: `kafka://<topic>` or `tributary://<topic>` (a
   * Tributary topic), an SQS queue ARN or an S3 bucket ARN; `''` for none. @default none
   */
  readonly destinationConfig?: { readonly onFailure?: { readonly destination?: string } };
  /** Up to 5 patterns, ORed. @default none (every record is delivered) */
  readonly filterCriteria?: { readonly filters?: readonly TriggerFilter[] };
  /** Most concurrent invocations across the topic's partitions, 1–1,000. @default unlimited */
  readonly scalingConfig?: { readonly maximumConcurrency?: number };
}

/** A trigger's settings with every default resolved: what is stored and what the dispatcher reads. */
export interface TriggerSettings {
  readonly name: string;
  readonly topic: string;
  readonly functionName: string;
  readonly groupId: string;
  readonly enabled: boolean;
  readonly startingPosition: StartingPosition;
  readonly startingPositionTimestamp: number | undefined;
  readonly batchSize: number;
  readonly maximumBatchingWindowInSeconds: number;
  /** As configured; see {@link effectiveMaximumRetryAttempts} for the limit that applies. */
  readonly maximumRetryAttempts: number;
  readonly maximumRecordAgeInSeconds: number;
  readonly bisectBatchOnFunctionError: boolean;
  readonly functionResponseTypes: readonly FunctionResponseType[];
  /** `destination` is `''` when there is none; see {@link onFailureDestination}. */
  readonly destinationConfig: { readonly onFailure: { readonly destination: string } };
  readonly filterCriteria: { readonly filters: readonly TriggerFilter[] };
  /** `maximumConcurrency` is `undefined` when unlimited. */
  readonly scalingConfig: { readonly maximumConcurrency: number | undefined };
}

/**
 * The settings an update may change. `name`, `topic`, `groupId`, `startingPosition` and
 * `startingPositionTimestamp` are create-only, as in Lambda (an update may repeat their current
 * value, so a whole configuration can be re-applied). An absent setting is left unchanged; reset
 * one with its "empty" form: `destination: ''`, `filterCriteria: {}`, `scalingConfig: {}`,
 * `functionResponseTypes: []`.
 */
export type TriggerUpdate = Partial<
  Omit<TriggerConfig, 'name' | 'topic' | 'groupId' | 'startingPosition' | 'startingPositionTimestamp'>
>;

/** A parsed on-failure destination. */
export type OnFailureDestination =
  | { readonly kind: 'topic'; readonly topic: string }
  | {
      readonly kind: 'sqs';
      readonly arn: string;
      readonly region: string;
      readonly accountId: string;
      readonly queueName: string;
    }
  | { readonly kind: 's3'; readonly arn: string; readonly bucket: string };

/** A parsed function reference: what Lambda's `FunctionName` accepts. */
export interface FunctionReference {
  readonly functionName: string;
  /** Alias, version or `$LATEST`, when given. */
  readonly qualifier: string | undefined;
  /** Present for ARNs (full or partial). */
  readonly accountId: string | undefined;
  /** Present for full ARNs only. */
  readonly region: string | undefined;
  /** The AWS partition (`aws`, `aws-cn`, ...), for full ARNs only. */
  readonly partition: string | undefined;
}

/** Ranges and defaults, named once (Lambda's `CreateEventSourceMapping` limits). */
export const TRIGGER_LIMITS = {
  batchSize: { min: 1, max: 10_000, default: 100 },
  maximumBatchingWindowInSeconds: { min: 0, max: 300, default: 0.5 },
  maximumRetryAttempts: { min: -1, max: 10_000, default: -1 },
  /** Lambda applies at most this many retries when retries are infinite and a destination is set (A12). */
  retryCapWithDestination: 10,
  maximumRecordAgeInSeconds: { min: 60, max: 604_800, default: -1 },
  maximumConcurrency: { min: 1, max: 1_000 },
  filters: 5,
  functionNameLength: 140,
  destinationLength: 350,
} as const;

const CONFIG_KEYS: ReadonlySet<string> = new Set([
  'name',
  'topic',
  'functionName',
  'groupId',
  'enabled',
  'startingPosition',
  'startingPositionTimestamp',
  'batchSize',
  'maximumBatchingWindowInSeconds',
  'maximumRetryAttempts',
  'maximumRecordAgeInSeconds',
  'bisectBatchOnFunctionError',
  'functionResponseTypes',
  'destinationConfig',
  'filterCriteria',
  'scalingConfig',
]);

const CREATE_ONLY = [
  'name',
  'topic',
  'groupId',
  'startingPosition',
  'startingPositionTimestamp',
] as const satisfies readonly (keyof TriggerSettings)[];

const STARTING_POSITIONS: readonly StartingPosition[] = ['TRIM_HORIZON', 'LATEST', 'AT_TIMESTAMP'];

/** Same rule as consumer group ids (`groups/lease-store.ts`). */
const LEGAL_GROUP_ID = /^[a-zA-Z0-9._-]{1,249}$/;

const NAME = '[a-zA-Z0-9_-]{1,64}';
const QUALIFIER = '(?::(\\$LATEST|[a-zA-Z0-9_-]{1,128}))?';
const FUNCTION_NAME = new RegExp(`^(${NAME})${QUALIFIER}$`);
const PARTIAL_FUNCTION_ARN = new RegExp(`^(\\d{12}):function:(${NAME})${QUALIFIER}$`);
const FUNCTION_ARN = new RegExp(
  `^arn:(aws(?:-[a-z]+)*):lambda:([a-z]{2}(?:-[a-z]+)+-\\d):(\\d{12}):function:(${NAME})${QUALIFIER}$`,
);
const SQS_ARN =
  /^arn:(aws(?:-[a-z]+)*):sqs:([a-z]{2}(?:-[a-z]+)+-\d):(\d{12}):([a-zA-Z0-9_-]{1,80}(?:\.fifo)?)$/;
const SNS_ARN = /^arn:aws(?:-[a-z]+)*:sns:/;
const S3_ARN = /^arn:aws(?:-[a-z]+)*:s3:::(.*)$/;
const TOPIC_URI = /^(kafka|tributary):\/\/(.*)$/;

/**
 * Validates a create request and resolves its defaults. Throws {@link InvalidTriggerError} naming
 * the first setting that is wrong (unknown keys included: a misspelt setting must not be ignored).
 * Never mutates `config`.
 */
export function validateTriggerConfig(config: TriggerConfig): TriggerSettings {
  const input = asRecord(config, 'trigger', 'an object of trigger settings');
  rejectUnknownKeys(input, CONFIG_KEYS, '');

  const name = legalName(input.name, 'name');
  const topic = legalName(input.topic, 'topic');
  const groupId = input.groupId === undefined ? defaultGroupId(name) : legalGroupId(input.groupId, 'groupId');

  if (input.functionName === undefined) {
    throw new InvalidTriggerError('functionName', undefined, 'it is required: a Lambda function name or ARN');
  }
  if (input.startingPosition === undefined) {
    throw new InvalidTriggerError(
      'startingPosition',
      undefined,
      `it is required (as for Lambda's Kafka event source mappings): one of ${STARTING_POSITIONS.join(', ')}`,
    );
  }
  const startingPosition = oneOf(input.startingPosition, STARTING_POSITIONS, 'startingPosition');
  let startingPositionTimestamp: number | undefined;
  if (startingPosition === 'AT_TIMESTAMP') {
    const ts = input.startingPositionTimestamp;
    if (typeof ts !== 'number' || !Number.isFinite(ts) || ts < 0) {
      throw new InvalidTriggerError(
        'startingPositionTimestamp',
        ts,
        'with AT_TIMESTAMP it is required: a Unix time in seconds (a number >= 0)',
      );
    }
    startingPositionTimestamp = ts;
  } else if (input.startingPositionTimestamp !== undefined) {
    throw new InvalidTriggerError(
      'startingPositionTimestamp',
      input.startingPositionTimestamp,
      `it is only allowed with startingPosition AT_TIMESTAMP, not ${startingPosition}`,
    );
  }

  const settings: TriggerSettings = {
    name,
    topic,
    // Set (and validated) with the other updatable settings just below.
    functionName: '',
    groupId,
    enabled: true,
    startingPosition,
    startingPositionTimestamp,
    batchSize: TRIGGER_LIMITS.batchSize.default,
    maximumBatchingWindowInSeconds: TRIGGER_LIMITS.maximumBatchingWindowInSeconds.default,
    maximumRetryAttempts: TRIGGER_LIMITS.maximumRetryAttempts.default,
    maximumRecordAgeInSeconds: TRIGGER_LIMITS.maximumRecordAgeInSeconds.default,
    bisectBatchOnFunctionError: false,
    functionResponseTypes: [],
    destinationConfig: { onFailure: { destination: '' } },
    filterCriteria: { filters: [] },
    scalingConfig: { maximumConcurrency: undefined },
  };
  return applyMutable(settings, input);
}

/**
 * Applies a partial update to stored settings with the same validation as a create. Create-only
 * settings may only repeat their current value. Never mutates its arguments.
 */
export function updateTriggerSettings(current: TriggerSettings, update: TriggerUpdate): TriggerSettings {
  const input = asRecord(update, 'update', 'an object of trigger settings');
  rejectUnknownKeys(input, CONFIG_KEYS, '');
  for (const key of CREATE_ONLY) {
    if (Object.hasOwn(input, key) && input[key] !== current[key]) {
      throw new InvalidTriggerError(
        key,
        input[key],
        `it is set when the trigger is created and cannot change (it is ${JSON.stringify(current[key])}); ` +
          'delete and recreate the trigger to change it',
      );
    }
  }
  return applyMutable(current, input);
}

/**
 * The retry limit that applies: `Infinity` when retries are infinite and there is no destination
 * (the ESM then blocks the partition on a record that always fails, retrying it forever), and
 * {@link TRIGGER_LIMITS.retryCapWithDestination} when retries are infinite but a destination is
 * set, as Lambda does (reference A12).
 */
export function effectiveMaximumRetryAttempts(settings: TriggerSettings): number {
  if (settings.maximumRetryAttempts !== -1) return settings.maximumRetryAttempts;
  return onFailureDestination(settings) === undefined
    ? Number.POSITIVE_INFINITY
    : TRIGGER_LIMITS.retryCapWithDestination;
}

/** The parsed on-failure destination, or `undefined` when there is none. */
export function onFailureDestination(settings: TriggerSettings): OnFailureDestination | undefined {
  const destination = settings.destinationConfig.onFailure.destination;
  return destination === '' ? undefined : parseDestination(destination, settings.topic);
}

/** The batching window in milliseconds. */
export function batchingWindowMs(settings: TriggerSettings): number {
  return Math.round(settings.maximumBatchingWindowInSeconds * 1000);
}

/** The record age limit in milliseconds, `Infinity` for none. */
export function maximumRecordAgeMs(settings: TriggerSettings): number {
  return settings.maximumRecordAgeInSeconds === -1
    ? Number.POSITIVE_INFINITY
    : settings.maximumRecordAgeInSeconds * 1000;
}

/** True when the function's partial batch responses are honoured. */
export function reportsBatchItemFailures(settings: TriggerSettings): boolean {
  return settings.functionResponseTypes.includes('ReportBatchItemFailures');
}

/**
 * Parses a function reference in any form Lambda's `FunctionName` accepts: `my-function`,
 * `my-function:alias`, `my-function:3`, `123456789012:function:my-function[:qualifier]` or
 * `arn:aws:lambda:us-east-1:123456789012:function:my-function[:qualifier]`. Throws
 * {@link InvalidTriggerError} (setting `functionName`) otherwise.
 */
export function parseFunctionName(value: unknown): FunctionReference {
  const allowed =
    'allowed: a function name (1-64 characters of [a-zA-Z0-9_-]) with an optional :alias or :version, ' +
    'a partial ARN (123456789012:function:name) or a function ARN (arn:aws:lambda:<region>:<account>:function:name), ' +
    `at most ${TRIGGER_LIMITS.functionNameLength} characters`;
  if (typeof value !== 'string' || value.length === 0 || value.length > TRIGGER_LIMITS.functionNameLength) {
    throw new InvalidTriggerError('functionName', value, allowed);
  }
  let m = FUNCTION_ARN.exec(value);
  if (m) {
    return { partition: m[1], region: m[2], accountId: m[3], functionName: m[4]!, qualifier: m[5] };
  }
  m = PARTIAL_FUNCTION_ARN.exec(value);
  if (m) {
    return { partition: undefined, region: undefined, accountId: m[1], functionName: m[2]!, qualifier: m[3] };
  }
  m = FUNCTION_NAME.exec(value);
  if (m) {
    return {
      partition: undefined,
      region: undefined,
      accountId: undefined,
      functionName: m[1]!,
      qualifier: m[2],
    };
  }
  throw new InvalidTriggerError('functionName', value, allowed);
}

/**
 * Parses an on-failure destination. `sourceTopic` is refused as a topic destination (a dead letter
 * would trigger the function again, as Lambda refuses for its Kafka destination).
 */
export function parseDestination(value: unknown, sourceTopic: string): OnFailureDestination | undefined {
  const setting = 'destinationConfig.onFailure.destination';
  const allowed =
    "allowed: '' (none), kafka://<topic> or tributary://<topic>, an SQS standard queue ARN " +
    '(arn:aws:sqs:<region>:<account>:<queue>) or an S3 bucket ARN (arn:aws:s3:::<bucket>)';
  if (typeof value !== 'string' || value.length > TRIGGER_LIMITS.destinationLength) {
    throw new InvalidTriggerError(setting, value, allowed);
  }
  if (value === '') return undefined;
  const topicUri = TOPIC_URI.exec(value);
  if (topicUri) {
    const topic = topicUri[2]!;
    if (!LEGAL_TOPIC_NAME.test(topic)) {
      throw new InvalidTriggerError(
        setting,
        value,
        'the topic must be 1-249 characters of [a-zA-Z0-9._-], not "." or ".."',
      );
    }
    if (topic === sourceTopic) {
      throw new InvalidTriggerError(
        setting,
        value,
        "the destination topic cannot be the trigger's own topic (its dead letters would trigger it again)",
      );
    }
    return { kind: 'topic', topic };
  }
  const sqs = SQS_ARN.exec(value);
  if (sqs) {
    const queueName = sqs[4]!;
    if (queueName.endsWith('.fifo')) {
      throw new InvalidTriggerError(setting, value, 'FIFO queues are not supported; use a standard queue');
    }
    return { kind: 'sqs', arn: value, region: sqs[2]!, accountId: sqs[3]!, queueName };
  }
  const s3 = S3_ARN.exec(value);
  if (s3) {
    const bucket = s3[1]!;
    const problem = bucketNameProblem(bucket);
    if (problem) throw new InvalidTriggerError(setting, value, `the bucket name ${problem}`);
    return { kind: 's3', arn: value, bucket };
  }
  if (SNS_ARN.test(value)) {
    throw new InvalidTriggerError(setting, value, `SNS destinations are not supported; ${allowed}`);
  }
  throw new InvalidTriggerError(setting, value, allowed);
}

/** Applies (and validates) every updatable setting present in `input` on top of `base`. */
function applyMutable(base: TriggerSettings, input: Readonly<Record<string, unknown>>): TriggerSettings {
  let {
    functionName,
    enabled,
    batchSize,
    maximumBatchingWindowInSeconds,
    maximumRetryAttempts,
    maximumRecordAgeInSeconds,
    bisectBatchOnFunctionError,
    functionResponseTypes,
    destinationConfig,
    filterCriteria,
    scalingConfig,
  } = base;

  if (input.functionName !== undefined) {
    parseFunctionName(input.functionName);
    functionName = input.functionName as string;
  }
  if (input.enabled !== undefined) enabled = bool(input.enabled, 'enabled');
  if (input.batchSize !== undefined) {
    batchSize = integerIn(input.batchSize, TRIGGER_LIMITS.batchSize, 'batchSize');
  }
  if (input.maximumBatchingWindowInSeconds !== undefined) {
    maximumBatchingWindowInSeconds = integerIn(
      input.maximumBatchingWindowInSeconds,
      TRIGGER_LIMITS.maximumBatchingWindowInSeconds,
      'maximumBatchingWindowInSeconds',
      ' (whole seconds; the 0.5 s default cannot be set explicitly)',
    );
  }
  if (input.maximumRetryAttempts !== undefined) {
    maximumRetryAttempts = integerIn(
      input.maximumRetryAttempts,
      TRIGGER_LIMITS.maximumRetryAttempts,
      'maximumRetryAttempts',
      ' (-1 retries forever)',
    );
  }
  if (input.maximumRecordAgeInSeconds !== undefined) {
    const age = input.maximumRecordAgeInSeconds;
    const { min, max } = TRIGGER_LIMITS.maximumRecordAgeInSeconds;
    if (age !== -1 && !(Number.isInteger(age) && (age as number) >= min && (age as number) <= max)) {
      throw new InvalidTriggerError(
        'maximumRecordAgeInSeconds',
        age,
        `allowed: -1 (no limit) or an integer from ${min} to ${max}`,
      );
    }
    maximumRecordAgeInSeconds = age as number;
  }
  if (input.bisectBatchOnFunctionError !== undefined) {
    bisectBatchOnFunctionError = bool(input.bisectBatchOnFunctionError, 'bisectBatchOnFunctionError');
  }
  if (input.functionResponseTypes !== undefined) {
    functionResponseTypes = responseTypes(input.functionResponseTypes);
  }
  if (input.destinationConfig !== undefined) {
    destinationConfig = { onFailure: { destination: destinationOf(input.destinationConfig, base.topic) } };
  }
  if (input.filterCriteria !== undefined) {
    filterCriteria = { filters: filtersOf(input.filterCriteria) };
  }
  if (input.scalingConfig !== undefined) {
    scalingConfig = { maximumConcurrency: concurrencyOf(input.scalingConfig) };
  }
  return {
    name: base.name,
    topic: base.topic,
    functionName,
    groupId: base.groupId,
    enabled,
    startingPosition: base.startingPosition,
    startingPositionTimestamp: base.startingPositionTimestamp,
    batchSize,
    maximumBatchingWindowInSeconds,
    maximumRetryAttempts,
    maximumRecordAgeInSeconds,
    bisectBatchOnFunctionError,
    functionResponseTypes,
    destinationConfig,
    filterCriteria,
    scalingConfig,
  };
}

function destinationOf(value: unknown, topic: string): string {
  const config = asRecord(value, 'destinationConfig', 'an object { onFailure: { destination } }');
  rejectUnknownKeys(config, new Set(['onFailure']), 'destinationConfig.');
  if (config.onFailure === undefined) return '';
  const onFailure = asRecord(config.onFailure, 'destinationConfig.onFailure', 'an object { destination }');
  rejectUnknownKeys(onFailure, new Set(['destination']), 'destinationConfig.onFailure.');
  const destination = onFailure.destination ?? '';
  parseDestination(destination, topic);
  return destination as string;
}

function filtersOf(value: unknown): readonly TriggerFilter[] {
  const criteria = asRecord(value, 'filterCriteria', 'an object { filters: [{ pattern }] }');
  rejectUnknownKeys(criteria, new Set(['filters']), 'filterCriteria.');
  const filters = criteria.filters ?? [];
  if (!Array.isArray(filters) || filters.length > TRIGGER_LIMITS.filters) {
    throw new InvalidTriggerError(
      'filterCriteria.filters',
      filters,
      `allowed: an array of at most ${TRIGGER_LIMITS.filters} { pattern } objects`,
    );
  }
  return filters.map((filter: unknown, i) => {
    const setting = `filterCriteria.filters[${i}]`;
    const entry = asRecord(filter, setting, 'an object { pattern: string }');
    rejectUnknownKeys(entry, new Set(['pattern']), `${setting}.`);
    // Compiling is the validation: the same parser the dispatcher uses, so what is stored always compiles.
    compileFilterPattern(entry.pattern, `${setting}.pattern`);
    return { pattern: entry.pattern as string };
  });
}

function concurrencyOf(value: unknown): number | undefined {
  const config = asRecord(value, 'scalingConfig', 'an object { maximumConcurrency }');
  rejectUnknownKeys(config, new Set(['maximumConcurrency']), 'scalingConfig.');
  if (config.maximumConcurrency === undefined) return undefined;
  return integerIn(
    config.maximumConcurrency,
    TRIGGER_LIMITS.maximumConcurrency,
    'scalingConfig.maximumConcurrency',
    ' (omit it for no limit)',
  );
}

function responseTypes(value: unknown): readonly FunctionResponseType[] {
  if (
    Array.isArray(value) &&
    (value.length === 0 || (value.length === 1 && value[0] === 'ReportBatchItemFailures'))
  ) {
    return value.length === 0 ? [] : ['ReportBatchItemFailures'];
  }
  throw new InvalidTriggerError('functionResponseTypes', value, "allowed: [] or ['ReportBatchItemFailures']");
}

function defaultGroupId(name: string): string {
  const groupId = `trigger-${name}`;
  if (!LEGAL_GROUP_ID.test(groupId)) {
    throw new InvalidTriggerError(
      'groupId',
      groupId,
      `the default group id "trigger-<name>" is over 249 characters for this name; pass a groupId`,
    );
  }
  return groupId;
}

function legalName(value: unknown, setting: string): string {
  if (typeof value !== 'string' || !LEGAL_TOPIC_NAME.test(value)) {
    throw new InvalidTriggerError(
      setting,
      value,
      'allowed: 1-249 characters of [a-zA-Z0-9._-], not "." or ".."',
    );
  }
  return value;
}

function legalGroupId(value: unknown, setting: string): string {
  if (typeof value !== 'string' || !LEGAL_GROUP_ID.test(value)) {
    throw new InvalidTriggerError(setting, value, 'allowed: 1-249 characters of [a-zA-Z0-9._-]');
  }
  return value;
}

function oneOf<T extends string>(value: unknown, options: readonly T[], setting: string): T {
  if (typeof value === 'string' && (options as readonly string[]).includes(value)) return value as T;
  throw new InvalidTriggerError(setting, value, `allowed: ${options.join(', ')}`);
}

function bool(value: unknown, setting: string): boolean {
  if (typeof value === 'boolean') return value;
  throw new InvalidTriggerError(setting, value, 'allowed: true or false');
}

function integerIn(
  value: unknown,
  range: { readonly min: number; readonly max: number },
  setting: string,
  note = '',
): number {
  if (typeof value === 'number' && Number.isInteger(value) && value >= range.min && value <= range.max) {
    return value;
  }
  throw new InvalidTriggerError(
    setting,
    value,
    `allowed: an integer from ${range.min} to ${range.max}${note}`,
  );
}

function asRecord(value: unknown, setting: string, what: string): Readonly<Record<string, unknown>> {
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
    return value as Record<string, unknown>;
  }
  throw new InvalidTriggerError(setting, value, `allowed: ${what}`);
}

function rejectUnknownKeys(
  record: Readonly<Record<string, unknown>>,
  known: ReadonlySet<string>,
  prefix: string,
): void {
  for (const key of Object.keys(record)) {
    if (!known.has(key)) {
      throw new InvalidTriggerError(
        `${prefix}${key}`,
        record[key],
        `it is not a trigger setting; known here: ${[...known].join(', ')}`,
      );
    }
  }
}

/** Why `name` is not a legal S3 bucket name, or `undefined` when it is. */
function bucketNameProblem(name: string): string | undefined {
  if (name.length < 3 || name.length > 63) return 'must be 3-63 characters long';
  if (!/^[a-z0-9][a-z0-9.-]*[a-z0-9]$/.test(name)) {
    return 'must use lowercase letters, digits, "." and "-", and start and end with a letter or digit';
  }
  if (name.includes('..')) return 'must not contain ".."';
  if (/^\d+\.\d+\.\d+\.\d+$/.test(name)) return 'must not look like an IP address';
  return undefined;
}
