/**
 * Consumer group figures over a grid of group sizes (`BENCH_ONLY=groups`): M members on P
 * partitions (`BENCH_GROUP_MEMBERS`, default 1,4,16; `BENCH_GROUP_PARTITIONS`, default 12,96,384),
 * heartbeat 1 s and session timeout 3 s. Per cell:
 * - **startup**: every member calls `run()` at once; time until the assignment is stable (every
 *   partition held by exactly one member, each member within one of P/M, nothing revoking), with
 *   the groups-table requests and failed conditional writes it took (per member and per tick);
 * - **idle coordination**: read and write units a minute of the whole group while nothing is
 *   produced, as DynamoDB reports them, and their $ a month at us-east-1 on-demand list prices;
 * - **idle delivery latency**: one record produced to a random partition of the idle group, until
 *   the handler sees it (median of a few);
 * - **crash recovery**: one member stops heartbeating (`abandon()`); time until the others hold
 *   every partition (with one member: a replacement starts at once and waits out the session).
 * `BENCH_GROUP_RUNS` (default 3) repeats startup and crash in the cells of at most 1,536
 * member-partitions; the big cells run once. `BENCH_IDLE_MS` (default 20000) is the idle window.
 */
import { randomBytes } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { LocalStack } from '../local/index.ts';
import { type GroupConsumer, Tributary } from '../sdk/src/index.ts';
import { tableNames } from '../sdk/src/internal.ts';

const MEMBERS = (process.env.BENCH_GROUP_MEMBERS ?? '1,4,16').split(',').map(Number);
const PARTITIONS = (process.env.BENCH_GROUP_PARTITIONS ?? '12,96,384').split(',').map(Number);
const RUNS = Number(process.env.BENCH_GROUP_RUNS ?? 3);
/** Cells with more member-partitions than this run once. */
const SMALL_CELL = 1_536;
const IDLE_WINDOW_MS = Number(process.env.BENCH_IDLE_MS ?? 20_000);
const LATENCY_SAMPLES = 3;
/** A record not delivered this long after it was produced counts as "not delivered" (the sample ends). */
const LATENCY_CAP_MS = 10_000;
const TIMING = { heartbeatIntervalMs: 1_000, sessionTimeoutMs: 3_000 };
/** us-east-1 on-demand list prices, $ per unit. */
const PRICE = { readUnit: 0.125 / 1e6, writeUnit: 0.625 / 1e6 };
const MINUTES_PER_MONTH = 60 * 24 * 30;

/** What one member's client sent to the groups table. */
interface GroupTraffic {
  requests: number;
  failedConditions: number;
  readUnits: number;
  writeUnits: number;
  /** Heartbeat writes (member-item updates): one per tick. */
  memberWrites: number;
  /** Queries, by what they read: the whole group, only its members, only its leases. */
  queries: Record<'group' | 'members' | 'leases', { count: number; readUnits: number }>;
  /** Log-table requests (the consumer's polling). */
  logRequests: number;
  logReadUnits: number;
}

function emptyTraffic(): GroupTraffic {
  return {
    requests: 0,
    failedConditions: 0,
    readUnits: 0,
    writeUnits: 0,
    memberWrites: 0,
    queries: {
      group: { count: 0, readUnits: 0 },
      members: { count: 0, readUnits: 0 },
      leases: { count: 0, readUnits: 0 },
    },
    logRequests: 0,
    logReadUnits: 0,
  };
}

interface Consumed {
  TableName?: string;
  CapacityUnits?: number;
}

/** What a groups-table query reads, from its key condition. */
function queryKind(input: Record<string, unknown>): 'group' | 'members' | 'leases' {
  const values = input.ExpressionAttributeValues as Record<string, { S?: string }> | undefined;
  const prefix = values?.[':prefix']?.S;
  if (prefix === undefined) return 'group';
  return prefix.startsWith('member#') ? 'members' : 'leases';
}

/**
 * Middleware on a member's DynamoDB client: asks for consumed capacity and adds every request to
 * `traffic()` (replaced by `reset()`).
 */
function traceTraffic(ddb: DynamoDBClient, tables: { groups: string; log: string }) {
  let traffic = emptyTraffic();
  type Args = { input: Record<string, unknown> };
  type Next = (args: Args) => Promise<{ output: Record<string, unknown> }>;
  const middleware = (next: Next, context: { commandName?: string }) => async (args: Args) => {
    const table = args.input.TableName;
    const command = context.commandName ?? '';
    const t = traffic;
    if (table !== tables.groups && table !== tables.log) return next(args);
    const input = { ...args.input, ReturnConsumedCapacity: 'TOTAL' };
    try {
      const result = await next({ ...args, input });
      const consumed = result.output.ConsumedCapacity as Consumed | undefined;
      const units = consumed?.CapacityUnits ?? 0;
      if (table === tables.log) {
        t.logRequests++;
        t.logReadUnits += command === 'QueryCommand' || command === 'GetItemCommand' ? units : 0;
        return result;
      }
      t.requests++;
      if (command === 'QueryCommand') {
        t.readUnits += units;
        const q = t.queries[queryKind(args.input)];
        q.count++;
        q.readUnits += units;
      } else {
        t.writeUnits += units;
        const key = (args.input.Key as { k?: { S?: string } } | undefined)?.k?.S ?? '';
        if (command === 'UpdateItemCommand' && key.startsWith('member#')) t.memberWrites++;
      }
      return result;
    } catch (error) {
      if (table === tables.groups) {
        t.requests++;
        if ((error as { name?: string }).name === 'ConditionalCheckFailedException') {
          t.failedConditions++;
          // DynamoDB bills a failed conditional write one unit (these items are all under 1 KB).
          t.writeUnits += 1;
        }
      }
      throw error;
    }
  };
  ddb.middlewareStack.add(middleware as never, { step: 'initialize', name: 'bench-group-traffic' });
  return {
    traffic: () => traffic,
    reset: () => {
      traffic = emptyTraffic();
    },
  };
}

function sum(traffic: readonly GroupTraffic[]): GroupTraffic {
  const total = emptyTraffic();
  for (const t of traffic) {
    total.requests += t.requests;
    total.failedConditions += t.failedConditions;
    total.readUnits += t.readUnits;
    total.writeUnits += t.writeUnits;
    total.memberWrites += t.memberWrites;
    for (const kind of ['group', 'members', 'leases'] as const) {
      total.queries[kind].count += t.queries[kind].count;
      total.queries[kind].readUnits += t.queries[kind].readUnits;
    }
    total.logRequests += t.logRequests;
    total.logReadUnits += t.logReadUnits;
  }
  return total;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

async function waitUntil(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Member {
  readonly client: Tributary;
  readonly ddb: DynamoDBClient;
  readonly trace: ReturnType<typeof traceTraffic>;
  readonly consumer: GroupConsumer<Buffer | null>;
}

/** True when every partition is held by exactly one of `members`, each within one of P/M, none revoking. */
function stable(members: readonly Member[], partitions: number): boolean {
  const low = Math.floor(partitions / members.length);
  const seen = new Set<number>();
  for (const m of members) {
    const held = m.consumer.assignment();
    if (held.length < low || held.length > low + (partitions % members.length === 0 ? 0 : 1)) return false;
    for (const tp of held) {
      if (seen.has(tp.partition)) return false;
      seen.add(tp.partition);
    }
  }
  return seen.size === partitions;
}

export async function benchGroups(stack: LocalStack): Promise<string[]> {
  const tables = tableNames(stack.tablePrefix);
  const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };
  const options = { endpoint: stack.endpoint, region: stack.region, tablePrefix: stack.tablePrefix };
  const admin = new Tributary(options);

  /** Delivered records: value (a send id) → when the handler saw it. */
  const delivered = new Map<string, number>();
  const newMember = (group: string): Member => {
    // One attempt per SDK call: the SDK's own retries (withRetry) are then each seen and counted.
    const ddb = new DynamoDBClient({
      endpoint: stack.endpoint,
      region: stack.region,
      credentials,
      maxAttempts: 1,
    });
    const trace = traceTraffic(ddb, tables);
    const client = new Tributary({ ...options, dynamoDBClient: ddb });
    const consumer = client.consumer({ groupId: group, ...TIMING, onError: () => undefined });
    return { client, ddb, trace, consumer };
  };
  const start = async (members: readonly Member[], topic: string) => {
    await Promise.all(
      members.map(async (m) => {
        await m.consumer.subscribe({ topics: [topic] });
        await m.consumer.run({
          eachMessage: async (message) => {
            const id = message.value?.toString();
            if (id !== undefined && !delivered.has(id)) delivered.set(id, Date.now());
          },
        });
      }),
    );
  };
  const stop = async (members: readonly Member[]) => {
    await Promise.all(members.map((m) => m.consumer.disconnect()));
    for (const m of members) m.client.close();
  };

  interface Cell {
    members: number;
    partitions: number;
    runs: number;
    startupMs: number[];
    startup: GroupTraffic[];
    /** Ticks (heartbeats) per member until stable, per run. */
    startupTicks: number[];
    crashMs: number[];
    idle?: GroupTraffic;
    latencyMs?: number[];
  }
  const cells: Cell[] = [];
  const producer = admin.producer({ lingerMs: 0 });

  for (const m of MEMBERS) {
    for (const p of PARTITIONS) {
      const runs = m * p <= SMALL_CELL ? RUNS : 1;
      const cell: Cell = {
        members: m,
        partitions: p,
        runs,
        startupMs: [],
        startup: [],
        startupTicks: [],
        crashMs: [],
      };
      cells.push(cell);
      const topic = `bench-g${m}x${p}-${randomBytes(3).toString('hex')}`;
      await admin.admin().createTopic({ topic, partitions: p });
      for (let run = 0; run < runs; run++) {
        const group = `bench-g-${randomBytes(4).toString('hex')}`;
        const members = Array.from({ length: m }, () => newMember(group));
        const startedAt = Date.now();
        await start(members, topic);
        await waitUntil(() => stable(members, p), 120_000, `a stable assignment (${m} × ${p})`);
        cell.startupMs.push(Date.now() - startedAt);
        const traffic = sum(members.map((x) => x.trace.traffic()));
        cell.startup.push(traffic);
        cell.startupTicks.push(traffic.memberWrites / m);
        // Still stable two heartbeats later (nothing was on its way to move).
        await sleep(2 * TIMING.heartbeatIntervalMs);
        if (!stable(members, p)) throw new Error(`The assignment of ${m} × ${p} moved after settling`);

        if (run === 0) {
          for (const x of members) x.trace.reset();
          await sleep(IDLE_WINDOW_MS);
          cell.idle = sum(members.map((x) => x.trace.traffic()));
          cell.latencyMs = [];
          for (let i = 0; i < LATENCY_SAMPLES; i++) {
            const id = `lat-${randomBytes(6).toString('hex')}`;
            const partition = Math.floor(Math.random() * p);
            const sentAt = Date.now();
            await producer.send({ topic, messages: [{ value: id, partition }] });
            const deadline = sentAt + LATENCY_CAP_MS;
            while (!delivered.has(id) && Date.now() < deadline) await sleep(10);
            cell.latencyMs.push(delivered.has(id) ? delivered.get(id)! - sentAt : Number.POSITIVE_INFINITY);
            // Let the partition go idle again (the consumer's backoff grows back) before the next.
            await sleep(2_000);
          }
        }

        const [crashed, ...rest] = members;
        await crashed!.consumer.abandon();
        const crashedAt = Date.now();
        const survivors = rest.length > 0 ? rest : [newMember(group)];
        if (rest.length === 0) await start(survivors, topic);
        await waitUntil(
          () => survivors.reduce((n, x) => n + x.consumer.assignment().length, 0) === p,
          60_000,
          'crash recovery',
        );
        cell.crashMs.push(Date.now() - crashedAt);
        await stop(survivors);
        crashed!.client.close();
      }
      process.stderr.write(
        `groups ${m} × ${p}: startup ${median(cell.startupMs)} ms, crash ${median(cell.crashMs)} ms\n`,
      );
    }
  }
  await producer.close();
  admin.close();

  const fmt = (n: number, digits = 0) =>
    n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
  const perMinute = (units: number) => (units / IDLE_WINDOW_MS) * 60_000;
  const latency = (ms: number) => (Number.isFinite(ms) ? `${fmt(ms)} ms` : `> ${fmt(LATENCY_CAP_MS)} ms`);
  const lines = [
    '',
    `Consumer groups: M members × P partitions, heartbeat ${TIMING.heartbeatIntervalMs} ms, session timeout ${TIMING.sessionTimeoutMs} ms. Startup and crash: median of ${RUNS} runs (cells above ${SMALL_CELL} member-partitions: 1 run). Idle: ${IDLE_WINDOW_MS / 1000} s window, the whole group, groups table only; $ a month at $0.125 per million read units and $0.625 per million write units. Idle delivery: ${LATENCY_SAMPLES} records, one at a time, each to a random partition of the idle group; median (max), a record not seen within ${LATENCY_CAP_MS / 1000} s counts as more.`,
    '',
    '| M × P | startup to stable | requests (per member per tick) | failed conditions | crash recovery | idle read units / min | idle write units / min | $ / month (reads + writes) | reads: members / leases / whole-group queries a min | idle delivery p50 (max) |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const c of cells) {
    const mid = c.startupMs.indexOf(median(c.startupMs));
    const s = c.startup[mid] ?? c.startup[0]!;
    const ticks = c.startupTicks[mid] ?? 1;
    const idle = c.idle!;
    const ru = perMinute(idle.readUnits);
    const wu = perMinute(idle.writeUnits);
    const dollars = (ru * PRICE.readUnit + wu * PRICE.writeUnit) * MINUTES_PER_MONTH;
    const q = idle.queries;
    lines.push(
      `| ${c.members} × ${c.partitions} | ${fmt(median(c.startupMs))} ms | ${fmt(s.requests)} (${fmt(s.requests / c.members / Math.max(1, ticks), 1)}) | ${fmt(s.failedConditions)} | ${fmt(median(c.crashMs))} ms | ${fmt(ru)} | ${fmt(wu)} | $${fmt(ru * PRICE.readUnit * MINUTES_PER_MONTH, 2)} + $${fmt(wu * PRICE.writeUnit * MINUTES_PER_MONTH, 2)} = $${fmt(dollars, 2)} | ${fmt(perMinute(q.members.count))} / ${fmt(perMinute(q.leases.count))} / ${fmt(perMinute(q.group.count))} | ${latency(median(c.latencyMs!))} (${latency(Math.max(...c.latencyMs!))}) |`,
    );
  }
  return lines;
}
