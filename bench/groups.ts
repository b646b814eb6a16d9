/**
 * Consumer group figures: how long a rebalance takes after a member crashes and after one
 * leaves gracefully (median over runs), and what an idle group costs per member per minute in
 * DynamoDB units (heartbeats and group reads, and the idle polling of its partitions).
 */
import { randomBytes } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { LocalStack } from '../local/index.ts';
import { type GroupConsumer, Tributary } from '../sdk/src/index.ts';
import { tableNames } from '../sdk/src/internal.ts';
import { meterCapacity } from './capacity-meter.ts';

const PARTITIONS = 12;
const MEMBERS = 3;
const RUNS = Number(process.env.BENCH_GROUP_RUNS ?? 5);
const FAST = { heartbeatIntervalMs: 1_000, sessionTimeoutMs: 3_000 };
const IDLE_WINDOW_MS = Number(process.env.BENCH_IDLE_MS ?? 30_000);

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

async function waitUntil(condition: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('timed out waiting for the group to settle');
    await new Promise((r) => setTimeout(r, 10));
  }
}

export async function benchGroups(stack: LocalStack): Promise<string[]> {
  const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };
  const newClient = () => {
    const ddb = new DynamoDBClient({
      endpoint: stack.endpoint,
      region: stack.region,
      credentials,
      maxAttempts: 1,
    });
    const meter = meterCapacity(ddb);
    const client = new Tributary({
      endpoint: stack.endpoint,
      region: stack.region,
      tablePrefix: stack.tablePrefix,
      dynamoDBClient: ddb,
    });
    return { client, meter };
  };
  const admin = newClient().client.admin();
  const topic = `bench-groups-${randomBytes(3).toString('hex')}`;
  await admin.createTopic({ topic, partitions: PARTITIONS });

  async function startGroup(
    group: string,
    timing: { heartbeatIntervalMs: number; sessionTimeoutMs: number },
  ) {
    const members: {
      consumer: GroupConsumer<Buffer | null>;
      meter: ReturnType<typeof meterCapacity>;
      client: Tributary;
    }[] = [];
    for (let i = 0; i < MEMBERS; i++) {
      const { client, meter } = newClient();
      const consumer = client.consumer({ groupId: group, ...timing, onError: () => undefined });
      await consumer.subscribe({ topics: [topic] });
      await consumer.run({ eachMessage: async () => undefined });
      members.push({ consumer, meter, client });
    }
    const owned = () => members.reduce((n, m) => n + m.consumer.assignment().length, 0);
    await waitUntil(
      () =>
        owned() === PARTITIONS &&
        members.every((m) => m.consumer.assignment().length === PARTITIONS / MEMBERS),
      60_000,
    );
    return members;
  }

  const crash: number[] = [];
  const leave: number[] = [];
  for (let run = 0; run < RUNS; run++) {
    for (const kind of ['crash', 'leave'] as const) {
      const members = await startGroup(`bench-g-${randomBytes(4).toString('hex')}`, FAST);
      const [gone, ...rest] = members;
      const started = Date.now();
      if (kind === 'crash') await gone!.consumer.abandon();
      else await gone!.consumer.disconnect();
      await waitUntil(
        () => rest.reduce((n, m) => n + m.consumer.assignment().length, 0) === PARTITIONS,
        60_000,
      );
      (kind === 'crash' ? crash : leave).push(Date.now() - started);
      for (const m of rest) await m.consumer.disconnect();
      for (const m of members) m.client.close();
    }
  }

  // An idle group with the default timings: what it costs per member per minute.
  const idle = await startGroup(`bench-idle-${randomBytes(4).toString('hex')}`, {
    heartbeatIntervalMs: 3_000,
    sessionTimeoutMs: 10_000,
  });
  for (const m of idle) m.meter.reset();
  await new Promise((r) => setTimeout(r, IDLE_WINDOW_MS));
  const tables = tableNames(stack.tablePrefix);
  const perMinute = (units: number) => ((units / IDLE_WINDOW_MS) * 60_000) / MEMBERS;
  const sum = (table: string, kind: 'readUnits' | 'writeUnits' | 'requests') =>
    idle.reduce((n, m) => n + (m.meter.totals.byTable[table]?.[kind] ?? 0), 0);
  // DynamoDB bills at least half a unit for an eventually consistent query, even an empty one;
  // DynamoDB Local reports 0 for empty results, so the AWS figure is computed from the count.
  const awsPolling = Math.max(sum(tables.log, 'readUnits'), 0.5 * sum(tables.log, 'requests'));
  const lines = [
    '',
    `Consumer groups: ${MEMBERS} members, ${PARTITIONS} partitions. Rebalance time: median of ${RUNS} runs with heartbeat ${FAST.heartbeatIntervalMs} ms and session timeout ${FAST.sessionTimeoutMs} ms, from the crash (heartbeats stop) or the start of disconnect() until the survivors own every partition.`,
    '',
    '| event | median | min | max |',
    '| --- | ---: | ---: | ---: |',
    `| member crash | ${median(crash)} ms | ${Math.min(...crash)} ms | ${Math.max(...crash)} ms |`,
    `| graceful leave | ${median(leave)} ms | ${Math.min(...leave)} ms | ${Math.max(...leave)} ms |`,
    '',
    `Idle group cost with the default timings (heartbeat 3 s, session 10 s, idle polling backing off to 1 s), measured over ${IDLE_WINDOW_MS / 1000} s, per member per minute:`,
    '',
    '| what | read units | write units | requests |',
    '| --- | ---: | ---: | ---: |',
    `| coordination (heartbeats, group reads) | ${perMinute(sum(tables.groups, 'readUnits')).toFixed(1)} | ${perMinute(sum(tables.groups, 'writeUnits')).toFixed(1)} | ${perMinute(sum(tables.groups, 'requests')).toFixed(1)} |`,
    `| topic metadata | ${perMinute(sum(tables.topics, 'readUnits')).toFixed(1)} | ${perMinute(sum(tables.topics, 'writeUnits')).toFixed(1)} | ${perMinute(sum(tables.topics, 'requests')).toFixed(1)} |`,
    `| idle polling of its ${PARTITIONS / MEMBERS} partitions (as AWS bills: ≥ 0.5 per query) | ${perMinute(awsPolling).toFixed(1)} | 0.0 | ${perMinute(sum(tables.log, 'requests')).toFixed(1)} |`,
  ];
  for (const m of idle) await m.consumer.disconnect();
  for (const m of idle) m.client.close();
  return lines;
}
