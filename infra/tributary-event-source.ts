/**
 * A Tributary topic as a Lambda event source: `fn.addEventSource(new TributaryEventSource(...))`
 * creates a trigger (Tributary's event source mapping) at deploy time, updates it when its props
 * change and deletes it with the stack, through a CloudFormation custom resource.
 */
import { createHash } from 'node:crypto';
import { CustomResource, type Duration, Names, Stack, Token } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct, type IConstruct } from 'constructs';
import { TRIGGER_RESOURCE_PROPERTY } from '../functions/environment.ts';
import { InvalidTriggerError, type TriggerConfig, type TriggerFilter } from '../sdk/src/index.ts';
import { TRIGGER_LIMITS, validateTriggerConfig } from '../sdk/src/internal.ts';
import { bucketDestinationKeys, bucketStatements, queueStatements, targetStatements } from './dispatcher.ts';
import { acknowledgeWildcardResource } from './nag.ts';
import type { Tributary } from './tributary.ts';

/**
 * Where records go that a trigger gives up on (retries exhausted, too old, too large): an SQS
 * standard queue (one message per give-up: the batch's metadata, no record bytes), an S3 bucket (one
 * object per give-up with the whole event, under `aws/lambda/tributary/<trigger>/`), or the name of
 * a Tributary topic (one dead letter per record, keyed as the original).
 */
export type TributaryOnFailure = sqs.IQueue | s3.IBucket | string;

/**
 * Properties of {@link TributaryEventSource}: the settings of a Lambda event source mapping for
 * Kafka, named as aws-cdk-lib names them (`KafkaEventSource`, `StreamEventSourceProps`).
 */
export interface TributaryEventSourceProps {
  /** The topic whose records the function receives. Create-only. */
  readonly topic: string;

  /**
   * Where to start when the trigger's consumer group has no committed offset: `TRIM_HORIZON` (the
   * oldest record), `LATEST` (records produced after the trigger was created) or `AT_TIMESTAMP`
   * (with `startingPositionTimestamp`). Create-only.
   */
  readonly startingPosition: lambda.StartingPosition;

  /**
   * With `AT_TIMESTAMP`: the time to start from, in Unix seconds. Create-only.
   *
   * @default - none; required with (and only with) `AT_TIMESTAMP`
   */
  readonly startingPositionTimestamp?: number;

  /**
   * The trigger's name: 1–249 characters of `[a-zA-Z0-9._-]`, unique in the deployment.
   *
   * @default - a name derived from the construct path and the create-only settings, so changing
   * `topic`, `groupId`, `startingPosition` or `startingPositionTimestamp` replaces the trigger (a
   * new one is created, the old one deleted) as CloudFormation replaces an event source mapping. With
   * an explicit name, such a change fails the deployment instead: change the name with it.
   */
  readonly triggerName?: string;

  /**
   * The consumer group the trigger commits in. A group that has committed offsets is resumed there,
   * whatever the starting position. Create-only.
   *
   * @default `trigger-<triggerName>`
   */
  readonly groupId?: string;

  /**
   * Whether the trigger delivers. A disabled trigger keeps its committed offsets and resumes there.
   *
   * @default true
   */
  readonly enabled?: boolean;

  /**
   * Most records per invocation, 1–10,000 (an invocation's payload is also bounded by 6 MB).
   *
   * @default 100
   */
  readonly batchSize?: number;

  /**
   * Longest wait for a fuller batch: whole seconds, 0–300.
   *
   * @default - 500 ms (Lambda's Kafka default). Like Lambda's, it cannot be set explicitly: once
   * set, removing this prop keeps the last value (set `Duration.seconds(0)` for no wait).
   */
  readonly maxBatchingWindow?: Duration;

  /**
   * Retries of a failed batch after the first attempt, 0–10,000, or -1 to retry until the records
   * expire (`maxRecordAge`) — with an `onFailure` destination, -1 means 10 retries, as in Lambda.
   *
   * @default -1
   */
  readonly retryAttempts?: number;

  /**
   * Oldest record still delivered (older ones are given up on): whole seconds, 60 seconds to 7 days.
   *
   * @default - no limit
   */
  readonly maxRecordAge?: Duration;

  /**
   * Whether a failed batch is split in two and each half retried (finds a poison record quickly).
   *
   * @default false
   */
  readonly bisectBatchOnError?: boolean;

  /**
   * Whether the function's partial batch responses (`batchItemFailures`) are honoured.
   *
   * @default false
   */
  readonly reportBatchItemFailures?: boolean;

  /**
   * Where records go when the trigger gives up on them. The dispatcher is granted exactly what it
   * needs on it: `sqs:SendMessage` and `sqs:GetQueueUrl` on the queue, `s3:PutObject` under the
   * trigger's prefix of the bucket (and their KMS keys); a topic needs no grant.
   *
   * @default - none: records given up on are dropped (and counted)
   */
  readonly onFailure?: TributaryOnFailure;

  /**
   * Up to 5 filters on the record value, ORed: `lambda.FilterCriteria.filter({ value: { ... } })`.
   * Records no filter matches are committed without an invocation.
   *
   * @default - every record is delivered
   */
  readonly filters?: ReadonlyArray<Readonly<Record<string, unknown>>>;

  /**
   * Most concurrent invocations across the topic's partitions, 1–1,000 (one per partition at most).
   *
   * @default - one per partition
   */
  readonly maxConcurrency?: number;
}

/** Function name used to validate settings before the function is known (any legal name). */
const PLACEHOLDER_FUNCTION = 'tributary-event-source-target';
/** Trigger name used to validate settings when the name is generated at bind. */
const PLACEHOLDER_NAME = 'tributary-event-source';

/** The SDK's setting names (`InvalidTriggerError.setting`, as prefixes) in this construct's props. */
const PROP_OF_SETTING: readonly (readonly [string, keyof TributaryEventSourceProps])[] = [
  ['name', 'triggerName'],
  ['maximumBatchingWindowInSeconds', 'maxBatchingWindow'],
  ['maximumRetryAttempts', 'retryAttempts'],
  ['maximumRecordAgeInSeconds', 'maxRecordAge'],
  ['bisectBatchOnFunctionError', 'bisectBatchOnError'],
  ['functionResponseTypes', 'reportBatchItemFailures'],
  ['destinationConfig.onFailure.destination', 'onFailure'],
  ['destinationConfig', 'onFailure'],
  ['filterCriteria.filters', 'filters'],
  ['filterCriteria', 'filters'],
  ['scalingConfig.maximumConcurrency', 'maxConcurrency'],
  ['scalingConfig', 'maxConcurrency'],
];

/**
 * A Tributary topic as an event source of a Lambda function: the function is invoked with the
 * topic's records in the self-managed Kafka event source mapping's event format and error-handling
 * contract (batches per partition, in offset order, partial batch responses, on-failure
 * destinations), by the deployment's dispatcher.
 *
 * ```ts
 * fn.addEventSource(new TributaryEventSource(tributary, {
 *   topic: 'orders',
 *   startingPosition: lambda.StartingPosition.TRIM_HORIZON,
 *   batchSize: 500,
 * }));
 * ```
 *
 * Binding creates, next to the function, a `Custom::TributaryTrigger` resource (the trigger; its
 * physical id is the trigger name) and an IAM policy on the dispatcher's role with exactly what the
 * trigger needs: `lambda:InvokeFunction` and `lambda:GetFunctionConfiguration` on this function
 * (the qualified ARN for an alias or a version), and the grants of its `onFailure` destination. The
 * function may be in another stack of the same account and region as the Tributary.
 *
 * Props are validated when the event source is constructed, by the same rules the SDK applies
 * (errors name the prop); the topic, a destination topic and the function must exist when it is
 * deployed.
 */
export class TributaryEventSource implements lambda.IEventSource {
  readonly #tributary: Tributary;
  readonly #props: TributaryEventSourceProps;
  #triggerName: string | undefined;
  #resource: CustomResource | undefined;

  constructor(tributary: Tributary, props: TributaryEventSourceProps) {
    this.#tributary = tributary;
    this.#props = { ...props, ...(props.filters ? { filters: [...props.filters] } : {}) };
    validateProps(this.#props);
  }

  /** The trigger's name. Known once the event source is bound, unless `triggerName` was given. */
  get triggerName(): string {
    const name = this.#props.triggerName ?? this.#triggerName;
    if (name === undefined) {
      throw new Error(
        'TributaryEventSource is not yet bound to a function: its trigger name is not known yet',
      );
    }
    return name;
  }

  /** The trigger's consumer group (where its committed offsets and lag live). */
  get groupId(): string {
    return this.#props.groupId ?? `trigger-${this.triggerName}`;
  }

  /** The custom resource of the trigger, once bound. */
  get resource(): CustomResource {
    if (!this.#resource) throw new Error('TributaryEventSource is not yet bound to a function');
    return this.#resource;
  }

  /** Called by `fn.addEventSource(...)`: creates the trigger's resource and grants next to `target`. */
  bind(target: lambda.IFunction): void {
    if (this.#resource) {
      throw new Error(
        'TributaryEventSource is already bound to a function: a trigger invokes one function; ' +
          'create one event source per function',
      );
    }
    const props = this.#props;
    const dispatcher = this.#tributary.dispatcher;
    validateEnvironment(target, this.#tributary);

    // Construct ids cannot hold tokens: a name or topic known only at deploy time is left out.
    const label = [props.triggerName, props.topic].find(
      (value) => value !== undefined && !Token.isUnresolved(value),
    );
    const scope = new Construct(
      target,
      uniqueChildId(target, label ? `TributaryTrigger-${label}` : 'TributaryTrigger'),
    );
    const name = props.triggerName ?? generatedName(scope, props);
    this.#triggerName = name;

    const destination = props.onFailure;
    const statements = [...targetStatements(target)];
    let destinationArn = '';
    if (typeof destination === 'string') {
      destinationArn = `tributary://${destination}`;
    } else if (destination !== undefined && isQueue(destination)) {
      destinationArn = destination.queueArn;
      statements.push(...queueStatements(destination));
    } else if (destination !== undefined) {
      destinationArn = destination.bucketArn;
      statements.push(...bucketStatements(destination, name));
    }
    const access = new iam.Policy(scope, 'DispatcherAccess', { roles: [dispatcher.role], statements });
    if (destination !== undefined && typeof destination !== 'string' && !isQueue(destination)) {
      acknowledgeWildcardResource(
        access,
        destination.arnForObjects(bucketDestinationKeys(name)),
        "The dispatcher writes a trigger's failure records as objects under the trigger's own key prefix of its " +
          'on-failure bucket (one object per batch given up on); it may only put objects there.',
      );
    }

    const config: TriggerConfig = {
      ...settingsOf(props),
      name,
      functionName: target.functionArn,
      destinationConfig: { onFailure: { destination: destinationArn } },
    };
    this.#resource = new CustomResource(scope, 'Resource', {
      serviceToken: dispatcher.triggerProvider.provider.serviceToken,
      resourceType: 'Custom::TributaryTrigger',
      properties: { [TRIGGER_RESOURCE_PROPERTY]: Stack.of(scope).toJsonString(config) },
    });
    // Grants first: the dispatcher may start delivering as soon as the trigger exists.
    this.#resource.node.addDependency(access);
  }
}

/**
 * The trigger settings of `props`, every one written out (see `TRIGGER_RESOURCE_PROPERTY`): an
 * update then resets a prop that was removed, except the batching window, which has no settable
 * default.
 */
function settingsOf(props: TributaryEventSourceProps): Omit<TriggerConfig, 'name' | 'functionName'> {
  return {
    topic: props.topic,
    ...(props.groupId === undefined ? {} : { groupId: props.groupId }),
    enabled: props.enabled ?? true,
    startingPosition: props.startingPosition,
    ...(props.startingPositionTimestamp === undefined
      ? {}
      : { startingPositionTimestamp: props.startingPositionTimestamp }),
    batchSize: props.batchSize ?? TRIGGER_LIMITS.batchSize.default,
    ...(props.maxBatchingWindow === undefined
      ? {}
      : { maximumBatchingWindowInSeconds: props.maxBatchingWindow.toSeconds() }),
    maximumRetryAttempts: props.retryAttempts ?? TRIGGER_LIMITS.maximumRetryAttempts.default,
    maximumRecordAgeInSeconds:
      props.maxRecordAge === undefined
        ? TRIGGER_LIMITS.maximumRecordAgeInSeconds.default
        : props.maxRecordAge.toSeconds(),
    bisectBatchOnFunctionError: props.bisectBatchOnError ?? false,
    functionResponseTypes: props.reportBatchItemFailures ? ['ReportBatchItemFailures'] : [],
    // The shape of each filter ({ pattern }) is the SDK's to check, with the others.
    filterCriteria: { filters: (props.filters ?? []) as unknown as readonly TriggerFilter[] },
    scalingConfig: props.maxConcurrency === undefined ? {} : { maximumConcurrency: props.maxConcurrency },
  };
}

/**
 * Validates the props with the SDK's own rules (tokens are left for deploy time), rethrowing with
 * the prop's name.
 */
function validateProps(props: TributaryEventSourceProps): void {
  if (props.maxBatchingWindow !== undefined) {
    const { min, max } = TRIGGER_LIMITS.maximumBatchingWindowInSeconds;
    validateWholeSeconds('maxBatchingWindow', props.maxBatchingWindow, min, max);
  }
  if (props.maxRecordAge !== undefined) {
    const { min, max } = TRIGGER_LIMITS.maximumRecordAgeInSeconds;
    validateWholeSeconds('maxRecordAge', props.maxRecordAge, min, max);
  }
  const destination = props.onFailure;
  if (
    destination !== undefined &&
    typeof destination !== 'string' &&
    isQueue(destination) &&
    destination.fifo
  ) {
    throw new Error('TributaryEventSource: onFailure: a FIFO queue is not supported; use a standard queue');
  }
  const resolved = <T>(value: T): T | undefined => (Token.isUnresolved(value) ? undefined : value);
  const settings = settingsOf(props);
  const candidate: Record<string, unknown> = {
    ...settings,
    name: resolved(props.triggerName) ?? PLACEHOLDER_NAME,
    functionName: PLACEHOLDER_FUNCTION,
    destinationConfig: {
      onFailure: { destination: typeof destination === 'string' ? `tributary://${destination}` : '' },
    },
  };
  // Unresolved values (tokens) are checked by the SDK when the trigger is deployed.
  for (const [key, value] of Object.entries(candidate)) {
    if (typeof value !== 'object' && Token.isUnresolved(value)) delete candidate[key];
  }
  if (Token.isUnresolved(props.topic)) candidate.topic = 'unresolved-topic';
  if (typeof destination === 'string' && Token.isUnresolved(destination)) {
    candidate.destinationConfig = {};
  }
  if (props.maxConcurrency !== undefined && Token.isUnresolved(props.maxConcurrency)) {
    candidate.scalingConfig = {};
  }
  try {
    validateTriggerConfig(candidate as unknown as TriggerConfig);
  } catch (error) {
    if (!(error instanceof InvalidTriggerError)) throw error;
    const prop = propOf(error.setting);
    const shown =
      prop === 'onFailure' && typeof destination === 'string' ? JSON.stringify(destination) : error.value;
    throw new Error(`TributaryEventSource: ${prop}: ${shown} is not allowed; ${error.allowed}`, {
      cause: error,
    });
  }
}

/** The prop an SDK setting name (possibly a dotted path) belongs to. */
function propOf(setting: string): string {
  for (const [prefix, prop] of PROP_OF_SETTING) {
    if (setting === prefix || setting.startsWith(`${prefix}.`) || setting.startsWith(`${prefix}[`)) {
      return prop + setting.slice(prefix.length);
    }
  }
  return setting;
}

function validateWholeSeconds(prop: string, value: Duration, min: number, max: number): void {
  if (value.isUnresolved()) return;
  const seconds = value.toSeconds({ integral: false });
  if (!Number.isInteger(seconds) || seconds < min || seconds > max) {
    throw new Error(
      `TributaryEventSource: ${prop}: ${value.toHumanString()} is not allowed; use whole seconds from ${min} to ${max}`,
    );
  }
}

/** The dispatcher invokes functions in its own account and region only. */
function validateEnvironment(target: lambda.IFunction, tributary: Tributary): void {
  const here = Stack.of(tributary);
  const there = Stack.of(target);
  for (const [what, a, b] of [
    ['region', here.region, target.env.region ?? there.region],
    ['account', here.account, target.env.account ?? there.account],
  ] as const) {
    if (!Token.isUnresolved(a) && !Token.isUnresolved(b) && a !== b) {
      throw new Error(
        `TributaryEventSource: the function is in ${what} ${b} and the Tributary in ${a}; ` +
          `the dispatcher invokes functions of its own account and region only`,
      );
    }
  }
}

function isQueue(destination: sqs.IQueue | s3.IBucket): destination is sqs.IQueue {
  return 'queueArn' in destination;
}

/** `base`, or `base-2`, `base-3`... when `scope` already has a child of that id. */
function uniqueChildId(scope: IConstruct, base: string): string {
  for (let n = 1; ; n++) {
    const id = n === 1 ? base : `${base}-${n}`;
    if (!scope.node.tryFindChild(id)) return id;
  }
}

/**
 * A name unique in the app (from the construct path) with a hash of the create-only settings, so
 * that changing one replaces the trigger instead of failing the update.
 */
function generatedName(scope: Construct, props: TributaryEventSourceProps): string {
  const createOnly = [
    props.topic,
    props.groupId,
    props.startingPosition,
    props.startingPositionTimestamp,
  ].map((value) => (Token.isUnresolved(value) ? 'token' : (value ?? null)));
  const hash = createHash('sha256').update(JSON.stringify(createOnly)).digest('hex').slice(0, 8);
  return `${Names.uniqueResourceName(scope, { maxLength: 100, separator: '-' })}-${hash}`;
}
