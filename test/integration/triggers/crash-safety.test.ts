/**
 * Crash safety of the trigger dispatcher, with dispatchers the tests start themselves over fresh
 * table sets (no other dispatcher watches them), invoking the `probe` fixture, which records when
 * each invocation started and ended:
 * - a dispatcher process killed (SIGKILL) while a batch is in flight: another dispatcher resumes
 *   from the committed offset once the lease has expired — the in-flight batch may come twice, a
 *   record is never skipped, and the new dispatcher never invokes while the dead one's invocation
 *   still runs;
 * - two dispatchers racing for one partition: never two invocations of it at once;
 * - a dispatcher stalled after its invocation loses its lease to another: its commit is fenced
 *   (`LeaseLostError`, the run ends `lost`) and the other redelivers the batch;
 * - a worker run that ends while records keep coming hands its partition on at once.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, describe, expect, it } from 'vitest';
import type { LocalDispatcher } from '../../../local/dispatcher.ts';
import type { Tributary } from '../../../sdk/src/index.ts';
import { DirectTransport, Dispatcher, rawSerializer } from '../../../sdk/src/internal.ts';
import type { WorkerResult } from '../../../sdk/src/triggers/partition-worker.ts';
import { injectFaults } from '../../helpers/faults.ts';
import { freshTablePrefix, testStackConfig } from '../../helpers/stack.ts';
import { testClient, testDynamoDB, uniqueTopic } from '../../helpers/tributary.ts';
import {
  connectionFor,
  type InvocationSpan,
  invocationSpans,
  produce,
  startTestDispatcher,
  waitCaughtUp,
} from '../../helpers/triggers.ts';
import { until } from '../../helpers/wait.ts';

const DISPATCHER_PROCESS = fileURLToPath(new URL('../../fixtures/dispatcher-process.ts', import.meta.url));

const cleanup: (() => Promise<void> | void)[] = [];
afterAll(async () => {
  for (const step of cleanup.reverse()) await step();
});

/** A client over a fresh table set, with a topic of one partition and a `probe` trigger on it. */
async function freshTrigger(
  label: string,
  settings: { batchSize?: number } = {},
): Promise<{ tablePrefix: string; tributary: Tributary; topic: string; name: string }> {
  const tablePrefix = await freshTablePrefix(label);
  const tributary = testClient({ tablePrefix });
  cleanup.push(() => tributary.close());
  const topic = uniqueTopic(label);
  await tributary.admin().createTopic({ topic, partitions: 1 });
  const name = `t-${topic}`;
  await tributary.admin().createTrigger({
    name,
    topic,
    functionName: 'probe',
    startingPosition: 'TRIM_HORIZON',
    maximumBatchingWindowInSeconds: 0,
    ...settings,
  });
  return { tablePrefix, tributary, topic, name };
}

/** Fails when two invocations overlap in time (a span still running counts as running on). */
function expectOneAtATime(spans: readonly InvocationSpan[]): void {
  for (let i = 1; i < spans.length; i++) {
    const before = spans[i - 1]!;
    expect(before.endedAt, `invocation ${before.requestId} ended`).toBeDefined();
    expect(
      spans[i]!.startedAt,
      `invocation ${i} starts after invocation ${i - 1} ended`,
    ).toBeGreaterThanOrEqual(before.endedAt!);
  }
}

/** Every offset below `count` was delivered, the first deliveries in offset order. */
function expectNoGap(spans: readonly InvocationSpan[], count: number): void {
  const firsts: number[] = [];
  for (const span of spans)
    for (const r of span.records) if (!firsts.includes(r.offset)) firsts.push(r.offset);
  expect(firsts).toEqual(Array.from({ length: count }, (_, i) => i));
}

function startDispatcherProcess(tablePrefix: string, leaseMs: number): Promise<ChildProcess> {
  const { endpoint, region, bucket } = testStackConfig();
  const child = spawn(
    process.execPath,
    [
      '--disable-warning=ExperimentalWarning',
      DISPATCHER_PROCESS,
      JSON.stringify({ endpoint, region, tablePrefix, bucket, leaseMs }),
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  cleanup.push(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  let stderr = '';
  child.stderr!.on('data', (d) => {
    stderr += d;
  });
  return new Promise((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => {
      if (d.toString().includes('ready')) resolve(child);
    });
    child.on('exit', (code) => reject(new Error(`The dispatcher process exited (${code}): ${stderr}`)));
  });
}

describe.concurrent('trigger crash safety', () => {
  it('resumes from the committed offset after a dispatcher is killed mid-invocation, skipping nothing', async () => {
    const { tablePrefix, tributary, topic, name } = await freshTrigger('crash-kill', { batchSize: 2 });
    const child = await startDispatcherProcess(tablePrefix, 1_000);
    await produce(tributary, topic, [{ value: 'ok-0' }, { value: 'ok-1' }]);
    await until(() => invocationSpans(topic).some((s) => s.endedAt !== undefined), {
      message: 'the first batch',
    });
    await waitCaughtUp(tributary.admin(), name);
    await produce(tributary, topic, [{ value: 'sleep:1500' }, { value: 'ok-3' }]);
    await until(() => invocationSpans(topic).some((s) => s.records.some((r) => r.offset === 2)), {
      message: 'the slow batch in flight',
    });
    child.kill('SIGKILL');
    await new Promise((resolve) => child.once('exit', resolve));
    // Records keep coming while no dispatcher runs.
    await produce(tributary, topic, [{ value: 'ok-4' }, { value: 'ok-5' }, { value: 'ok-6' }]);

    const next: LocalDispatcher = await startTestDispatcher(tablePrefix, { leaseMs: 1_000 });
    cleanup.push(() => next.stop());
    await until(() => invocationSpans(topic).some((s) => s.records.some((r) => r.offset === 6)), {
      timeoutMs: 45_000,
      message: 'delivery resumed by the second dispatcher',
    });
    await waitCaughtUp(tributary.admin(), name);

    const spans = invocationSpans(topic);
    expectNoGap(spans, 7);
    expectOneAtATime(spans);
    // The killed dispatcher never committed its batch: the second one delivered it again.
    const slow = spans.filter((s) => s.records.some((r) => r.offset === 2));
    expect(slow.length).toBe(2);
    expect(slow.map((s) => s.records.map((r) => r.offset))).toEqual([
      [2, 3],
      [2, 3],
    ]);
    const group = await tributary.admin().describeGroup(`trigger-${name}`);
    expect(group.partitions.map((p) => p.committedOffset)).toEqual([7]);
  });

  it('never has two invocations of one partition in flight with two dispatchers racing for it', async () => {
    const { tablePrefix, tributary, topic, name } = await freshTrigger('crash-race', { batchSize: 1 });
    const dispatchers = await Promise.all([
      startTestDispatcher(tablePrefix, { leaseMs: 1_000, sweepIntervalMs: 100 }),
      startTestDispatcher(tablePrefix, { leaseMs: 1_000, sweepIntervalMs: 100 }),
    ]);
    cleanup.push(() => Promise.all(dispatchers.map((d) => d.stop())).then(() => undefined));
    const count = 8;
    for (let i = 0; i < count; i++) await produce(tributary, topic, [{ value: `sleep:${100 + 20 * i}` }]);
    await until(() => invocationSpans(topic).some((s) => s.records.some((r) => r.offset === count - 1)), {
      timeoutMs: 30_000,
      message: 'every record delivered',
    });
    await waitCaughtUp(tributary.admin(), name);
    const spans = invocationSpans(topic);
    expectNoGap(spans, count);
    expectOneAtATime(spans);
    const group = await tributary.admin().describeGroup(`trigger-${name}`);
    expect(group.partitions.map((p) => p.committedOffset)).toEqual([count]);
  });

  it('fences the commit of a dispatcher whose lease was taken while it stalled', async () => {
    const { tablePrefix, tributary, topic, name } = await freshTrigger('crash-fence');
    await produce(tributary, topic, [{ value: 'sleep:300' }, { value: 'ok-1' }]);

    // Dispatcher A: the SDK's Dispatcher, run by hand, whose lease renewals and commits stall
    // (once its invocation started) until the test lets them through.
    const ddb = testDynamoDB();
    cleanup.push(() => ddb.destroy());
    let armed = false;
    let letThrough: () => void = () => undefined;
    const stalled = new Promise<void>((resolve) => {
      letThrough = resolve;
    });
    const held = injectFaults(ddb, ({ command, input }) => {
      const update = String(input.UpdateExpression ?? '');
      const renewOrCommit = update === 'SET #lu = :until' || update.startsWith('SET #co = :co');
      return armed && command === 'UpdateItemCommand' && renewOrCommit
        ? { before: () => stalled }
        : undefined;
    });
    const transport = new DirectTransport(connectionFor(tablePrefix, { dynamoDBClient: ddb }));
    const producer = transport.producer({ serializer: rawSerializer, lingerMs: 0 });
    const sqs = new SQSClient({ region: testStackConfig().region });
    cleanup.push(async () => {
      await producer.close();
      sqs.destroy();
      transport.close();
    });
    const dispatcherA = new Dispatcher({
      ctx: transport.ctx,
      topics: transport.topics,
      triggers: transport.triggers(),
      lambda: transport.lambda,
      sqs: () => sqs,
      region: testStackConfig().region,
      bootstrapServers: 'tributary.local:9092',
      appendToTopic: async (t, messages) => {
        await producer.send({ topic: t, messages: messages.map((m) => ({ key: m.key, value: m.value })) });
      },
      // Jobs A would start elsewhere are B's business here.
      startWorker: async () => undefined,
      leaseMs: 1_000,
    });
    const runA: Promise<WorkerResult> = dispatcherA.work(
      { trigger: name, partition: 0 },
      Date.now() + 60_000,
    );
    await until(() => invocationSpans(topic).length === 1, { message: "A's invocation" });
    armed = true;

    // Dispatcher B takes the partition over once A's lease (covering its invocation) expired.
    const dispatcherB = await startTestDispatcher(tablePrefix, { leaseMs: 1_000, sweepIntervalMs: 100 });
    cleanup.push(() => dispatcherB.stop());
    await until(
      async () => {
        const group = await tributary.admin().describeGroup(`trigger-${name}`);
        return group.partitions[0]?.committedOffset === 2;
      },
      { timeoutMs: 45_000, message: 'B delivered and committed' },
    );
    letThrough();
    const resultA = await runA;
    expect(resultA.status).toBe('lost');
    expect(held.counts.delay).toBeGreaterThan(0);
    await waitCaughtUp(tributary.admin(), name);

    const spans = invocationSpans(topic);
    expectOneAtATime(spans);
    // A's batch was not committed by A: B delivered it again.
    expect(spans.map((s) => s.records.map((r) => r.offset))).toEqual([
      [0, 1],
      [0, 1],
    ]);
    const group = await tributary.admin().describeGroup(`trigger-${name}`);
    expect(group.partitions.map((p) => p.committedOffset)).toEqual([2]);
  });

  it('hands a partition on when a worker run ends while records keep coming', async () => {
    const { tablePrefix, tributary, topic, name } = await freshTrigger('crash-handon', { batchSize: 1 });
    // Runs of 9 s start invocations for 2 s only (the probe's 2 s timeout and 5 s to hand on
    // are kept free); the 30 s lease would hold up a partition whose hand-on did not happen.
    const dispatcher = await startTestDispatcher(tablePrefix, { workerRunMs: 9_000, leaseMs: 30_000 });
    cleanup.push(() => dispatcher.stop());
    const count = 25;
    for (let i = 0; i < count; i++)
      await produce(tributary, topic, [{ value: `sleep:${60 + (i % 3) * 20}` }]);
    await until(() => invocationSpans(topic).some((s) => s.records.some((r) => r.offset === count - 1)), {
      timeoutMs: 25_000,
      message: 'every record delivered across worker runs',
    });
    await waitCaughtUp(tributary.admin(), name);
    const spans = invocationSpans(topic);
    expectNoGap(spans, count);
    expectOneAtATime(spans);
  });
});
