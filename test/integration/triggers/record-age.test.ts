/**
 * `maximumRecordAgeInSeconds` end to end, on the local stack's dispatcher: records older than the
 * limit when they come up for delivery are never invoked — they go to the destination as
 * `RecordAgeExceeded` (no response context: the function never saw them) and are committed past —
 * while the younger records behind them are delivered.
 */
import { afterAll, expect, it } from 'vitest';
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

it('sends records older than maximumRecordAgeInSeconds to the destination uninvoked and delivers the rest', async () => {
  const topic = uniqueTopic('age');
  const dlt = uniqueTopic('age-dlt');
  await admin.createTopic({ topic, partitions: 2 });
  await admin.createTopic({ topic: dlt, partitions: 1 });
  const name = `t-${topic}`;
  await admin.createTrigger({
    name,
    topic,
    functionName: 'recorder',
    startingPosition: 'TRIM_HORIZON',
    maximumBatchingWindowInSeconds: 0,
    maximumRecordAgeInSeconds: 60,
    destinationConfig: { onFailure: { destination: `kafka://${dlt}` } },
  });
  const old = Date.now() - 5 * 60_000;
  await produce(tributary, topic, [
    ...[0, 1, 2].map((i) => ({ value: `old-${i}`, key: `old-${i}`, partition: i % 2, timestamp: old + i })),
    ...[0, 1, 2, 3].map((i) => ({ value: `new-${i}`, partition: i % 2 })),
  ]);

  const letters = await readDeadLetters(tributary, dlt, 3);
  await waitCaughtUp(admin, name);
  expect(await topicSize(admin, dlt)).toBe(3);
  expect(letters.map((l) => valueText(deadLetterRecord(l))).sort()).toEqual(['old-0', 'old-1', 'old-2']);
  for (const letter of letters) {
    expect(letter.key).toBe(valueText(deadLetterRecord(letter)));
    const context = letter.value.requestContext as Record<string, unknown>;
    expect(context.condition).toBe('RecordAgeExceeded');
    expect(context.approximateInvokeCount).toBe(0);
    expect(letter.value.responseContext).toBeNull();
    const info = letter.value.KafkaBatchInfo as { recordInfo: { timestamp: string } };
    expect(Date.parse(info.recordInfo.timestamp)).toBeLessThan(old + 3);
  }
  const delivered = recordedRecords(topic).map(valueText);
  expect(delivered.filter((v) => v?.startsWith('old-'))).toEqual([]);
  expect([...delivered].sort()).toEqual(['new-0', 'new-1', 'new-2', 'new-3']);
  const group = await admin.describeGroup(`trigger-${name}`);
  expect(group.partitions.map((p) => p.committedOffset)).toEqual([4, 3]);
});
