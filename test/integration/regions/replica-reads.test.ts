/**
 * Reading a replica: batches arrive one by one and out of order, so a gap below the home's high
 * watermark is "not replicated yet" — the reader returns what is contiguous, never reports
 * corruption, never skips — and `describeTopic` shows each region's high watermark and lag. On the
 * multi-region local stack; the exact states are made by cutting the replica region off and
 * copying chosen home items into it, the heavy run by the replicator itself.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApiServer } from '../../../local/api-server.ts';
import {
  LogInvariantError,
  OffsetOutOfRangeError,
  type RegionReplication,
  Tributary,
} from '../../../sdk/src/index.ts';
import type { DirectTransport } from '../../../sdk/src/internal.ts';
import { LogStore } from '../../../sdk/src/log/log-store.ts';
import { PartitionReader } from '../../../sdk/src/log/reader.ts';
import type { PartitionSource } from '../../../sdk/src/transport/partition-source.ts';
import {
  HOME,
  offsetsOf,
  REPLICA,
  type RegionsStack,
  refOf,
  startRegionsStack,
} from '../../helpers/regions.ts';
import { uniqueTopic } from '../../helpers/tributary.ts';
import { until } from '../../helpers/wait.ts';

let regions: RegionsStack;
let home: Tributary;
let replicaTransport: DirectTransport;

beforeAll(async () => {
  regions = await startRegionsStack(1414);
  home = regions.client(HOME);
  replicaTransport = regions.transport(REPLICA);
}, 120_000);

afterAll(async () => {
  home?.close();
  replicaTransport?.close();
  await regions?.stop();
});

const LIMITS = { maxRecords: 1_000, maxBytes: 1024 * 1024, maxWaitMs: 0 };

/** Offsets one fetch returns from `position`, and where it continues. */
async function fetchOnce(source: PartitionSource, position: number) {
  const fetched = await source.fetch(position, LIMITS);
  return { offsets: fetched.records.map((r) => r.offset), next: fetched.nextOffset };
}

/**
 * A topic with six batches of three records (offsets 0..17, batches at 0, 3, ..., 15) in the home
 * region while the replica is cut off; returns the home's items. The caller reconnects the replica.
 */
async function sixBatchesCutOff() {
  const topic = uniqueTopic('rr');
  await home.admin().createTopic({ topic });
  const { incarnation } = await home.admin().describeTopic(topic);
  await regions.stack.replicator!.settled();
  regions.stack.replicator!.pause(REPLICA);
  const producer = home.producer({ lingerMs: 0 });
  for (let b = 0; b < 6; b++) {
    await producer.send({ topic, messages: [0, 1, 2].map((i) => ({ value: `${b}.${i}` })) });
  }
  await producer.close();
  const ref = refOf({ name: topic, incarnation }, 0);
  const items = await regions.batchItems(HOME, ref);
  expect(offsetsOf(items)).toEqual([0, 3, 6, 9, 12, 15]);
  return { topic, ref, items };
}

async function reconnect(): Promise<void> {
  regions.stack.replicator!.resume(REPLICA);
  await regions.stack.replicator!.settled();
}

describe('a replica reader', () => {
  it('returns what is contiguous at a gap, never an error, and continues in order as batches arrive', async () => {
    const { topic, ref, items } = await sixBatchesCutOff();
    try {
      // Batches arrive out of order: 15, 0, 9, 6 (3 and 12 still missing).
      await regions.copyItems(REPLICA, [items[5]!, items[0]!, items[3]!, items[2]!]);
      // The same state through a reader that does not know it reads a replica: a broken log.
      const unaware = new PartitionReader(replicaTransport.ctx, ref);
      await expect(unaware.fetch(0, LIMITS)).rejects.toThrow(LogInvariantError);

      const source = await replicaTransport.sources()({ topic, partition: 0 });
      expect(await fetchOnce(source, 0)).toEqual({ offsets: [0, 1, 2], next: 3 });
      // At the gap: nothing yet, and the position stays.
      expect(await fetchOnce(source, 3)).toEqual({ offsets: [], next: 3 });
      // A position inside a batch that has not arrived is valid (the home has it): it waits there.
      const inside = await replicaTransport.sources()({ topic, partition: 0 });
      expect(await inside.resolve(13)).toBe(13);
      expect(await fetchOnce(inside, 13)).toEqual({ offsets: [], next: 13 });
      // Beyond the home's high watermark it is out of range, with the home's figures.
      const beyond = await replicaTransport.sources()({ topic, partition: 0 });
      const error = await beyond.resolve(19).catch((e) => e);
      expect(error).toBeInstanceOf(OffsetOutOfRangeError);
      expect(error).toMatchObject({ logStartOffset: 0, highWatermark: 18 });
      expect(await beyond.resolve(18)).toBe(18);

      await regions.copyItems(REPLICA, [items[1]!]);
      expect(await fetchOnce(source, 3)).toEqual({ offsets: [3, 4, 5, 6, 7, 8, 9, 10, 11], next: 12 });
      expect(await fetchOnce(inside, 13)).toEqual({ offsets: [], next: 13 });
      await regions.copyItems(REPLICA, [items[4]!]);
      expect(await fetchOnce(source, 12)).toEqual({ offsets: [12, 13, 14, 15, 16, 17], next: 18 });
      expect(await fetchOnce(inside, 13)).toEqual({ offsets: [13, 14, 15, 16, 17], next: 18 });
    } finally {
      await reconnect();
    }
  });

  it("with replicaGaps: 'read-home', reads the gaps from the home region", async () => {
    const { topic, items } = await sixBatchesCutOff();
    const transport = regions.transport(REPLICA, { replicaGaps: 'read-home' });
    try {
      await regions.copyItems(REPLICA, [items[0]!, items[2]!, items[5]!]);
      const source = await transport.sources()({ topic, partition: 0 });
      const offsets: number[] = [];
      for (let position = 0; position < 18; ) {
        const fetched = await fetchOnce(source, position);
        expect(fetched.offsets.length).toBeGreaterThan(0);
        offsets.push(...fetched.offsets);
        position = fetched.next;
      }
      expect(offsets).toEqual(Array.from({ length: 18 }, (_, i) => i));
      const inside = await transport.sources()({ topic, partition: 0 });
      expect(await inside.resolve(13)).toBe(13);
      expect((await fetchOnce(inside, 13)).offsets[0]).toBe(13);
    } finally {
      transport.close();
      await reconnect();
    }
  });

  it('voids an abandoned claim it finds in the home region, where the claim was made', async () => {
    const topic = uniqueTopic('void');
    await home.admin().createTopic({ topic });
    const { incarnation } = await home.admin().describeTopic(topic);
    const ref = refOf({ name: topic, incarnation }, 0);
    const replicator = regions.stack.replicator!;
    await replicator.settled();
    replicator.pause(REPLICA);
    const observed = replicator.stats().observed;
    const homeTransport = regions.transport(HOME);
    try {
      const producer = home.producer({ lingerMs: 0 });
      await producer.send({ topic, messages: [{ value: 'a' }, { value: 'b' }, { value: 'c' }] });
      // A writer claimed offsets 3..4 and died: its claim's deadline has passed.
      const [first] = await regions.batchItems(HOME, ref);
      const claim = {
        offset: 3,
        count: 2,
        maxTimestamp: Date.now(),
        runningMaxTimestamp: Date.now(),
        runningBytes: Number(first!.rb!.N) + 100,
        producerId: '-1',
        sequence: -1,
      };
      const claimed = await new LogStore(homeTransport.ctx).putPendingClaim(
        ref,
        claim,
        Date.now() - 1_000,
        undefined,
      );
      expect(claimed.kind).toBe('written');
      await producer.send({ topic, messages: [{ value: 'd' }] });
      await producer.close();
      const items = await regions.batchItems(HOME, ref);
      expect(offsetsOf(items)).toEqual([0, 3, 5]);
      await regions.copyItems(REPLICA, items);
      // Last writer wins by the time the replicator reads a write: let it read these six (three in
      // each region) before the reader voids the claim, so the void is the later write.
      await until(() => replicator.stats().observed >= observed + 6, { message: 'the writes to be read' });

      const source = await replicaTransport.sources()({ topic, partition: 0 });
      expect(await fetchOnce(source, 0)).toEqual({ offsets: [0, 1, 2, 5], next: 6 });
      // The void was written in the home region; the replica still shows the claim until it arrives.
      expect((await regions.batchItems(HOME, ref))[1]).toMatchObject({ v: { N: '1' } });
      expect((await regions.batchItems(REPLICA, ref))[1]).toMatchObject({ st: { S: 'p' } });
    } finally {
      homeTransport.close();
      await reconnect();
    }
    expect((await regions.batchItems(REPLICA, ref))[1]).toMatchObject({ v: { N: '1' } });
  });

  it('looks offsets up by timestamp in the home region, whatever the replica holds', async () => {
    const { topic, items } = await sixBatchesCutOff();
    try {
      await regions.copyItems(REPLICA, [items[0]!]);
      const after = Number(items[3]!.ts!.N);
      const replicaAdmin = replicaTransport.admin();
      expect(await replicaAdmin.offsetsForTimestamp(topic, after)).toEqual(
        await home.admin().offsetsForTimestamp(topic, after),
      );
    } finally {
      await reconnect();
    }
  });

  it('reads every record in order during heavy out-of-order replication, skipping none', async () => {
    const topic = uniqueTopic('heavy');
    const partitions = 2;
    const perPartition = 1_500;
    await home.admin().createTopic({ topic, partitions });
    const { incarnation } = await home.admin().describeTopic(topic);
    await regions.stack.replicator!.settled();
    regions.stack.replicator!.setLag({ meanMs: 150, jitterMs: 150 });
    // Each send is one batch: many small batches, each replicated on its own.
    const producers = Array.from({ length: 4 }, () => home.producer({ lingerMs: 0 }));
    const reader = regions.client(REPLICA, { metadataMaxAgeMs: 1_000 });
    const consumer = reader.consumer({ minIdleIntervalMs: 5, maxIdleIntervalMs: 20 });
    await consumer.assign(
      Array.from({ length: partitions }, (_, partition) => ({ topic, partition, offset: 0 })),
    );
    const seen = new Map<number, { offset: number; value: string }[]>();
    const failures: unknown[] = [];
    let done = false;
    const consuming = (async () => {
      while (!done) {
        try {
          for (const batch of await consumer.poll()) {
            const list = seen.get(batch.partition) ?? [];
            for (const m of batch.messages) list.push({ offset: m.offset, value: m.value!.toString() });
            seen.set(batch.partition, list);
          }
        } catch (error) {
          failures.push(error);
          done = true;
        }
      }
    })();
    // Out-of-order arrivals are what this test is about: watch the replica's chain for holes.
    let holes = 0;
    let watching = true;
    const watcher = (async () => {
      while (watching) {
        const items = await regions.batchItems(REPLICA, refOf({ name: topic, incarnation }, 0));
        const offsets = offsetsOf(items);
        const ends = new Set(items.map((i) => Number(i.off!.N) + Number(i.n!.N)));
        if (offsets.some((o) => o > 0 && !ends.has(o))) holes++;
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    })();
    const acknowledged = new Map<number, { offset: number; value: string }[]>();
    try {
      await Promise.all(
        producers.map(async (producer, p) => {
          for (let i = 0; i < (perPartition * partitions) / producers.length / 5; i++) {
            const partition = (i + p) % partitions;
            const values = Array.from({ length: 5 }, (_, j) => `p${p}-${i}-${j}`);
            const metas = await producer.send({
              topic,
              messages: values.map((value) => ({ value, partition })),
            });
            const list = acknowledged.get(partition) ?? [];
            for (const [j, m] of metas.entries()) list.push({ offset: m.offset, value: values[j]! });
            acknowledged.set(partition, list);
          }
        }),
      );
      await until(
        () =>
          failures.length > 0 ||
          [...acknowledged].every(([partition, list]) => (seen.get(partition)?.length ?? 0) >= list.length),
        { timeoutMs: 60_000, message: 'the replica consumer to read every acknowledged record' },
      );
    } finally {
      done = true;
      watching = false;
      await Promise.all([consuming, watcher]);
      await Promise.all(producers.map((p) => p.close()));
      await consumer.close();
      reader.close();
      regions.stack.replicator!.setLag({ meanMs: 60, jitterMs: 60 });
    }
    expect(failures).toEqual([]);
    expect(holes).toBeGreaterThan(0);
    for (const [partition, list] of acknowledged) {
      const expected = [...list].sort((a, b) => a.offset - b.offset);
      expect(expected.map((r) => r.offset)).toEqual(Array.from({ length: list.length }, (_, i) => i));
      expect(seen.get(partition)).toEqual(expected);
    }
  });
});

describe('describeTopic with regions', () => {
  it("shows each region's high watermark and lag, in records and ms, alike over both transports", async () => {
    const started = Date.now();
    const { topic, items } = await sixBatchesCutOff();
    const api = await startApiServer({ connection: regions.options(REPLICA), port: 0 });
    const http = new Tributary({
      transport: 'http',
      endpoint: api.url,
      region: REPLICA,
      retry: { deadlineMs: 15_000 },
    });
    try {
      // The replica holds batches 0 and 9 only: it lacks 3..8 and 12..17 (12 records), the oldest
      // missing batch being the one at 3.
      await regions.copyItems(REPLICA, [items[3]!, items[0]!]);
      const before = Date.now();
      const [described] = (await replicaTransport.admin().describeTopic(topic)).partitions;
      const after = Date.now();
      const byRegion = new Map((described?.regions ?? []).map((r) => [r.region, r]));
      expect([...byRegion.keys()]).toEqual([HOME, REPLICA]);
      expect(byRegion.get(HOME)).toEqual({
        region: HOME,
        home: true,
        highWatermark: 18,
        leaderEpoch: 0,
        lagRecords: 0,
        lagMs: 0,
      } satisfies RegionReplication);
      const lagging = byRegion.get(REPLICA)!;
      expect(lagging).toMatchObject({ home: false, highWatermark: 12, leaderEpoch: 0, lagRecords: 12 });
      const appendedAt = Number(items[1]!.at!.N);
      expect(lagging.lagMs).toBeGreaterThanOrEqual(before - appendedAt);
      expect(lagging.lagMs).toBeLessThanOrEqual(after - started);
      // The offsets at the top are the copy this client reads (its own region's replica).
      expect(described).toMatchObject({ highWatermark: 12, logStartOffset: 0 });
      // The API in the replica region answers the same shape.
      const [overHttp] = (await http.admin().describeTopic(topic)).partitions;
      expect(overHttp?.regions?.map((r) => [r.region, r.highWatermark, r.lagRecords])).toEqual([
        [HOME, 18, 0],
        [REPLICA, 12, 12],
      ]);
    } finally {
      await reconnect();
    }
    try {
      const [caughtUp] = (await replicaTransport.admin().describeTopic(topic)).partitions;
      expect(caughtUp?.regions?.map((r) => [r.region, r.highWatermark, r.lagRecords, r.lagMs])).toEqual([
        [HOME, 18, 0, 0],
        [REPLICA, 18, 0, 0],
      ]);
      const [overHttp] = (await http.admin().describeTopic(topic)).partitions;
      expect(overHttp).toEqual(caughtUp);
    } finally {
      http.close();
      await api.stop();
    }
  });

  it('a single-region client describes exactly as before (no regions field)', async () => {
    const { topic } = await sixBatchesCutOff();
    await reconnect();
    const { regions: _, ...single } = regions.options(HOME);
    const plain = new Tributary(single);
    try {
      const [p] = (await plain.admin().describeTopic(topic)).partitions;
      expect(p).toBeDefined();
      expect(p && 'regions' in p).toBe(false);
      expect(p?.highWatermark).toBe(18);
    } finally {
      plain.close();
    }
  });
});
