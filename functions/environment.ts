/**
 * The environment of Tributary's Lambda functions: which variables the CDK stack sets and how a
 * function reads them (once, at cold start, into a typed object). `infra/` builds the variables
 * with {@link functionEnvironment}, so the names are written in this one place.
 */
import {
  CONSISTENCY_ENVIRONMENT_VARIABLE,
  REGIONS_ENVIRONMENT_VARIABLE,
  type TableNames,
  WITNESS_REGION_ENVIRONMENT_VARIABLE,
} from '../sdk/src/internal.ts';

const NAMES = {
  logTable: 'TRIBUTARY_LOG_TABLE',
  topicsTable: 'TRIBUTARY_TOPICS_TABLE',
  groupsTable: 'TRIBUTARY_GROUPS_TABLE',
  bucket: 'TRIBUTARY_BUCKET',
} as const;

/** Where the functions find the deployment's storage. */
export interface FunctionConfig {
  readonly tables: TableNames;
  readonly bucket: string;
}

/** A deployment's regions, as its functions' SDK clients must know them. */
export interface FunctionRegions {
  /** Every region with a replica, home first. */
  readonly names: readonly string[];
  /** The global tables' consistency mode. */
  readonly consistency: 'eventual' | 'strong';
  /** With MRSC and two replicas: the witness region. */
  readonly witnessRegion?: string | undefined;
}

/**
 * The environment variables that carry a {@link FunctionConfig}, and, for a deployment with
 * replicas, its regions (home first), consistency mode and witness in the variables the SDK reads
 * when a client is created without `regions` — so every function routes appends to each topic's
 * home region (MREC), or appends where it runs and refuses transactions (MRSC).
 */
export function functionEnvironment(
  config: FunctionConfig,
  regions?: FunctionRegions,
): Record<string, string> {
  return {
    [NAMES.logTable]: config.tables.log,
    [NAMES.topicsTable]: config.tables.topics,
    [NAMES.groupsTable]: config.tables.groups,
    [NAMES.bucket]: config.bucket,
    ...(regions && (regions.names.length > 1 || regions.consistency === 'strong')
      ? {
          [REGIONS_ENVIRONMENT_VARIABLE]: regions.names.join(','),
          ...(regions.consistency === 'strong' ? { [CONSISTENCY_ENVIRONMENT_VARIABLE]: 'strong' } : {}),
          ...(regions.witnessRegion ? { [WITNESS_REGION_ENVIRONMENT_VARIABLE]: regions.witnessRegion } : {}),
        }
      : {}),
  };
}

/** Names of the variables only the API function has. */
const API_NAMES = { sessionSecretArn: 'TRIBUTARY_SESSION_SECRET_ARN' } as const;

/** What the API function needs beyond {@link FunctionConfig}. */
export interface ApiFunctionConfig {
  /** The Secrets Manager secret whose value signs group sessions. */
  readonly sessionSecretArn: string;
}

/** The environment variables that carry an {@link ApiFunctionConfig}. */
export function apiFunctionEnvironment(config: ApiFunctionConfig): Record<string, string> {
  return { [API_NAMES.sessionSecretArn]: config.sessionSecretArn };
}

/** Reads the API function's own configuration; throws naming a missing variable. */
export function readApiFunctionConfig(env: NodeJS.ProcessEnv = process.env): ApiFunctionConfig {
  const arn = env[API_NAMES.sessionSecretArn];
  if (!arn) {
    throw new Error(
      `Tributary API function misconfigured: missing environment variable ${API_NAMES.sessionSecretArn}`,
    );
  }
  return { sessionSecretArn: arn };
}

/** Names of the variables only the trigger dispatcher has. */
const DISPATCHER_NAMES = { bootstrapServers: 'TRIBUTARY_BOOTSTRAP_SERVERS' } as const;

/**
 * What the trigger dispatcher needs beyond {@link FunctionConfig}. Its own function name (for
 * worker self-invocations) and region come from Lambda's `AWS_LAMBDA_FUNCTION_NAME` and
 * `AWS_REGION`.
 */
export interface DispatcherFunctionConfig {
  /** `bootstrapServers` written into every event and failure record (Tributary has no brokers). */
  readonly bootstrapServers: string;
}

/** The environment variables that carry a {@link DispatcherFunctionConfig}. */
export function dispatcherFunctionEnvironment(config: DispatcherFunctionConfig): Record<string, string> {
  return { [DISPATCHER_NAMES.bootstrapServers]: config.bootstrapServers };
}

/** Reads the dispatcher's own configuration; throws naming a missing variable. */
export function readDispatcherFunctionConfig(env: NodeJS.ProcessEnv = process.env): DispatcherFunctionConfig {
  const bootstrapServers = env[DISPATCHER_NAMES.bootstrapServers];
  if (!bootstrapServers) {
    throw new Error(
      `Tributary dispatcher function misconfigured: missing environment variable ${DISPATCHER_NAMES.bootstrapServers}`,
    );
  }
  return { bootstrapServers };
}

/**
 * The input the stack's schedule sends the dispatcher (an EventBridge rule target input): "sweep
 * now" — start workers for due partitions nobody holds. The dispatcher tells it from its other
 * events (stream batches, worker jobs) with {@link isSweepEvent}.
 */
export const SWEEP_EVENT = { source: 'tributary.sweep' } as const;

/** True for the schedule's {@link SWEEP_EVENT}. */
export function isSweepEvent(event: unknown): event is typeof SWEEP_EVENT {
  return (
    typeof event === 'object' &&
    event !== null &&
    (event as { source?: unknown }).source === SWEEP_EVENT.source
  );
}

/**
 * The one property of a `Custom::TributaryTrigger` resource (`TributaryEventSource`): the trigger's
 * `TriggerConfig` as JSON, every setting written out (an absent one would be left unchanged by an
 * update), except `maximumBatchingWindowInSeconds` when it was never set (its 0.5 s default cannot
 * be set explicitly). CloudFormation hands custom resources every property as a string, so one JSON
 * text keeps numbers and booleans intact.
 */
export const TRIGGER_RESOURCE_PROPERTY = 'Trigger';

/** Reads the configuration from an environment; throws naming every missing variable. */
export function readFunctionConfig(env: NodeJS.ProcessEnv = process.env): FunctionConfig {
  const missing = Object.values(NAMES).filter((name) => !env[name]);
  if (missing.length > 0) {
    throw new Error(`Tributary function misconfigured: missing environment variables ${missing.join(', ')}`);
  }
  const get = (name: string): string => env[name] as string;
  return {
    tables: { log: get(NAMES.logTable), topics: get(NAMES.topicsTable), groups: get(NAMES.groupsTable) },
    bucket: get(NAMES.bucket),
  };
}

/**
 * The variable the gateway process (`tributary gateway`) reads its SASL/PLAIN users from,
 * `user:password,user2:password2`: the CDK construct injects it from a Secrets Manager secret.
 */
export const GATEWAY_SASL_USERS_VARIABLE = 'TRIBUTARY_GATEWAY_SASL_USERS';
