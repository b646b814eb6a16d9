/**
 * Failover of a topic's home on the multi-region local stack (MREC replicator, a DynamoDB Local per
 * region): a planned failover with producers and a consumer running loses, duplicates and skips
 * nothing; a forced failover while the old home is cut off and still taking appends leaves exactly
 * the acknowledged records that are not in the final log outside it, reported and re-appendable
 * once; groups resume at the same offsets; bad requests change nothing. A checker compares every
 * acknowledgement with the final log.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApiServer } from '../../../local/api-server.ts';
import {
  type FailoverReport,
  InvalidFailoverError,
  TimeoutError,
  TopicNotFoundError,
  Tributary,
  UnknownRegionError,
  UnsupportedOperationError,
} from '../../../sdk/src/index.ts';
import { partitionKey } from '../../../sdk/src/internal.ts';
import type { LogItem } from '../../../sdk/src/log/log-store.ts';
import { runCli } from '../../helpers/cli.ts';
import { HOME, REPLICA, type RegionsStack, refOf, startRegionsStack } from '../../helpers/regions.ts';
import { testStackConfig } from '../../helpers/stack.ts';
import { uniqueTopic } from '../../helpers/tributary.ts';
import { until } from '../../helpers/wait.ts';

let regions: RegionsStack;
let home: Tributary;
let replica: Tributary;

beforeAll(async () => {
  regions = await startRegionsStack(1415);
  home = regions.client(HOME);
  replica = regions.client(REPLICA);
}, 120_000);

afterAll(async () => {
  home?.close();
  replica?.close();
  await regions?.stop();
});

/** An acknowledged record: where the producer was told it landed. */
interface Ack {
  readonly partition: number;
  readonly offset: number;
  readonly value: string;
}

/** A record of the final log. */
interface Logged {
  readonly offset: number;
  readonly value: string;
  readonly timestamp: number;
}

async function createTopic(partitions: number): Promise<{ name: string; incarnation: string }> {
  const name = uniqueTopic('fo');
  await home.admin().createTopic({ topic: name, partitions });
  const { incarnation } = await home.admin().describeTopic(name);
  await regions.stack.replicator!.settled();
  return { name, incarnation };
}

/**
 * A producer sending 3 records at a time, round robin over the partitions, with values unique to
 * it, until stopped; every acknowledgement and failure is kept.
 */
function produceUntilStopped(client: Tributary, topic: string, partitions: number, label: string) {
  const producer = client.producer({ lingerMs: 0 });
  const acks: Ack[] = [];
  const failures: unknown[] = [];
  let stopped = false;
  const running = (async () => {
    for (let i = 0; !stopped; i++) {
      const partition = i % partitions;
      const values = [0, 1, 2].map((j) => `${label}-${i}-${j}`);
      try {
        const metas = await producer.send({ topic, messages: values.map((value) => ({ value, partition })) });
        metas.forEach((m, j) => {
          acks.push({ partition: m.partition, offset: m.offset, value: values[j]! });
        });
      } catch (error) {
        failures.push(error);
        return;
      }
    }
  })();
  return {
    acks,
    failures,
    async stop() {
      stopped = true;
      await running;
      await producer.close();
    },
  };
}

/** Every record of every partition, read from `client`'s copy up to its high watermark. */
async function finalLog(
  client: Tributary,
  topic: string,
  partitions: number,
): Promise<Map<number, Logged[]>> {
  const described = await client.admin().describeTopic(topic);
  const ends = described.partitions.map((p) => p.highWatermark);
  const consumer = client.consumer({ minIdleIntervalMs: 5, maxIdleIntervalMs: 20 });
  const log = new Map<number, Logged[]>(Array.from({ length: partitions }, (_, p) => [p, []]));
  try {
    await consumer.assign(
      Array.from({ length: partitions }, (_, partition) => ({ topic, partition, offset: 0 })),
    );
    const next = () =>
      [...log].map(([p, list]) => (list.length === 0 ? 0 : list[list.length - 1]!.offset + 1) - ends[p]!);
    await until(
      async () => {
        for (const batch of await consumer.poll()) {
          for (const m of batch.messages) {
            log
              .get(batch.partition)!
              .push({ offset: m.offset, value: m.value!.toString(), timestamp: m.timestamp });
          }
        }
        return next().every((missing) => missing >= 0);
      },
      { timeoutMs: 20_000, message: 'the whole log' },
    );
  } finally {
    await consumer.close();
  }
  return log;
}

/**
 * The checker: the log is dense from 0, holds no value twice and nothing unacknowledged, and every
 * acknowledgement in `inLog` is in it at the partition and offset it was given.
 */
function expectLogHolds(
  log: Map<number, Logged[]>,
  inLog: readonly Ack[],
  alsoAllowed: readonly string[] = [],
) {
  const where = new Map<string, { partition: number; offset: number }>();
  for (const [partition, records] of log) {
    expect(records.map((r) => r.offset)).toEqual(records.map((_, i) => i));
    for (const r of records) {
      expect(where.has(r.value), `${r.value} appears twice`).toBe(false);
      where.set(r.value, { partition, offset: r.offset });
    }
  }
  const known = new Set([...inLog.map((a) => a.value), ...alsoAllowed]);
  expect([...where.keys()].filter((v) => !known.has(v))).toEqual([]);
  for (const ack of inLog)
    expect(where.get(ack.value), ack.value).toEqual({ partition: ack.partition, offset: ack.offset });
}

/** The items of one log table key in `region`, by sort key. */
function itemsUnder(region: string, pk: string): Promise<LogItem[]> {
  return regions.logItems(region, pk);
}

describe('a planned failover', () => {
  it('with producers in both regions (direct and over the API) and a consumer running, loses, duplicates and skips nothing', async () => {
    const partitions = 2;
    const topic = await createTopic(partitions);
    // The API in the new home's region: idempotent produce requests, forwarded to the old home first.
    const api = await startApiServer({ connection: regions.options(REPLICA), port: 0 });
    const http = new Tributary({
      transport: 'http',
      endpoint: api.url,
      region: REPLICA,
      retry: { deadlineMs: 15_000 },
    });
    const reader = regions.client(HOME, { metadataMaxAgeMs: 60_000 });
    const consumer = reader.consumer({ minIdleIntervalMs: 5, maxIdleIntervalMs: 20 });
    await consumer.assign(
      Array.from({ length: partitions }, (_, partition) => ({ topic: topic.name, partition, offset: 0 })),
    );
    const consumed = new Map<number, string[]>();
    const consumerFailures: unknown[] = [];
    let consuming = true;
    const consumerLoop = (async () => {
      while (consuming) {
        try {
          for (const batch of await consumer.poll()) {
            const list = consumed.get(batch.partition) ?? [];
            list.push(...batch.messages.map((m) => `${m.offset}:${m.value!.toString()}`));
            consumed.set(batch.partition, list);
          }
        } catch (error) {
          consumerFailures.push(error);
          return;
        }
      }
    })();
    const here = produceUntilStopped(home, topic.name, partitions, 'h');
    const there = produceUntilStopped(replica, topic.name, partitions, 'r');
    const viaApi = produceUntilStopped(http, topic.name, partitions, 'a');
    const producers = [here, there, viaApi];
    const total = () => here.acks.length + there.acks.length + viaApi.acks.length;
    const failed = () => producers.some((p) => p.failures.length > 0);
    let report: FailoverReport | undefined;
    let afterSwitch = 0;
    try {
      await until(() => total() >= 60 || failed(), {
        timeoutMs: 20_000,
        message: 'appends before the failover',
      });
      report = await home.admin().failoverTopic(topic.name, { to: REPLICA, mode: 'planned' });
      afterSwitch = total();
      await until(
        () => (producers.every((p) => p.acks.length > 0) && total() >= afterSwitch + 60) || failed(),
        { timeoutMs: 20_000, message: 'appends after the failover' },
      );
    } finally {
      await Promise.all(producers.map((p) => p.stop()));
      http.close();
      await api.stop();
    }
    expect(producers.flatMap((p) => p.failures)).toEqual([]);
    expect(report).toMatchObject({
      topic: topic.name,
      mode: 'planned',
      from: HOME,
      to: REPLICA,
      previousEpoch: 0,
      epoch: 1,
    });
    await regions.stack.replicator!.settled();

    const acks = producers.flatMap((p) => p.acks);
    const log = await finalLog(replica, topic.name, partitions);
    expectLogHolds(log, acks);
    for (const p of report.partitions) {
      const ref = refOf(topic, p.partition);
      // Both sides of the fence took appends: producers in both regions wrote before and after it.
      expect(acks.some((a) => a.partition === p.partition && a.offset < p.startOffset)).toBe(true);
      expect(acks.some((a) => a.partition === p.partition && a.offset >= p.startOffset)).toBe(true);
      // The old home took nothing at or past its fence; the new epoch was written in the new home.
      const old = (await itemsUnder(HOME, partitionKey(ref))).filter((i) => Number(i.off!.N) >= 0);
      const beyond = old.filter((i) => Number(i.off!.N) >= p.startOffset);
      expect(beyond.map((i) => [Number(i.off!.N), i.fe?.N, i.fr?.S, i.n?.N])).toEqual([
        [p.startOffset, '1', REPLICA, '0'],
      ]);
      const next = await itemsUnder(REPLICA, `${partitionKey(ref)}~e1`);
      expect(next.length).toBeGreaterThan(0);
      expect(Number(next[0]!.off!.N)).toBe(p.startOffset);
      expect(new Set(next.map((i) => `${i.rg?.S}/${i.le?.N}`))).toEqual(new Set([`${REPLICA}/1`]));
    }

    // The consumer read the old home's copy through the fence and on into the new epoch.
    await until(
      () =>
        [...log].every(([p, records]) => (consumed.get(p)?.length ?? 0) >= records.length) ||
        consumerFailures.length > 0,
      { timeoutMs: 20_000, message: 'the running consumer to read the whole log' },
    );
    consuming = false;
    await consumerLoop;
    await consumer.close();
    reader.close();
    expect(consumerFailures).toEqual([]);
    for (const [p, records] of log)
      expect(consumed.get(p)).toEqual(records.map((r) => `${r.offset}:${r.value}`));

    // describeTopic, offsets by timestamp and the divergence report, across the epochs.
    const described = await replica.admin().describeTopic(topic.name);
    for (const p of described.partitions) {
      expect(p.regions?.find((r) => r.region === REPLICA)).toMatchObject({ home: true, leaderEpoch: 1 });
      expect(p.highWatermark).toBe(log.get(p.partition)!.length);
    }
    const records0 = log.get(0)!;
    const start0 = report.partitions[0]!.startOffset;
    const probe = records0.find((r) => r.offset >= start0)!.timestamp;
    const expected = records0.find((r) => r.timestamp >= probe)!.offset;
    const found = await home.admin().offsetsForTimestamp(topic.name, probe);
    expect(found.find((f) => f.partition === 0)?.offset).toBe(expected);
    expect((await replica.admin().divergence(topic.name)).batches).toEqual([]);
  });

  it('keeps committed offsets valid: a group resumes in the new home exactly where it was', async () => {
    const topic = await createTopic(1);
    const group = uniqueTopic('g');
    const producer = home.producer({ lingerMs: 0 });
    await producer.send({
      topic: topic.name,
      messages: Array.from({ length: 20 }, (_, i) => ({ value: `a${i}` })),
    });
    const timing = { heartbeatIntervalMs: 100, sessionTimeoutMs: 1_000, maxIdleIntervalMs: 50 };
    const first: number[] = [];
    const before = home.consumer({ groupId: group, ...timing, autoCommitIntervalMs: 50 });
    await before.subscribe({ topics: [topic.name], fromBeginning: true });
    await before.run({ eachMessage: async (m) => void first.push(m.offset) });
    await until(() => first.length === 20, { timeoutMs: 15_000, message: 'the first 20 records' });
    await before.disconnect();
    expect((await home.admin().describeGroup(group)).partitions[0]?.committedOffset).toBe(20);

    await home.admin().failoverTopic(topic.name, { to: REPLICA, mode: 'planned' });
    // The same producer (its metadata from before) meets the fence and follows to the new home.
    await producer.send({
      topic: topic.name,
      messages: Array.from({ length: 5 }, (_, i) => ({ value: `b${i}` })),
    });
    await producer.close();
    const seen: { offset: number; value: string }[] = [];
    const after = replica.consumer({ groupId: group, ...timing, autoCommitIntervalMs: 50 });
    await after.subscribe({ topics: [topic.name], fromBeginning: true });
    await after.run({
      eachMessage: async (m) => void seen.push({ offset: m.offset, value: m.value!.toString() }),
    });
    await until(() => seen.length >= 5, { timeoutMs: 15_000, message: 'the next 5 records' });
    await after.disconnect();
    expect(seen).toEqual([20, 21, 22, 23, 24].map((offset, i) => ({ offset, value: `b${i}` })));
    expect((await replica.admin().describeGroup(group)).partitions[0]).toMatchObject({
      committedOffset: 25,
      lag: 0,
    });
  });
});

describe('failing over and back', () => {
  it('reads, looks up by time and describes one log across three epochs and their key spaces', async () => {
    const topic = await createTopic(1);
    const producer = home.producer({ lingerMs: 0 });
    const send = async (tag: string) => {
      for (let i = 0; i < 3; i++)
        await producer.send({ topic: topic.name, messages: [{ value: `${tag}${i}` }] });
    };
    await send('a');
    await home.admin().failoverTopic(topic.name, { to: REPLICA, mode: 'planned' });
    await send('b');
    const back = await replica.admin().failoverTopic(topic.name, { to: HOME, mode: 'planned' });
    expect(back).toMatchObject({ from: REPLICA, to: HOME, previousEpoch: 1, epoch: 2 });
    expect(back.partitions.map((p) => p.startOffset)).toEqual([6]);
    await send('c');
    await producer.close();
    await regions.stack.replicator!.settled();
    const ref = refOf(topic, 0);
    const offsets = async (region: string, pk: string) =>
      (await itemsUnder(region, pk))
        .filter((i) => Number(i.off!.N) >= 0)
        .map((i) => [Number(i.off!.N), i.fe?.N ?? i.le?.N]);
    // Each epoch in its own key space, each old one ending at its fence.
    for (const region of [HOME, REPLICA]) {
      expect(await offsets(region, partitionKey(ref))).toEqual([
        [0, '0'],
        [1, '0'],
        [2, '0'],
        [3, '1'],
      ]);
      expect(await offsets(region, `${partitionKey(ref)}~e1`)).toEqual([
        [3, '1'],
        [4, '1'],
        [5, '1'],
        [6, '2'],
      ]);
      expect(await offsets(region, `${partitionKey(ref)}~e2`)).toEqual([
        [6, '2'],
        [7, '2'],
        [8, '2'],
      ]);
    }
    for (const client of [home, replica]) {
      const log = await finalLog(client, topic.name, 1);
      expect(log.get(0)!.map((r) => `${r.offset}:${r.value}`)).toEqual(
        ['a0', 'a1', 'a2', 'b0', 'b1', 'b2', 'c0', 'c1', 'c2'].map((v, i) => `${i}:${v}`),
      );
      const b1 = log.get(0)!.find((r) => r.value === 'b1')!;
      const [found] = await client.admin().offsetsForTimestamp(topic.name, b1.timestamp);
      expect(found?.offset).toBe(log.get(0)!.find((r) => r.timestamp >= b1.timestamp)!.offset);
      const described = await client.admin().describeTopic(topic.name);
      expect(described.partitions[0]?.highWatermark).toBe(9);
      expect(described.partitions[0]?.regions?.find((r) => r.home)).toMatchObject({
        region: HOME,
        leaderEpoch: 2,
      });
    }
  });
});

describe('a forced failover', () => {
  it('while the old home is cut off with appends in flight: reports exactly what it acknowledged past the new epoch, re-appendable once', async () => {
    const partitions = 2;
    const topic = await createTopic(partitions);
    const replicator = regions.stack.replicator!;
    const before = produceUntilStopped(home, topic.name, partitions, 'pre');
    await until(() => before.acks.length >= 30 || before.failures.length > 0, { timeoutMs: 20_000 });
    await before.stop();
    await replicator.settled();

    replicator.pause(HOME);
    let report: FailoverReport | undefined;
    const cutOff = produceUntilStopped(home, topic.name, partitions, 'cut');
    const fresh = regions.client(REPLICA);
    const after = { acks: [] as Ack[] };
    try {
      await until(() => cutOff.acks.length >= 24 || cutOff.failures.length > 0, { timeoutMs: 20_000 });
      report = await replica.admin().failoverTopic(topic.name, { to: REPLICA, mode: 'forced' });
      const atSwitch = cutOff.acks.length;
      // The old home, cut off, knows nothing of it and keeps acknowledging appends.
      await until(() => cutOff.acks.length >= atSwitch + 24 || cutOff.failures.length > 0, {
        timeoutMs: 20_000,
      });
      await cutOff.stop();
      const producer = fresh.producer({ lingerMs: 0 });
      for (let i = 0; i < 6; i++) {
        const values = [0, 1, 2].map((j) => `new-${i}-${j}`);
        const metas = await producer.send({
          topic: topic.name,
          messages: values.map((value) => ({ value, partition: i % partitions })),
        });
        metas.forEach((m, j) => {
          after.acks.push({ partition: m.partition, offset: m.offset, value: values[j]! });
        });
      }
      await producer.close();
    } finally {
      await cutOff.stop();
      replicator.resume(HOME);
      fresh.close();
    }
    await replicator.settled();
    expect([...before.failures, ...cutOff.failures]).toEqual([]);
    expect(report).toMatchObject({ mode: 'forced', from: HOME, to: REPLICA, previousEpoch: 0, epoch: 1 });
    // The new epoch starts where the new home's copy ended: after every record acknowledged before the cut.
    for (const p of report.partitions) {
      const acked = before.acks.filter((a) => a.partition === p.partition);
      expect(p.startOffset).toBe(Math.max(...acked.map((a) => a.offset)) + 1);
    }

    const log = await finalLog(replica, topic.name, partitions);
    const logged = new Set(
      [...log].flatMap(([p, records]) => records.map((r) => `${p}:${r.offset}:${r.value}`)),
    );
    const absent = cutOff.acks.filter((a) => !logged.has(`${a.partition}:${a.offset}:${a.value}`));
    // Everything the old home acknowledged while cut off lost its place in the log to the new epoch.
    expect(absent.length).toBe(cutOff.acks.length);
    expectLogHolds(log, [...before.acks, ...after.acks]);

    const divergence = await replica.admin().divergence(topic.name);
    expect(divergence.pendingClaims).toBe(0);
    const reported: string[] = [];
    for (const batch of divergence.batches) {
      const start = report.partitions[batch.partition]!.startOffset;
      expect(batch).toMatchObject({
        epoch: 0,
        region: HOME,
        leaderEpoch: 0,
        status: 'divergent',
        replacedBy: { epoch: 1, startOffset: start },
      });
      expect(batch.offset).toBeGreaterThanOrEqual(start);
      expect(batch.producerId).not.toBe('-1');
      expect(batch.appendTime).toBeGreaterThan(0);
      const records = await replica.admin().readDivergent(topic.name, batch);
      expect(records.length).toBe(batch.count);
      for (const r of records) reported.push(`${batch.partition}:${r.offset}:${r.value!.toString()}`);
    }
    expect(reported.sort()).toEqual(absent.map((a) => `${a.partition}:${a.offset}:${a.value}`).sort());

    // The old home's copy reads as the final log too: its batches past the epoch's end are skipped.
    const oldHome = regions.client(HOME);
    try {
      expect(await finalLog(oldHome, topic.name, partitions)).toEqual(log);
    } finally {
      oldHome.close();
    }

    // Re-appended once, at the end of the log, however often it is asked.
    const appended = await replica.admin().reappendDivergent(topic.name);
    expect(appended.map((r) => r.outcome)).toEqual(divergence.batches.map(() => 'reappended'));
    const ends = (await replica.admin().describeTopic(topic.name)).partitions.map((p) => p.highWatermark);
    expect(await replica.admin().reappendDivergent(topic.name)).toEqual([]);
    const again = await replica.admin().reappendDivergent(topic.name, { batches: divergence.batches });
    expect(again).toEqual(appended.map((r) => ({ ...r, outcome: 'already' })));
    expect((await replica.admin().describeTopic(topic.name)).partitions.map((p) => p.highWatermark)).toEqual(
      ends,
    );
    const afterReappend = await replica.admin().divergence(topic.name);
    expect(afterReappend.batches.map((b) => [b.status, b.finalOffset])).toEqual(
      appended.map((r) => ['reappended', r.finalOffset]),
    );
    await replicator.settled();
    const complete = await finalLog(replica, topic.name, partitions);
    expectLogHolds(
      complete,
      [...before.acks, ...after.acks],
      cutOff.acks.map((a) => a.value),
    );
    const values = new Set([...complete.values()].flat().map((r) => r.value));
    expect(cutOff.acks.filter((a) => !values.has(a.value))).toEqual([]);
  });
});

describe('bad failovers change nothing', () => {
  /** The topic's items that a failover would change, in both regions. */
  async function snapshot(topic: { name: string; incarnation: string }) {
    const ref = refOf(topic, 0);
    return Promise.all(
      [HOME, REPLICA].map(async (region) => ({
        topic: await regions.topicItem(region, topic.name),
        epochs: await regions.topicItem(region, `epochs#${topic.name}#${topic.incarnation}`),
        batches: await itemsUnder(region, partitionKey(ref)),
        next: await itemsUnder(region, `${partitionKey(ref)}~e1`),
      })),
    );
  }

  it('refuses an unknown region, the current home, a region without a replica, a missing topic, HTTP', async () => {
    const topic = await createTopic(1);
    const producer = home.producer({ lingerMs: 0 });
    await producer.send({ topic: topic.name, messages: [{ value: 'x' }] });
    await regions.stack.replicator!.settled();
    const unchanged = await snapshot(topic);
    const admin = home.admin();
    for (const mode of ['planned', 'forced'] as const) {
      await expect(admin.failoverTopic(topic.name, { to: 'ap-south-1', mode })).rejects.toThrow(
        UnknownRegionError,
      );
      await expect(admin.failoverTopic(topic.name, { to: HOME, mode })).rejects.toMatchObject({
        code: 'INVALID_FAILOVER',
        reason: 'already-home',
      });
      await expect(admin.failoverTopic(uniqueTopic('none'), { to: REPLICA, mode })).rejects.toThrow(
        TopicNotFoundError,
      );
    }
    // A third region the client lists whose DynamoDB holds no Tributary tables: no replica there.
    const { endpoint } = testStackConfig();
    const stray = new Tributary({
      ...regions.options(HOME),
      regions: [...regions.stack.regions, { region: 'ap-southeast-2', endpoint }],
    });
    try {
      for (const mode of ['planned', 'forced'] as const) {
        const refused = stray.admin().failoverTopic(topic.name, { to: 'ap-southeast-2', mode });
        await expect(refused).rejects.toThrow(InvalidFailoverError);
        await expect(refused).rejects.toMatchObject({ reason: 'no-replica', region: 'ap-southeast-2' });
      }
    } finally {
      stray.close();
    }
    const http = new Tributary({ transport: 'http', endpoint: 'http://127.0.0.1:9', region: HOME });
    try {
      await expect(http.admin().failoverTopic(topic.name, { to: REPLICA, mode: 'planned' })).rejects.toThrow(
        UnsupportedOperationError,
      );
      await expect(http.admin().divergence(topic.name)).rejects.toThrow(UnsupportedOperationError);
    } finally {
      http.close();
    }
    expect(await snapshot(topic)).toEqual(unchanged);
    // And the topic takes appends in its home as before.
    expect((await producer.send({ topic: topic.name, messages: [{ value: 'y' }] }))[0]?.offset).toBe(1);
    await producer.close();
  });

  it('a planned failover whose new home does not catch up in time lifts its fences and switches nothing', async () => {
    const topic = await createTopic(1);
    const producer = home.producer({ lingerMs: 0 });
    await producer.send({ topic: topic.name, messages: [{ value: 'x' }] });
    await regions.stack.replicator!.settled();
    const unchanged = await snapshot(topic);
    regions.stack.replicator!.pause(REPLICA);
    try {
      await producer.send({ topic: topic.name, messages: [{ value: 'not replicated' }] });
      await expect(
        home.admin().failoverTopic(topic.name, { to: REPLICA, mode: 'planned', timeoutMs: 300 }),
      ).rejects.toThrow(TimeoutError);
      // Appends continue in the old home, after the lifted fence's slot.
      expect((await producer.send({ topic: topic.name, messages: [{ value: 'z' }] }))[0]?.offset).toBe(2);
    } finally {
      regions.stack.replicator!.resume(REPLICA);
    }
    await producer.close();
    await regions.stack.replicator!.settled();
    const now = await snapshot(topic);
    for (const [i, region] of now.entries()) {
      expect(region.topic).toEqual(unchanged[i]!.topic);
      expect(region.epochs).toBeUndefined();
      expect(region.next).toEqual([]);
      expect(region.batches.filter((b) => b.fe !== undefined)).toEqual([]);
      expect(region.batches.filter((b) => Number(b.off!.N) >= 0).map((b) => Number(b.off!.N))).toEqual([
        0, 1, 2,
      ]);
    }
  });
});

describe('tributary topics failover and divergence', () => {
  it('fail a topic over and report (and re-append) what is outside its log', async () => {
    const topic = await createTopic(1);
    const options = regions.options(HOME);
    const connection = [
      '--endpoint',
      options.endpoint!,
      '--region',
      HOME,
      '--regions',
      regions.stack.regions.map((r) => `${r.region}=${r.endpoint}`).join(','),
      '--table-prefix',
      options.tablePrefix!,
      '--bucket',
      options.bucket!,
    ];
    const moved = await runCli(['topics', 'failover', topic.name, '--to', REPLICA, ...connection], '', false);
    expect(moved.stderr).toBe('');
    expect(moved.code).toBe(0);
    expect(moved.stdout).toContain(`from ${HOME} to ${REPLICA} (planned): leader epoch 0 -> 1`);
    expect(moved.stdout).toMatch(/\n0\t0\t1\t0\t\d+\n/);
    // describe shows each region's copy: the new home at epoch 1, nothing lagging once replicated.
    await regions.stack.replicator!.settled();
    const described = await runCli(['topics', 'describe', topic.name, ...connection], '', false);
    expect(described.code).toBe(0);
    expect(described.stdout).toContain(
      'Regions:\nPartition\tRegion\tHome\tHighWatermark\tLeaderEpoch\tLagRecords\tLagMs\n',
    );
    expect(described.stdout).toMatch(new RegExp(`\\n0\\t${REPLICA}\\tyes\\t\\d+\\t1\\t0\\t0\\n`));
    expect(described.stdout).toMatch(new RegExp(`\\n0\\t${HOME}\\tno\\t\\d+\\t\\d+\\t0\\t0\\n`));
    const listed = await runCli(['topics', 'divergence', topic.name, ...connection], '', false);
    expect(listed.code).toBe(0);
    expect(listed.stdout).toBe(`No batches outside the log of "${topic.name}".\n`);
    const reappended = await runCli(
      ['topics', 'divergence', topic.name, '--reappend', ...connection],
      '',
      false,
    );
    expect(reappended.stdout).toBe(`Nothing to re-append for "${topic.name}".\n`);
    const again = await runCli(
      ['topics', 'failover', topic.name, '--to', REPLICA, '--forced', ...connection],
      '',
      false,
    );
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('[INVALID_FAILOVER]');
  });
});
