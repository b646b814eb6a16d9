/** How a refused idempotent batch is told apart, in Kafka's terms, from the state read after the refusal. */
import { describe, expect, it } from 'vitest';
import type { ProducerState } from '../../../sdk/src/log/producer-state.ts';
import { classifyRefusal } from '../../../sdk/src/log/raw-batch-append.ts';

const state = (
  epoch: number,
  nextSequence: number,
  claim?: { sequence: number; count: number },
): ProducerState => ({
  epoch,
  nextSequence,
  claim: claim && { ...claim, digest: 'd', from: 0, until: 0, token: 't' },
});

describe('classifyRefusal', () => {
  it('an unknown producer must start at 0', () => {
    expect(classifyRefusal(undefined, 0, 5, { count: 1 })).toBe('out-of-order');
    expect(classifyRefusal(undefined, 0, 0, { count: 1 })).toBe('retry');
  });

  it('an older epoch is fenced; a newer one must start at 0', () => {
    expect(classifyRefusal(state(2, 10), 1, 10, { count: 1 })).toBe('fenced-epoch');
    expect(classifyRefusal(state(2, 10), 3, 4, { count: 1 })).toBe('out-of-order');
    expect(classifyRefusal(state(2, 10), 3, 0, { count: 1 })).toBe('retry');
  });

  it('behind the next sequence is a duplicate; ahead of it a gap; the next one itself is decided again', () => {
    expect(classifyRefusal(state(0, 10, { sequence: 7, count: 3 }), 0, 0, { count: 3 })).toBe('duplicate');
    expect(classifyRefusal(state(0, 10, { sequence: 7, count: 3 }), 0, 12, { count: 1 })).toBe(
      'out-of-order',
    );
    expect(classifyRefusal(state(0, 10), 0, 10, { count: 1 })).toBe('retry');
  });

  it("the latest batch's sequence with another record count is out of order; with the same count a duplicate", () => {
    expect(classifyRefusal(state(0, 10, { sequence: 7, count: 3 }), 0, 7, { count: 2 })).toBe('out-of-order');
    expect(classifyRefusal(state(0, 10, { sequence: 7, count: 3 }), 0, 7, { count: 3 })).toBe('duplicate');
  });

  it('counts sequences across the int32 wrap', () => {
    const near = 2 ** 31 - 2;
    expect(classifyRefusal(state(0, 3), 0, near, { count: 1 })).toBe('duplicate');
    expect(classifyRefusal(state(0, near), 0, 3, { count: 1 })).toBe('out-of-order');
  });
});
