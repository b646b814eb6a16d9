/** A failover's pure decisions: refusals before any write, how far a copy holds a chain, same items. */
import { describe, expect, it } from 'vitest';
import { InvalidArgumentError, InvalidFailoverError, UnknownRegionError } from '../../../sdk/src/errors.ts';
import {
  type ChainSlot,
  checkFailoverRequest,
  DEFAULT_FAILOVER_TIMEOUT_MS,
  itemDigest,
  sameItems,
  scanChain,
  startChainScan,
} from '../../../sdk/src/regions/failover-plan.ts';

const REGIONS = ['us-east-1', 'eu-west-1'];

describe('a failover request', () => {
  it('is taken with its wait', () => {
    expect(checkFailoverRequest('t', { to: 'eu-west-1', mode: 'planned' }, REGIONS, 'us-east-1')).toBe(
      DEFAULT_FAILOVER_TIMEOUT_MS,
    );
    expect(
      checkFailoverRequest('t', { to: 'eu-west-1', mode: 'forced', timeoutMs: 5 }, REGIONS, 'us-east-1'),
    ).toBe(5);
  });

  it('is refused for an unknown region, the current home and malformed options', () => {
    expect(() =>
      checkFailoverRequest('t', { to: 'ap-south-1', mode: 'planned' }, REGIONS, 'us-east-1'),
    ).toThrow(UnknownRegionError);
    let refused: unknown;
    try {
      checkFailoverRequest('t', { to: 'us-east-1', mode: 'forced' }, REGIONS, 'us-east-1');
    } catch (error) {
      refused = error;
    }
    expect(refused).toBeInstanceOf(InvalidFailoverError);
    expect(refused).toMatchObject({ code: 'INVALID_FAILOVER', reason: 'already-home', region: 'us-east-1' });
    const mode = 'sideways' as 'planned';
    expect(() => checkFailoverRequest('t', { to: 'eu-west-1', mode }, REGIONS, 'us-east-1')).toThrow(
      InvalidArgumentError,
    );
    for (const timeoutMs of [0, -1, 1.5, Number.NaN]) {
      expect(() =>
        checkFailoverRequest('t', { to: 'eu-west-1', mode: 'planned', timeoutMs }, REGIONS, 'us-east-1'),
      ).toThrow(InvalidArgumentError);
    }
  });
});

const batch = (offset: number, count: number, kind: ChainSlot['kind'] = 'complete'): ChainSlot => ({
  offset,
  count,
  kind,
});

describe('the chain a copy holds', () => {
  it('runs over complete batches and stubs, page after page', () => {
    let scan = startChainScan(10);
    scan = scanChain(scan, [batch(10, 5, 'archived'), batch(15, 2)]);
    expect(scan).toEqual({ held: 17, stop: undefined });
    scan = scanChain(scan, [batch(17, 3)]);
    expect(scan).toEqual({ held: 20, stop: undefined });
  });

  it('stops at a gap, a pending claim or a fence, and stays stopped', () => {
    expect(scanChain(startChainScan(0), [batch(0, 3), batch(5, 1)])).toEqual({ held: 3, stop: 'gap' });
    expect(scanChain(startChainScan(0), [batch(0, 3), batch(3, 2, 'pending')])).toEqual({
      held: 3,
      stop: 'pending',
    });
    const fenced = scanChain(startChainScan(0), [batch(0, 3), batch(3, 0, 'fence'), batch(3, 4)]);
    expect(fenced).toEqual({ held: 3, stop: 'fence' });
    expect(scanChain(fenced, [batch(3, 4)])).toBe(fenced);
    // A copy whose first batch is past the scan's start lacks what is before it.
    expect(scanChain(startChainScan(0), [batch(4, 1)])).toEqual({ held: 0, stop: 'gap' });
  });
});

describe('two copies of items', () => {
  it('are the same whatever the order of attributes and items, and not when a value differs', () => {
    const a = { pk: { S: 'x' }, off: { N: '1' }, b: { B: new Uint8Array([1, 2]) } };
    const reordered = { b: { B: new Uint8Array([1, 2]) }, off: { N: '1' }, pk: { S: 'x' } };
    const other = { pk: { S: 'x' }, off: { N: '2' } };
    expect(itemDigest(a)).toBe(itemDigest(reordered));
    expect(sameItems([a, other], [other, reordered])).toBe(true);
    expect(sameItems([a], [{ ...a, b: { B: new Uint8Array([1, 3]) } }])).toBe(false);
    expect(sameItems([a, other], [a])).toBe(false);
    expect(sameItems([], [])).toBe(true);
  });
});
