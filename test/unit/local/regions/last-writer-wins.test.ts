import { describe, expect, it } from 'vitest';
import { ABSENT } from '../../../../local/regions/item-image.ts';
import {
  compareStamps,
  decideDelivery,
  type HeldVersion,
  laterStamp,
  NEVER_WRITTEN,
  outcomeOfWrite,
  type Stamp,
  stampOfClientWrite,
} from '../../../../local/regions/last-writer-wins.ts';
import { seededRandom, testSeed } from '../../../helpers/random.ts';

const held = (stamp: Stamp, unread = false): HeldVersion => ({ stamp, digest: 'd', unread });

describe('stamps', () => {
  it('order by time, then by region name (the name sorting last wins a tie)', () => {
    const early = { time: 10, region: 'us-east-1' };
    const late = { time: 11, region: 'ap-south-1' };
    expect(compareStamps(early, late)).toBeLessThan(0);
    expect(compareStamps(late, early)).toBeGreaterThan(0);
    const tieLow = { time: 10, region: 'eu-west-1' };
    const tieHigh = { time: 10, region: 'us-east-1' };
    expect(compareStamps(tieLow, tieHigh)).toBeLessThan(0);
    expect(compareStamps(tieHigh, tieLow)).toBeGreaterThan(0);
    expect(compareStamps(tieHigh, { ...tieHigh })).toBe(0);
    expect(laterStamp(tieLow, tieHigh)).toBe(tieHigh);
    expect(laterStamp(late, early)).toBe(late);
  });

  it('make a client write newer than the version it replaced, even on a clock that has not moved', () => {
    const replaced = { time: 1_000, region: 'us-east-1' };
    // Same ms, and the replaced version's region would win the tie: the write is still newer.
    const stamp = stampOfClientWrite(1_000, 'eu-west-1', replaced);
    expect(stamp).toEqual({ time: 1_001, region: 'eu-west-1' });
    expect(compareStamps(stamp, replaced)).toBeGreaterThan(0);
    // A clock that moved on is used as it is.
    expect(stampOfClientWrite(5_000, 'eu-west-1', replaced)).toEqual({ time: 5_000, region: 'eu-west-1' });
    // An item never written before: the clock.
    expect(stampOfClientWrite(42, 'eu-west-1', NEVER_WRITTEN.stamp)).toEqual({
      time: 42,
      region: 'eu-west-1',
    });
  });
});

describe('deciding a delivery', () => {
  it('applies a newer version, skips an older or the same one', () => {
    const current = held({ time: 100, region: 'eu-west-1' });
    expect(decideDelivery(current, { time: 101, region: 'ap-south-1' })).toBe('apply');
    expect(decideDelivery(current, { time: 100, region: 'us-east-1' })).toBe('apply');
    expect(decideDelivery(current, { time: 100, region: 'ap-south-1' })).toBe('skip');
    expect(decideDelivery(current, { time: 99, region: 'us-east-1' })).toBe('skip');
    expect(decideDelivery(current, current.stamp)).toBe('skip');
  });

  it('applies anything to an item never written there', () => {
    expect(decideDelivery(NEVER_WRITTEN, { time: 0, region: 'us-east-1' })).toBe('apply');
  });

  it('keeps a client write the replicator has not read yet, whatever the delivered stamp', () => {
    const unread = held({ time: 100, region: 'eu-west-1' }, true);
    expect(decideDelivery(unread, { time: 10_000, region: 'us-east-1' })).toBe('skip');
  });
});

describe('what a delivery found in its way', () => {
  it('is applied when it replaced what the replicator expected', () => {
    expect(outcomeOfWrite('old', 'new', 'old')).toBe('applied');
    expect(outcomeOfWrite(ABSENT, 'new', ABSENT)).toBe('applied');
    // Delivering what is there already changes nothing, and is applied.
    expect(outcomeOfWrite('same', 'same', 'same')).toBe('applied');
  });

  it('leaves an unread client write equal to the delivery standing', () => {
    expect(outcomeOfWrite('old', 'new', 'new')).toBe('unread');
  });

  it('restores an unread client write the delivery overwrote', () => {
    expect(outcomeOfWrite('old', 'new', 'client')).toBe('restore');
    expect(outcomeOfWrite('old', ABSENT, 'client')).toBe('restore');
    expect(outcomeOfWrite(ABSENT, 'new', 'client')).toBe('restore');
  });
});

describe('last writer wins, whatever the delivery order', () => {
  it('converges every region on the newest version (seeded)', () => {
    const seed = testSeed('lww-convergence');
    const random = seededRandom(seed);
    const regions = ['us-east-1', 'eu-west-1', 'ap-south-1'];
    for (let round = 0; round < 200; round++) {
      // Writes to one item in random regions at random (often equal) times.
      const holding = new Map<string, HeldVersion>();
      const deliveries: { target: string; version: HeldVersion }[] = [];
      let clock = 0;
      for (let write = 0; write < 6; write++) {
        clock += Math.floor(random() * 2);
        const region = regions[Math.floor(random() * regions.length)] as string;
        const stamp = stampOfClientWrite(clock, region, (holding.get(region) ?? NEVER_WRITTEN).stamp);
        const version: HeldVersion = { stamp, digest: `v${round}.${write}`, unread: false };
        holding.set(region, version);
        for (const target of regions) if (target !== region) deliveries.push({ target, version });
      }
      // Delivered in a random order.
      for (let i = deliveries.length - 1; i > 0; i--) {
        const j = Math.floor(random() * (i + 1));
        [deliveries[i], deliveries[j]] = [
          deliveries[j] as (typeof deliveries)[number],
          deliveries[i] as (typeof deliveries)[number],
        ];
      }
      for (const { target, version } of deliveries) {
        if (decideDelivery(holding.get(target) ?? NEVER_WRITTEN, version.stamp) === 'apply') {
          holding.set(target, version);
        }
      }
      const digests = new Set(regions.map((region) => holding.get(region)?.digest));
      expect(digests.size, `round ${round}, seed ${seed}`).toBe(1);
    }
  });
});
