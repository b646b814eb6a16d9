/**
 * A client on MRSC global tables (`consistency: 'strong'`), without network: the option and its
 * environment variable, the region-set rule, routing everything to the client's own region, and
 * the archiver's pure decisions about stubs where there is no TTL.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { afterEach, describe, expect, it } from 'vitest';
import { planStubDeletion } from '../../../sdk/src/archive/archive-plan.ts';
import { nextDue, type VisitFacts } from '../../../sdk/src/archive/archive-schedule.ts';
import { InvalidArgumentError, UnknownRegionError } from '../../../sdk/src/errors.ts';
import { CONSISTENCY_ENVIRONMENT_VARIABLE } from '../../../sdk/src/internal.ts';
import { type DeploymentInput, resolveDeployment } from '../../../sdk/src/regions/deployment.ts';
import { Regions } from '../../../sdk/src/regions/regions.ts';
import {
  appendContext,
  groupContext,
  homeContext,
  isStronglyConsistent,
  readPlacement,
  registryContext,
} from '../../../sdk/src/regions/routing.ts';
import { DEFAULT_RETRY_POLICY } from '../../../sdk/src/retry.ts';
import { tableNames } from '../../../sdk/src/schema.ts';
import { parseTopicConfig } from '../../../sdk/src/topics/configs.ts';
import type { TopicMetadata } from '../../../sdk/src/topics/topic-metadata.ts';

const US = [{ region: 'us-east-1' }, { region: 'us-east-2' }, { region: 'us-west-2' }];
const s3 = new S3Client({ region: 'us-east-1' });
const open: Regions[] = [];

afterEach(() => {
  for (const r of open.splice(0)) r.close();
});

function strong(input: Partial<DeploymentInput> = {}) {
  return resolveDeployment({ region: 'us-east-2', regions: US, consistency: 'strong', ...input });
}

function regions(input: Partial<DeploymentInput> = {}): Regions {
  const shared = { s3, tables: tableNames('t-'), bucket: 'b', retry: DEFAULT_RETRY_POLICY, now: Date.now };
  const r = new Regions(strong(input)!, shared, (region) => ({
    ddb: new DynamoDBClient({ region }),
    owned: true,
  }));
  open.push(r);
  return r;
}

function topic(configs: Record<string, string> = {}): TopicMetadata {
  return {
    name: 'orders',
    incarnation: 'abc',
    partitions: 1,
    configs,
    config: parseTopicConfig(configs),
    createdAt: 0,
  };
}

/** The error `fn` throws (fails the test when it throws none). */
function thrown(fn: () => unknown): Error {
  try {
    fn();
  } catch (error) {
    return error as Error;
  }
  throw new Error('nothing was thrown');
}

describe("resolveDeployment with consistency: 'strong'", () => {
  it('takes three regions of one MRSC region set, groups coordinating in the client region', () => {
    expect(strong()).toMatchObject({
      names: ['us-east-1', 'us-east-2', 'us-west-2'],
      own: 'us-east-2',
      consistency: 'strong',
      groupRegion: 'us-east-2',
    });
    expect(strong({ groupRegion: 'us-west-2' })?.groupRegion).toBe('us-west-2');
    // Eventual stays the default, with its home-region groups.
    expect(resolveDeployment({ region: 'us-east-2', regions: US })).toMatchObject({
      consistency: 'eventual',
      groupRegion: 'us-east-1',
    });
  });

  it('refuses a wrong region set with the rule it breaks', () => {
    const two = thrown(() => strong({ regions: US.slice(0, 2) }));
    expect(two).toBeInstanceOf(InvalidArgumentError);
    expect(two.message).toMatch(/consistency 'strong'.*exactly three replica regions.*got 2/);
    const mixed = thrown(() => strong({ regions: [...US.slice(0, 2), { region: 'eu-west-1' }] }));
    expect(mixed).toBeInstanceOf(InvalidArgumentError);
    expect(mixed.message).toMatch(/eu-west-1 not in the US region set/);
    expect(() => strong({ regions: [...US, { region: 'us-west-1' }] })).toThrow(InvalidArgumentError);
    // Without any regions there is nothing to check the rule against.
    expect(() => resolveDeployment({ region: 'us-east-1', consistency: 'strong' })).toThrow(
      /needs the deployment's replica regions/,
    );
    // The region rule comes first; then the client's own region must be one of them.
    expect(() => strong({ region: 'eu-west-1' })).toThrow(UnknownRegionError);
  });

  it('takes two replicas and a witness region, from the option or the environment', () => {
    const two = US.slice(0, 2);
    expect(strong({ regions: two, witnessRegion: 'us-west-2' })).toMatchObject({
      names: ['us-east-1', 'us-east-2'],
      witness: 'us-west-2',
    });
    expect(strong({ regions: two, witnessEnvironment: 'us-west-2' })?.witness).toBe('us-west-2');
    expect(strong()?.witness).toBeUndefined();
    // Three replicas and a witness are four regions; a witness among the replicas is one twice.
    expect(() => strong({ witnessRegion: 'us-west-2' })).toThrow(/us-west-2 is listed twice/);
    expect(() => strong({ regions: two, witnessRegion: 'eu-west-1' })).toThrow(/not in the US region set/);
    expect(() => strong({ regions: two, witnessRegion: 'west' })).toThrow(
      /witnessRegion must be an AWS region/,
    );
    expect(() =>
      resolveDeployment({ region: 'us-east-2', regions: two, witnessRegion: 'us-west-2' }),
    ).toThrow(/only for consistency 'strong'/);
  });

  it('refuses the policies that assume one writing region per topic', () => {
    expect(() => strong({ appends: 'refuse' })).toThrow(/appends: 'refuse' applies to eventually consistent/);
    expect(() => strong({ readFrom: 'home' })).toThrow(InvalidArgumentError);
    expect(() => strong({ replicaGaps: 'read-home' })).toThrow(InvalidArgumentError);
    // Their defaults, said explicitly, mean what MRSC does anyway.
    expect(strong({ appends: 'forward', readFrom: 'local', replicaGaps: 'wait' })?.consistency).toBe(
      'strong',
    );
  });

  it(`reads ${CONSISTENCY_ENVIRONMENT_VARIABLE} when the option is not given`, () => {
    const fromEnv = (value: string, input: Partial<DeploymentInput> = {}) =>
      resolveDeployment({ region: 'us-east-2', regions: US, consistencyEnvironment: value, ...input });
    expect(fromEnv('strong')?.consistency).toBe('strong');
    expect(fromEnv(' eventual ')?.consistency).toBe('eventual');
    expect(fromEnv('')?.consistency).toBe('eventual');
    // The option wins over the environment.
    expect(fromEnv('strong', { consistency: 'eventual' })?.consistency).toBe('eventual');
    expect(() => fromEnv('STRONG')).toThrow(/TRIBUTARY_CONSISTENCY must be 'eventual' or 'strong'/);
    expect(() =>
      resolveDeployment({
        region: 'us-east-1',
        environment: 'us-east-1,eu-west-1',
        consistencyEnvironment: 'strong',
      }),
    ).toThrow(InvalidArgumentError);
    expect(() =>
      resolveDeployment({ region: 'us-east-1', consistency: 'linearizable' as unknown as 'strong' }),
    ).toThrow(/consistency must be 'eventual' or 'strong'/);
  });
});

describe('routing on MRSC', () => {
  it("sends appends, reads, groups and registry writes to the client's own region, whatever home.region says", () => {
    const r = regions();
    const own = r.context('us-east-2');
    expect(isStronglyConsistent(own)).toBe(true);
    for (const t of [topic(), topic({ 'home.region': 'us-west-2' })]) {
      expect(appendContext(own, t).region).toBe('us-east-2');
      expect(homeContext(own, t).region).toBe('us-east-2');
      const placement = readPlacement(own, t);
      expect(placement.ctx.region).toBe('us-east-2');
      // The local copy is the latest: never read as a lagging replica.
      expect(placement.replica).toBeUndefined();
    }
    expect(groupContext(own).region).toBe('us-east-2');
    expect(registryContext(own).region).toBe('us-east-2');
  });

  it('leaves an eventually consistent deployment routed by home region', () => {
    const shared = { s3, tables: tableNames('t-'), bucket: 'b', retry: DEFAULT_RETRY_POLICY, now: Date.now };
    const mrec = new Regions(resolveDeployment({ region: 'us-east-2', regions: US })!, shared, (region) => ({
      ddb: new DynamoDBClient({ region }),
      owned: true,
    }));
    open.push(mrec);
    const own = mrec.context('us-east-2');
    expect(isStronglyConsistent(own)).toBe(false);
    expect(appendContext(own, topic()).region).toBe('us-east-1');
    expect(readPlacement(own, topic()).replica?.homeRegion).toBe('us-east-1');
  });
});

describe('stubs without TTL', () => {
  const at = (seconds: number) => seconds * 1000;

  it('deletes the expired stubs oldest first and stops at the first one not expired', () => {
    const plan = planStubDeletion(
      [
        { stub: true, expiresAt: 100 },
        { stub: true, expiresAt: 100 },
        { stub: true, expiresAt: 160 },
        { stub: true, expiresAt: 220 },
        { stub: true, expiresAt: 90 },
      ],
      at(160),
    );
    expect(plan).toEqual({ expired: [0, 1, 2], nextExpiry: at(220) });
  });

  it('leaves items that are not stubs, or have no expiry, as TTL would', () => {
    const plan = planStubDeletion(
      [
        { stub: false, expiresAt: undefined },
        { stub: true, expiresAt: undefined },
        { stub: true, expiresAt: 10 },
        { stub: false, expiresAt: 5 },
      ],
      at(50),
    );
    expect(plan).toEqual({ expired: [2], nextExpiry: undefined });
    expect(planStubDeletion([], at(50))).toEqual({ expired: [], nextExpiry: undefined });
  });

  it('schedules the next visit for when the oldest stub left expires', () => {
    const config = parseTopicConfig({ 'retention.ms': '-1', 'remote.storage.enable': 'false' });
    const facts: VisitFacts = {
      started: 1_000,
      bounds: {
        logStart: { offset: 0, bytes: 0 },
        localLogStart: { offset: 10, bytes: 1000 },
        stubbedThrough: 10,
        claimSweep: { time: 1_000, end: 20 },
      },
      tail: undefined,
      oldestSegment: undefined,
      hotLog: { kind: 'tail-only' },
    };
    // Nothing else can bring work here: without stubs, only new records would.
    expect(nextDue(facts, config, 3_600_000)).toBeUndefined();
    expect(nextDue({ ...facts, stubsExpireAt: 86_401_000 }, config, 3_600_000)).toBe(86_401_000);
    // Never before the visit itself.
    expect(nextDue({ ...facts, stubsExpireAt: 500 }, config, 3_600_000)).toBe(1_000);
  });
});
