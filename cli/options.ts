/** Connection options shared by every command, and the client they open. */
import { type ParseArgsConfig, parseArgs } from 'node:util';
import { type RegionEndpoint, Tributary } from '../sdk/src/index.ts';
import { isLoopbackEndpoint } from '../sdk/src/internal.ts';

/** A mistake in the command line (exit code 2). */
export class UsageError extends Error {}

/** The local stack's edge endpoint, the CLI's default target. */
export const LOCAL_ENDPOINT = 'http://127.0.0.1:4566';

export const globalOptionSpec = {
  endpoint: { type: 'string' },
  api: { type: 'string' },
  region: { type: 'string' },
  regions: { type: 'string' },
  'table-prefix': { type: 'string' },
  bucket: { type: 'string' },
} as const satisfies ParseArgsConfig['options'];

export interface GlobalOptions {
  readonly endpoint?: string;
  readonly api?: string;
  readonly region?: string;
  readonly regions?: string;
  readonly 'table-prefix'?: string;
  readonly bucket?: string;
}

/**
 * Opens a client from the global options and the environment: through the HTTP API with `--api`
 * (or $TRIBUTARY_API_URL), else directly to DynamoDB and S3.
 */
export function openClient(options: GlobalOptions): Tributary {
  const api = options.api ?? process.env.TRIBUTARY_API_URL;
  if (api !== undefined && api !== '') {
    if (!/^https?:\/\//.test(api)) throw new UsageError(`--api must be the API's http(s) URL, got "${api}"`);
    return new Tributary({
      transport: 'http',
      endpoint: api,
      ...(isLoopbackEndpoint(api) ? { retry: { deadlineMs: 3_000 } } : {}),
      ...(options.region ? { region: options.region } : {}),
    });
  }
  const chosen =
    options.endpoint ?? process.env.TRIBUTARY_ENDPOINT ?? process.env.AWS_ENDPOINT_URL ?? LOCAL_ENDPOINT;
  const endpoint = chosen === 'aws' ? undefined : chosen;
  if (endpoint !== undefined && !/^https?:\/\//.test(endpoint)) {
    throw new UsageError(`--endpoint must be an http(s) URL or "aws", got "${endpoint}"`);
  }
  // Against a local endpoint a refused connection means nothing is listening: fail fast.
  const local = endpoint !== undefined && isLoopbackEndpoint(endpoint);
  return new Tributary({
    ...(endpoint ? { endpoint } : {}),
    ...(local ? { retry: { deadlineMs: 3_000 } } : {}),
    ...(options.region ? { region: options.region } : {}),
    ...(options.regions ? { regions: regionList(options.regions) } : {}),
    ...(options['table-prefix'] ? { tablePrefix: options['table-prefix'] } : {}),
    ...(options.bucket ? { bucket: options.bucket } : {}),
  });
}

/**
 * Parses `--regions`: the deployment's regions, home first, each `name` or `name=endpoint` (the
 * region's DynamoDB endpoint, e.g. the local stack's edge of that region), comma-separated.
 */
export function regionList(value: string): RegionEndpoint[] {
  return value.split(',').map((entry) => {
    const at = entry.indexOf('=');
    const region = (at < 0 ? entry : entry.slice(0, at)).trim();
    const endpoint = at < 0 ? undefined : entry.slice(at + 1).trim();
    if (region === '') throw new UsageError(`--regions takes name[=endpoint],..., got "${value}"`);
    if (endpoint !== undefined && !/^https?:\/\//.test(endpoint)) {
      throw new UsageError(`--regions: the endpoint of ${region} must be an http(s) URL, got "${endpoint}"`);
    }
    return endpoint === undefined ? { region } : { region, endpoint };
  });
}

/** Parses a command's arguments (its own options plus the global ones). */
export function parseCommand<O extends NonNullable<ParseArgsConfig['options']>>(args: string[], options: O) {
  try {
    return parseArgs({
      args,
      options: { ...globalOptionSpec, ...options },
      allowPositionals: true,
      strict: true,
    });
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
}

/** Parses a non-negative integer option. */
export function integerOption(name: string, value: string | undefined, min = 0): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value) || Number(value) < min)
    throw new UsageError(`--${name} must be an integer ≥ ${min}, got "${value}"`);
  return Number(value);
}

/** Parses repeated `key=value` options. */
export function keyValues(name: string, values: readonly string[] | undefined): Record<string, string> {
  const pairs = new Map<string, string>();
  for (const pair of values ?? []) {
    const at = pair.indexOf('=');
    if (at <= 0) throw new UsageError(`--${name} takes key=value, got "${pair}"`);
    pairs.set(pair.slice(0, at), pair.slice(at + 1));
  }
  // Own properties only: a key named "__proto__" must not set the object's prototype.
  return Object.fromEntries(pairs);
}
