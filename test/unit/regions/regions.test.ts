import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { afterEach, describe, expect, it } from 'vitest';
import { InvalidConfigError, NotHomeRegionError, UnknownRegionError } from '../../../sdk/src/errors.ts';
import { type DeploymentInput, resolveDeployment } from '../../../sdk/src/regions/deployment.ts';
import { Regions } from '../../../sdk/src/regions/regions.ts';
import {
  appendContext,
  groupContext,
  readPlacement,
  registryContext,
} from '../../../sdk/src/regions/routing.ts';
import { DEFAULT_RETRY_POLICY } from '../../../sdk/src/retry.ts';
import { tableNames } from '../../../sdk/src/schema.ts';
import { parseTopicConfig } from '../../../sdk/src/topics/configs.ts';
import type { TopicMetadata } from '../../../sdk/src/topics/topic-metadata.ts';

const REGIONS = [{ region: 'us-east-1' }, { region: 'eu-west-1' }, { region: 'ap-south-1' }];
const s3 = new S3Client({ region: 'us-east-1' });
const created: string[] = [];
const open: Regions[] = [];

function regions(
  input: Omit<DeploymentInput, 'regions'> & { regions?: DeploymentInput['regions'] },
): Regions {
  const deployment = resolveDeployment({ regions: REGIONS, ...input })!;
  const shared = { s3, tables: tableNames('t-'), bucket: 'b', retry: DEFAULT_RETRY_POLICY, now: Date.now };
  const r = new Regions(deployment, shared, (region) => {
    created.push(region);
    return { ddb: new DynamoDBClient({ region }), owned: true };
  });
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

afterEach(() => {
  for (const r of open.splice(0)) r.close();
  created.length = 0;
});

describe('Regions', () => {
  it("sends a topic's appends to its home region, forwarding by default", () => {
    const r = regions({ region: 'eu-west-1' });
    expect(appendContext(r.context('eu-west-1'), topic()).region).toBe('us-east-1');
    expect(r.forAppends(topic({ 'home.region': 'ap-south-1' })).region).toBe('ap-south-1');
    expect(r.forAppends(topic({ 'home.region': 'eu-west-1' })).region).toBe('eu-west-1');
  });

  it("refuses appends homed elsewhere with appends: 'refuse', naming the home", () => {
    const r = regions({ region: 'eu-west-1', appends: 'refuse' });
    expect(() => r.forAppends(topic())).toThrow(NotHomeRegionError);
    try {
      r.forAppends(topic({ 'home.region': 'ap-south-1' }));
    } catch (error) {
      expect(error).toMatchObject({ code: 'NOT_HOME_REGION', homeRegion: 'ap-south-1', region: 'eu-west-1' });
      expect((error as NotHomeRegionError).retriable).toBe(false);
    }
    // Its own region's topics are appended as usual.
    expect(r.forAppends(topic({ 'home.region': 'eu-west-1' })).region).toBe('eu-west-1');
  });

  it('refuses a stored home outside the regions', () => {
    const r = regions({ region: 'us-east-1' });
    expect(() => r.forAppends(topic({ 'home.region': 'sa-east-1' }))).toThrow(UnknownRegionError);
    expect(() => r.forReads(topic({ 'home.region': 'sa-east-1' }))).toThrow(UnknownRegionError);
  });

  it('reads the local copy (a replica, with the gap policy) or the home', () => {
    const local = regions({ region: 'eu-west-1' }).forReads(topic());
    expect(local.ctx.region).toBe('eu-west-1');
    expect(local.replica).toMatchObject({ homeRegion: 'us-east-1', gaps: 'wait' });
    expect(local.replica!.home().region).toBe('us-east-1');
    const atHome = regions({ region: 'eu-west-1', readFrom: 'home' }).forReads(topic());
    expect(atHome.ctx.region).toBe('us-east-1');
    expect(atHome.replica).toBeUndefined();
    const homed = regions({ region: 'eu-west-1', replicaGaps: 'read-home' });
    expect(homed.forReads(topic({ 'home.region': 'eu-west-1' })).replica).toBeUndefined();
    expect(homed.forReads(topic()).replica?.gaps).toBe('read-home');
  });

  it('coordinates groups and writes the registry in one region', () => {
    const r = regions({ region: 'ap-south-1' });
    expect(groupContext(r.context('ap-south-1')).region).toBe('us-east-1');
    expect(registryContext(r.context('ap-south-1')).region).toBe('us-east-1');
    expect(regions({ region: 'ap-south-1', groupRegion: 'eu-west-1' }).forGroups().region).toBe('eu-west-1');
  });

  it('creates each region’s client once, on first use, and shares everything else', () => {
    const r = regions({ region: 'eu-west-1' });
    expect(created).toEqual([]);
    const own = r.context('eu-west-1');
    r.forReads(topic());
    expect(created).toEqual(['eu-west-1']);
    const home = r.forAppends(topic());
    expect(r.forAppends(topic())).toBe(home);
    expect(created).toEqual(['eu-west-1', 'us-east-1']);
    expect(home.s3).toBe(own.s3);
    expect(home.tables).toBe(own.tables);
    expect(home.ddb).not.toBe(own.ddb);
    expect(home.regions).toBe(r);
    expect(() => r.context('sa-east-1')).toThrow(UnknownRegionError);
  });

  it('checks a home.region config against the regions', () => {
    const r = regions({ region: 'us-east-1' });
    expect(() => r.checkHomeRegion('eu-west-1')).not.toThrow();
    expect(() => r.checkHomeRegion('eu-central-1')).toThrow(InvalidConfigError);
  });

  it('without regions, every context is the one it was given', () => {
    const ddb = new DynamoDBClient({ region: 'us-east-1' });
    const plain = {
      ddb,
      s3,
      tables: tableNames('t-'),
      bucket: 'b',
      retry: DEFAULT_RETRY_POLICY,
      now: Date.now,
    };
    expect(appendContext(plain, topic({ 'home.region': 'eu-west-1' }))).toBe(plain);
    expect(readPlacement(plain, topic())).toEqual({ ctx: plain });
    expect(groupContext(plain)).toBe(plain);
    expect(registryContext(plain)).toBe(plain);
    ddb.destroy();
  });
});
