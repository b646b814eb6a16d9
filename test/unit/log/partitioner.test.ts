import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { murmur2, Partitioner, partitionForKey, toPositive } from '../../../sdk/src/log/partitioner.ts';
import { seededRandom } from '../../helpers/random.ts';

// kafkajs' default partitioner, an independent implementation of Kafka's (test-only dependency).
const require = createRequire(import.meta.url);
const kafkajsMurmur2 = require('kafkajs/src/producer/partitioners/default/murmur2.js') as (
  key: Buffer | string,
) => number;

describe('murmur2', () => {
  // The vectors of Kafka's own UtilsTest.testMurmur2.
  it.each([
    ['21', -973932308],
    ['foobar', -790332482],
    ['a-little-bit-long-string', -985981536],
    ['a-little-bit-longer-string', -1486304829],
    ['lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8', -58897971],
    ['abc', 479470107],
  ])('hashes %j like Kafka', (key, expected) => {
    expect(murmur2(Buffer.from(key))).toBe(expected);
  });

  it('agrees with kafkajs on random keys of every length', () => {
    const random = seededRandom(7);
    for (let n = 0; n < 500; n++) {
      const key = Buffer.from(Array.from({ length: n % 67 }, () => Math.floor(random() * 256)));
      expect(murmur2(key)).toBe(kafkajsMurmur2(key));
      expect(partitionForKey(key, 12)).toBe(toPositive(kafkajsMurmur2(key)) % 12);
    }
  });

  it('clears the sign bit rather than taking an absolute value', () => {
    expect(toPositive(-2147483648)).toBe(0);
    expect(toPositive(-1)).toBe(2147483647);
  });
});

describe('Partitioner', () => {
  it('prefers an explicit partition, then the key hash', () => {
    const p = new Partitioner(seededRandom(1));
    expect(p.choose('t', 8, Buffer.from('abc'), 5)).toBe(5);
    expect(p.choose('t', 8, Buffer.from('abc'))).toBe(partitionForKey(Buffer.from('abc'), 8));
  });

  it('sticks unkeyed records to one partition until its batch is sealed, then moves', () => {
    const p = new Partitioner(seededRandom(3));
    const first = p.choose('t', 6, null);
    for (let i = 0; i < 20; i++) expect(p.choose('t', 6, null)).toBe(first);
    p.onBatchSealed('t', first, 6);
    const second = p.choose('t', 6, null);
    expect(second).not.toBe(first);
    // Sealing a batch of another partition does not move the sticky one.
    p.onBatchSealed('t', (second + 1) % 6, 6);
    expect(p.choose('t', 6, null)).toBe(second);
  });

  it('spreads unkeyed records over all partitions across batches', () => {
    const p = new Partitioner(seededRandom(11));
    const seen = new Set<number>();
    for (let i = 0; i < 200; i++) {
      const chosen = p.choose('t', 5, null);
      seen.add(chosen);
      p.onBatchSealed('t', chosen, 5);
    }
    expect(seen.size).toBe(5);
  });
});
