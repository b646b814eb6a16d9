/**
 * What the trigger integration tests share: producing, reading a destination topic back, waiting
 * for a trigger to catch up, the probe fixture's invocation spans, and dispatchers of a test's own
 * over a fresh table set (which neither the stack's dispatcher nor any other test watches).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { LambdaClient } from '@aws-sdk/client-lambda';
import { type LocalDispatcher, startLocalDispatcher } from '../../local/dispatcher.ts';
import type { Admin, Tributary, TributaryOptions } from '../../sdk/src/index.ts';
import type { KafkaEventRecord } from '../../sdk/src/lambda/index.ts';
import type { DispatcherOptions } from '../../sdk/src/triggers/dispatcher.ts';
import { recordedInvocations } from './recorded.ts';
import { testStackConfig } from './stack.ts';
import { until } from './wait.ts';

/** One message to produce. */
export interface TestMessage {
  readonly value: string | Uint8Array;
  readonly key?: string;
  readonly partition?: number;
  readonly timestamp?: number;
}

/** Produces `messages` to `topic` and waits until they are appended. */
export async function produce(
  tributary: Tributary,
  topic: string,
  messages: readonly TestMessage[],
): Promise<void> {
  const producer = tributary.producer({ lingerMs: 5 });
  try {
    await producer.send({
      topic,
      messages: messages.map((m) => ({
        value: typeof m.value === 'string' ? Buffer.from(m.value) : m.value,
        ...(m.key === undefined ? {} : { key: m.key }),
        ...(m.partition === undefined ? {} : { partition: m.partition }),
        ...(m.timestamp === undefined ? {} : { timestamp: m.timestamp }),
      })),
    });
  } finally {
    await producer.close();
  }
}

/** A record of a destination topic: its key as text and its value parsed as JSON. */
export interface DeadLetter {
  readonly key: string | null;
  readonly partition: number;
  readonly value: Record<string, unknown>;
}

/** Reads `topic` from the start until at least `count` records came, and returns them all. */
export async function readDeadLetters(
  tributary: Tributary,
  topic: string,
  count: number,
  timeoutMs = 30_000,
): Promise<DeadLetter[]> {
  const { partitions } = await tributary.admin().describeTopic(topic);
  const consumer = tributary.consumer();
  const letters: DeadLetter[] = [];
  try {
    await consumer.assign(partitions.map((p) => ({ topic, partition: p.partition, offset: 'earliest' })));
    await until(
      async () => {
        for (const batch of await consumer.poll()) {
          for (const m of batch.messages) {
            letters.push({
              key: m.key === null ? null : Buffer.from(m.key).toString('utf8'),
              partition: batch.partition,
              value: JSON.parse(Buffer.from(m.value as Uint8Array).toString('utf8')) as Record<
                string,
                unknown
              >,
            });
          }
        }
        return letters.length >= count;
      },
      { timeoutMs, message: `${count} record(s) in ${topic}` },
    );
  } finally {
    await consumer.close();
  }
  return letters;
}

/** How many records `topic` holds (its partitions' high watermarks added up). */
export async function topicSize(admin: Admin, topic: string): Promise<number> {
  const { partitions } = await admin.describeTopic(topic);
  return partitions.reduce((n, p) => n + p.highWatermark - p.logStartOffset, 0);
}

/** The original record a topic dead letter carries (its one-record `payload` event). */
export function deadLetterRecord(letter: DeadLetter): KafkaEventRecord {
  const payload = letter.value.payload as { records: Record<string, KafkaEventRecord[]> };
  const [record] = Object.values(payload.records).flat();
  if (!record) throw new Error(`A dead letter without a record: ${JSON.stringify(letter.value)}`);
  return record;
}

/** Waits until every partition of the trigger has lag 0, none is held by a dispatcher and none is due. */
export async function waitCaughtUp(admin: Admin, trigger: string, timeoutMs = 30_000): Promise<void> {
  let last: unknown;
  await until(
    async () => {
      const described = await admin.describeTrigger(trigger);
      last = described.partitions;
      return described.partitions.every((p) => p.lag === 0 && !p.inFlight && p.dueAt === undefined);
    },
    { timeoutMs, message: `trigger ${trigger} caught up and idle` },
  ).catch((error: unknown) => {
    throw new Error(`${String(error)}; its partitions: ${JSON.stringify(last)}`);
  });
}

/** One invocation of the probe fixture, with when it started and (once it answered) ended. */
export interface InvocationSpan {
  readonly requestId: string;
  readonly startedAt: number;
  readonly endedAt: number | undefined;
  readonly records: readonly KafkaEventRecord[];
}

/** The probe's invocations for `topic`, in start order. */
export function invocationSpans(topic: string): InvocationSpan[] {
  const endsPath = join(testStackConfig().recordDir, `${topic}.ends.jsonl`);
  const ends = new Map<string, number>();
  if (existsSync(endsPath)) {
    // Only complete lines: the probe may be appending one while it is read.
    for (const line of readFileSync(endsPath, 'utf8').split('\n').slice(0, -1)) {
      if (line === '') continue;
      const end = JSON.parse(line) as { requestId: string; endedAt: number };
      ends.set(end.requestId, end.endedAt);
    }
  }
  return recordedInvocations(topic)
    .map((i) => ({
      requestId: i.requestId,
      startedAt: (i as unknown as { startedAt: number }).startedAt,
      endedAt: ends.get(i.requestId),
      records: Object.values(i.event.records).flat(),
    }))
    .sort((a, b) => a.startedAt - b.startedAt);
}

/** Connection options for a table set of its own on the test stack. */
export function connectionFor(
  tablePrefix: string,
  overrides: Partial<TributaryOptions> = {},
): TributaryOptions & { readonly endpoint: string; readonly region: string } {
  const { endpoint, region, bucket } = testStackConfig();
  return {
    endpoint,
    region,
    tablePrefix,
    bucket,
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    retry: { deadlineMs: 15_000 },
    ...overrides,
  };
}

/** Options of {@link startTestDispatcher}. */
export interface TestDispatcherOptions {
  readonly lambdaClient?: LambdaClient;
  readonly leaseMs?: number;
  readonly sweepIntervalMs?: number;
  readonly workerRunMs?: number;
  readonly onMetrics?: DispatcherOptions['onMetrics'];
}

/** A local dispatcher of the test's own over the table set `tablePrefix`. */
export function startTestDispatcher(
  tablePrefix: string,
  options: TestDispatcherOptions = {},
): Promise<LocalDispatcher> {
  return startLocalDispatcher({
    connection: connectionFor(
      tablePrefix,
      options.lambdaClient === undefined ? {} : { lambdaClient: options.lambdaClient },
    ),
    sweepIntervalMs: options.sweepIntervalMs ?? 250,
    ...(options.leaseMs === undefined ? {} : { leaseMs: options.leaseMs }),
    ...(options.workerRunMs === undefined ? {} : { workerRunMs: options.workerRunMs }),
    ...(options.onMetrics === undefined ? {} : { onMetrics: options.onMetrics }),
  });
}
