/**
 * Backpressure for a producer (the direct and the HTTP one alike): bytes of records buffered and
 * in flight are bounded, and a `send` that would exceed the bound waits (first come, first served)
 * until earlier records are done, failing with `TimeoutError` after `maxBlockMs`.
 */
import { RecordTooLargeError, TimeoutError } from '../errors.ts';

interface Waiter {
  readonly bytes: number;
  readonly wake: () => void;
}

/** A bound on bytes held, with waiting reservations. */
export class ByteBudget {
  readonly #limit: number;
  readonly #maxBlockMs: number;
  readonly #waiters: Waiter[] = [];
  #held = 0;

  constructor(limitBytes: number, maxBlockMs: number) {
    this.#limit = limitBytes;
    this.#maxBlockMs = maxBlockMs;
  }

  /** Bytes reserved and not yet released. */
  get held(): number {
    return this.#held;
  }

  /**
   * Reserves `bytes`, waiting for room behind earlier waiters. `RecordTooLargeError` if `bytes`
   * alone exceeds the limit; `TimeoutError` if no room is made within `maxBlockMs`.
   */
  async reserve(bytes: number): Promise<void> {
    if (bytes > this.#limit) {
      throw new RecordTooLargeError(bytes, this.#limit, 'one send() is larger than bufferMemoryBytes');
    }
    if (this.#held + bytes <= this.#limit && this.#waiters.length === 0) {
      this.#held += bytes;
      return;
    }
    await new Promise<void>((resolve, reject) => {
      const waiter: Waiter = {
        bytes,
        wake: () => {
          clearTimeout(timer);
          resolve();
        },
      };
      const timer = setTimeout(() => {
        this.#waiters.splice(this.#waiters.indexOf(waiter), 1);
        reject(
          new TimeoutError(
            `send() waited ${this.#maxBlockMs} ms for buffer memory: records are produced faster than they can be ` +
              'sent. Add partitions, raise bufferMemoryBytes, or slow down.',
          ),
        );
        // A large waiter that gave up may have been blocking smaller ones behind it.
        this.#wakeWaiters();
      }, this.#maxBlockMs);
      this.#waiters.push(waiter);
    });
  }

  /** Returns `bytes` reserved earlier and wakes waiters that now fit, in order. */
  release(bytes: number): void {
    this.#held -= bytes;
    this.#wakeWaiters();
  }

  #wakeWaiters(): void {
    while (this.#waiters.length > 0) {
      const next = this.#waiters[0]!;
      if (this.#held + next.bytes > this.#limit) break;
      this.#waiters.shift();
      this.#held += next.bytes;
      next.wake();
    }
  }
}
