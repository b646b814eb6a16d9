/** Batches carry the region that took their write, the leader epoch and the append time. */
import { describe, expect, it } from 'vitest';
import {
  EMPTY_TAIL,
  planSlot,
  slotFromItem,
  stampAttributes,
  tailAfter,
} from '../../../sdk/src/log/log-item.ts';

const batch = { count: 3, maxTimestamp: 1_000, producerId: '-1', sequence: -1 };

describe('write stamps', () => {
  it('round-trip through a log item', () => {
    const item = {
      pk: { S: 'orders:abc:0' },
      off: { N: '0' },
      n: { N: '3' },
      ts: { N: '1000' },
      mts: { N: '1000' },
      rb: { N: '100' },
      pid: { N: '-1' },
      seq: { N: '-1' },
      b: { B: new Uint8Array([1]) },
      ...stampAttributes('eu-west-1', 4, 123_456),
    };
    expect(item).toMatchObject({ rg: { S: 'eu-west-1' }, le: { N: '4' }, at: { N: '123456' } });
    expect(slotFromItem(item)).toMatchObject({
      leaderEpoch: 4,
      written: { region: 'eu-west-1', at: 123_456 },
    });
  });

  it("stamp the epoch of the key space that takes the batch, not the previous batch's", () => {
    // The slot after an epoch-0 batch, written in epoch 2's key space after a failover.
    const first = planSlot(EMPTY_TAIL, batch, 100);
    const next = planSlot(tailAfter({ ...first, leaderEpoch: 0 }), batch, 100);
    expect(next.offset).toBe(3);
    expect(next.leaderEpoch).toBeUndefined();
    expect(stampAttributes('us-east-1', 2, 1).le).toEqual({ N: '2' });
    expect(stampAttributes('us-east-1', 0, 1).le).toEqual({ N: '0' });
  });

  it('are absent from items written without regions', () => {
    const slot = slotFromItem({
      off: { N: '0' },
      n: { N: '1' },
      ts: { N: '1' },
      mts: { N: '1' },
      rb: { N: '1' },
      b: { B: new Uint8Array([1]) },
    });
    expect(slot.leaderEpoch).toBeUndefined();
    expect(slot.written).toBeUndefined();
  });
});
