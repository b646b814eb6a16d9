/**
 * The execution environments of one registered function and its concurrency limit. An invocation
 * takes an idle warm environment (the most recently used first, so a trickle of invocations keeps
 * hitting the same warm one, as in Lambda) or starts a new one while fewer than `concurrency` are
 * busy. A synchronous invocation beyond the limit is refused at once (Lambda throttles it); an
 * asynchronous one waits its turn (Lambda's event queue holds it). An environment that timed out,
 * crashed or failed to initialize is dropped, so the next invocation starts a fresh one.
 */
import {
  type EnvironmentSettings,
  ExecutionEnvironment,
  type InvocationOutcome,
  type InvocationRequest,
} from './execution-environment.ts';
import type { RegisteredFunction } from './function-definition.ts';

/** Why the pool did not run an invocation. */
export type NotRun =
  /** Every slot is busy (synchronous invocations only). */
  | 'throttled'
  /** The pool was closed (the function was replaced, or the service stops) before a slot freed up. */
  | 'closed';

export class FunctionPool {
  readonly fn: RegisteredFunction;
  readonly #settings: EnvironmentSettings;
  readonly #idle: ExecutionEnvironment[] = [];
  readonly #all = new Set<ExecutionEnvironment>();
  readonly #waiters: ((granted: boolean) => void)[] = [];
  #busy = 0;
  #closed = false;

  constructor(fn: RegisteredFunction, settings: EnvironmentSettings) {
    this.fn = fn;
    this.#settings = settings;
  }

  /**
   * Runs one invocation in a free environment. With `wait`, waits for a slot instead of answering
   * `throttled`.
   */
  async invoke(
    request: InvocationRequest,
    { wait }: { readonly wait: boolean },
  ): Promise<InvocationOutcome | NotRun> {
    if (this.#closed) return 'closed';
    if (this.#busy >= this.fn.concurrency) {
      if (!wait) return 'throttled';
      const granted = await new Promise<boolean>((resolve) => this.#waiters.push(resolve));
      if (!granted) return 'closed';
    } else {
      this.#busy++;
    }
    const environment = this.#takeIdle() ?? this.#start();
    try {
      return await environment.invoke(request);
    } finally {
      if (environment.alive && !this.#closed) this.#idle.push(environment);
      else void this.#drop(environment);
      this.#release();
    }
  }

  /**
   * Takes no more invocations and ends the environments: idle ones now, busy ones now too when
   * `now` (the service stops), else as their invocation ends (the function was replaced).
   * Resolves once every worker thread has ended.
   */
  async close({ now }: { readonly now: boolean }): Promise<void> {
    this.#closed = true;
    for (const waiter of this.#waiters.splice(0)) waiter(false);
    const idle = new Set(this.#idle.splice(0));
    await Promise.all(
      [...this.#all].map((environment) =>
        now || idle.has(environment) ? this.#drop(environment) : this.#whenDropped(environment),
      ),
    );
  }

  /** The most recently used idle environment still alive (one can end while idle: a crash in a leftover timer). */
  #takeIdle(): ExecutionEnvironment | undefined {
    for (let environment = this.#idle.pop(); environment !== undefined; environment = this.#idle.pop()) {
      if (environment.alive) return environment;
      void this.#drop(environment);
    }
    return undefined;
  }

  #start(): ExecutionEnvironment {
    const environment = new ExecutionEnvironment(this.fn, this.#settings);
    this.#all.add(environment);
    return environment;
  }

  async #drop(environment: ExecutionEnvironment): Promise<void> {
    await environment.terminate();
    this.#all.delete(environment);
  }

  /** Resolves once `environment` has left the pool (its invocation ended and it was dropped). */
  async #whenDropped(environment: ExecutionEnvironment): Promise<void> {
    // A busy environment is dropped by `invoke` once its invocation ends (the pool is closed);
    // its termination is what we wait for.
    await environment.exited;
    this.#all.delete(environment);
  }

  /** Hands the slot to the next waiting invocation, or frees it. */
  #release(): void {
    const next = this.#waiters.shift();
    if (next) next(true);
    else this.#busy--;
  }
}
