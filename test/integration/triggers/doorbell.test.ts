/**
 * The doorbell alone: a dispatcher of the test's own over fresh tables, whose sweep never runs,
 * delivers what is produced through DynamoDB Local's real stream of the log table only — from a
 * stream whose shard was still empty when the dispatcher started (DynamoDB Local answers every
 * iterator taken then with TrimmedDataAccessException once records land), and again for records
 * produced after the trigger went idle.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { LocalDispatcher } from '../../../local/dispatcher.ts';
import type { Tributary } from '../../../sdk/src/index.ts';
import { recordedRecords, valueText } from '../../helpers/recorded.ts';
import { freshTablePrefix } from '../../helpers/stack.ts';
import { testClient, uniqueTopic } from '../../helpers/tributary.ts';
import { produce, startTestDispatcher, waitCaughtUp } from '../../helpers/triggers.ts';
import { until } from '../../helpers/wait.ts';

let tablePrefix: string;
let tributary: Tributary;
let dispatcher: LocalDispatcher | undefined;

beforeAll(async () => {
  tablePrefix = await freshTablePrefix('doorbell');
  tributary = testClient({ tablePrefix });
});
afterAll(async () => {
  await dispatcher?.stop();
  tributary?.close();
});

it('delivers every record through the stream, with no sweep', async () => {
  const admin = tributary.admin();
  const topic = uniqueTopic('doorbell');
  await admin.createTopic({ topic, partitions: 2 });
  const name = `t-${topic}`;
  await admin.createTrigger({
    name,
    topic,
    functionName: 'recorder',
    startingPosition: 'TRIM_HORIZON',
    maximumBatchingWindowInSeconds: 0,
  });
  // The log table has no record yet, and the sweep's first run is ten minutes away.
  dispatcher = await startTestDispatcher(tablePrefix, { sweepIntervalMs: 600_000 });

  await produce(tributary, topic, [
    { value: 'first-0', partition: 0 },
    { value: 'first-1', partition: 1 },
  ]);
  await until(() => recordedRecords(topic).length === 2, { message: 'the first doorbell' });
  await waitCaughtUp(admin, name);
  for (const round of [1, 2, 3]) {
    await produce(tributary, topic, [{ value: `again-${round}`, partition: round % 2 }]);
    await until(() => recordedRecords(topic).some((r) => valueText(r) === `again-${round}`), {
      message: `doorbell ${round} after the trigger went idle`,
    });
    await waitCaughtUp(admin, name);
  }
  expect([...recordedRecords(topic).map(valueText)].sort()).toEqual([
    'again-1',
    'again-2',
    'again-3',
    'first-0',
    'first-1',
  ]);
});
