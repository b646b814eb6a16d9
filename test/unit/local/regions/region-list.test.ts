import { describe, expect, it } from 'vitest';
import { DEFAULT_REGION, MAX_REGIONS, validateRegionList } from '../../../../local/regions/region-list.ts';
import { replicaTableSchemas } from '../../../../local/regions/replica-tables.ts';
import { InvalidArgumentError } from '../../../../sdk/src/errors.ts';
import { TABLES } from '../../../../sdk/src/schema.ts';

describe('the region list of a local stack', () => {
  it('is us-east-1 alone by default', () => {
    expect(DEFAULT_REGION).toBe('us-east-1');
    expect(validateRegionList(undefined)).toEqual(['us-east-1']);
  });

  it('keeps the order given, the home region first', () => {
    expect(validateRegionList(['eu-west-1', 'us-east-1', 'ap-southeast-2', 'us-gov-west-1'])).toEqual([
      'eu-west-1',
      'us-east-1',
      'ap-southeast-2',
      'us-gov-west-1',
    ]);
  });

  it('refuses an empty list, a name that is not a region, a region twice and too many regions', () => {
    expect(() => validateRegionList([])).toThrow(InvalidArgumentError);
    expect(() => validateRegionList(['us-east-1', 'EU-WEST-1'])).toThrow(/"EU-WEST-1"/);
    expect(() => validateRegionList(['us-east-1', 'local'])).toThrow(InvalidArgumentError);
    expect(() => validateRegionList(['us-east-1', ''])).toThrow(InvalidArgumentError);
    expect(() => validateRegionList(['us-east-1', 'eu-west-1', 'us-east-1'])).toThrow(/us-east-1 twice/);
    const many = ['us-east-1', 'us-east-2', 'us-west-1', 'us-west-2', 'eu-west-1', 'eu-west-2'];
    expect(many.length).toBeGreaterThan(MAX_REGIONS);
    expect(() => validateRegionList(many)).toThrow(InvalidArgumentError);
  });
});

describe('the tables of a replicated region', () => {
  it('are the shared schema, each with a NEW_AND_OLD_IMAGES stream', () => {
    const tables = replicaTableSchemas(TABLES);
    expect(tables.map((table) => table.suffix)).toEqual(TABLES.map((table) => table.suffix));
    for (const table of tables) expect(table.stream).toBe('NEW_AND_OLD_IMAGES');
    // The schema itself is untouched (the single-region log keeps its NEW_IMAGE stream).
    expect(TABLES.find((table) => table.suffix === 'log')?.stream).toBe('NEW_IMAGE');
  });
});
