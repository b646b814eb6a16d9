/**
 * Event filtering end to end (reference §5) with a dispatcher of the test's own over fresh tables,
 * so its metrics are observable: EventBridge patterns on JSON values and on plain-string values;
 * records no filter matches are never invoked, but committed (lag 0) — at once when a whole read
 * is filtered out — and counted in `FilteredOutEventCount`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalDispatcher } from '../../../local/dispatcher.ts';
import type { Tributary } from '../../../sdk/src/index.ts';
import type { WorkerMetrics } from '../../../sdk/src/triggers/partition-worker.ts';
import { recordedRecords, valueText } from '../../helpers/recorded.ts';
import { freshTablePrefix } from '../../helpers/stack.ts';
import { testClient, uniqueTopic } from '../../helpers/tributary.ts';
import { produce, startTestDispatcher, waitCaughtUp } from '../../helpers/triggers.ts';
import { until } from '../../helpers/wait.ts';

let tributary: Tributary;
let dispatcher: LocalDispatcher;
/** Counters per trigger, summed over its worker runs. */
const metrics = new Map<string, WorkerMetrics>();

beforeAll(async () => {
  const tablePrefix = await freshTablePrefix('filters');
  tributary = testClient({ tablePrefix });
  dispatcher = await startTestDispatcher(tablePrefix, {
    onMetrics: (trigger, _partition, counters) => {
      const sum = metrics.get(trigger.name);
      if (!sum) {
        metrics.set(trigger.name, { ...counters });
        return;
      }
      for (const key of Object.keys(counters) as (keyof WorkerMetrics)[]) sum[key] += counters[key];
    },
  });
});
afterAll(async () => {
  await dispatcher?.stop();
  tributary?.close();
});

function counted(trigger: string): WorkerMetrics | undefined {
  return metrics.get(trigger);
}

describe.concurrent('trigger filters', () => {
  it('deliver only JSON values a pattern matches, and commit the others', async () => {
    const admin = tributary.admin();
    const topic = uniqueTopic('filter-json');
    await admin.createTopic({ topic, partitions: 1 });
    const name = `t-${topic}`;
    await admin.createTrigger({
      name,
      topic,
      functionName: 'recorder',
      startingPosition: 'TRIM_HORIZON',
      maximumBatchingWindowInSeconds: 0,
      filterCriteria: {
        filters: [
          { pattern: JSON.stringify({ value: { kind: ['order'], total: [{ numeric: ['>', 100] }] } }) },
          { pattern: JSON.stringify({ value: { vip: [true] } }) },
        ],
      },
    });
    const values = [
      { kind: 'order', total: 250 },
      { kind: 'order', total: 50 },
      { kind: 'refund', total: 500 },
      { kind: 'refund', vip: true },
      'order',
      { kind: 'order', total: 101 },
    ];
    await produce(
      tributary,
      topic,
      values.map((v) => ({ value: typeof v === 'string' ? v : JSON.stringify(v) })),
    );
    await waitCaughtUp(admin, name);
    await until(() => (counted(name)?.CommittedEventCount ?? 0) >= 6, { message: 'metrics of the runs' });

    const delivered = recordedRecords(topic).map((r) => JSON.parse(valueText(r) ?? 'null') as unknown);
    expect(delivered).toEqual([values[0], values[3], values[5]]);
    expect(recordedRecords(topic).map((r) => r.offset)).toEqual([0, 3, 5]);
    const group = await admin.describeGroup(`trigger-${name}`);
    expect(group.partitions.map((p) => p.committedOffset)).toEqual([6]);
    expect(counted(name)).toMatchObject({ FilteredOutEventCount: 3, InvokedEventCount: 3 });
  });

  it('match plain-string values as a whole, and commit a read that is filtered out entirely without invoking', async () => {
    const admin = tributary.admin();
    const topic = uniqueTopic('filter-text');
    await admin.createTopic({ topic, partitions: 2 });
    const name = `t-${topic}`;
    await admin.createTrigger({
      name,
      topic,
      functionName: 'recorder',
      startingPosition: 'TRIM_HORIZON',
      maximumBatchingWindowInSeconds: 0,
      filterCriteria: { filters: [{ pattern: JSON.stringify({ value: [{ prefix: 'keep' }] }) }] },
    });
    // Partition 1 gets nothing that matches (a JSON value does not match a plain-string pattern).
    await produce(tributary, topic, [
      { value: 'keep-1', partition: 0 },
      { value: 'drop-1', partition: 0 },
      { value: 'keep-2', partition: 0 },
      { value: 'drop-2', partition: 1 },
      { value: JSON.stringify({ text: 'keep-3' }), partition: 1 },
      { value: 'dropped keep', partition: 1 },
    ]);
    await waitCaughtUp(admin, name);
    await until(() => (counted(name)?.CommittedEventCount ?? 0) >= 6, { message: 'metrics of the runs' });

    expect(recordedRecords(topic).map(valueText)).toEqual(['keep-1', 'keep-2']);
    const group = await admin.describeGroup(`trigger-${name}`);
    expect(group.partitions.map((p) => p.committedOffset)).toEqual([3, 3]);
    const described = await admin.describeTrigger(name);
    expect(described.partitions.map((p) => p.lag)).toEqual([0, 0]);
    expect(counted(name)).toMatchObject({ FilteredOutEventCount: 4, InvokedEventCount: 2 });
  });
});
