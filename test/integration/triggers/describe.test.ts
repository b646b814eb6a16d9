/**
 * `describeTrigger` on the local stack's dispatcher: the state, the last error (a function error,
 * cleared by the next successful invocation), the batches in flight, and per partition the lag in
 * records and in time, the committed offset and whether it is due.
 */
import { afterAll, describe, expect, it } from 'vitest';
import type { Tributary } from '../../../sdk/src/index.ts';
import { recordedRecords, valueText } from '../../helpers/recorded.ts';
import { testClient, uniqueTopic } from '../../helpers/tributary.ts';
import { invocationSpans, produce, waitCaughtUp } from '../../helpers/triggers.ts';
import { until } from '../../helpers/wait.ts';

const tributary: Tributary = testClient();
afterAll(() => tributary.close());
const admin = tributary.admin();

describe.concurrent('describeTrigger', () => {
  it('shows the lag per partition in records and time, then none once delivered', async () => {
    const topic = uniqueTopic('desc-lag');
    await admin.createTopic({ topic, partitions: 3 });
    const name = `t-${topic}`;
    await admin.createTrigger({
      name,
      topic,
      functionName: 'recorder',
      startingPosition: 'TRIM_HORIZON',
      maximumBatchingWindowInSeconds: 0,
      enabled: false,
    });
    const now = Date.now();
    await produce(tributary, topic, [
      { value: 'a', partition: 0, timestamp: now - 5_000 },
      { value: 'b', partition: 0, timestamp: now - 4_000 },
      { value: 'c', partition: 0, timestamp: now - 3_000 },
      { value: 'd', partition: 1, timestamp: now - 2_000 },
    ]);
    const before = await admin.describeTrigger(name);
    expect(before.state).toBe('Disabled');
    expect(before.inFlightBatches).toBe(0);
    expect(before.partitions.map((p) => [p.partition, p.committedOffset, p.highWatermark, p.lag])).toEqual([
      [0, undefined, 3, 3],
      [1, undefined, 1, 1],
      [2, undefined, 0, 0],
    ]);
    const [p0, p1, p2] = before.partitions;
    expect(p0!.lagMs).toBeGreaterThanOrEqual(5_000);
    // Measured at one instant, from the oldest undelivered record's timestamp.
    expect(p0!.lagMs - p1!.lagMs).toBe(3_000);
    expect(p2!.lagMs).toBe(0);

    await admin.updateTrigger(name, { enabled: true });
    await until(() => recordedRecords(topic).length === 4, { message: 'the delivery' });
    await waitCaughtUp(admin, name);
    const after = await admin.describeTrigger(name);
    expect(after.state).toBe('Enabled');
    expect(after.lastError).toBeUndefined();
    expect(after.partitions.map((p) => [p.committedOffset, p.lag, p.lagMs, p.inFlight, p.dueAt])).toEqual([
      [3, 0, 0, false, undefined],
      [1, 0, 0, false, undefined],
      // The empty partition was looked at (TRIM_HORIZON marks every partition due) and let go.
      [undefined, 0, 0, false, undefined],
    ]);
  });

  it('shows a batch in flight while the function runs', async () => {
    const topic = uniqueTopic('desc-flight');
    await admin.createTopic({ topic, partitions: 2 });
    const name = `t-${topic}`;
    await admin.createTrigger({
      name,
      topic,
      functionName: 'probe',
      startingPosition: 'TRIM_HORIZON',
      maximumBatchingWindowInSeconds: 0,
    });
    // Both partitions idle first (the trigger's creation had a worker look at each).
    await waitCaughtUp(admin, name);
    await produce(tributary, topic, [{ value: 'sleep:1500', partition: 1 }]);
    await until(() => invocationSpans(topic).length === 1, { message: 'the invocation' });
    const during = await admin.describeTrigger(name);
    expect(invocationSpans(topic)[0]!.endedAt).toBeUndefined();
    expect(during.inFlightBatches).toBe(1);
    expect(during.partitions.map((p) => p.inFlight)).toEqual([false, true]);
    await waitCaughtUp(admin, name);
    expect((await admin.describeTrigger(name)).inFlightBatches).toBe(0);
  });

  it('shows the last function error until an invocation succeeds', async () => {
    const topic = uniqueTopic('desc-error');
    await admin.createTopic({ topic, partitions: 1 });
    const name = `t-${topic}`;
    await admin.createTrigger({
      name,
      topic,
      functionName: 'recorder',
      startingPosition: 'TRIM_HORIZON',
      maximumBatchingWindowInSeconds: 0,
      maximumRetryAttempts: 1,
    });
    await produce(tributary, topic, [{ value: 'poison-9' }]);
    await until(() => recordedRecords(topic).length === 2, { message: 'the attempts' });
    await waitCaughtUp(admin, name);
    const failed = await admin.describeTrigger(name);
    expect(failed.lastError).toMatchObject({ code: 'FunctionError' });
    expect(failed.lastError!.message).toContain(`poison record at ${topic}-0@0`);
    expect(failed.lastError!.at).toBeInstanceOf(Date);
    // Given up on (no destination: dropped), committed past.
    expect(failed.partitions.map((p) => p.committedOffset)).toEqual([1]);

    await produce(tributary, topic, [{ value: 'fine' }]);
    await until(() => recordedRecords(topic).some((r) => valueText(r) === 'fine'), {
      message: 'the next record',
    });
    await until(async () => (await admin.describeTrigger(name)).lastError === undefined, {
      message: 'the error cleared',
    });
  });
});
