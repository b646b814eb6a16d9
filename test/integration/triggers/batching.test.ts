/**
 * Batching end to end, on the local stack's dispatcher (reference §2): `batchSize` caps every
 * invocation, the batching window waits for a fuller batch, no event exceeds Lambda's 6 MB
 * invocation payload (records of ~1 MB, stored by claim check, are spread over several
 * invocations), and a single record too large for any event goes to the destination as
 * `MaximumPayloadSizeExceeded` instead of blocking its partition.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import type { Tributary } from '../../../sdk/src/index.ts';
import { INVOKE_PAYLOAD_LIMIT_BYTES } from '../../../sdk/src/triggers/esm-event.ts';
import { recordedInvocations, recordedRecords, valueText } from '../../helpers/recorded.ts';
import { testClient, uniqueTopic } from '../../helpers/tributary.ts';
import {
  deadLetterRecord,
  produce,
  readDeadLetters,
  topicSize,
  waitCaughtUp,
} from '../../helpers/triggers.ts';
import { until } from '../../helpers/wait.ts';

const tributary: Tributary = testClient();
afterAll(() => tributary.close());
const admin = tributary.admin();

/** Records per invocation of `topic`, in invocation order. */
function batchSizes(topic: string): number[] {
  return recordedInvocations(topic).map((i) => Object.values(i.event.records).flat().length);
}

describe.concurrent('trigger batching', () => {
  it('fills batches up to batchSize, then waits out the window for the rest', async () => {
    const topic = uniqueTopic('batch-size');
    await admin.createTopic({ topic, partitions: 1 });
    const name = `t-${topic}`;
    await admin.createTrigger({
      name,
      topic,
      functionName: 'recorder',
      startingPosition: 'TRIM_HORIZON',
      enabled: false,
    });
    const values = Array.from({ length: 30 }, (_, i) => `v${i}`);
    await produce(
      tributary,
      topic,
      values.map((value) => ({ value })),
    );
    // Enabled with every record already there: full batches at once, the rest after the window.
    await admin.updateTrigger(name, { enabled: true, batchSize: 7, maximumBatchingWindowInSeconds: 2 });
    await until(() => recordedRecords(topic).length >= 30, { message: 'every record delivered' });
    await waitCaughtUp(admin, name);
    expect(batchSizes(topic)).toEqual([7, 7, 7, 7, 2]);
    expect(recordedRecords(topic).map(valueText)).toEqual(values);
  });

  it('gathers the records of a batching window into one invocation', async () => {
    const topic = uniqueTopic('batch-window');
    await admin.createTopic({ topic, partitions: 1 });
    const name = `t-${topic}`;
    await admin.createTrigger({
      name,
      topic,
      functionName: 'recorder',
      startingPosition: 'TRIM_HORIZON',
      maximumBatchingWindowInSeconds: 3,
    });
    // Three separate appends, one after the other: the window opened by the first holds them all.
    for (const value of ['w1', 'w2', 'w3']) await produce(tributary, topic, [{ value }]);
    await until(() => recordedRecords(topic).length >= 3, { message: 'the window delivered' });
    await waitCaughtUp(admin, name);
    expect(batchSizes(topic)).toEqual([3]);
    expect(recordedRecords(topic).map(valueText)).toEqual(['w1', 'w2', 'w3']);
  });

  it('keeps every event under the 6 MB payload limit, spreading ~1 MB records over invocations', async () => {
    const topic = uniqueTopic('batch-bytes');
    await admin.createTopic({ topic, partitions: 1, configs: { 'max.message.bytes': 2 * 1024 * 1024 } });
    const name = `t-${topic}`;
    await admin.createTrigger({
      name,
      topic,
      functionName: 'recorder',
      startingPosition: 'TRIM_HORIZON',
      enabled: false,
    });
    const values = Array.from({ length: 10 }, () => randomBytes(1_000_000));
    await produce(
      tributary,
      topic,
      values.map((value) => ({ value })),
    );
    await admin.updateTrigger(name, { enabled: true });
    await until(() => recordedRecords(topic).length >= 10, { timeoutMs: 30_000, message: 'every record' });
    await waitCaughtUp(admin, name);

    const invocations = recordedInvocations(topic);
    for (const invocation of invocations) {
      expect(Buffer.byteLength(JSON.stringify(invocation.event))).toBeLessThanOrEqual(
        INVOKE_PAYLOAD_LIMIT_BYTES,
      );
    }
    // Four records of ~1.33 MB of base64 fit an event, five do not: the limit, not batchSize, cut them.
    expect(Math.max(...batchSizes(topic))).toBe(4);
    expect(invocations.length).toBeGreaterThanOrEqual(3);
    expect(recordedRecords(topic).map((r) => r.offset)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(
      recordedRecords(topic).map((r) => Buffer.from(r.value!, 'base64').equals(values[r.offset]!)),
    ).toEqual(values.map(() => true));
  });

  it('sends a record larger than any event to the destination as MaximumPayloadSizeExceeded and goes on', async () => {
    const topic = uniqueTopic('batch-huge');
    const dlt = uniqueTopic('batch-huge-dlt');
    const big = { 'max.message.bytes': 10 * 1024 * 1024 };
    await admin.createTopic({ topic, partitions: 1, configs: big });
    await admin.createTopic({ topic: dlt, partitions: 1, configs: big });
    const name = `t-${topic}`;
    await admin.createTrigger({
      name,
      topic,
      functionName: 'recorder',
      startingPosition: 'TRIM_HORIZON',
      maximumBatchingWindowInSeconds: 0,
      destinationConfig: { onFailure: { destination: `kafka://${dlt}` } },
    });
    // 5 MB of bytes is 6.67 MB of base64: no event can carry it.
    const huge = randomBytes(5_000_000);
    await produce(tributary, topic, [
      { value: 'small-before' },
      { value: huge, key: 'huge' },
      { value: 'small-after' },
    ]);

    const [letter] = await readDeadLetters(tributary, dlt, 1);
    await waitCaughtUp(admin, name);
    expect(await topicSize(admin, dlt)).toBe(1);
    expect(letter!.key).toBe('huge');
    const context = letter!.value.requestContext as Record<string, unknown>;
    expect(context.condition).toBe('MaximumPayloadSizeExceeded');
    expect(context.approximateInvokeCount).toBe(0);
    expect(letter!.value.responseContext).toBeNull();
    expect(Buffer.from(deadLetterRecord(letter!).value!, 'base64').equals(huge)).toBe(true);
    expect(recordedRecords(topic).map(valueText)).toEqual(['small-before', 'small-after']);
    const group = await admin.describeGroup(`trigger-${name}`);
    expect(group.partitions.map((p) => p.committedOffset)).toEqual([3]);
  });
});
