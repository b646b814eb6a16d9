/**
 * Batches a forced failover left outside the log, found, read and re-appended on request
 * (`admin.divergence`, `admin.readDivergent`, `admin.reappendDivergent`).
 *
 * Each leader epoch has its own key space, so what the old home wrote at or past the next epoch's
 * start stays there — acknowledged by the old home but not replicated before the failover, or
 * appended before its producers learnt of it — never overwritten by the new epoch's batches and
 * never read as log. A report queries, per partition and old epoch, that key space from the next
 * epoch's start: one query page per 1 MB of such batches, in the old home's region by default (it
 * holds everything it acknowledged; once the regions reconnect every region holds the same). Every
 * complete batch found is listed with what its item says of it: offsets, producer id and sequence,
 * the region and epoch stamped on it, its append time. Fences and voided claims are no batches;
 * claims still pending are counted (a body that lands later makes a batch the next report lists).
 *
 * A listed batch is `divergent` until it is re-appended (`reappended`, with its new offset) or an
 * idempotent producer's retry appended it in the new epoch (`retried`: the same producer id and
 * sequence from the next epoch's start on). Re-appending writes the batch's records as one new batch
 * at the end of the current epoch together with a record of it (`<epoch key>#reappended`, sort key
 * the old offset) in one transaction, conditional on there being no record yet: a second request
 * for the same batch appends nothing and answers where the first put it.
 */
import type { TransactWriteItem } from '@aws-sdk/client-dynamodb';
import { mapLimited } from '../concurrency.ts';
import type { StorageContext } from '../context.ts';
import { InvalidArgumentError, UnknownPartitionError, UnsupportedOperationError } from '../errors.ts';
import { LogAttr, type PartitionRef, partitionLabel, ReappendAttr } from '../keys.ts';
import { collisionBackoffMs } from '../log/append-strategy.ts';
import { type BatchToAppend, batchBytes, MAX_INLINE_BATCH_BYTES, validateBatch } from '../log/appender.ts';
import { BatchWriter } from '../log/batch-writer.ts';
import { loadClaim, storeClaim } from '../log/claim-check.ts';
import { type CompleteSlot, planSlot, slotBytes, slotFromItem, tailAfter } from '../log/log-item.ts';
import { type LogItem, LogStore } from '../log/log-store.ts';
import { decodeRecordBatch } from '../log/record-batch.ts';
import { sleep } from '../retry.ts';
import type { ConsumedHeader } from '../topic-partition.ts';
import type { TopicRegistry } from '../topics/registry.ts';
import { partitionRef, type TopicMetadata } from '../topics/topic-metadata.ts';
import { type DivergentRange, divergentRanges } from './leader-epochs.ts';

/** Names one batch outside the log: its partition, the epoch that wrote it, its offset there. */
export interface DivergentBatchRef {
  readonly partition: number;
  readonly epoch: number;
  readonly offset: number;
}

/**
 * `divergent`: not in the log; `reappended`: its records were appended again (at `finalOffset`);
 * `retried`: an idempotent producer's retry appended it in a later epoch (at `finalOffset`).
 */
export type DivergentStatus = 'divergent' | 'reappended' | 'retried';

/** One batch the old home acknowledged that is not part of the log. */
export interface DivergentBatch extends DivergentBatchRef {
  /** Records (offsets) it covers: `[offset, offset + count)` in its epoch's numbering. */
  readonly count: number;
  /** The writer's producer id (`-1` when not idempotent) and base sequence. */
  readonly producerId: string;
  readonly sequence: number;
  /** The region whose table took it, as stamped on it (`rg`). */
  readonly region: string | undefined;
  /** The leader epoch stamped on it (`le`; the epoch of its key space). */
  readonly leaderEpoch: number;
  /** When it was appended (its `at` stamp, the writer's clock, epoch ms). */
  readonly appendTime: number | undefined;
  /** Its largest record timestamp. */
  readonly maxTimestamp: number;
  /** Bytes of the record batch. */
  readonly bytes: number;
  /** The epoch whose batches hold the log from its `startOffset` on, in place of this one's. */
  readonly replacedBy: { readonly epoch: number; readonly startOffset: number };
  readonly status: DivergentStatus;
  /** Where its records are in the log, once `reappended` or `retried`. */
  readonly finalOffset?: number;
}

/** What {@link Divergence.report} found. */
export interface DivergenceReport {
  readonly topic: string;
  readonly incarnation: string;
  /** Every batch found, by partition, epoch and offset. */
  readonly batches: readonly DivergentBatch[];
  /** Claims still pending past an epoch's end (no batch yet; a later report lists one whose body lands). */
  readonly pendingClaims: number;
}

/** Where a divergence report reads. */
export interface DivergenceOptions {
  /**
   * The region whose copy of the old epochs is read.
   * @default each old epoch's own region (the old home: it holds everything it acknowledged)
   */
  readonly region?: string;
}

/** Options of {@link Divergence.reappend}. */
export interface ReappendOptions extends DivergenceOptions {
  /** Only these batches. @default every `divergent` one */
  readonly batches?: readonly DivergentBatchRef[];
}

/** What a re-append did with one batch. */
export interface ReappendResult extends DivergentBatchRef {
  /** Where its records are now: the first offset of the new batch. */
  readonly finalOffset: number;
  /** `reappended` now, or `already` by an earlier request (nothing appended this time). */
  readonly outcome: 'reappended' | 'already';
}

/** A record of a batch outside the log, as stored. */
export interface DivergentRecord {
  /** Its offset in the old epoch's numbering (not an offset of the log). */
  readonly offset: number;
  readonly timestamp: number;
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  readonly headers: readonly ConsumedHeader[];
}

/** Partitions looked at once. */
const CONCURRENCY = 8;

/** Finds, reads and re-appends batches outside the log, for one client. */
export class Divergence {
  readonly #ctx: StorageContext;
  readonly #registry: TopicRegistry;

  constructor(ctx: StorageContext, registry: TopicRegistry) {
    this.#ctx = ctx;
    this.#registry = registry;
  }

  /** Every batch outside the topic's log (see this module's comment). */
  async report(topic: string, options: DivergenceOptions = {}): Promise<DivergenceReport> {
    const meta = await this.#topic(topic);
    const found = await mapLimited(
      Array.from({ length: meta.partitions }, (_, p) => p),
      CONCURRENCY,
      (partition) => this.#partition(meta, partition, options),
    );
    return {
      topic: meta.name,
      incarnation: meta.incarnation,
      batches: found.flatMap((f) => f.batches),
      pendingClaims: found.reduce((n, f) => n + f.pendingClaims, 0),
    };
  }

  /** The records of one batch outside the log. */
  async read(
    topic: string,
    batch: DivergentBatchRef,
    options: DivergenceOptions = {},
  ): Promise<DivergentRecord[]> {
    const meta = await this.#topic(topic);
    const slot = await this.#slot(meta, batch, options);
    const bytes = await this.#body(slot);
    const decoded = await decodeRecordBatch(
      bytes,
      `${partitionLabel(slot.ref)} epoch ${batch.epoch}@${slot.slot.offset}`,
    );
    return decoded.records.map((r) => ({
      offset: r.offset,
      timestamp: r.timestamp,
      key: r.key === null ? null : Buffer.from(r.key),
      value: r.value === null ? null : Buffer.from(r.value),
      headers: r.headers.map((h) => ({ key: h.key, value: h.value === null ? null : Buffer.from(h.value) })),
    }));
  }

  /**
   * Appends the records of batches outside the log (every `divergent` one, or those named) at the
   * end of the topic's current epoch, each as one batch, in partition and offset order; at most
   * once per batch whatever the number of requests.
   */
  async reappend(topic: string, options: ReappendOptions = {}): Promise<ReappendResult[]> {
    const meta = await this.#topic(topic);
    const report = await this.report(topic, options);
    const wanted = options.batches
      ? options.batches.map((ref) => {
          const found = report.batches.find(
            (b) => b.partition === ref.partition && b.epoch === ref.epoch && b.offset === ref.offset,
          );
          if (!found) {
            throw new InvalidArgumentError(
              `Topic "${topic}" has no batch outside its log at partition ${ref.partition}, epoch ${ref.epoch}, offset ${ref.offset}`,
            );
          }
          return found;
        })
      : report.batches.filter((b) => b.status === 'divergent');
    const writer = new BatchWriter(this.#ctx);
    const byPartition = new Map<number, DivergentBatch[]>();
    for (const b of wanted) byPartition.set(b.partition, [...(byPartition.get(b.partition) ?? []), b]);
    const results = await mapLimited([...byPartition.values()], CONCURRENCY, async (list) => {
      const out: ReappendResult[] = [];
      const ordered = [...list].sort((a, b) => a.epoch - b.epoch || a.offset - b.offset);
      for (const b of ordered) {
        if (b.status !== 'divergent' && b.finalOffset !== undefined) {
          out.push({ ...refOf(b), finalOffset: b.finalOffset, outcome: 'already' });
        } else {
          out.push(await this.#reappendOne(meta, writer, b, options));
        }
      }
      return out;
    });
    return results
      .flat()
      .sort((a, b) => a.partition - b.partition || a.epoch - b.epoch || a.offset - b.offset);
  }

  async #topic(topic: string): Promise<TopicMetadata> {
    if (!this.#ctx.regions) {
      throw new UnsupportedOperationError(
        "Batches outside the log exist only after a failover between the deployment's regions: give the client " +
          '`regions` (or TRIBUTARY_REGIONS).',
      );
    }
    return this.#registry.get(topic);
  }

  /** The store a report of `range` reads (the old home's, unless `options.region`). */
  #store(range: Pick<DivergentRange, 'region'>, options: DivergenceOptions): LogStore {
    return new LogStore(this.#ctx.regions!.context(options.region ?? range.region));
  }

  /** The store of the topic's home (where re-append records are). */
  #home(meta: TopicMetadata): LogStore {
    const regions = this.#ctx.regions!;
    return new LogStore(regions.context(regions.homeOf(meta)));
  }

  async #partition(
    meta: TopicMetadata,
    partition: number,
    options: DivergenceOptions,
  ): Promise<{ batches: DivergentBatch[]; pendingClaims: number }> {
    const ref = partitionRef(meta, partition);
    const batches: DivergentBatch[] = [];
    let pendingClaims = 0;
    for (const range of divergentRanges(ref.epochs)) {
      const store = this.#store(range, options);
      const records = await reappendRecords(this.#home(meta), ref, range.epoch);
      let startKey: LogItem | undefined;
      do {
        const page = await store.keySpaceItems(ref, range.epoch, range.from, true, startKey);
        startKey = page.lastKey;
        for (const item of page.items) {
          const slot = slotFromItem(item);
          if (slot.kind === 'pending') pendingClaims++;
          if (slot.kind !== 'complete' || slot.voided) continue;
          const finalOffset =
            records.get(slot.offset) ?? (await this.#retriedAt(meta, ref, slot, range.from));
          const status: DivergentStatus = records.has(slot.offset)
            ? 'reappended'
            : finalOffset === undefined
              ? 'divergent'
              : 'retried';
          batches.push({
            partition,
            epoch: range.epoch,
            offset: slot.offset,
            count: slot.count,
            producerId: slot.producerId,
            sequence: slot.sequence,
            region: slot.written?.region,
            leaderEpoch: slot.leaderEpoch ?? 0,
            appendTime: slot.written?.at,
            maxTimestamp: slot.maxTimestamp,
            bytes: slotBytes(slot),
            replacedBy: { epoch: range.nextEpoch, startOffset: range.from },
            status,
            ...(finalOffset === undefined ? {} : { finalOffset }),
          });
        }
      } while (startKey);
    }
    return { batches, pendingClaims };
  }

  /**
   * Where an idempotent producer's batch was appended in the log from `from` on (its retry reached
   * the new home), if it was.
   */
  async #retriedAt(
    meta: TopicMetadata,
    ref: PartitionRef,
    slot: CompleteSlot,
    from: number,
  ): Promise<number | undefined> {
    if (slot.producerId === '-1') return undefined;
    const home = this.#home(meta);
    let startKey: LogItem | undefined;
    do {
      const page = await home.findProducerBatches(ref, slot.producerId, slot.sequence, from, startKey);
      startKey = page.lastKey;
      for (const item of page.items) {
        const found = slotFromItem(item);
        if (found.kind !== 'pending' && found.kind !== 'fence' && !found.voided) return found.offset;
      }
    } while (startKey);
    return undefined;
  }

  /** One batch outside the log, checked to be one, with the ref it was read with. */
  async #slot(
    meta: TopicMetadata,
    batch: DivergentBatchRef,
    options: DivergenceOptions,
  ): Promise<{ ref: PartitionRef; slot: CompleteSlot }> {
    if (!Number.isInteger(batch.partition) || batch.partition < 0 || batch.partition >= meta.partitions) {
      throw new UnknownPartitionError(meta.name, batch.partition, meta.partitions);
    }
    const ref = partitionRef(meta, batch.partition);
    const range = divergentRanges(ref.epochs).find((r) => r.epoch === batch.epoch);
    if (range && Number.isSafeInteger(batch.offset) && batch.offset >= range.from) {
      const page = await this.#store(range, options).keySpaceItems(
        ref,
        range.epoch,
        batch.offset,
        true,
        undefined,
      );
      const first = page.items[0];
      const slot = first ? slotFromItem(first) : undefined;
      if (slot?.kind === 'complete' && slot.offset === batch.offset && !slot.voided) return { ref, slot };
    }
    throw new InvalidArgumentError(
      `Topic "${meta.name}" has no batch outside its log at partition ${batch.partition}, epoch ${batch.epoch}, offset ${batch.offset}`,
    );
  }

  /** A complete slot's bytes (loaded from S3 for a claim-check batch). */
  #body(read: { ref: PartitionRef; slot: CompleteSlot }): Promise<Uint8Array> {
    const { slot } = read;
    return slot.claim ? loadClaim(this.#ctx, slot.claim, slot.offset) : Promise.resolve(slot.body);
  }

  /**
   * Appends one batch's records at the end of the current epoch with the record of it, in one
   * transaction that only succeeds while there is no record: exactly once.
   */
  async #reappendOne(
    meta: TopicMetadata,
    writer: BatchWriter,
    batch: DivergentBatch,
    options: DivergenceOptions,
  ): Promise<ReappendResult> {
    const read = await this.#slot(meta, batch, options);
    const body = await this.#body(read);
    const appender = writer.appender(meta, batch.partition);
    const store = new LogStore(appender.storage);
    // The batch's bytes as they are (keys, values, headers, timestamps, codec); a new S3 object
    // for a large one, so the divergent batch keeps its own.
    const large =
      body.byteLength >= meta.config.largeMessageThresholdBytes || body.byteLength > MAX_INLINE_BATCH_BYTES;
    const claim = large ? await storeClaim(this.#ctx, appender.ref, body, '-1', -1) : undefined;
    const toAppend: BatchToAppend = {
      body,
      count: batch.count,
      maxTimestamp: batch.maxTimestamp,
      producerId: '-1',
      sequence: -1,
      ...(claim ? { claim } : {}),
    };
    validateBatch(toAppend, appender.label);
    return appender.exclusive(async () => {
      for (let round = 1; ; round++) {
        const tail = await appender.knownTail();
        const slot = planSlot(tail, toAppend, batchBytes(toAppend));
        const record: TransactWriteItem = store.reappendRecord(
          read.ref,
          batch.epoch,
          batch.offset,
          slot.offset,
        );
        const outcome = await store.appendTransaction(
          [{ ref: appender.ref, slot, batch: toAppend }],
          [record],
        );
        if (outcome.kind === 'written') {
          appender.learnTail(tailAfter(slot));
          return { ...refOf(batch), finalOffset: slot.offset, outcome: 'reappended' };
        }
        const [forBatch, forRecord] = outcome.reasons;
        if (forRecord?.Code === 'ConditionalCheckFailed') {
          const at = forRecord.Item?.[ReappendAttr.finalOffset]?.N;
          return { ...refOf(batch), finalOffset: Number(at), outcome: 'already' };
        }
        if (forBatch?.Code === 'ConditionalCheckFailed' && forBatch.Item) {
          const occupant = slotFromItem(forBatch.Item);
          if (occupant.kind === 'fence') throw appender.moved(occupant);
          appender.learnTail(tailAfter(occupant));
        }
        await sleep(Math.max(collisionBackoffMs(round), 10));
      }
    });
  }
}

/** The records of re-appended batches of one epoch of a partition: old offset → new offset. */
async function reappendRecords(
  home: LogStore,
  ref: PartitionRef,
  epoch: number,
): Promise<Map<number, number>> {
  const out = new Map<number, number>();
  let startKey: LogItem | undefined;
  do {
    const page = await home.keySpacePage(ref, { kind: 'reappended', epoch }, startKey);
    startKey = page.lastKey;
    for (const item of page.items) {
      const to = item[ReappendAttr.finalOffset]?.N;
      const offset = item[LogAttr.offset]?.N;
      if (to !== undefined && offset !== undefined) out.set(Number(offset), Number(to));
    }
  } while (startKey);
  return out;
}

function refOf(b: DivergentBatchRef): DivergentBatchRef {
  return { partition: b.partition, epoch: b.epoch, offset: b.offset };
}
