/**
 * Reads the CDK app's settings from context (`cdk deploy -c key=value`, or `context` in cdk.json)
 * and the environment the CDK CLI provides. Every key is documented in `docs/deploy.md`.
 */
import { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import type { TributaryEncryption } from './tributary.ts';
import type { LogLevel } from './tributary-function.ts';
import { validateInteger, validateRegion } from './validation.ts';

/** The app's settings. */
export interface AppConfig {
  readonly stackName: string;
  /** Account and region; either may be unknown (an environment-agnostic stack). */
  readonly env: { readonly account?: string; readonly region?: string };
  readonly replicaRegions: readonly string[];
  readonly multiRegionConsistency: 'eventual' | 'strong';
  readonly witnessRegion?: string;
  readonly encryption: TributaryEncryption;
  readonly billing: dynamodb.Billing;
  readonly archiveSchedule?: events.Schedule;
  readonly removalPolicy: RemovalPolicy;
  readonly logLevel?: LogLevel;
}

/** Default stack name. */
export const DEFAULT_STACK_NAME = 'Tributary';

const LOG_LEVELS: readonly LogLevel[] = ['DEBUG', 'INFO', 'WARN', 'ERROR'];

/**
 * Builds the app's settings from `context(key)` (CDK context) and `env` (`CDK_DEFAULT_ACCOUNT`,
 * `CDK_DEFAULT_REGION`, which the CDK CLI sets from your credentials and profile when it can).
 * Context `account` and `region` override them.
 */
export function readAppConfig(context: (key: string) => unknown, env: NodeJS.ProcessEnv): AppConfig {
  const str = (key: string): string | undefined => {
    const value = context(key);
    if (value === undefined || value === null || value === '') return undefined;
    if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean') {
      throw new Error(`Context ${key}: expected a string, got ${JSON.stringify(value)}`);
    }
    return String(value).trim();
  };
  const list = (key: string): string[] => {
    const value = context(key);
    const items = Array.isArray(value) ? value.map(String) : (str(key)?.split(',') ?? []);
    return items.map((item) => item.trim()).filter((item) => item.length > 0);
  };
  const int = (key: string, min: number, max: number): number | undefined => {
    const raw = str(key);
    if (raw === undefined) return undefined;
    const value = Number(raw);
    validateInteger(`Context ${key}`, value, min, max);
    return value;
  };

  const account = str('account') ?? env.CDK_DEFAULT_ACCOUNT;
  const region = str('region') ?? env.CDK_DEFAULT_REGION;
  if (region !== undefined) validateRegion('Context region', region);
  const replicaRegions = list('replicaRegions');
  for (const replica of replicaRegions) validateRegion('Context replicaRegions', replica);
  if (replicaRegions.length > 0 && (account === undefined || region === undefined)) {
    throw new Error(
      `Context replicaRegions (${replicaRegions.join(', ')}) needs a concrete account and region: deploy with AWS ` +
        'credentials and a region configured, or pass -c account=<id> -c region=<home region>',
    );
  }

  const consistency = str('multiRegionConsistency') ?? 'eventual';
  if (consistency !== 'eventual' && consistency !== 'strong') {
    throw new Error(`Context multiRegionConsistency: expected eventual or strong, got ${consistency}`);
  }
  const witnessRegion = str('witnessRegion');
  if (witnessRegion !== undefined) validateRegion('Context witnessRegion', witnessRegion);
  if (consistency === 'strong' && (account === undefined || region === undefined)) {
    throw new Error(
      'Context multiRegionConsistency=strong needs a concrete account and region (MRSC spans three named regions): ' +
        'deploy with AWS credentials and a region configured, or pass -c account=<id> -c region=<home region>',
    );
  }

  const encryption = readEncryption(str('encryption'), list('replicaKeyArns'));
  if (encryption.type === 'customer-managed' && region === undefined) {
    throw new Error(
      'Context encryption=customer-managed needs a concrete region: configure one (AWS_REGION, a profile) or pass ' +
        '-c region=<region>',
    );
  }

  return {
    stackName: str('stackName') ?? DEFAULT_STACK_NAME,
    env: { ...(account ? { account } : {}), ...(region ? { region } : {}) },
    replicaRegions,
    multiRegionConsistency: consistency,
    ...(witnessRegion ? { witnessRegion } : {}),
    encryption,
    billing: readBilling(str('billing'), int('readCapacity', 1, 40_000), int('writeCapacity', 1, 40_000)),
    ...readSchedule(str('archiveSchedule')),
    removalPolicy: readRemovalPolicy(str('removalPolicy')),
    ...readLogLevel(str('logLevel')),
  };
}

function readEncryption(value: string | undefined, replicaKeys: readonly string[]): TributaryEncryption {
  if (value === undefined || value === 'aws-owned') {
    if (replicaKeys.length > 0) {
      throw new Error('Context replicaKeyArns is only used with -c encryption=customer-managed');
    }
    return { type: 'aws-owned' };
  }
  if (value !== 'customer-managed') {
    throw new Error(`Context encryption: "${value}" is not allowed; use aws-owned or customer-managed`);
  }
  const replicaKeyArns: Record<string, string> = {};
  for (const entry of replicaKeys) {
    const at = entry.indexOf('=');
    if (at <= 0) {
      throw new Error(
        `Context replicaKeyArns: "${entry}" is not region=keyArn (e.g. eu-west-1=arn:aws:kms:...)`,
      );
    }
    replicaKeyArns[entry.slice(0, at).trim()] = entry.slice(at + 1).trim();
  }
  return { type: 'customer-managed', replicaKeyArns };
}

function readBilling(
  value: string | undefined,
  readCapacity: number | undefined,
  writeCapacity: number | undefined,
): dynamodb.Billing {
  if (value === undefined || value === 'on-demand') {
    if (readCapacity !== undefined || writeCapacity !== undefined) {
      throw new Error('Context readCapacity/writeCapacity need -c billing=provisioned');
    }
    return dynamodb.Billing.onDemand();
  }
  if (value !== 'provisioned') {
    throw new Error(`Context billing: "${value}" is not allowed; use on-demand or provisioned`);
  }
  if (readCapacity === undefined || writeCapacity === undefined) {
    throw new Error('Context billing=provisioned needs readCapacity and writeCapacity (units per table)');
  }
  return dynamodb.Billing.provisioned({
    readCapacity: dynamodb.Capacity.fixed(readCapacity),
    // Global tables (TableV2) require autoscaled write capacity; pinned here to the requested units.
    writeCapacity: dynamodb.Capacity.autoscaled({ minCapacity: writeCapacity, maxCapacity: writeCapacity }),
  });
}

function readSchedule(value: string | undefined): { archiveSchedule?: events.Schedule } {
  if (value === undefined) return {};
  if (!/^(rate|cron)\(.+\)$/.test(value)) {
    throw new Error(
      `Context archiveSchedule: "${value}" is not a schedule expression; use e.g. "rate(5 minutes)" or "cron(0/10 * * * ? *)"`,
    );
  }
  return { archiveSchedule: events.Schedule.expression(value) };
}

function readRemovalPolicy(value: string | undefined): RemovalPolicy {
  if (value === undefined || value === 'retain') return RemovalPolicy.RETAIN;
  if (value === 'destroy') return RemovalPolicy.DESTROY;
  throw new Error(`Context removalPolicy: "${value}" is not allowed; use retain or destroy`);
}

function readLogLevel(value: string | undefined): { logLevel?: LogLevel } {
  if (value === undefined) return {};
  const level = LOG_LEVELS.find((l) => l === value.toUpperCase());
  if (!level) throw new Error(`Context logLevel: "${value}" is not allowed; use ${LOG_LEVELS.join(', ')}`);
  return { logLevel: level };
}
