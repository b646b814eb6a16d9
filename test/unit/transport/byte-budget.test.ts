/** Backpressure of the HTTP producer's buffer. */
import { describe, expect, it } from 'vitest';
import { RecordTooLargeError, TimeoutError } from '../../../sdk/src/errors.ts';
import { ByteBudget } from '../../../sdk/src/transport/byte-budget.ts';

describe('ByteBudget', () => {
  it('grants reservations that fit at once and makes the next wait until bytes are released', async () => {
    const budget = new ByteBudget(100, 5_000);
    await budget.reserve(60);
    let granted = false;
    const waiting = budget.reserve(50).then(() => {
      granted = true;
    });
    await Promise.resolve();
    expect(granted).toBe(false);
    budget.release(60);
    await waiting;
    expect(granted).toBe(true);
    expect(budget.held).toBe(50);
  });

  it('refuses one reservation larger than the whole budget', async () => {
    await expect(new ByteBudget(100, 5_000).reserve(101)).rejects.toBeInstanceOf(RecordTooLargeError);
  });

  it('fails a wait with TimeoutError after maxBlockMs, then lets smaller waiters behind it in', async () => {
    const budget = new ByteBudget(100, 30);
    await budget.reserve(90);
    const big = budget.reserve(100);
    const small = budget.reserve(10);
    await expect(big).rejects.toBeInstanceOf(TimeoutError);
    await expect(small).resolves.toBeUndefined();
    expect(budget.held).toBe(100);
  });

  it('serves waiters first come, first served', async () => {
    const budget = new ByteBudget(100, 5_000);
    await budget.reserve(100);
    const order: string[] = [];
    const first = budget.reserve(80).then(() => order.push('first'));
    const second = budget.reserve(10).then(() => order.push('second'));
    budget.release(50);
    await Promise.resolve();
    expect(order).toEqual([]);
    budget.release(50);
    await Promise.all([first, second]);
    expect(order).toEqual(['first', 'second']);
  });
});
