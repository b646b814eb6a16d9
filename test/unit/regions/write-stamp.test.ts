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
    const slot = planSlot({ ...EMPTY_TAIL, leaderEpoch: 4 }, batch, 100);
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
      ...stampAttributes(slot, 'eu-west-1', 123_456),
    };
    expect(item).toMatchObject({ rg: { S: 'eu-west-1' }, le: { N: '4' }, at: { N: '123456' } });
    expect(slotFromItem(item)).toMatchObject({
      leaderEpoch: 4,
      written: { region: 'eu-west-1', at: 123_456 },
    });
  });

  it('carry the leader epoch along the chain, 0 where none was written', () => {
    const first = planSlot(EMPTY_TAIL, batch, 100);
    expect(first.leaderEpoch).toBeUndefined();
    expect(stampAttributes(first, 'us-east-1', 1).le).toEqual({ N: '0' });
    const next = planSlot(tailAfter({ ...first, leaderEpoch: 2 }), batch, 100);
    expect(next).toMatchObject({ offset: 3, leaderEpoch: 2 });
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
