/**
 * When the replicator delivers a version to another region: after a delay drawn per delivery
 * around the configured lag, so items overtake one another, but never before an earlier version of
 * the same item to the same region, so each item's versions arrive in the order they were written.
 * Delays are a pure function of a seed and the delivery's identity, so a seed replays the same
 * delays whatever the timing. Pure.
 */
import { createHash } from 'node:crypto';
import { InvalidArgumentError } from '../../sdk/src/index.ts';

/** How long replication takes per item. */
export interface ReplicationLag {
  /** Mean delay between reading a write and writing it into another region (ms, ≥ 0). */
  readonly meanMs: number;
  /** Each delay is uniform in `meanMs ± jitterMs`, and never below 0 (ms, ≥ 0). */
  readonly jitterMs: number;
}

/** A lag of the order of AWS's typical global-table replication, short enough for tests. */
export const DEFAULT_LAG: ReplicationLag = { meanMs: 200, jitterMs: 200 };

/** The longest mean or jitter accepted: an hour is already far from any real replication. */
const MAX_LAG_MS = 3_600_000;

/** A copy of `lag` once both numbers are whole ms from 0 to an hour. */
export function validateLag(lag: ReplicationLag): ReplicationLag {
  for (const [name, value] of [
    ['meanMs', lag.meanMs],
    ['jitterMs', lag.jitterMs],
  ] as const) {
    if (!Number.isSafeInteger(value) || value < 0 || value > MAX_LAG_MS) {
      throw new InvalidArgumentError(
        `Replication lag ${name} is ${value}; use a whole number of ms from 0 to ${MAX_LAG_MS}.`,
      );
    }
  }
  return { meanMs: lag.meanMs, jitterMs: lag.jitterMs };
}

/** A number in [0, 1) drawn from `seed` and `identity` alone. */
export function seededFraction(seed: number, identity: string): number {
  const digest = createHash('sha256').update(`${seed}\u0000${identity}`).digest();
  return digest.readUInt32BE(0) / 2 ** 32;
}

/**
 * The delay of one delivery (whole ms): uniform in `[mean − jitter, mean + jitter]`, clamped at 0.
 * `identity` names the delivery (target region, item, and how many deliveries of that item to that
 * region came before), so the same seed gives the same delay to the same delivery.
 */
export function replicationDelay(seed: number, lag: ReplicationLag, identity: string): number {
  const spread = lag.jitterMs * (2 * seededFraction(seed, identity) - 1);
  return Math.max(0, Math.round(lag.meanMs + spread));
}

/**
 * When a delivery is due: its delay from now, or, if that is earlier, when the previous delivery of
 * the same item to the same region is due (per-item order; across items there is none).
 */
export function dueTime(now: number, delayMs: number, previousDue: number | undefined): number {
  const due = now + delayMs;
  return previousDue === undefined ? due : Math.max(due, previousDue);
}

/**
 * One item's deliveries to one region, let go in the order they were scheduled, each once its delay
 * has passed. Timers alone would not keep that order: two timers due at the same ms (a later
 * version's shorter delay raised to its predecessor's due time) may fire either way round.
 */
export class InOrderRelease<T> {
  readonly #waiting: { readonly value: T; due: boolean }[] = [];

  /** Adds a delivery behind those already waiting. */
  add(value: T): void {
    this.#waiting.push({ value, due: false });
  }

  /**
   * Marks `value`'s delay as passed; returns what may go now, oldest first: every due delivery up
   * to the first one still waiting (none while an earlier one waits).
   */
  due(value: T): T[] {
    const entry = this.#waiting.find((waiting) => waiting.value === value);
    if (entry) entry.due = true;
    const released: T[] = [];
    while (this.#waiting[0]?.due) released.push((this.#waiting.shift() as { value: T }).value);
    return released;
  }

  /** How many are waiting. */
  get size(): number {
    return this.#waiting.length;
  }
}
