import { describe, expect, it } from 'vitest';
import {
  choosePath,
  collisionBackoffMs,
  INITIAL_CONTENTION,
  recordAttempt,
  writeUnits,
} from '../../../sdk/src/log/append-strategy.ts';

describe('append strategy', () => {
  it('bills write units per started KB', () => {
    expect([0, 1, 1024, 1025, 4096].map(writeUnits)).toEqual([1, 1, 1, 2, 4]);
  });

  it('stays one-phase without contention, whatever the batch size', () => {
    let s = INITIAL_CONTENTION;
    for (let i = 0; i < 50; i++) s = choosePath(recordAttempt(s, false), 300_000);
    expect(s.path).toBe('one-phase');
  });

  it('switches large batches to two-phase under contention and back when it ends', () => {
    let s = INITIAL_CONTENTION;
    for (let i = 0; i < 10; i++) s = choosePath(recordAttempt(s, i % 2 === 0), 64 * 1024);
    expect(s.path).toBe('two-phase');
    for (let i = 0; i < 40; i++) s = choosePath(recordAttempt(s, false), 64 * 1024);
    expect(s.path).toBe('one-phase');
  });

  it("claims a new appender's first large batches with a placeholder, and drops the prior within a few quiet appends", () => {
    // The appender's order: choose the path, attempt, fold the outcome in.
    const paths: string[] = [];
    let s = INITIAL_CONTENTION;
    for (let i = 0; i < 20; i++) {
      s = choosePath(s, 127 * 1024);
      paths.push(s.path);
      s = recordAttempt(s, false);
    }
    expect(paths[0]).toBe('two-phase');
    expect(paths.filter((p) => p === 'two-phase')).toHaveLength(5);
    expect(paths.slice(5).every((p) => p === 'one-phase')).toBe(true);
  });

  it('stays two-phase when its first appends collide', () => {
    let s = choosePath(recordAttempt(INITIAL_CONTENTION, false), 127 * 1024);
    for (let i = 0; i < 3; i++) s = choosePath(recordAttempt(s, i === 0), 127 * 1024);
    expect(s.path).toBe('two-phase');
    for (let i = 0; i < 5; i++) s = choosePath(recordAttempt(s, false), 127 * 1024);
    expect(s.path).toBe('two-phase');
  });

  it('keeps one-unit batches one-phase even under contention (a placeholder would not save anything)', () => {
    let s = INITIAL_CONTENTION;
    for (let i = 0; i < 30; i++) s = choosePath(recordAttempt(s, true), 900);
    expect(s.path).toBe('one-phase');
  });

  it('retries the first collision at once and spreads later ones with bounded jitter', () => {
    expect(collisionBackoffMs(1, () => 0.99)).toBe(0);
    expect(collisionBackoffMs(3, () => 0.5)).toBe(2);
    expect(collisionBackoffMs(30, () => 0.999)).toBeLessThan(50);
  });
});
