/** Leader epochs: which key space holds which offsets, what a failover records, and the keys themselves. */
import { describe, expect, it } from 'vitest';
import { batchKey, parseBatchKey, reappendedKey } from '../../../sdk/src/keys.ts';
import { fenceAttributes, slotFromItem } from '../../../sdk/src/log/log-item.ts';
import {
  currentEpoch,
  currentTopicEpoch,
  divergentRanges,
  epochAt,
  epochRanges,
  epochsHome,
  nextEpochs,
  type PartitionEpochs,
  partitionEpochs,
  type TopicEpochs,
} from '../../../sdk/src/regions/leader-epochs.ts';
import { rungPartitionOf } from '../../../sdk/src/triggers/dispatcher.ts';

const ref = { topic: 'orders', incarnation: 'a1b2c3', partition: 3 };

/** Epoch 0 in us-east-1 from 0, 1 in eu-west-1 from 100, 2 back in us-east-1 from 150. */
const epochs: PartitionEpochs = [
  { epoch: 0, region: 'us-east-1', startOffset: 0 },
  { epoch: 1, region: 'eu-west-1', startOffset: 100 },
  { epoch: 2, region: 'us-east-1', startOffset: 150 },
];

describe('leader epochs of a partition', () => {
  it('find the epoch holding an offset and its range', () => {
    expect(epochAt(undefined, 42)).toEqual({ epoch: 0, from: 0, to: undefined });
    expect(epochAt(epochs, 0)).toEqual({ epoch: 0, from: 0, to: 100 });
    expect(epochAt(epochs, 99)).toEqual({ epoch: 0, from: 0, to: 100 });
    expect(epochAt(epochs, 100)).toEqual({ epoch: 1, from: 100, to: 150 });
    expect(epochAt(epochs, 10_000)).toEqual({ epoch: 2, from: 150, to: undefined });
    expect(currentEpoch(epochs)).toBe(2);
    expect(currentEpoch(undefined)).toBe(0);
  });

  it('split a range into the parts each key space holds, skipping empty epochs', () => {
    expect(epochRanges(undefined, 5, 9)).toEqual([{ epoch: 0, from: 5, to: 9 }]);
    expect(epochRanges(undefined, 9, 9)).toEqual([]);
    expect(epochRanges(epochs, 90, 120)).toEqual([
      { epoch: 0, from: 90, to: 100 },
      { epoch: 1, from: 100, to: 120 },
    ]);
    expect(epochRanges(epochs, 120)).toEqual([
      { epoch: 1, from: 120, to: 150 },
      { epoch: 2, from: 150, to: undefined },
    ]);
    // Two failovers with nothing appended between them: epoch 1 holds no offsets.
    const back: PartitionEpochs = [
      { epoch: 0, region: 'a', startOffset: 0 },
      { epoch: 1, region: 'b', startOffset: 7 },
      { epoch: 2, region: 'a', startOffset: 7 },
    ];
    expect(epochRanges(back, 0)).toEqual([
      { epoch: 0, from: 0, to: 7 },
      { epoch: 2, from: 7, to: undefined },
    ]);
    expect(epochAt(back, 7).epoch).toBe(2);
  });

  it("name every old epoch's key space past its end as outside the log", () => {
    expect(divergentRanges(undefined)).toEqual([]);
    expect(divergentRanges(epochs)).toEqual([
      { epoch: 0, region: 'us-east-1', from: 100, nextEpoch: 1 },
      { epoch: 1, region: 'eu-west-1', from: 150, nextEpoch: 2 },
    ]);
  });
});

describe("a topic's epochs", () => {
  it('record epoch 0 at the first failover, then one change per failover', () => {
    const first = nextEpochs(undefined, 'us-east-1', {
      region: 'eu-west-1',
      mode: 'forced',
      at: 5,
      startOffsets: [100, 40],
    });
    expect(first).toEqual({
      version: 1,
      changes: [
        { epoch: 0, region: 'us-east-1', origin: 'created', at: 0, startOffsets: [] },
        { epoch: 1, region: 'eu-west-1', origin: 'forced', at: 5, startOffsets: [100, 40] },
      ],
    });
    const second = nextEpochs(first, 'ignored', {
      region: 'us-east-1',
      mode: 'planned',
      at: 9,
      startOffsets: [150, 40],
    });
    expect(second.version).toBe(2);
    expect(second.changes.map((c) => [c.epoch, c.region, c.origin])).toEqual([
      [0, 'us-east-1', 'created'],
      [1, 'eu-west-1', 'forced'],
      [2, 'us-east-1', 'planned'],
    ]);
    expect(epochsHome(second)).toBe('us-east-1');
    expect(currentTopicEpoch(second)).toBe(2);
    expect(currentTopicEpoch(undefined)).toBe(0);
    expect(epochsHome(undefined)).toBeUndefined();
  });

  it('give each partition its own starts, a partition added later starting its epochs at 0', () => {
    const topic: TopicEpochs = nextEpochs(undefined, 'us-east-1', {
      region: 'eu-west-1',
      mode: 'planned',
      at: 1,
      startOffsets: [100, 40],
    });
    expect(partitionEpochs(undefined, 0)).toBeUndefined();
    expect(partitionEpochs(topic, 1)).toEqual([
      { epoch: 0, region: 'us-east-1', startOffset: 0 },
      { epoch: 1, region: 'eu-west-1', startOffset: 40 },
    ]);
    // Partition 2 was added after the failover: its log is all epoch 1's.
    expect(partitionEpochs(topic, 2)).toEqual([
      { epoch: 0, region: 'us-east-1', startOffset: 0 },
      { epoch: 1, region: 'eu-west-1', startOffset: 0 },
    ]);
    expect(epochAt(partitionEpochs(topic, 2), 0).epoch).toBe(1);
  });
});

describe('epoch key spaces', () => {
  it('keep epoch 0 at the partition key and give later epochs their own, which parse back', () => {
    expect(batchKey(ref, 0)).toBe('orders:a1b2c3:3');
    expect(batchKey(ref, 2)).toBe('orders:a1b2c3:3~e2');
    expect(parseBatchKey('orders:a1b2c3:3~e2')).toEqual({ ...ref, epoch: 2 });
    expect(parseBatchKey('orders:a1b2c3:3')).toEqual({ ...ref, epoch: 0 });
    for (const other of [
      'orders:a1b2c3:3#segments',
      reappendedKey(ref, 2),
      'orders:a1b2c3:3~e0',
      'orders:a1b2c3:3~e',
    ]) {
      expect(parseBatchKey(other), other).toBeUndefined();
    }
  });

  it("ring the dispatcher's doorbell for batches of every epoch, not for fences or re-append records", () => {
    expect(rungPartitionOf({ pk: 'orders:a1b2c3:3~e2', off: '120' })).toEqual(ref);
    expect(rungPartitionOf({ pk: 'orders:a1b2c3:3', off: '0' })).toEqual(ref);
    expect(rungPartitionOf({ pk: `${reappendedKey(ref, 1)}`, off: '120' })).toBeUndefined();
    expect(rungPartitionOf({ pk: 'orders:a1b2c3:3~e2', off: '-1' })).toBeUndefined();
    expect(
      rungPartitionOf({ pk: 'orders:a1b2c3:3', off: '100', newImage: { fe: { N: '1' } } }),
    ).toBeUndefined();
  });

  it('parse a fence as an empty slot at the chain end naming where the log goes on', () => {
    const item = fenceAttributes(
      'orders:a1b2c3:3',
      { end: 100, runningMaxTimestamp: 77, runningBytes: 5_000 },
      {
        epoch: 1,
        region: 'eu-west-1',
      },
    );
    expect(slotFromItem(item)).toMatchObject({
      kind: 'fence',
      offset: 100,
      count: 0,
      runningBytes: 5_000,
      runningMaxTimestamp: 77,
      producerId: '-1',
      nextEpoch: 1,
      nextRegion: 'eu-west-1',
    });
  });
});
