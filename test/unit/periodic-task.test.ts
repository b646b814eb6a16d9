/** The periodic task: runs never overlap, the next is scheduled after one ends, errors are reported, stop waits. */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { InvalidArgumentError } from '../../sdk/src/errors.ts';
import { PeriodicTask } from '../../sdk/src/periodic-task.ts';

/** A run the test ends by hand. */
function controlledRuns() {
  const started: { end: () => void; fail: (error: Error) => void }[] = [];
  let active = 0;
  let maxActive = 0;
  const run = () =>
    new Promise<void>((resolve, reject) => {
      active++;
      maxActive = Math.max(maxActive, active);
      const done = () => {
        active--;
      };
      started.push({
        end: () => {
          done();
          resolve();
        },
        fail: (error) => {
          done();
          reject(error);
        },
      });
    });
  return {
    run,
    started,
    get maxActive() {
      return maxActive;
    },
  };
}

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('PeriodicTask', () => {
  it('runs one interval after start, then one interval after each run ended, never two at once', async () => {
    const runs = controlledRuns();
    const task = new PeriodicTask(runs.run, { intervalMs: 1_000, onError: () => undefined });
    task.start();
    await vi.advanceTimersByTimeAsync(999);
    expect(runs.started).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(runs.started).toHaveLength(1);
    // A slow run: however long it takes, the next one waits for it.
    await vi.advanceTimersByTimeAsync(5_000);
    expect(runs.started).toHaveLength(1);
    runs.started[0]!.end();
    await vi.advanceTimersByTimeAsync(999);
    expect(runs.started).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(runs.started).toHaveLength(2);
    runs.started[1]!.end();
    await task.stop();
    expect(runs.maxActive).toBe(1);
  });

  it('reports a failed run and still runs the next one on time', async () => {
    const runs = controlledRuns();
    const errors: unknown[] = [];
    const task = new PeriodicTask(runs.run, { intervalMs: 100, onError: (e) => errors.push(e) });
    task.start();
    await vi.advanceTimersByTimeAsync(100);
    const failure = new Error('run failed');
    runs.started[0]!.fail(failure);
    await vi.advanceTimersByTimeAsync(0);
    expect(errors).toEqual([failure]);
    await vi.advanceTimersByTimeAsync(100);
    expect(runs.started).toHaveLength(2);
    runs.started[1]!.end();
    await task.stop();
    expect(errors).toEqual([failure]);
  });

  it('stops: waits for the run in progress, then runs no more', async () => {
    const runs = controlledRuns();
    const task = new PeriodicTask(runs.run, { intervalMs: 100, onError: () => undefined });
    task.start();
    await vi.advanceTimersByTimeAsync(100);
    let stopped = false;
    const stopping = task.stop().then(() => {
      stopped = true;
    });
    await vi.advanceTimersByTimeAsync(1_000);
    expect(stopped).toBe(false);
    runs.started[0]!.end();
    await stopping;
    expect(stopped).toBe(true);
    expect(task.stopped).toBe(true);
    await vi.advanceTimersByTimeAsync(1_000);
    await task.runNow();
    expect(runs.started).toHaveLength(1);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('runs now after the run in progress, handing its outcome to the caller rather than onError', async () => {
    const runs = controlledRuns();
    const errors: unknown[] = [];
    const task = new PeriodicTask(runs.run, { intervalMs: 100, onError: (e) => errors.push(e) });
    task.start();
    await vi.advanceTimersByTimeAsync(100);
    const now = task.runNow();
    await vi.advanceTimersByTimeAsync(0);
    // Queued behind the scheduled run, not beside it.
    expect(runs.started).toHaveLength(1);
    runs.started[0]!.end();
    await vi.advanceTimersByTimeAsync(0);
    expect(runs.started).toHaveLength(2);
    const failure = new Error('asked-for run failed');
    runs.started[1]!.fail(failure);
    await expect(now).rejects.toBe(failure);
    expect(errors).toEqual([]);
    expect(runs.maxActive).toBe(1);
    await task.stop();
  });

  it('runs before start only when asked, and does not keep the process alive', async () => {
    const runs = controlledRuns();
    const setTimeoutSpy = vi.spyOn(globalThis, 'setTimeout');
    const task = new PeriodicTask(runs.run, { intervalMs: 100, onError: () => undefined });
    await vi.advanceTimersByTimeAsync(1_000);
    expect(runs.started).toHaveLength(0);
    task.start();
    const timer = setTimeoutSpy.mock.results.at(-1)?.value as NodeJS.Timeout;
    expect(timer.hasRef()).toBe(false);
    setTimeoutSpy.mockRestore();
    await task.stop();
  });

  it('refuses an interval that is not a positive number of ms', () => {
    for (const intervalMs of [0, -1, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(() => new PeriodicTask(async () => undefined, { intervalMs, onError: () => undefined })).toThrow(
        InvalidArgumentError,
      );
    }
  });
});
