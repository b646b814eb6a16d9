/**
 * The environment of Tributary's Lambda functions: which variables the CDK stack sets and how a
 * function reads them (once, at cold start, into a typed object). `infra/` builds the variables
 * with {@link functionEnvironment}, so the names are written in this one place.
 */
import type { TableNames } from '../sdk/src/schema.ts';

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

/** The environment variables that carry a {@link FunctionConfig}. */
export function functionEnvironment(config: FunctionConfig): Record<string, string> {
  return {
    [NAMES.logTable]: config.tables.log,
    [NAMES.topicsTable]: config.tables.topics,
    [NAMES.groupsTable]: config.tables.groups,
    [NAMES.bucket]: config.bucket,
  };
}

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
