/**
 * Disabling, enabling and deleting triggers end to end, on the local stack's dispatcher. What was
 * not invoked is proved against a control: a second, enabled trigger on the same topic whose
 * deliveries show that the doorbell rang and a dispatcher ran for those records.
 */
import { afterAll, describe, expect, it } from 'vitest';
import type { Tributary } from '../../../sdk/src/index.ts';
import { recordedInvocations, recordedRecords, valueText } from '../../helpers/recorded.ts';
import { testClient, uniqueTopic } from '../../helpers/tributary.ts';
import { produce, waitCaughtUp } from '../../helpers/triggers.ts';
import { until } from '../../helpers/wait.ts';

const tributary: Tributary = testClient();
afterAll(() => tributary.close());
const admin = tributary.admin();

/** Values `functionName` got for `topic`, in delivery order. */
function deliveredTo(topic: string, functionName: string): (string | undefined)[] {
  return recordedInvocations(topic)
    .filter((i) => i.functionName === functionName)
    .flatMap((i) => Object.values(i.event.records).flat().map(valueText));
}

async function withControl(topic: string, partitions = 1): Promise<{ name: string; control: string }> {
  await admin.createTopic({ topic, partitions });
  const name = `t-${topic}`;
  const control = `c-${topic}`;
  for (const [trigger, functionName] of [
    [name, 'recorder'],
    [control, 'recorder-partial'],
  ] as const) {
    await admin.createTrigger({
      name: trigger,
      topic,
      functionName,
      startingPosition: 'TRIM_HORIZON',
      maximumBatchingWindowInSeconds: 0,
    });
  }
  return { name, control };
}

describe.concurrent('trigger lifecycle', () => {
  it('invokes nothing while disabled and delivers everything produced meanwhile once enabled', async () => {
    const topic = uniqueTopic('life-off');
    const { name, control } = await withControl(topic);
    await produce(tributary, topic, [{ value: 'before' }]);
    await until(() => deliveredTo(topic, 'recorder').length === 1, { message: 'the first delivery' });
    await waitCaughtUp(admin, name);

    const disabled = await admin.updateTrigger(name, { enabled: false });
    expect(disabled.state).toBe('Disabled');
    await produce(tributary, topic, [{ value: 'while-1' }, { value: 'while-2' }]);
    await until(() => deliveredTo(topic, 'recorder-partial').length === 3, { message: 'the control' });
    await waitCaughtUp(admin, control);
    // A sweep of the disabled trigger would find nothing either: it is not due for one.
    expect(deliveredTo(topic, 'recorder')).toEqual(['before']);
    const described = await admin.describeTrigger(name);
    expect(described.state).toBe('Disabled');
    expect(described.partitions.map((p) => p.lag)).toEqual([2]);

    await admin.updateTrigger(name, { enabled: true });
    await until(() => deliveredTo(topic, 'recorder').length === 3, { message: 'delivery after enable' });
    await waitCaughtUp(admin, name);
    expect(deliveredTo(topic, 'recorder')).toEqual(['before', 'while-1', 'while-2']);
  });

  it('stops a delivery in progress when the trigger is disabled', async () => {
    const topic = uniqueTopic('life-busy');
    const { name, control } = await withControl(topic);
    await produce(tributary, topic, [{ value: 'sleep:1500' }]);
    // The slow invocation is in flight when the trigger is disabled, and more records arrive.
    await until(() => deliveredTo(topic, 'recorder').length === 1, { message: 'the slow invocation' });
    await admin.updateTrigger(name, { enabled: false });
    await produce(tributary, topic, [{ value: 'while-1' }]);
    await until(() => deliveredTo(topic, 'recorder-partial').includes('while-1'), { message: 'the control' });
    await waitCaughtUp(admin, control);
    await until(async () => !(await admin.describeTrigger(name)).partitions[0]!.inFlight, {
      message: 'the disabled trigger idle',
    });
    expect(deliveredTo(topic, 'recorder')).toEqual(['sleep:1500']);
    // The slow batch itself was finished and committed.
    const group = await admin.describeGroup(`trigger-${name}`);
    expect(group.partitions.map((p) => p.committedOffset)).toEqual([1]);
  });

  it('invokes nothing once deleted, and keeps the group and its offsets', async () => {
    const topic = uniqueTopic('life-del');
    const { name, control } = await withControl(topic, 2);
    await produce(tributary, topic, [
      { value: 'a', partition: 0 },
      { value: 'b', partition: 1 },
      { value: 'c', partition: 1 },
    ]);
    await until(() => deliveredTo(topic, 'recorder').length === 3, { message: 'the first deliveries' });
    await waitCaughtUp(admin, name);

    await admin.deleteTrigger(name);
    await expect(admin.describeTrigger(name)).rejects.toMatchObject({ code: 'TRIGGER_NOT_FOUND' });
    await produce(tributary, topic, [
      { value: 'd', partition: 0 },
      { value: 'e', partition: 1 },
    ]);
    await until(() => deliveredTo(topic, 'recorder-partial').length === 5, { message: 'the control' });
    await waitCaughtUp(admin, control);
    expect([...deliveredTo(topic, 'recorder')].sort()).toEqual(['a', 'b', 'c']);
    expect(recordedRecords(topic)).toHaveLength(8);
    const group = await admin.describeGroup(`trigger-${name}`);
    expect(group.partitions.map((p) => p.committedOffset)).toEqual([1, 2]);
  });
});
