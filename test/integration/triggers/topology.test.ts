/**
 * Triggers over a topic whose storage and shape change, on the local stack's dispatcher: records
 * the archiver moved to S3 are delivered from there transparently; partitions added after the
 * trigger are delivered from their start (even for a LATEST trigger: all their records are newer
 * than it); a deleted topic stops the trigger's invocations — a batch it was retrying included —
 * while `describeTrigger` still answers, and a topic created again under the name is delivered
 * from its own start.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { LeaseStore } from '../../../sdk/src/groups/lease-store.ts';
import type { Tributary } from '../../../sdk/src/index.ts';
import { recordedRecords, valueText } from '../../helpers/recorded.ts';
import { testClient, testContext, uniqueTopic } from '../../helpers/tributary.ts';
import { produce, waitCaughtUp } from '../../helpers/triggers.ts';
import { until } from '../../helpers/wait.ts';

const tributary: Tributary = testClient();
const context = testContext();
afterAll(() => {
  tributary.close();
  context.ddb.destroy();
  context.s3.destroy();
});
const admin = tributary.admin();

describe.concurrent('triggers and the topic underneath', () => {
  it('deliver records archived to S3 from a TRIM_HORIZON trigger, in order', async () => {
    const topic = uniqueTopic('topo-arch');
    await admin.createTopic({ topic, configs: { 'segment.bytes': 4096, 'local.retention.ms': 0 } });
    const values = Array.from({ length: 200 }, (_, i) => `value-${i}-${'x'.repeat(150)}`);
    for (let i = 0; i < values.length; i += 5) {
      await produce(
        tributary,
        topic,
        values.slice(i, i + 5).map((value) => ({ value, timestamp: Date.now() - 60_000 })),
      );
    }
    const report = await tributary.archiver().run({ topics: [topic] });
    expect(report.segmentsArchived).toBeGreaterThan(0);
    const archivedUpTo = report.partitions[0]!.localLogStartOffset;
    expect(archivedUpTo).toBeGreaterThan(100);

    const name = `t-${topic}`;
    await admin.createTrigger({
      name,
      topic,
      functionName: 'recorder',
      startingPosition: 'TRIM_HORIZON',
      batchSize: 50,
      maximumBatchingWindowInSeconds: 0,
    });
    await until(() => recordedRecords(topic).length >= 200, { timeoutMs: 30_000, message: 'every record' });
    await waitCaughtUp(admin, name);
    expect(recordedRecords(topic).map((r) => r.offset)).toEqual(values.map((_, i) => i));
    expect(recordedRecords(topic).map(valueText)).toEqual(values);
    const group = await admin.describeGroup(`trigger-${name}`);
    expect(group.partitions.map((p) => p.committedOffset)).toEqual([200]);
  });

  it('deliver partitions added after the trigger from their start', async () => {
    const topic = uniqueTopic('topo-grow');
    await admin.createTopic({ topic, partitions: 1 });
    await produce(tributary, topic, [{ value: 'before-trigger' }]);
    const name = `t-${topic}`;
    await admin.createTrigger({
      name,
      topic,
      functionName: 'recorder',
      startingPosition: 'LATEST',
      maximumBatchingWindowInSeconds: 0,
    });
    await admin.createPartitions(topic, 3);
    const fresh = testClient();
    await produce(fresh, topic, [
      { value: 'p0-new', partition: 0 },
      { value: 'p1-a', partition: 1 },
      { value: 'p1-b', partition: 1 },
      { value: 'p2-a', partition: 2 },
    ]);
    fresh.close();
    await until(() => recordedRecords(topic).length >= 4, { timeoutMs: 30_000, message: 'every record' });
    await waitCaughtUp(admin, name);
    const delivered = recordedRecords(topic).map((r) => `${r.partition}@${r.offset}=${valueText(r)}`);
    expect([...delivered].sort()).toEqual(['0@1=p0-new', '1@0=p1-a', '1@1=p1-b', '2@0=p2-a']);
    const group = await admin.describeGroup(`trigger-${name}`);
    expect(group.partitions.map((p) => p.committedOffset)).toEqual([2, 2, 1]);
  });

  it('stop invoking when the topic is deleted, and still describe the trigger', async () => {
    const topic = uniqueTopic('topo-del');
    await admin.createTopic({ topic, partitions: 1 });
    const name = `t-${topic}`;
    // Retried forever (the ESM's default): the poison record keeps its partition busy.
    await admin.createTrigger({
      name,
      topic,
      functionName: 'recorder',
      startingPosition: 'TRIM_HORIZON',
      maximumBatchingWindowInSeconds: 0,
    });
    await produce(tributary, topic, [{ value: 'poison-old' }]);
    const poisoned = () => recordedRecords(topic).filter((r) => valueText(r) === 'poison-old').length;
    await until(() => poisoned() >= 2, { message: 'the poison record retried' });

    await admin.deleteTopic(topic);
    const described = await admin.describeTrigger(name);
    expect(described.state).toBe('Enabled');
    expect(described.topic).toBe(topic);
    expect(described.partitions).toEqual([]);
    expect(described.lastError?.code).toBe('FunctionError');
    // The worker retrying the poison record lets go of its partition.
    const leases = new LeaseStore(context, `trigger-${name}`);
    await until(
      async () => {
        const states = await leases.dispatchStates(topic);
        return states.length === 1 && states.every((s) => s.heldUntil === undefined);
      },
      { timeoutMs: 20_000, message: 'the partition released' },
    );
    const invokedBeforeDeletion = poisoned();

    // A topic created again under the name is another topic: its records come from its start,
    // and the old poison record is never invoked again.
    await admin.createTopic({ topic, partitions: 1 });
    // (A client of its own: this one's metadata still names the deleted incarnation.)
    const fresh = testClient();
    await produce(fresh, topic, [{ value: 'reborn' }]);
    fresh.close();
    await until(() => recordedRecords(topic).some((r) => valueText(r) === 'reborn'), {
      timeoutMs: 20_000,
      message: 'the new topic delivered',
    });
    await waitCaughtUp(admin, name);
    expect(poisoned()).toBe(invokedBeforeDeletion);
    expect(recordedRecords(topic).find((r) => valueText(r) === 'reborn')?.offset).toBe(0);
  });
});
