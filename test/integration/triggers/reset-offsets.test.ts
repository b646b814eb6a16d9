/**
 * Offset resets of a trigger's consumer group (`admin.resetGroupOffsets`, the CLI's
 * `groups reset-offsets`), on the local stack's dispatcher: a reset replays the trigger from the
 * new offsets without waiting for a new record, and a reset that lands while a batch is in flight
 * is not undone by the commit of that batch.
 */
import { afterAll, describe, expect, it } from 'vitest';
import type { Tributary } from '../../../sdk/src/index.ts';
import { recordedRecords, valueText } from '../../helpers/recorded.ts';
import { testClient, uniqueTopic } from '../../helpers/tributary.ts';
import { produce, waitCaughtUp } from '../../helpers/triggers.ts';
import { until } from '../../helpers/wait.ts';

const tributary: Tributary = testClient();
afterAll(() => tributary.close());
const admin = tributary.admin();

async function trigger(label: string, partitions: number): Promise<{ topic: string; name: string }> {
  const topic = uniqueTopic(label);
  await admin.createTopic({ topic, partitions });
  const name = `t-${topic}`;
  await admin.createTrigger({
    name,
    topic,
    functionName: 'recorder',
    startingPosition: 'TRIM_HORIZON',
    batchSize: 1,
    maximumBatchingWindowInSeconds: 0,
  });
  return { topic, name };
}

describe.concurrent("resetting a trigger's group", () => {
  it('to earliest replays every record, with no new record to ring the doorbell', async () => {
    const { topic, name } = await trigger('reset', 2);
    const values = ['a', 'b', 'c', 'd', 'e'];
    await produce(
      tributary,
      topic,
      values.map((value, i) => ({ value, partition: i % 2 })),
    );
    await until(() => recordedRecords(topic).length === 5, { message: 'the first delivery' });
    await waitCaughtUp(admin, name);

    const reset = await admin.resetGroupOffsets(`trigger-${name}`, topic, 'earliest');
    expect(reset).toEqual([
      { partition: 0, offset: 0 },
      { partition: 1, offset: 0 },
    ]);
    await until(() => recordedRecords(topic).length === 10, { message: 'the replay' });
    await waitCaughtUp(admin, name);
    const delivered = recordedRecords(topic).map(valueText);
    expect([...delivered.slice(5)].sort()).toEqual(values);
    const group = await admin.describeGroup(`trigger-${name}`);
    expect(group.partitions.map((p) => p.committedOffset)).toEqual([3, 2]);
  });

  it('while a batch is in flight is not undone by that batch', async () => {
    const { topic, name } = await trigger('reset-busy', 1);
    await produce(tributary, topic, [{ value: 'first' }]);
    await until(() => recordedRecords(topic).length === 1, { message: 'the first delivery' });
    await waitCaughtUp(admin, name);
    await produce(tributary, topic, [{ value: 'sleep:1500' }, { value: 'last' }]);
    await until(() => recordedRecords(topic).some((r) => valueText(r) === 'sleep:1500'), {
      message: 'the slow batch in flight',
    });
    await admin.resetGroupOffsets(`trigger-${name}`, topic, 'earliest');
    await until(() => recordedRecords(topic).some((r) => valueText(r) === 'last'), { message: 'the replay' });
    await waitCaughtUp(admin, name);
    // The slow batch's commit did not move the group past the reset: everything came again.
    expect(recordedRecords(topic).map(valueText)).toEqual([
      'first',
      'sleep:1500',
      'first',
      'sleep:1500',
      'last',
    ]);
  });
});
