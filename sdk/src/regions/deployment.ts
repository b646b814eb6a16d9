/**
 * The deployment's regions as a client's options (or its environment) state them, checked once
 * when the client is created: which regions there are (home first), the client's own, where groups
 * coordinate, and the policies for appends and replica reads. Pure: no AWS clients here.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { InvalidArgumentError, UnknownRegionError } from '../errors.ts';

/** One region of the deployment, as a client reaches it. */
export interface RegionEndpoint {
  /** The AWS region name, e.g. `eu-west-1`. */
  readonly region: string;
  /**
   * Endpoint of this region's DynamoDB (for the local stack: the region's edge).
   * @default the client's `endpoint` (signing for this region, as LocalStack serves every region on
   * one endpoint), else AWS's regional endpoint
   */
  readonly endpoint?: string;
  /** Use this DynamoDB client for the region instead of creating one. */
  readonly dynamoDBClient?: DynamoDBClient;
}

/** What a client does with an append to a topic whose home is another region. */
export type AppendRouting = 'forward' | 'refuse';
/** Which copy of a topic's log a client reads. */
export type ReadFrom = 'local' | 'home';
/** What a reader of a replica does at offsets the replica does not hold yet. */
export type ReplicaGapPolicy = 'wait' | 'read-home';

/** The deployment's regions and the client's policies, checked. */
export interface DeploymentRegions {
  /** Every region, home first. */
  readonly names: readonly string[];
  /** The deployment's home region. */
  readonly home: string;
  /** The client's own region. */
  readonly own: string;
  /** Where consumer groups coordinate. */
  readonly groupRegion: string;
  readonly appends: AppendRouting;
  readonly readFrom: ReadFrom;
  readonly replicaGaps: ReplicaGapPolicy;
  /** How to reach each region, by name. */
  readonly endpoints: ReadonlyMap<string, RegionEndpoint>;
}

/** What {@link resolveDeployment} reads. */
export interface DeploymentInput {
  /** The client's own region (already resolved from the options and environment). */
  readonly region: string;
  readonly regions?: readonly RegionEndpoint[] | undefined;
  /** `TRIBUTARY_REGIONS`: comma-separated region names, home first; used when `regions` is not given. */
  readonly environment?: string | undefined;
  readonly appends?: AppendRouting | undefined;
  readonly readFrom?: ReadFrom | undefined;
  readonly replicaGaps?: ReplicaGapPolicy | undefined;
  readonly groupRegion?: string | undefined;
}

/**
 * The environment variable a client reads the deployment's regions from when its options name none
 * (comma-separated names, home first): what the CDK stack sets on its functions.
 */
export const REGIONS_ENVIRONMENT_VARIABLE = 'TRIBUTARY_REGIONS';

/** The shape of an AWS region name (the same rule as the `home.region` config). */
const REGION_NAME = /^[a-z]{2}(-[a-z]+)+-\d$/;

/**
 * The deployment's regions from a client's options, or undefined when the client is single-region
 * (no `regions`, no `TRIBUTARY_REGIONS`): then nothing about regions changes how it works.
 *
 * @throws InvalidArgumentError for a malformed region list or policy value
 * @throws UnknownRegionError when `region` or `groupRegion` is not one of the regions
 */
export function resolveDeployment(input: DeploymentInput): DeploymentRegions | undefined {
  const appends = oneOf('appends', input.appends, ['forward', 'refuse'] as const);
  const readFrom = oneOf('readFrom', input.readFrom, ['local', 'home'] as const);
  const replicaGaps = oneOf('replicaGaps', input.replicaGaps, ['wait', 'read-home'] as const);
  const listed = input.regions ?? parseRegionList(input.environment);
  if (listed === undefined) {
    if (input.groupRegion !== undefined && input.groupRegion !== input.region) {
      throw new UnknownRegionError(input.groupRegion, [input.region], 'groupRegion');
    }
    return undefined;
  }
  if (listed.length === 0) {
    throw new InvalidArgumentError('regions must list at least one region (the home region first)');
  }
  const endpoints = new Map<string, RegionEndpoint>();
  listed.forEach((entry, i) => {
    const name = entry?.region;
    if (typeof name !== 'string' || !REGION_NAME.test(name)) {
      throw new InvalidArgumentError(
        `regions[${i}].region must be an AWS region name such as eu-west-1, got ${JSON.stringify(name)}`,
      );
    }
    if (endpoints.has(name)) throw new InvalidArgumentError(`regions lists ${name} twice`);
    endpoints.set(name, entry);
  });
  const names = [...endpoints.keys()];
  if (!endpoints.has(input.region)) throw new UnknownRegionError(input.region, names, "The client's region");
  const groupRegion = input.groupRegion ?? names[0]!;
  if (!endpoints.has(groupRegion)) throw new UnknownRegionError(groupRegion, names, 'groupRegion');
  return {
    names,
    home: names[0]!,
    own: input.region,
    groupRegion,
    appends,
    readFrom,
    replicaGaps,
    endpoints,
  };
}

/** `TRIBUTARY_REGIONS` as region entries (names only); undefined when unset or blank. */
export function parseRegionList(value: string | undefined): RegionEndpoint[] | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  return value.split(',').map((name) => ({ region: name.trim() }));
}

function oneOf<T extends string>(option: string, value: T | undefined, allowed: readonly T[]): T {
  if (value === undefined) return allowed[0]!;
  if (!allowed.includes(value)) {
    throw new InvalidArgumentError(
      `${option} must be ${allowed.map((a) => `'${a}'`).join(' or ')}, got ${JSON.stringify(value)}`,
    );
  }
  return value;
}
