/**
 * The deployment's regions as a client's options (or its environment) state them, checked once
 * when the client is created: which regions there are (home first), the client's own, how the
 * global tables replicate (MREC or MRSC), where groups coordinate, and the policies for appends and
 * replica reads. Pure: no AWS clients here.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { InvalidArgumentError, UnknownRegionError } from '../errors.ts';
import { strongConsistencyProblem } from './strong-consistency.ts';

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
/**
 * How the deployment's global tables replicate: `eventual` (MREC: asynchronous, last writer wins,
 * so each topic takes appends in its home region) or `strong` (MRSC: a conditional write is checked
 * against every region, so every region takes appends; no transactions, no TTL).
 */
export type ReplicationConsistency = 'eventual' | 'strong';

/** The deployment's regions and the client's policies, checked. */
export interface DeploymentRegions {
  /** Every region, home first. */
  readonly names: readonly string[];
  /** The deployment's home region. */
  readonly home: string;
  /** The client's own region. */
  readonly own: string;
  readonly consistency: ReplicationConsistency;
  /** MRSC with two replicas: the third region, which votes in the quorum and holds no replica. */
  readonly witness: string | undefined;
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
  readonly consistency?: ReplicationConsistency | undefined;
  /** `TRIBUTARY_CONSISTENCY` (`eventual` or `strong`); used when `consistency` is not given. */
  readonly consistencyEnvironment?: string | undefined;
  readonly witnessRegion?: string | undefined;
  /** `TRIBUTARY_WITNESS_REGION`; used when `witnessRegion` is not given. */
  readonly witnessEnvironment?: string | undefined;
}

/**
 * The environment variable a client reads the deployment's regions from when its options name none
 * (comma-separated names, home first): what the CDK stack sets on its functions.
 */
export const REGIONS_ENVIRONMENT_VARIABLE = 'TRIBUTARY_REGIONS';

/**
 * The environment variable a client reads the global tables' consistency from when its options do
 * not say (`eventual` or `strong`), for the CDK stack to set on its functions in an MRSC deployment.
 */
export const CONSISTENCY_ENVIRONMENT_VARIABLE = 'TRIBUTARY_CONSISTENCY';

/**
 * The environment variable a client reads an MRSC deployment's witness region from when its options
 * name none, for the CDK stack to set on its functions when the tables have two replicas and a witness.
 */
export const WITNESS_REGION_ENVIRONMENT_VARIABLE = 'TRIBUTARY_WITNESS_REGION';

/**
 * The client policies that only mean something when each topic has one writing region (MREC),
 * with the value that contradicts MRSC, where every region writes and reads the one latest copy.
 */
const MREC_ONLY_POLICIES = [
  ['appends', 'refuse'],
  ['readFrom', 'home'],
  ['replicaGaps', 'read-home'],
] as const;

/** The shape of an AWS region name (the same rule as the `home.region` config). */
const REGION_NAME = /^[a-z]{2}(-[a-z]+)+-\d$/;

/**
 * The deployment's regions from a client's options, or undefined when the client is single-region
 * (no `regions`, no `TRIBUTARY_REGIONS`): then nothing about regions changes how it works.
 *
 * @throws InvalidArgumentError for a malformed region list or policy value, and for `consistency:
 * 'strong'` without three regions of one MRSC region set (replicas, or two and a witness) or with a
 * policy only MREC has
 * @throws UnknownRegionError when `region` or `groupRegion` is not one of the regions
 */
export function resolveDeployment(input: DeploymentInput): DeploymentRegions | undefined {
  const appends = oneOf('appends', input.appends, ['forward', 'refuse'] as const);
  const readFrom = oneOf('readFrom', input.readFrom, ['local', 'home'] as const);
  const replicaGaps = oneOf('replicaGaps', input.replicaGaps, ['wait', 'read-home'] as const);
  const consistency = resolveConsistency(input);
  const witness = resolveWitness(input, consistency);
  const listed = input.regions ?? parseRegionList(input.environment);
  if (listed === undefined) {
    if (consistency === 'strong') {
      throw new InvalidArgumentError(
        "consistency 'strong' (MRSC global tables) needs the deployment's replica regions: list them in `regions` " +
          `(or ${REGIONS_ENVIRONMENT_VARIABLE})`,
      );
    }
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
  if (consistency === 'strong') checkStrongConsistency(names, witness, input);
  if (!endpoints.has(input.region)) throw new UnknownRegionError(input.region, names, "The client's region");
  // MRSC: the groups table's conditional writes see every region, so a group coordinates wherever
  // the client runs (no region to cross to) unless the client names one.
  const groupRegion = input.groupRegion ?? (consistency === 'strong' ? input.region : names[0]!);
  if (!endpoints.has(groupRegion)) throw new UnknownRegionError(groupRegion, names, 'groupRegion');
  return {
    names,
    home: names[0]!,
    own: input.region,
    consistency,
    witness,
    groupRegion,
    appends,
    readFrom,
    replicaGaps,
    endpoints,
  };
}

/** `consistency`, else `TRIBUTARY_CONSISTENCY`, else `eventual`. */
function resolveConsistency(input: DeploymentInput): ReplicationConsistency {
  const allowed = ['eventual', 'strong'] as const;
  if (input.consistency !== undefined) return oneOf('consistency', input.consistency, allowed);
  const value = input.consistencyEnvironment?.trim();
  if (value === undefined || value === '') return 'eventual';
  if (!(allowed as readonly string[]).includes(value)) {
    throw new InvalidArgumentError(
      `${CONSISTENCY_ENVIRONMENT_VARIABLE} must be 'eventual' or 'strong', got ${JSON.stringify(value)}`,
    );
  }
  return value as ReplicationConsistency;
}

/** `witnessRegion`, else `TRIBUTARY_WITNESS_REGION`; only an MRSC deployment has one. */
function resolveWitness(input: DeploymentInput, consistency: ReplicationConsistency): string | undefined {
  const fromEnvironment = input.witnessEnvironment?.trim();
  const witness = input.witnessRegion ?? (fromEnvironment === '' ? undefined : fromEnvironment);
  if (witness === undefined) return undefined;
  if (consistency !== 'strong') {
    throw new InvalidArgumentError(
      `witnessRegion ${JSON.stringify(witness)} is only for consistency 'strong' (MRSC global tables); MREC has no witness`,
    );
  }
  if (typeof witness !== 'string' || !REGION_NAME.test(witness)) {
    throw new InvalidArgumentError(
      `witnessRegion must be an AWS region name such as us-west-2, got ${JSON.stringify(witness)}`,
    );
  }
  return witness;
}

/**
 * MRSC global tables span exactly three regions of one region set — three replicas, or two and a
 * witness (the rule the CDK construct applies) — and a client's policies must not assume one
 * writing region per topic.
 */
function checkStrongConsistency(
  names: readonly string[],
  witness: string | undefined,
  input: DeploymentInput,
): void {
  const problem = strongConsistencyProblem({ replicas: names, witness });
  if (problem !== undefined) {
    throw new InvalidArgumentError(
      `consistency 'strong' (MRSC global tables) with regions ${names.join(', ')}` +
        `${witness === undefined ? '' : ` and witness region ${witness}`}: ${problem}. ` +
        'List the replica regions in `regions` (and a witness in `witnessRegion`).',
    );
  }
  for (const [option, value] of MREC_ONLY_POLICIES) {
    if (input[option] === value) {
      throw new InvalidArgumentError(
        `${option}: '${value}' applies to eventually consistent (MREC) deployments, where each topic takes ` +
          "appends in its home region; with consistency 'strong' every region takes appends and reads the latest copy",
      );
    }
  }
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
