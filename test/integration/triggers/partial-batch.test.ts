/**
 * Partial batch responses end to end (reference §3.2), on the local stack's dispatcher: a function
 * with `ReportBatchItemFailures` that reports one record has the records before it committed once,
 * the reported one retried until `maximumRetryAttempts` and then sent — alone — to the
 * destination, and the later ones redelivered with it and committed; with bisect on, the batch is
 * split at the reported offset first. An identifier that names no record of the event (an unknown
 * `"<topic>-<partition>"` key, an offset not in the batch) fails the whole batch.
 */
import { afterAll, describe, expect, it } from 'vitest';
import type { Tributary } from '../../../sdk/src/index.ts';
import { recordedRecords, valueText } from '../../helpers/recorded.ts';
import { testClient, uniqueTopic } from '../../helpers/tributary.ts';
import {
  deadLetterRecord,
  produce,
  readDeadLetters,
  topicSize,
  waitCaughtUp,
} from '../../helpers/triggers.ts';

const tributary: Tributary = testClient();
afterAll(() => tributary.close());
const admin = tributary.admin();

/** How often each offset of `topic` was delivered. */
function deliveries(topic: string): Map<number, number> {
  const counts = new Map<number, number>();
  for (const r of recordedRecords(topic)) counts.set(r.offset, (counts.get(r.offset) ?? 0) + 1);
  return counts;
}

describe.concurrent('partial batch responses', () => {
  it.each([
    { bisect: false, invocationsOfPoison: 3 },
    // The split at the reported offset does not count: 1 + 1 (split) + 2 retries.
    { bisect: true, invocationsOfPoison: 4 },
  ])(
    'retry only from the reported record and dead-letter it alone (bisect $bisect)',
    async ({ bisect, invocationsOfPoison }) => {
      const topic = uniqueTopic('pbr');
      const dlt = uniqueTopic('pbr-dlt');
      await admin.createTopic({ topic, partitions: 1 });
      await admin.createTopic({ topic: dlt, partitions: 1 });
      const name = `t-${topic}`;
      await admin.createTrigger({
        name,
        topic,
        functionName: 'recorder-partial',
        startingPosition: 'TRIM_HORIZON',
        functionResponseTypes: ['ReportBatchItemFailures'],
        batchSize: 10,
        // The ten records are one batch: the window waits until the batch is full.
        maximumBatchingWindowInSeconds: 5,
        maximumRetryAttempts: 2,
        bisectBatchOnFunctionError: bisect,
        destinationConfig: { onFailure: { destination: `kafka://${dlt}` } },
      });
      const values = Array.from({ length: 10 }, (_, i) => (i === 5 ? 'poison-5' : `ok-${i}`));
      await produce(
        tributary,
        topic,
        values.map((value, i) => ({ value, key: `k${i}` })),
      );

      const [letter, ...more] = await readDeadLetters(tributary, dlt, 1);
      await waitCaughtUp(admin, name);
      // Nothing else arrives: the later records were not given up on.
      await produce(tributary, topic, [{ value: 'after' }]);
      await waitCaughtUp(admin, name);
      expect(more).toEqual([]);
      expect(await topicSize(admin, dlt)).toBe(1);

      expect(letter!.key).toBe('k5');
      expect(valueText(deadLetterRecord(letter!))).toBe('poison-5');
      const context = letter!.value.requestContext as Record<string, unknown>;
      expect(context.condition).toBe('RetryAttemptsExhausted');
      expect(context.approximateInvokeCount).toBe(invocationsOfPoison);
      // A partial response is a normal return: the response context has no function error.
      expect(letter!.value.responseContext).toEqual({ statusCode: 200, executedVersion: '$LATEST' });

      const counts = deliveries(topic);
      for (let offset = 0; offset < 5; offset++) expect(counts.get(offset), `offset ${offset}`).toBe(1);
      expect(counts.get(5)).toBe(invocationsOfPoison);
      for (let offset = 6; offset < 10; offset++) {
        expect(counts.get(offset), `offset ${offset}`).toBeGreaterThanOrEqual(1);
      }
      expect(counts.get(10)).toBe(1);
      // The first invocation had the whole batch; every later one starts at the poison record.
      const invocations = recordedRecords(topic);
      expect(invocations.slice(0, 10).map((r) => r.offset)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
      const group = await admin.describeGroup(`trigger-${name}`);
      expect(group.partitions.map((p) => p.committedOffset)).toEqual([11]);
    },
  );

  it('fail the whole batch on an identifier naming a partition or an offset not in the event', async () => {
    const topic = uniqueTopic('pbr-bad');
    const dlt = uniqueTopic('pbr-bad-dlt');
    await admin.createTopic({ topic, partitions: 2 });
    await admin.createTopic({ topic: dlt, partitions: 1 });
    const name = `t-${topic}`;
    await admin.createTrigger({
      name,
      topic,
      functionName: 'probe',
      startingPosition: 'TRIM_HORIZON',
      functionResponseTypes: ['ReportBatchItemFailures'],
      batchSize: 3,
      maximumBatchingWindowInSeconds: 5,
      maximumRetryAttempts: 1,
      destinationConfig: { onFailure: { destination: `kafka://${dlt}` } },
    });
    // Partition 0 reports an unknown "<topic>-<partition>" key, partition 1 an offset not in the batch.
    await produce(tributary, topic, [
      { value: 'ok-a', partition: 0 },
      { value: 'bad-partition', partition: 0 },
      { value: 'ok-b', partition: 0 },
      { value: 'ok-c', partition: 1 },
      { value: 'ok-d', partition: 1 },
      { value: 'bad-offset', partition: 1 },
    ]);

    const letters = await readDeadLetters(tributary, dlt, 6);
    await waitCaughtUp(admin, name);
    await produce(tributary, topic, [
      { value: 'later-0', partition: 0 },
      { value: 'later-1', partition: 1 },
    ]);
    await waitCaughtUp(admin, name);

    // Each whole batch was retried once, then every record of it was given up on.
    expect(letters).toHaveLength(6);
    expect(await topicSize(admin, dlt)).toBe(6);
    expect(letters.map((l) => valueText(deadLetterRecord(l))).sort()).toEqual(
      ['bad-offset', 'bad-partition', 'ok-a', 'ok-b', 'ok-c', 'ok-d'].sort(),
    );
    for (const letter of letters) {
      const context = letter.value.requestContext as Record<string, unknown>;
      expect(context.condition).toBe('RetryAttemptsExhausted');
      expect(context.approximateInvokeCount).toBe(2);
    }
    const delivered = recordedRecords(topic).map(valueText);
    for (const value of ['ok-a', 'bad-partition', 'ok-b', 'ok-c', 'ok-d', 'bad-offset']) {
      expect(
        delivered.filter((v) => v === value),
        value,
      ).toHaveLength(2);
    }
    expect(delivered.filter((v) => v === 'later-0')).toHaveLength(1);
    expect(delivered.filter((v) => v === 'later-1')).toHaveLength(1);
    const group = await admin.describeGroup(`trigger-${name}`);
    expect(group.partitions.map((p) => p.committedOffset)).toEqual([4, 4]);
  });
});
