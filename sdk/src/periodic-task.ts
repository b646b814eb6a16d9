/**
 * A task run on a timer that never overlaps itself: each scheduled run starts `intervalMs` after
 * the previous run *ended*, so a slow run delays the next one instead of doubling up; a failed run
 * is reported and the next one is still scheduled on time; a run asked for out of schedule
 * ({@link PeriodicTask.runNow}) waits for the one in progress; and {@link PeriodicTask.stop} waits
 * for it too. Timers are unref'd: a task alone does not keep the process alive.
 *
 * Group members heartbeat with it (direct and over HTTP), and the local stack runs its archiver
 * with it.
 */
import { InvalidArgumentError } from './errors.ts';

/** Settings of a {@link PeriodicTask}. */
export interface PeriodicTaskOptions {
  /** Delay from the end of one scheduled run to the start of the next, in ms (> 0). */
  readonly intervalMs: number;
  /** Receives the failure of a scheduled run; the schedule goes on. */
  readonly onError: (error: unknown) => void;
}

/** A periodic task; see the module's description. */
export class PeriodicTask {
  readonly #run: () => Promise<void>;
  readonly #intervalMs: number;
  readonly #onError: (error: unknown) => void;
  #state: 'idle' | 'started' | 'stopped' = 'idle';
  #timer: NodeJS.Timeout | undefined;
  /** Settles when the last run asked for has ended; never rejects. */
  #tail: Promise<void> = Promise.resolve();

  constructor(run: () => Promise<void>, options: PeriodicTaskOptions) {
    if (!Number.isFinite(options.intervalMs) || options.intervalMs <= 0) {
      throw new InvalidArgumentError(
        `A periodic task's intervalMs must be a number of ms above 0, got ${options.intervalMs}`,
      );
    }
    this.#run = run;
    this.#intervalMs = options.intervalMs;
    this.#onError = options.onError;
  }

  /** True once {@link stop} was called: the task runs no more. */
  get stopped(): boolean {
    return this.#state === 'stopped';
  }

  /** Starts the schedule: the first run `intervalMs` from now. No effect once started or stopped. */
  start(): void {
    if (this.#state !== 'idle') return;
    this.#state = 'started';
    this.#schedule();
  }

  /**
   * Runs the task now, after the run in progress (if any), without moving the schedule. Resolves or
   * rejects with this run's outcome, which is the caller's to handle (it does not go to
   * `onError`). Once stopped, resolves without running.
   */
  runNow(): Promise<void> {
    const run = this.#tail.then(() => (this.#state === 'stopped' ? undefined : this.#run()));
    this.#tail = run.catch(() => undefined);
    return run;
  }

  /**
   * Stops the schedule (runs asked for and not yet begun are skipped) and resolves once the run in
   * progress, if any, has ended. Idempotent. A run may call it to stop its own task, but must not
   * await it (it would wait for itself).
   */
  stop(): Promise<void> {
    this.#state = 'stopped';
    clearTimeout(this.#timer);
    this.#timer = undefined;
    return this.#tail;
  }

  #schedule(): void {
    if (this.#state !== 'started') return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      void this.runNow()
        .catch((error: unknown) => this.#onError(error))
        .finally(() => this.#schedule());
    }, this.#intervalMs);
    this.#timer.unref();
  }
}
