/**
 * Triggers end to end on the local stack: DynamoDB Local's real stream wakes the dispatcher, which
 * invokes the fixture function through the local Lambda Invoke API with the Kafka ESM event.
 */
import { afterAll, describe, expect, it } from 'vitest';
import type { Tributary } from '../../../sdk/src/index.ts';
import { recordedInvocations, recordedRecords, valueText } from '../../helpers/recorded.ts';
import { testClient, uniqueTopic } from '../../helpers/tributary.ts';
import { until } from '../../helpers/wait.ts';

const tributary: Tributary = testClient();
afterAll(() => tributary.close());
const admin = tributary.admin();

async function produce(
  topic: string,
  values: readonly string[],
  partitions: number,
  timestamp?: number,
): Promise<void> {
  const producer = tributary.producer({ lingerMs: 5 });
  await Promise.all(
    values.map((value, i) =>
      producer.send({
        topic,
        messages: [{ value, partition: i % partitions, ...(timestamp === undefined ? {} : { timestamp }) }],
      }),
    ),
  );
  await producer.close();
}

/** Delivered records per partition, as offsets, in delivery order. */
function offsetsByPartition(topic: string): Map<number, number[]> {
  const out = new Map<number, number[]>();
  for (const r of recordedRecords(topic)) {
    const list = out.get(r.partition) ?? [];
    list.push(r.offset);
    out.set(r.partition, list);
  }
  return out;
}

describe('triggers', () => {
  it('deliver every record once, in offset order per partition, in batches of at most batchSize', async () => {
    const topic = uniqueTopic('trig');
    await admin.createTopic({ topic, partitions: 4 });
    await admin.createTrigger({
      name: `t-${topic}`,
      topic,
      functionName: 'recorder',
      startingPosition: 'TRIM_HORIZON',
      batchSize: 50,
      maximumBatchingWindowInSeconds: 0,
    });
    const values = Array.from({ length: 2_000 }, (_, i) => `v${i}`);
    await produce(topic, values, 4);
    await until(() => recordedRecords(topic).length >= values.length, {
      timeoutMs: 60_000,
      message: 'every record delivered',
    });
    const byPartition = offsetsByPartition(topic);
    for (let p = 0; p < 4; p++) {
      expect(byPartition.get(p)).toEqual(Array.from({ length: 500 }, (_, i) => i));
    }
    expect(new Set(recordedRecords(topic).map(valueText))).toEqual(new Set(values));
    for (const invocation of recordedInvocations(topic)) {
      const records = Object.values(invocation.event.records).flat();
      expect(records.length).toBeLessThanOrEqual(50);
      expect(invocation.event.eventSource).toBe('SelfManagedKafka');
      expect(Object.keys(invocation.event.records).every((k) => k.startsWith(`${topic}-`))).toBe(true);
    }
    await until(
      async () => (await admin.describeTrigger(`t-${topic}`)).partitions.every((p) => p.lag === 0),
      {
        timeoutMs: 10_000,
        message: 'lag 0',
      },
    );
    const group = await admin.describeGroup(`trigger-t-${topic}`);
    expect(group.partitions.map((p) => p.committedOffset)).toEqual([500, 500, 500, 500]);
  });

  it('start LATEST after the records already there, and AT_TIMESTAMP at the first record at or after it', async () => {
    const topic = uniqueTopic('trig');
    await admin.createTopic({ topic, partitions: 1 });
    await produce(topic, ['old-1', 'old-2'], 1, Date.now() - 120_000);
    const cut = Date.now() - 60_000;
    await produce(topic, ['mid-1'], 1, Date.now() - 30_000);
    await admin.createTrigger({
      name: `l-${topic}`,
      topic,
      functionName: 'recorder',
      startingPosition: 'LATEST',
    });
    await admin.createTrigger({
      name: `ts-${topic}`,
      topic,
      functionName: 'recorder-partial',
      startingPosition: 'AT_TIMESTAMP',
      startingPositionTimestamp: Math.floor(cut / 1000),
    });
    await produce(topic, ['new-1'], 1);
    await until(() => recordedInvocations(topic).some((i) => i.functionName === 'recorder'), {
      timeoutMs: 20_000,
      message: 'LATEST trigger invoked',
    });
    const latest = recordedInvocations(topic)
      .filter((i) => i.functionName === 'recorder')
      .flatMap((i) => Object.values(i.event.records).flat().map(valueText));
    expect(latest).toEqual(['new-1']);
    await until(
      () =>
        recordedInvocations(topic)
          .filter((i) => i.functionName === 'recorder-partial')
          .flatMap((i) => Object.values(i.event.records).flat()).length >= 2,
      { timeoutMs: 20_000, message: 'AT_TIMESTAMP trigger invoked' },
    );
    const fromTimestamp = recordedInvocations(topic)
      .filter((i) => i.functionName === 'recorder-partial')
      .flatMap((i) => Object.values(i.event.records).flat().map(valueText));
    expect(fromTimestamp).toEqual(['mid-1', 'new-1']);
  });
});

describe('trigger failures', () => {
  it('sends exactly the poison record to the destination after its retries, with bisect, and delivers every other', async () => {
    const topic = uniqueTopic('trig');
    const dlt = uniqueTopic('dlt');
    await admin.createTopic({ topic, partitions: 2 });
    await admin.createTopic({ topic: dlt, partitions: 1 });
    const name = `p-${topic}`;
    await admin.createTrigger({
      name,
      topic,
      functionName: 'recorder',
      startingPosition: 'TRIM_HORIZON',
      batchSize: 20,
      maximumBatchingWindowInSeconds: 0,
      maximumRetryAttempts: 2,
      bisectBatchOnFunctionError: true,
      destinationConfig: { onFailure: { destination: `kafka://${dlt}` } },
    });
    const values = Array.from({ length: 60 }, (_, i) => (i === 33 ? 'poison-33' : `ok-${i}`));
    const producer = tributary.producer({ lingerMs: 20 });
    await producer.send({
      topic,
      messages: values.map((value, i) => ({ key: `k${i}`, value, partition: i % 2 })),
    });
    await producer.close();
    const consumer = tributary.consumer();
    await consumer.assign([{ topic: dlt, partition: 0, offset: 'earliest' }]);
    const deadLetters: { key: string | null; value: Record<string, unknown> }[] = [];
    await until(
      async () => {
        for (const batch of await consumer.poll()) {
          for (const m of batch.messages) {
            deadLetters.push({
              key: m.key === null ? null : Buffer.from(m.key).toString('utf8'),
              value: JSON.parse(Buffer.from(m.value as Uint8Array).toString('utf8')),
            });
          }
        }
        return deadLetters.length > 0;
      },
      { timeoutMs: 60_000, message: 'a dead letter' },
    );
    await until(async () => (await admin.describeTrigger(name)).partitions.every((p) => p.lag === 0), {
      timeoutMs: 30_000,
      message: 'the trigger caught up',
    });
    await consumer.close();
    expect(deadLetters).toHaveLength(1);
    const [letter] = deadLetters;
    expect(letter!.key).toBe('k33');
    const context = letter!.value.requestContext as Record<string, unknown>;
    expect(context.condition).toBe('RetryAttemptsExhausted');
    expect(context.approximateInvokeCount).toBeGreaterThanOrEqual(3);
    const info = (letter!.value.KafkaBatchInfo as { recordInfo: { offset: string } }).recordInfo;
    expect(info.offset).toBe('16');
    const payload = letter!.value.payload as { records: Record<string, { value: string }[]> };
    expect(Buffer.from(payload.records[`${topic}-1`]![0]!.value, 'base64').toString('utf8')).toBe(
      'poison-33',
    );
    // Every other record reached the function successfully at least once.
    const delivered = new Set(recordedRecords(topic).map(valueText));
    for (const value of values) expect(delivered.has(value), value).toBe(true);
  });
});
