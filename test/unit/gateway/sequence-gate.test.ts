/** The per-connection gate that holds back an idempotent producer's batches after a retriable failure. */
import { describe, expect, it } from 'vitest';
import { type SequencedBatchKey, SequenceGate } from '../../../gateway/sequence-gate.ts';

const batch = (baseSequence: number, overrides: Partial<SequencedBatchKey> = {}): SequencedBatchKey => ({
  producerId: 7n,
  producerEpoch: 0,
  topic: 'orders',
  partition: 2,
  baseSequence,
  ...overrides,
});

describe('SequenceGate', () => {
  it('admits everything until a batch fails, then only that batch until it is settled', () => {
    const gate = new SequenceGate();
    expect(gate.admits(batch(0))).toBe(true);
    gate.failed(batch(0));
    expect(gate.admits(batch(5))).toBe(false);
    expect(gate.admits(batch(0))).toBe(true);
    // A later failure does not replace the first: that one is still unsettled.
    gate.failed(batch(5));
    expect(gate.admits(batch(5))).toBe(false);
    gate.settled(batch(5));
    expect(gate.admits(batch(5))).toBe(false);
    gate.settled(batch(0));
    expect(gate.admits(batch(5))).toBe(true);
  });

  it('keeps producers, topics and partitions apart', () => {
    const gate = new SequenceGate();
    gate.failed(batch(0));
    expect(gate.admits(batch(3, { partition: 3 }))).toBe(true);
    expect(gate.admits(batch(3, { topic: 'other' }))).toBe(true);
    expect(gate.admits(batch(3, { producerId: 8n }))).toBe(true);
  });

  it('lets a newer epoch through (it starts over at 0) and forgets the older failure once it settles', () => {
    const gate = new SequenceGate();
    gate.failed(batch(10));
    expect(gate.admits(batch(0, { producerEpoch: 1 }))).toBe(true);
    gate.settled(batch(0, { producerEpoch: 1 }));
    expect(gate.admits(batch(5))).toBe(true);
  });
});
