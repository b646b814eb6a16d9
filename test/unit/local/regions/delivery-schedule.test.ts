import { describe, expect, it } from 'vitest';
import {
  DEFAULT_LAG,
  dueTime,
  InOrderRelease,
  replicationDelay,
  seededFraction,
  validateLag,
} from '../../../../local/regions/delivery-schedule.ts';
import { InvalidArgumentError } from '../../../../sdk/src/errors.ts';

describe('replication delays', () => {
  it('default to 200 ± 200 ms', () => {
    expect(DEFAULT_LAG).toEqual({ meanMs: 200, jitterMs: 200 });
  });

  it('are the same for the same seed and delivery, and differ across deliveries and seeds', () => {
    const lag = { meanMs: 200, jitterMs: 200 };
    expect(replicationDelay(7, lag, 'eu-west-1|item|0')).toBe(replicationDelay(7, lag, 'eu-west-1|item|0'));
    const delays = new Set(
      Array.from({ length: 50 }, (_, n) => replicationDelay(7, lag, `eu-west-1|item|${n}`)),
    );
    expect(delays.size).toBeGreaterThan(40);
    const otherSeed = Array.from({ length: 50 }, (_, n) => replicationDelay(8, lag, `eu-west-1|item|${n}`));
    expect(otherSeed).not.toEqual(
      Array.from({ length: 50 }, (_, n) => replicationDelay(7, lag, `eu-west-1|item|${n}`)),
    );
  });

  it('stay within mean ± jitter, spread over it, and never go below 0', () => {
    const lag = { meanMs: 300, jitterMs: 100 };
    const delays = Array.from({ length: 2_000 }, (_, n) => replicationDelay(1, lag, `d${n}`));
    expect(Math.min(...delays)).toBeGreaterThanOrEqual(200);
    expect(Math.max(...delays)).toBeLessThanOrEqual(400);
    expect(delays.filter((delay) => delay < 250).length).toBeGreaterThan(300);
    expect(delays.filter((delay) => delay > 350).length).toBeGreaterThan(300);
    const mean = delays.reduce((sum, delay) => sum + delay, 0) / delays.length;
    expect(Math.abs(mean - 300)).toBeLessThan(10);
    const clamped = Array.from({ length: 500 }, (_, n) =>
      replicationDelay(1, { meanMs: 10, jitterMs: 100 }, `c${n}`),
    );
    expect(Math.min(...clamped)).toBe(0);
    expect(Math.max(...clamped)).toBeLessThanOrEqual(110);
    expect(replicationDelay(1, { meanMs: 0, jitterMs: 0 }, 'x')).toBe(0);
    expect(replicationDelay(1, { meanMs: 50, jitterMs: 0 }, 'x')).toBe(50);
  });

  it('come from fractions in [0, 1)', () => {
    for (let n = 0; n < 200; n++) {
      const fraction = seededFraction(n, 'x');
      expect(fraction).toBeGreaterThanOrEqual(0);
      expect(fraction).toBeLessThan(1);
    }
  });

  it('are validated', () => {
    expect(validateLag({ meanMs: 0, jitterMs: 0 })).toEqual({ meanMs: 0, jitterMs: 0 });
    for (const lag of [
      { meanMs: -1, jitterMs: 0 },
      { meanMs: 1.5, jitterMs: 0 },
      { meanMs: 100, jitterMs: Number.NaN },
      { meanMs: 3_600_001, jitterMs: 0 },
    ]) {
      expect(() => validateLag(lag)).toThrow(InvalidArgumentError);
    }
    expect(() => validateLag({ meanMs: 100, jitterMs: -5 })).toThrow(/jitterMs is -5/);
  });
});

describe('due times (per-item order)', () => {
  it('are now plus the delay for an item with nothing due', () => {
    expect(dueTime(1_000, 250, undefined)).toBe(1_250);
  });

  it('never come before the previous delivery of the same item to the same region', () => {
    // The second version drew a shorter delay: it waits for the first.
    const first = dueTime(1_000, 390, undefined);
    const second = dueTime(1_010, 20, first);
    expect(second).toBe(first);
    // A longer delay stands.
    expect(dueTime(1_010, 500, first)).toBe(1_510);
  });
});

describe('letting one item go in order', () => {
  it('holds a later delivery whose timer fired first until the earlier one is due', () => {
    const queue = new InOrderRelease<string>();
    queue.add('v1');
    queue.add('v2');
    queue.add('v3');
    expect(queue.due('v2')).toEqual([]);
    expect(queue.due('v3')).toEqual([]);
    expect(queue.size).toBe(3);
    expect(queue.due('v1')).toEqual(['v1', 'v2', 'v3']);
    expect(queue.size).toBe(0);
  });

  it('lets each go as soon as it is due when the timers fire in order', () => {
    const queue = new InOrderRelease<string>();
    queue.add('v1');
    queue.add('v2');
    expect(queue.due('v1')).toEqual(['v1']);
    queue.add('v3');
    expect(queue.due('v2')).toEqual(['v2']);
    expect(queue.due('v3')).toEqual(['v3']);
  });

  it('ignores a delivery it does not hold', () => {
    const queue = new InOrderRelease<string>();
    queue.add('v1');
    expect(queue.due('other')).toEqual([]);
    expect(queue.size).toBe(1);
  });
});
