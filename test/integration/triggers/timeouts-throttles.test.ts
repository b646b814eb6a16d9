/**
 * Function timeouts and Lambda throttles end to end (reference §3). A timeout is a function error:
 * it uses up retries and ends at the destination (the stack's dispatcher, `recorder-slow` timing
 * out after 1 s). A throttle never is one: a dispatcher of the test's own, whose Lambda client is
 * throttled by middleware for a few Invoke calls, backs off and delivers the batch once the
 * throttling stops — even with `maximumRetryAttempts: 0` — and counts it only as a throttle.
 */
import { LambdaClient, TooManyRequestsException } from '@aws-sdk/client-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalDispatcher } from '../../../local/dispatcher.ts';
import type { Tributary } from '../../../sdk/src/index.ts';
import type { WorkerMetrics } from '../../../sdk/src/triggers/partition-worker.ts';
import { injectFaults } from '../../helpers/faults.ts';
import { recordedRecords, valueText } from '../../helpers/recorded.ts';
import { freshTablePrefix, testStackConfig } from '../../helpers/stack.ts';
import { testClient, uniqueTopic } from '../../helpers/tributary.ts';
import {
  deadLetterRecord,
  produce,
  readDeadLetters,
  startTestDispatcher,
  topicSize,
  waitCaughtUp,
} from '../../helpers/triggers.ts';
import { until } from '../../helpers/wait.ts';

describe('a function that times out', () => {
  const tributary: Tributary = testClient();
  afterAll(() => tributary.close());
  const admin = tributary.admin();

  it('fails like a function error: retried, then sent to the destination', async () => {
    const topic = uniqueTopic('timeout');
    const dlt = uniqueTopic('timeout-dlt');
    await admin.createTopic({ topic, partitions: 1 });
    await admin.createTopic({ topic: dlt, partitions: 1 });
    const name = `t-${topic}`;
    await admin.createTrigger({
      name,
      topic,
      functionName: 'recorder-slow',
      startingPosition: 'TRIM_HORIZON',
      maximumBatchingWindowInSeconds: 0,
      maximumRetryAttempts: 1,
      destinationConfig: { onFailure: { destination: `kafka://${dlt}` } },
    });
    await produce(tributary, topic, [{ value: 'sleep:2000', key: 'slow' }]);

    const [letter] = await readDeadLetters(tributary, dlt, 1);
    await produce(tributary, topic, [{ value: 'quick' }]);
    await until(() => recordedRecords(topic).some((r) => valueText(r) === 'quick'), {
      message: 'the next record',
    });
    await waitCaughtUp(admin, name);
    expect(await topicSize(admin, dlt)).toBe(1);
    expect(letter!.key).toBe('slow');
    expect(valueText(deadLetterRecord(letter!))).toBe('sleep:2000');
    const context = letter!.value.requestContext as Record<string, unknown>;
    expect(context.condition).toBe('RetryAttemptsExhausted');
    expect(context.approximateInvokeCount).toBe(2);
    expect(letter!.value.responseContext).toEqual({
      statusCode: 200,
      executedVersion: '$LATEST',
      functionError: 'Unhandled',
    });
    expect(recordedRecords(topic).map(valueText)).toEqual(['sleep:2000', 'sleep:2000', 'quick']);
  });
});

describe('a throttled function', () => {
  let tributary: Tributary;
  let dispatcher: LocalDispatcher;
  let lambda: LambdaClient;
  const metrics: WorkerMetrics[] = [];
  let throttlesLeft = 0;

  beforeAll(async () => {
    const tablePrefix = await freshTablePrefix('throttle');
    tributary = testClient({ tablePrefix });
    const { endpoint, region } = testStackConfig();
    lambda = new LambdaClient({
      endpoint,
      region,
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
      maxAttempts: 1,
    });
    // Lambda answers 429 to the first Invoke calls, before the function runs.
    injectFaults(lambda, ({ command }) => {
      if (command !== 'InvokeCommand' || throttlesLeft === 0) return undefined;
      throttlesLeft--;
      return {
        error: new TooManyRequestsException({
          message: 'Rate exceeded',
          Reason: 'ReservedFunctionConcurrentInvocationLimitExceeded',
          $metadata: { httpStatusCode: 429 },
        }),
      };
    });
    dispatcher = await startTestDispatcher(tablePrefix, {
      lambdaClient: lambda,
      onMetrics: (_trigger, _partition, counters) => metrics.push(counters),
    });
  });
  afterAll(async () => {
    await dispatcher?.stop();
    lambda?.destroy();
    tributary?.close();
  });

  it('is retried with backoff until the throttling stops, and no retry is used up', async () => {
    const admin = tributary.admin();
    const topic = uniqueTopic('throttle');
    const dlt = uniqueTopic('throttle-dlt');
    await admin.createTopic({ topic, partitions: 1 });
    await admin.createTopic({ topic: dlt, partitions: 1 });
    const name = `t-${topic}`;
    throttlesLeft = 4;
    await admin.createTrigger({
      name,
      topic,
      functionName: 'recorder',
      startingPosition: 'TRIM_HORIZON',
      maximumBatchingWindowInSeconds: 0,
      maximumRetryAttempts: 0,
      destinationConfig: { onFailure: { destination: `kafka://${dlt}` } },
    });
    await produce(tributary, topic, [{ value: 'through-1' }, { value: 'through-2' }]);

    await until(() => recordedRecords(topic).length >= 2, { timeoutMs: 30_000, message: 'the delivery' });
    await waitCaughtUp(admin, name);
    expect(throttlesLeft).toBe(0);
    expect(recordedRecords(topic).map(valueText)).toEqual(['through-1', 'through-2']);
    expect(await topicSize(admin, dlt)).toBe(0);
    const group = await admin.describeGroup(`trigger-${name}`);
    expect(group.partitions.map((p) => p.committedOffset)).toEqual([2]);
    await until(() => metrics.reduce((n, m) => n + m.CommittedEventCount, 0) >= 2, { message: 'metrics' });
    const sum = (key: keyof WorkerMetrics) => metrics.reduce((n, m) => n + m[key], 0);
    expect(sum('Throttles')).toBe(4);
    expect(sum('FailedInvokeEventCount')).toBe(0);
    expect(sum('InvokeErrorCount')).toBe(0);
    expect(sum('DroppedEventCount') + sum('OnFailureDestinationDeliveredEventCount')).toBe(0);
  });
});
