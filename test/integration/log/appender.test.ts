/**
 * The offset chain against DynamoDB Local: racing writers, lost responses, throttling, the
 * two-phase path with abandoned claims, expected-offset appends and atomic appends.
 */
import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { describe, expect, it } from 'vitest';
import { ConcurrentAppendError, RecordTooLargeError } from '../../../sdk/src/errors.ts';
import type { PartitionRef } from '../../../sdk/src/keys.ts';
import type { AppendPath } from '../../../sdk/src/log/append-strategy.ts';
import {
  type BatchToAppend,
  MAX_INLINE_BATCH_BYTES,
  PartitionAppender,
} from '../../../sdk/src/log/appender.ts';
import { appendAtomically } from '../../../sdk/src/log/atomic-append.ts';
import type { CompleteSlot } from '../../../sdk/src/log/log-item.ts';
import { PartitionReader } from '../../../sdk/src/log/reader.ts';
import { decodeRecordBatch, encodeRecordBatch } from '../../../sdk/src/log/record-batch.ts';
import { injectFaults } from '../../helpers/faults.ts';
import { seededRandom, testSeed } from '../../helpers/random.ts';
import { testContext, testDynamoDB, uniqueTopic } from '../../helpers/tributary.ts';

function newRef(): PartitionRef {
  return { topic: uniqueTopic('log'), incarnation: 'i1', partition: 0 };
}

let nextProducerId = 1000;

/** A batch of `values` (UTF-8) from one producer, with the producer id and sequence given. */
async function batchOf(values: string[], producerId: number, sequence: number): Promise<BatchToAppend> {
  const body = await encodeRecordBatch({
    baseOffset: 0,
    records: values.map((v, i) => ({
      key: null,
      value: Buffer.from(v),
      timestamp: 1_700_000_000_000 + i,
      headers: [],
    })),
    compression: 'none',
    producerId: BigInt(producerId),
    producerEpoch: 0,
    baseSequence: sequence,
  });
  return {
    body,
    count: values.length,
    maxTimestamp: 1_700_000_000_000 + values.length - 1,
    producerId: String(producerId),
    sequence,
  };
}

/** Reads a whole partition through the reader; returns values in offset order with their offsets. */
async function readAll(reader: PartitionReader): Promise<{ offset: number; value: string }[]> {
  const out: { offset: number; value: string }[] = [];
  let offset = 0;
  for (;;) {
    const { batches, nextOffset, blockedByPending } = await reader.fetch(offset, {
      maxRecords: 10_000,
      maxBytes: 8 << 20,
    });
    for (const slot of batches as CompleteSlot[]) {
      const batch = await decodeRecordBatch(slot.body);
      for (const r of batch.records) out.push({ offset: r.offset, value: Buffer.from(r.value!).toString() });
    }
    if (batches.length === 0 && !blockedByPending) return out;
    if (blockedByPending && batches.length === 0) await new Promise((r) => setTimeout(r, 20));
    offset = nextOffset;
  }
}

function expectDenseAndUnique(records: { offset: number; value: string }[], expectedCount: number): void {
  expect(records.map((r) => r.offset)).toEqual(Array.from({ length: expectedCount }, (_, i) => i));
  expect(new Set(records.map((r) => r.value)).size).toBe(expectedCount);
}

describe('PartitionAppender', () => {
  it.each<AppendPath>(['one-phase', 'two-phase'])(
    'keeps offsets dense and unique with 8 writers racing on one partition (%s)',
    async (path) => {
      const ctx = testContext();
      const ref = newRef();
      const writers = 8;
      const batchesPerWriter = 25;
      const acked: { writer: number; batch: number; offset: number }[] = [];
      await Promise.all(
        Array.from({ length: writers }, async (_, w) => {
          const appender = new PartitionAppender(ctx, ref, { path });
          const pid = nextProducerId++;
          for (let b = 0; b < batchesPerWriter; b++) {
            const values = Array.from({ length: 1 + ((w + b) % 4) }, (_, i) => `w${w}-b${b}-r${i}`);
            const result = await appender.append(await batchOf(values, pid, b * 10));
            acked.push({ writer: w, batch: b, offset: result.baseOffset });
          }
        }),
      );
      const records = await readAll(new PartitionReader(ctx, ref));
      const total = Array.from({ length: writers }, (_, w) =>
        Array.from({ length: batchesPerWriter }, (_, b) => 1 + ((w + b) % 4)).reduce((a, c) => a + c, 0),
      ).reduce((a, c) => a + c, 0);
      expectDenseAndUnique(records, total);
      // Every acknowledged batch is where its ack said, and each writer's batches keep their order.
      const byOffset = new Map(records.map((r) => [r.offset, r.value]));
      for (const a of acked) expect(byOffset.get(a.offset)).toBe(`w${a.writer}-b${a.batch}-r0`);
      for (let w = 0; w < writers; w++) {
        const offsets = acked
          .filter((a) => a.writer === w)
          .sort((x, y) => x.batch - y.batch)
          .map((a) => a.offset);
        expect([...offsets].sort((x, y) => x - y)).toEqual(offsets);
      }
    },
  );

  it.each<AppendPath>(['one-phase', 'two-phase'])(
    'writes each batch exactly once when responses are lost, requests throttled or failed before sending (%s)',
    async (path) => {
      const seed = testSeed('lost-responses');
      const random = seededRandom(seed);
      const ddb = testDynamoDB();
      const faults = injectFaults(ddb, ({ command }) => {
        if (command !== 'PutItemCommand' && command !== 'UpdateItemCommand') return undefined;
        const roll = random();
        if (roll < 0.25) return 'drop-response';
        if (roll < 0.35) return 'throttle';
        if (roll < 0.45) return 'fail-before-send';
        return undefined;
      });
      const ctx = testContext(ddb);
      const ref = newRef();
      const acked: number[] = [];
      await Promise.all(
        Array.from({ length: 4 }, async (_, w) => {
          const appender = new PartitionAppender(ctx, ref, { path });
          const pid = nextProducerId++;
          for (let b = 0; b < 20; b++) {
            const result = await appender.append(await batchOf([`w${w}-b${b}`], pid, b));
            acked.push(result.baseOffset);
          }
        }),
      );
      faults.remove();
      expect(faults.counts.dropResponse).toBeGreaterThan(5);
      expect(faults.counts.throttle).toBeGreaterThan(0);
      const records = await readAll(new PartitionReader(testContext(), ref));
      expectDenseAndUnique(records, 80);
      expect([...acked].sort((a, b) => a - b)).toEqual(records.map((r) => r.offset));
    },
  );

  it('voids a claim abandoned by a crashed writer so the partition is not blocked', async () => {
    let clock = Date.now();
    const ddb = testDynamoDB();
    const ctx = testContext(ddb, () => clock);
    const ref = newRef();
    await new PartitionAppender(ctx, ref).append(await batchOf(['first'], nextProducerId++, 0));
    // The writer claims offset 1, then "crashes": its body write never reaches DynamoDB.
    const crash = injectFaults(ddb, ({ command }) =>
      command === 'UpdateItemCommand'
        ? { error: Object.assign(new Error('process died'), { name: 'Crash' }) }
        : undefined,
    );
    const crashed = new PartitionAppender(ctx, ref, { path: 'two-phase', pendingTimeoutMs: 1_000 });
    await expect(crashed.append(await batchOf(['lost-a', 'lost-b'], nextProducerId++, 0))).rejects.toThrow(
      'process died',
    );
    crash.remove();
    const reader = new PartitionReader(
      testContext(ddb, () => clock),
      ref,
    );
    // Before the deadline a reader waits at the claim.
    const blocked = await reader.fetch(1, { maxRecords: 100, maxBytes: 1 << 20 });
    expect(blocked).toMatchObject({ batches: [], nextOffset: 1, blockedByPending: true });
    // Another writer appends after the claim meanwhile.
    await new PartitionAppender(ctx, ref).append(await batchOf(['after'], nextProducerId++, 0));
    clock += 1_001;
    const records = await readAll(reader);
    expect(records).toEqual([
      { offset: 0, value: 'first' },
      { offset: 3, value: 'after' },
    ]);
    const fetched = await reader.fetch(1, { maxRecords: 100, maxBytes: 1 << 20 });
    expect(fetched.batches[0]).toMatchObject({ offset: 1, count: 2, voided: true });
  });

  it('re-appends a batch whose claim was voided while its body write was late', async () => {
    let clock = Date.now();
    const ddb = testDynamoDB();
    const ctx = testContext(ddb, () => clock);
    const ref = newRef();
    const reader = new PartitionReader(
      testContext(testDynamoDB(), () => clock),
      ref,
    );
    const claimLanded = Promise.withResolvers<void>();
    const readerDone = Promise.withResolvers<void>();
    let held = false;
    // Hold the first body write until a reader past the deadline has voided the claim.
    const slow = injectFaults(ddb, ({ command }) => {
      if (command !== 'UpdateItemCommand' || held) return undefined;
      held = true;
      return {
        before: async () => {
          claimLanded.resolve();
          await readerDone.promise;
        },
      };
    });
    const late = new PartitionAppender(ctx, ref, { path: 'two-phase', pendingTimeoutMs: 1_000 });
    const appending = late.append(await batchOf(['late'], nextProducerId++, 0));
    await claimLanded.promise;
    clock += 1_001;
    const fetched = await reader.fetch(0, { maxRecords: 10, maxBytes: 1 << 20 });
    expect(fetched.batches[0]).toMatchObject({ offset: 0, voided: true });
    readerDone.resolve();
    const result = await appending;
    slow.remove();
    expect(result.baseOffset).toBe(1);
    expect(await readAll(reader)).toEqual([{ offset: 1, value: 'late' }]);
  });

  it('appends at an expected offset only if the tail is there', async () => {
    const ctx = testContext();
    const ref = newRef();
    const appender = new PartitionAppender(ctx, ref);
    const pid = nextProducerId++;
    expect((await appender.append(await batchOf(['a'], pid, 0), { expectedOffset: 0 })).baseOffset).toBe(0);
    const other = new PartitionAppender(ctx, ref);
    await expect(
      other.append(await batchOf(['b'], nextProducerId++, 0), { expectedOffset: 0 }),
    ).rejects.toBeInstanceOf(ConcurrentAppendError);
    // Never creates a gap: an offset past the tail is refused too.
    await expect(
      other.append(await batchOf(['c'], nextProducerId++, 0), { expectedOffset: 5 }),
    ).rejects.toMatchObject({
      code: 'CONCURRENT_APPEND',
      expectedOffset: 5,
      actualOffset: 1,
    });
    expect(
      (await other.append(await batchOf(['d'], nextProducerId++, 0), { expectedOffset: 1 })).baseOffset,
    ).toBe(1);
    expect(await readAll(new PartitionReader(ctx, ref))).toEqual([
      { offset: 0, value: 'a' },
      { offset: 1, value: 'd' },
    ]);
  });

  it('refuses a batch larger than an item before writing anything', async () => {
    const ctx = testContext();
    const ref = newRef();
    const big = await batchOf(['x'.repeat(MAX_INLINE_BATCH_BYTES)], nextProducerId++, 0);
    await expect(new PartitionAppender(ctx, ref).append(big)).rejects.toBeInstanceOf(RecordTooLargeError);
    expect(await new PartitionReader(ctx, ref).highWatermark()).toBe(0);
  });
});

describe('appendAtomically', () => {
  it('appends to several partitions all at once, exactly once under a lost response', async () => {
    const ddb = testDynamoDB();
    const ctx = testContext(ddb);
    const topic = uniqueTopic('atomic');
    const refs = [0, 1, 2].map((partition) => ({ topic, incarnation: 'i1', partition }));
    const appenders = refs.map((ref) => new PartitionAppender(ctx, ref));
    await appenders[1]!.append(await batchOf(['existing'], nextProducerId++, 0));
    let dropped = 0;
    const faults = injectFaults(ddb, ({ command }) =>
      command === 'TransactWriteItemsCommand' && dropped++ === 0 ? 'drop-response' : undefined,
    );
    const pid = nextProducerId++;
    const results = await appendAtomically(
      ctx,
      await Promise.all(
        appenders.map(async (appender, i) => ({ appender, batch: await batchOf([`p${i}`], pid, 0) })),
      ),
    );
    faults.remove();
    expect(faults.counts.dropResponse).toBe(1);
    expect(results.map((r) => r.baseOffset)).toEqual([0, 1, 0]);
    const contents = await Promise.all(refs.map((ref) => readAll(new PartitionReader(ctx, ref))));
    expect(contents.map((c) => c.map((r) => r.value))).toEqual([['p0'], ['existing', 'p1'], ['p2']]);
  });

  it('writes nothing when the transaction fails', async () => {
    const ddb = testDynamoDB();
    const ctx = testContext(ddb);
    const topic = uniqueTopic('atomic');
    const refs = [0, 1].map((partition) => ({ topic, incarnation: 'i1', partition }));
    const appenders = refs.map((ref) => new PartitionAppender(ctx, ref));
    // A caller item whose condition fails cancels the whole transaction.
    const pid = nextProducerId++;
    await expect(
      appendAtomically(
        ctx,
        await Promise.all(
          appenders.map(async (appender, i) => ({ appender, batch: await batchOf([`p${i}`], pid, 0) })),
        ),
        [
          {
            ConditionCheck: {
              TableName: ctx.tables.topics,
              Key: { name: { S: `${topic}-missing` } },
              ConditionExpression: 'attribute_exists(#n)',
              ExpressionAttributeNames: { '#n': 'name' },
            },
          },
        ],
      ),
    ).rejects.toMatchObject({ code: 'TRANSACTION_CONDITION_FAILED', failedItems: [0] });
    const injected = injectFaults(ddb, ({ command }) =>
      command === 'TransactWriteItemsCommand'
        ? {
            error: new TransactionCanceledException({
              message: 'Injected',
              $metadata: {},
              CancellationReasons: [],
            }),
          }
        : undefined,
    );
    const failing = appendAtomically(
      ctx,
      await Promise.all(
        appenders.map(async (appender, i) => ({ appender, batch: await batchOf([`q${i}`], pid, 1) })),
      ),
    );
    // An injected cancellation without reasons is retried (it looks like a conflict); stop after a few.
    await new Promise((resolve) => setTimeout(resolve, 200));
    injected.remove();
    await failing;
    const contents = await Promise.all(refs.map((ref) => readAll(new PartitionReader(ctx, ref))));
    expect(contents.map((c) => c.map((r) => r.value))).toEqual([['q0'], ['q1']]);
    expect(injected.counts.error).toBeGreaterThan(0);
  });
});
