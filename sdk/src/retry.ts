/**
 * The one retry helper: exponential backoff with full jitter, bounded by a deadline. Only errors
 * whose `retriable` flag is set are retried; everything else propagates at once.
 */
import { translateAwsError } from './aws-errors.ts';
import { TributaryError } from './errors.ts';

/** How retries back off and when they give up. */
export interface RetryPolicy {
  /** First backoff ceiling in ms. @default 20 */
  readonly baseDelayMs: number;
  /** Largest backoff ceiling in ms. @default 2000 */
  readonly maxDelayMs: number;
  /** Give up when the next attempt would start later than this many ms after the first. @default 30000 */
  readonly deadlineMs: number;
}

/** Defaults for every retried call in the SDK. */
export const DEFAULT_RETRY_POLICY: RetryPolicy = { baseDelayMs: 20, maxDelayMs: 2_000, deadlineMs: 30_000 };

/** Full-jitter backoff: a uniform delay in `[0, min(max, base * 2^attempt))`. */
export function backoffDelay(
  attempt: number,
  policy: RetryPolicy,
  random: () => number = Math.random,
): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.min(attempt, 30));
  return Math.floor(random() * ceiling);
}

/** Sleeps `ms`, waking early (with the signal's reason) when `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** Converts a thrown value to a typed error where we recognise it, else returns it unchanged. */
export function normalizeError(error: unknown, operation: string): unknown {
  if (error instanceof TributaryError) return error;
  return translateAwsError(error, operation) ?? error;
}

/** True when `error` is a Tributary error that may succeed if repeated. */
export function isRetriable(error: unknown): boolean {
  return error instanceof TributaryError && error.retriable;
}

/**
 * Runs `op` until it succeeds, a non-retriable error occurs, or the deadline passes (then the last
 * error is thrown). AWS errors are translated with {@link normalizeError} before deciding.
 */
export async function withRetry<T>(
  operation: string,
  op: (attempt: number) => Promise<T>,
  policy: RetryPolicy = DEFAULT_RETRY_POLICY,
  signal?: AbortSignal,
): Promise<T> {
  const started = Date.now();
  for (let attempt = 0; ; attempt++) {
    try {
      return await op(attempt);
    } catch (raw) {
      const error = normalizeError(raw, operation);
      if (!isRetriable(error)) throw error;
      const delay = backoffDelay(attempt, policy);
      if (Date.now() + delay - started > policy.deadlineMs) throw error;
      await sleep(delay, signal);
    }
  }
}
