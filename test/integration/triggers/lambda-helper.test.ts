/**
 * `tributary/lambda` under a real trigger: the fixture function `lambda-helper`
 * (`test/fixtures/functions/lambda-helper.ts`, written with `kafkaHandler`) is invoked by the
 * local stack's dispatcher, and its partial batch responses (and its full-batch failures) drive
 * what the trigger redelivers, commits and dead-letters.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Tributary } from '../../../sdk/src/index.ts';
import type { KafkaBatchResponse } from '../../../sdk/src/lambda/index.ts';
import { testStackConfig } from '../../helpers/stack.ts';
import { testClient, uniqueTopic } from '../../helpers/tributary.ts';
import { until } from '../../helpers/wait.ts';

const tributary: Tributary = testClient();
afterAll(() => tributary.close());
const admin = tributary.admin();

type HelperLine =
  | { kind: 'invocation'; requestId: string; offsets: Record<string, number[]> }
  | {
      kind: 'record';
      requestId: string;
      idempotencyKey: string;
      partition: number;
      offset: number;
      key: string | null;
      value: unknown;
      headers: [string, string][];
      timestamp: number;
      date: string;
      outcome: 'ok' | 'fail';
    }
  | { kind: 'response'; requestId: string; response: KafkaBatchResponse }
  | { kind: 'error'; requestId: string; name: string };

/** What the fixture wrote for `topic`, in order. */
function helperLog(topic: string): HelperLine[] {
  const path = join(testStackConfig().recordDir, `${topic}.helper.jsonl`);
  if (!existsSync(path)) return [];
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as HelperLine);
}

function recordLines(topic: string, partition: number) {
  return helperLog(topic).filter(
    (line): line is Extract<HelperLine, { kind: 'record' }> =>
      line.kind === 'record' && line.partition === partition,
  );
}

describe('a function written with kafkaHandler', () => {
  it('has its failed records, and only those with what follows them, redelivered; a poison record dead-lettered alone', async () => {
    const topic = uniqueTopic('helper');
    const dlt = uniqueTopic('helper-dlt');
    await admin.createTopic({ topic, partitions: 2 });
    await admin.createTopic({ topic: dlt, partitions: 1 });
    const name = `h-${topic}`;
    await admin.createTrigger({
      name,
      topic,
      functionName: 'lambda-helper',
      startingPosition: 'TRIM_HORIZON',
      batchSize: 10,
      maximumBatchingWindowInSeconds: 0,
      functionResponseTypes: ['ReportBatchItemFailures'],
      maximumRetryAttempts: 1,
      bisectBatchOnFunctionError: true,
      destinationConfig: { onFailure: { destination: `kafka://${dlt}` } },
    });

    const json = (value: object) => JSON.stringify(value);
    const producer = tributary.producer({ lingerMs: 20 });
    await producer.send({
      topic,
      messages: [
        // Partition 0: offset 2 fails once, so the rest of the partition waits for its retry.
        {
          partition: 0,
          key: 'k-a0',
          value: json({ id: 'a0' }),
          headers: { origin: 'café', trace: ['t1', 't2'] },
        },
        { partition: 0, value: json({ id: 'a1' }) },
        { partition: 0, key: 'k-a2', value: json({ id: 'a2', failTimes: 1 }) },
        { partition: 0, value: json({ id: 'a3' }) },
        { partition: 0, key: 'k-a4', value: null },
        { partition: 0, value: json({ id: 'a5' }) },
        // Partition 1: offset 2 never deserializes.
        { partition: 1, value: json({ id: 'b0' }) },
        { partition: 1, value: json({ id: 'b1' }) },
        { partition: 1, key: 'k-poison', value: 'not json' },
        { partition: 1, value: json({ id: 'b3' }) },
        { partition: 1, value: json({ id: 'b4' }) },
      ],
    });
    await producer.close();

    await until(async () => (await admin.describeTrigger(name)).partitions.every((p) => p.lag === 0), {
      timeoutMs: 40_000,
      message: 'the trigger committed every record',
    });

    // Each record was handled successfully once, in offset order; the failing one after its failure.
    const p0 = recordLines(topic, 0);
    expect(p0.map((line) => `${line.offset}:${line.outcome}`)).toEqual([
      '0:ok',
      '1:ok',
      '2:fail',
      '2:ok',
      '3:ok',
      '4:ok',
      '5:ok',
    ]);
    const p1 = recordLines(topic, 1);
    expect(p1.filter((line) => line.outcome === 'ok').map((line) => line.offset)).toEqual([0, 1, 3, 4]);
    // The poison record never reached the handler: it failed to deserialize.
    expect(p1.some((line) => line.offset === 2)).toBe(false);

    // What the handler saw of the records: text keys, a tombstone, signed header bytes, timestamps.
    const [first] = p0;
    expect(first).toMatchObject({
      idempotencyKey: `${topic}-0@0`,
      key: 'k-a0',
      value: { id: 'a0' },
      headers: [
        ['origin', 'café'],
        ['trace', 't1'],
        ['trace', 't2'],
      ],
    });
    expect(new Date(first!.timestamp).toISOString()).toBe(first!.date);
    expect(p0.find((line) => line.offset === 4)).toMatchObject({ key: 'k-a4', value: null, outcome: 'ok' });

    // Every partial response named a failed record and every later record of its event's partition.
    const log = helperLog(topic);
    const invocations = new Map(
      log
        .filter((l): l is Extract<HelperLine, { kind: 'invocation' }> => l.kind === 'invocation')
        .map((l) => [l.requestId, l.offsets]),
    );
    const responses = log.filter(
      (l): l is Extract<HelperLine, { kind: 'response' }> => l.kind === 'response',
    );
    const partials = responses.filter((r) => (r.response.batchItemFailures ?? []).length > 0);
    expect(partials.length).toBeGreaterThan(0);
    for (const { requestId, response } of partials) {
      const offsets = invocations.get(requestId)!;
      const reported = new Map<string, number[]>();
      for (const { itemIdentifier } of response.batchItemFailures ?? []) {
        reported.set(itemIdentifier.partition, [
          ...(reported.get(itemIdentifier.partition) ?? []),
          itemIdentifier.offset,
        ]);
      }
      for (const [key, failed] of reported) {
        const sent = offsets[key]!;
        expect(failed).toEqual(sent.slice(sent.indexOf(failed[0]!)));
      }
    }
    // One send wrote each partition as one batch, so each was first delivered whole, and the first
    // failures were reported, not thrown: some records of each event had succeeded.
    const reportedOf = (key: string) =>
      partials
        .map((r) => (r.response.batchItemFailures ?? []).filter((f) => f.itemIdentifier.partition === key))
        .filter((failures) => failures.length > 0)
        .map((failures) => failures.map((f) => f.itemIdentifier.offset));
    expect(reportedOf(`${topic}-0`)).toEqual([[2, 3, 4, 5]]);
    expect(reportedOf(`${topic}-1`)[0]).toEqual([2, 3, 4]);
    // ...and partition 0 was delivered again from its failed record.
    const p0Invocations = [...invocations.values()].flatMap((o) => o[`${topic}-0`] ?? []);
    expect(p0Invocations).toEqual([0, 1, 2, 3, 4, 5, 2, 3, 4, 5]);
    // The poison record alone in a batch failed the whole batch: the handler threw, and bisect isolated it.
    expect(log.some((l) => l.kind === 'error' && l.name === 'FullBatchFailureError')).toBe(true);

    // Only the poison record was given up on.
    const consumer = tributary.consumer();
    await consumer.assign([{ topic: dlt, partition: 0, offset: 'earliest' }]);
    const letters: Record<string, unknown>[] = [];
    await until(
      async () => {
        for (const batch of await consumer.poll()) {
          for (const m of batch.messages)
            letters.push(JSON.parse(Buffer.from(m.value as Uint8Array).toString('utf8')));
        }
        return letters.length > 0;
      },
      { timeoutMs: 10_000, message: 'the dead letter' },
    );
    const more = await consumer.poll();
    await consumer.close();
    expect(more.flatMap((b) => b.messages)).toEqual([]);
    expect(letters).toHaveLength(1);
    const info = (letters[0]!.KafkaBatchInfo as { recordInfo: { offset: string } }).recordInfo;
    expect(info.offset).toBe('2');
    const payload = letters[0]!.payload as { records: Record<string, { value: string }[]> };
    expect(Object.keys(payload.records)).toEqual([`${topic}-1`]);
    expect(Buffer.from(payload.records[`${topic}-1`]![0]!.value, 'base64').toString('utf8')).toBe('not json');

    const group = await admin.describeGroup(`trigger-${name}`);
    expect(group.partitions.map((p) => p.committedOffset)).toEqual([6, 5]);
  });
});
