/**
 * Randomized chaos (seeded, bounded in time): members join, leave gracefully, crash and pause
 * (heartbeats stall while the member keeps processing, i.e. a zombie) while producers write.
 * Invariants checked:
 * - every produced record is processed at least once;
 * - each partition's committed offset only moves forward, and only to offsets whose records
 *   some member had processed;
 * - on the transactional path (offsets committed in the same transaction as the outputs), every
 *   input appears in the output topic exactly once.
 */
import { describe, expect, it } from 'vitest';
import { LeaseStore } from '../../../sdk/src/groups/lease-store.ts';
import {
  type ConsumedBatch,
  type GroupConsumer,
  LeaseLostError,
  type Tributary,
} from '../../../sdk/src/index.ts';
import { injectFaults } from '../../helpers/faults.ts';
import { seededRandom, testSeed } from '../../helpers/random.ts';
import { testClient, testContext, testDynamoDB, uniqueTopic } from '../../helpers/tributary.ts';
import { until } from '../../helpers/wait.ts';

const HEARTBEAT_MS = 100;
const SESSION_MS = 600;
const PARTITIONS = 6;
const RECORDS = 600;
const CHAOS_MS = 6_000;

interface ChaosMember {
  consumer: GroupConsumer<Buffer | null>;
  client: Tributary;
  /** Releases a pause, if one is in progress. */
  unpause: (() => void) | undefined;
  setPaused: (paused: boolean) => void;
}

type Mode = 'at-least-once' | 'transactional';

async function runChaos(mode: Mode) {
  const seed = testSeed(`chaos-${mode}`);
  const random = seededRandom(seed);
  const admin = testClient().admin();
  const input = uniqueTopic('chaos-in');
  const output = uniqueTopic('chaos-out');
  const group = uniqueTopic('chaos-g');
  await admin.createTopic({ topic: input, partitions: PARTITIONS });
  await admin.createTopic({ topic: output, partitions: 2 });

  const processed = new Map<number, Set<number>>(
    Array.from({ length: PARTITIONS }, (_, p) => [p, new Set<number>()]),
  );
  const processedValues = new Set<string>();
  const members: ChaosMember[] = [];
  const stopped: ChaosMember[] = [];

  async function join(): Promise<void> {
    const ddb = testDynamoDB();
    let paused = false;
    let gate = Promise.withResolvers<void>();
    injectFaults(ddb, ({ command, input: req }) => {
      const key = (req.Key as { k?: { S?: string } } | undefined)?.k?.S ?? '';
      return paused && command === 'UpdateItemCommand' && key.startsWith('member#')
        ? { before: () => gate.promise }
        : undefined;
    });
    const client = testClient({ dynamoDBClient: ddb, metadataMaxAgeMs: 1_000 });
    const consumer = client.consumer({
      groupId: group,
      heartbeatIntervalMs: HEARTBEAT_MS,
      sessionTimeoutMs: SESSION_MS,
      autoCommit: mode === 'at-least-once',
      autoCommitIntervalMs: 50,
      maxIdleIntervalMs: 50,
      maxRecords: 20,
      onError: () => undefined,
    });
    const member: ChaosMember = {
      consumer,
      client,
      unpause: undefined,
      setPaused: (p) => {
        paused = p;
        if (!p) {
          gate.resolve();
          gate = Promise.withResolvers<void>();
        }
      },
    };
    await consumer.subscribe({ topics: [input], fromBeginning: true });
    const record = (batch: ConsumedBatch<Buffer | null>) => {
      for (const m of batch.messages) {
        processed.get(m.partition)!.add(m.offset);
        processedValues.add(m.value!.toString());
      }
    };
    if (mode === 'at-least-once') {
      await consumer.run({
        eachMessage: async (m) => {
          processed.get(m.partition)!.add(m.offset);
          processedValues.add(m.value!.toString());
        },
      });
    } else {
      await consumer.run({
        eachBatch: async (batch) => {
          // Processed (transformed) first; the transaction then commits outputs and offset together.
          record(batch);
          try {
            await consumer.transaction({
              offsets: [{ topic: batch.topic, partition: batch.partition, offset: batch.nextOffset }],
              send: [
                { topic: output, messages: batch.messages.map((m) => ({ key: m.key, value: m.value })) },
              ],
            });
          } catch (error) {
            if (error instanceof LeaseLostError) return; // A zombie: its outputs were not written.
            throw error;
          }
        },
      });
    }
    members.push(member);
  }

  // Watch committed offsets: they only move forward, and only over processed records.
  const store = new LeaseStore(testContext(), group);
  const highest = new Map<number, number>();
  const violations: string[] = [];
  let watching = true;
  const watcher = (async () => {
    while (watching) {
      for (const lease of (await store.snapshot()).leases) {
        if (lease.offset === undefined) continue;
        const before = highest.get(lease.partition) ?? 0;
        if (lease.offset < before)
          violations.push(`p${lease.partition} went back from ${before} to ${lease.offset}`);
        highest.set(lease.partition, Math.max(before, lease.offset));
        const seen = processed.get(lease.partition)!;
        for (let o = before; o < lease.offset; o++) {
          if (!seen.has(o))
            violations.push(
              `p${lease.partition} committed ${lease.offset} but offset ${o} was never processed`,
            );
        }
      }
      await new Promise((r) => setTimeout(r, 40));
    }
  })();

  const producerClient = testClient();
  const producer = producerClient.producer({ lingerMs: 2 });
  const values = Array.from({ length: RECORDS }, (_, i) => `v${i}`);
  const producing = (async () => {
    for (let i = 0; i < RECORDS; i += 20) {
      await producer.send({
        topic: input,
        messages: values.slice(i, i + 20).map((value) => ({ key: value, value })),
      });
      await new Promise((r) => setTimeout(r, (CHAOS_MS / RECORDS) * 20 * random()));
    }
    await producer.close();
  })();

  await join();
  await join();
  const events: string[] = [];
  const chaosEnd = Date.now() + CHAOS_MS;
  while (Date.now() < chaosEnd) {
    await new Promise((r) => setTimeout(r, 150 + random() * 300));
    const roll = random();
    if (members.length < 2 || roll < 0.3) {
      await join();
      events.push('join');
    } else if (roll < 0.5) {
      const m = members.splice(Math.floor(random() * members.length), 1)[0]!;
      await m.consumer.disconnect();
      stopped.push(m);
      events.push('leave');
    } else if (roll < 0.7) {
      const m = members.splice(Math.floor(random() * members.length), 1)[0]!;
      await m.consumer.abandon();
      stopped.push(m);
      events.push('crash');
    } else {
      const m = members[Math.floor(random() * members.length)]!;
      m.setPaused(true);
      const pauseMs = SESSION_MS * (0.5 + random());
      setTimeout(() => m.setPaused(false), pauseMs);
      events.push(`pause ${Math.round(pauseMs)}ms`);
    }
  }
  await producing;
  for (const m of members) m.setPaused(false);
  await join();
  await until(() => processedValues.size === RECORDS, {
    timeoutMs: 30_000,
    message: `all ${RECORDS} records processed (seed ${seed}; events ${events.join(', ')})`,
  });
  watching = false;
  await watcher;
  for (const m of members) await m.consumer.disconnect();
  for (const m of [...members, ...stopped]) m.client.close();
  producerClient.close();
  return { seed, events, violations, output, processedValues };
}

describe('consumer group chaos', () => {
  it('processes every record at least once and commits only forward over processed records', async () => {
    const { seed, events, violations, processedValues } = await runChaos('at-least-once');
    expect(events.length, `seed ${seed}`).toBeGreaterThan(5);
    expect(violations, `seed ${seed}`).toEqual([]);
    expect(processedValues.size).toBe(RECORDS);
  });

  it('produces every output exactly once with transactional commits', async () => {
    const { seed, violations, output } = await runChaos('transactional');
    expect(violations, `seed ${seed}`).toEqual([]);
    const reader = testClient();
    const consumer = reader.consumer({ maxRecords: 1000 });
    await consumer.assign([0, 1].map((partition) => ({ topic: output, partition, offset: 0 })));
    const values: string[] = [];
    for (;;) {
      const batches = await consumer.poll();
      if (batches.length === 0) break;
      for (const b of batches) values.push(...b.messages.map((m) => m.value!.toString()));
    }
    reader.close();
    const counts = new Map<string, number>();
    for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
    const duplicates = [...counts].filter(([, n]) => n > 1);
    expect(duplicates, `seed ${seed}`).toEqual([]);
    expect(counts.size, `seed ${seed}`).toBe(RECORDS);
  });
});
