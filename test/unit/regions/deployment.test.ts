import { describe, expect, it } from 'vitest';
import { InvalidArgumentError, UnknownRegionError } from '../../../sdk/src/errors.ts';
import { parseRegionList, resolveDeployment } from '../../../sdk/src/regions/deployment.ts';

const TWO = [{ region: 'us-east-1', endpoint: 'http://127.0.0.1:1' }, { region: 'eu-west-1' }];

describe('resolveDeployment', () => {
  it('is undefined for a single-region client: no regions, no environment', () => {
    expect(resolveDeployment({ region: 'us-east-1' })).toBeUndefined();
    expect(resolveDeployment({ region: 'us-east-1', environment: '  ' })).toBeUndefined();
    // Policies alone change nothing (there is no other region to route to).
    expect(resolveDeployment({ region: 'eu-west-1', appends: 'refuse', readFrom: 'home' })).toBeUndefined();
  });

  it('takes the regions home first, with the policies and their defaults', () => {
    const d = resolveDeployment({ region: 'eu-west-1', regions: TWO })!;
    expect(d).toMatchObject({
      names: ['us-east-1', 'eu-west-1'],
      home: 'us-east-1',
      own: 'eu-west-1',
      groupRegion: 'us-east-1',
      appends: 'forward',
      readFrom: 'local',
      replicaGaps: 'wait',
    });
    expect(d.endpoints.get('us-east-1')?.endpoint).toBe('http://127.0.0.1:1');
    const refusing = resolveDeployment({
      region: 'eu-west-1',
      regions: TWO,
      appends: 'refuse',
      readFrom: 'home',
      replicaGaps: 'read-home',
      groupRegion: 'eu-west-1',
    })!;
    expect(refusing).toMatchObject({
      appends: 'refuse',
      readFrom: 'home',
      replicaGaps: 'read-home',
      groupRegion: 'eu-west-1',
    });
  });

  it('reads TRIBUTARY_REGIONS when no regions are given, and prefers the option', () => {
    const d = resolveDeployment({ region: 'ap-south-1', environment: 'eu-west-1, ap-south-1 ,us-east-2' })!;
    expect(d.names).toEqual(['eu-west-1', 'ap-south-1', 'us-east-2']);
    expect(d.home).toBe('eu-west-1');
    expect(
      resolveDeployment({ region: 'us-east-1', regions: TWO, environment: 'ap-south-1' })!.names,
    ).toEqual(['us-east-1', 'eu-west-1']);
    expect(parseRegionList('a-b-1,c-d-2')).toEqual([{ region: 'a-b-1' }, { region: 'c-d-2' }]);
  });

  it('refuses a client region or group region outside the regions, naming both', () => {
    const error = (() => {
      try {
        resolveDeployment({ region: 'ap-south-1', regions: TWO });
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(UnknownRegionError);
    expect(error).toMatchObject({
      code: 'UNKNOWN_REGION',
      region: 'ap-south-1',
      regions: ['us-east-1', 'eu-west-1'],
    });
    expect(() => resolveDeployment({ region: 'us-east-1', regions: TWO, groupRegion: 'eu-north-1' })).toThrow(
      UnknownRegionError,
    );
    // Without regions, only the client's own region can coordinate groups.
    expect(() => resolveDeployment({ region: 'us-east-1', groupRegion: 'eu-west-1' })).toThrow(
      UnknownRegionError,
    );
    expect(resolveDeployment({ region: 'us-east-1', groupRegion: 'us-east-1' })).toBeUndefined();
  });

  it.each([
    [[], 'at least one region'],
    [[{ region: 'us-east-1' }, { region: 'us-east-1' }], 'twice'],
    [[{ region: 'Europe' }], 'AWS region name'],
    [[{ region: '' }], 'AWS region name'],
  ])('refuses the region list %j', (regions, message) => {
    expect(() => resolveDeployment({ region: 'us-east-1', regions })).toThrow(InvalidArgumentError);
    expect(() => resolveDeployment({ region: 'us-east-1', regions })).toThrow(message);
  });

  it('refuses unknown policy values, with or without regions', () => {
    const bad = 'sometimes' as 'forward';
    expect(() => resolveDeployment({ region: 'us-east-1', appends: bad })).toThrow(InvalidArgumentError);
    expect(() =>
      resolveDeployment({ region: 'us-east-1', regions: TWO, readFrom: 'nearest' as 'local' }),
    ).toThrow("readFrom must be 'local' or 'home'");
    expect(() =>
      resolveDeployment({ region: 'us-east-1', regions: TWO, replicaGaps: 'skip' as 'wait' }),
    ).toThrow(InvalidArgumentError);
  });
});
