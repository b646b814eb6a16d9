/**
 * Atomic multi-partition append: one batch for each of up to 100 partitions (plus optional
 * caller items, e.g. offset commits) in one `TransactWriteItems`, so all appear or none do.
 *
 * Each batch is a conditional put at its partition's tail slot, exactly like a one-phase append.
 * A lost response is retried with the same client request token and the same slots, which
 * DynamoDB makes idempotent; a cancelled transaction whose occupants carry our own producer id and
 * sequence had in fact landed. A collision on any partition moves that partition's slot to the
 * occupant's end and retries the whole transaction with a new token. A failover's fence in any
 * slot ends the attempt with the retriable `TopicMovedError` (nothing was written).
 */
import type { TransactWriteItem } from '@aws-sdk/client-dynamodb';
import type { StorageContext } from '../context.ts';
import {
  InvalidArgumentError,
  TransactionConditionFailedError,
  TransactionTooLargeError,
  UnsupportedOperationError,
} from '../errors.ts';
import { sleep } from '../retry.ts';
import { collisionBackoffMs, writeUnits } from './append-strategy.ts';
import {
  type AppendResult,
  type BatchToAppend,
  batchBytes,
  type PartitionAppender,
  storedItemBytes,
  validateBatch,
} from './appender.ts';
import { isOwnSlot, planSlot, type SlotBase, slotFromItem, tailAfter } from './log-item.ts';
import { LogStore } from './log-store.ts';

/** DynamoDB's limit on items in one transaction. */
export const MAX_TRANSACTION_ITEMS = 100;
/** DynamoDB's limit on the total size of one transaction. */
export const MAX_TRANSACTION_BYTES = 4 * 1024 * 1024;

/** One partition's part of an atomic append. */
export interface AtomicEntry {
  readonly appender: PartitionAppender;
  readonly batch: BatchToAppend;
}

/**
 * Appends all batches atomically; results are in the order of `entries`. The transaction is sent
 * to the region of the entries' appenders (their topics' home); `ctx` is where it goes when there
 * are only extra items. DynamoDB transactions never span regions, so topics homed in different
 * regions are refused with {@link UnsupportedOperationError} before anything is written.
 */
export async function appendAtomically(
  ctx: StorageContext,
  entries: readonly AtomicEntry[],
  extraItems: readonly TransactWriteItem[] = [],
): Promise<AppendResult[]> {
  validate(entries, extraItems);
  const storage = transactionContext(ctx, entries);
  // Take every partition's turn in a fixed order so concurrent atomic appends cannot deadlock.
  const ordered = [...entries].sort((a, b) => a.appender.partitionKey.localeCompare(b.appender.partitionKey));
  const run = (i: number): Promise<AppendResult[]> =>
    i === ordered.length
      ? attempt(storage, entries, extraItems)
      : ordered[i]!.appender.exclusive(() => run(i + 1));
  return run(0);
}

async function attempt(
  ctx: StorageContext,
  entries: readonly AtomicEntry[],
  extraItems: readonly TransactWriteItem[],
): Promise<AppendResult[]> {
  const store = new LogStore(ctx);
  const collisions = entries.map(() => 0);
  for (let round = 1; ; round++) {
    const tails = await Promise.all(entries.map((e) => e.appender.knownTail()));
    const slots = entries.map(({ batch }, i) => planSlot(tails[i]!, batch, batchBytes(batch)));
    const outcome = await store.appendTransaction(
      entries.map(({ appender, batch }, i) => ({ ref: appender.ref, slot: slots[i]!, batch })),
      extraItems,
    );
    if (outcome.kind === 'written') {
      for (const { appender, batch } of entries) {
        // Transactions bill two units per KB.
        appender.stats.writeUnits += 2 * writeUnits(storedItemBytes(batch));
        appender.recordAttempt(false);
      }
      return acknowledge(entries, slots, collisions, false);
    }
    const { reasons } = outcome;
    const occupants = entries.map((_, i) => {
      const reason = reasons[i];
      return reason?.Code === 'ConditionalCheckFailed' && reason.Item ? slotFromItem(reason.Item) : undefined;
    });
    // A failover's fence took a slot: the topic is moving, nothing was written.
    for (const [i, occupant] of occupants.entries()) {
      if (occupant?.kind === 'fence') throw entries[i]!.appender.moved(occupant);
    }
    const landed = occupants.findIndex(
      (o, i) => o && isOwnSlot(o, entries[i]!.batch.producerId, entries[i]!.batch.sequence),
    );
    if (landed >= 0) {
      // All or nothing: one of our batches is there, so all are (a retry after a lost response).
      return acknowledge(entries, slots, collisions, true);
    }
    const failedExtras = reasons
      .slice(entries.length)
      .flatMap((r, i) => (r.Code === 'ConditionalCheckFailed' ? [i] : []));
    if (failedExtras.length > 0) {
      throw new TransactionConditionFailedError(
        failedExtras,
        reasons.slice(entries.length).map((r) => r.Item),
      );
    }
    let collided = false;
    occupants.forEach((occupant, i) => {
      if (!occupant) return;
      collided = true;
      const { appender, batch } = entries[i]!;
      collisions[i]!++;
      appender.stats.collisions++;
      appender.stats.wastedWriteUnits += 2 * writeUnits(storedItemBytes(batch));
      appender.recordAttempt(true);
      appender.learnTail(tailAfter(occupant));
    });
    // Cancelled for another reason (a conflicting transaction in flight): back off and retry.
    await sleep(collided ? collisionBackoffMs(round) : 10 + Math.random() * 40);
  }
}

/** Records the landed batches in their appenders and returns where each landed. */
function acknowledge(
  entries: readonly AtomicEntry[],
  slots: readonly SlotBase[],
  collisions: readonly number[],
  duplicate: boolean,
): AppendResult[] {
  return entries.map(({ appender, batch }, i) => {
    appender.stats.appends++;
    appender.learnTail(tailAfter(slots[i]!));
    return {
      baseOffset: slots[i]!.offset,
      count: batch.count,
      path: 'one-phase',
      collisions: collisions[i]!,
      duplicate,
    };
  });
}

/** The one region all entries are appended in (their appenders' storage), else `ctx`'s. */
function transactionContext(ctx: StorageContext, entries: readonly AtomicEntry[]): StorageContext {
  const storage = entries[0]?.appender.storage ?? ctx;
  const other = entries.find((e) => e.appender.storage.region !== storage.region);
  if (other) {
    throw new UnsupportedOperationError(
      `An atomic append to ${entries[0]!.appender.label} (home region ${storage.region}) and ` +
        `${other.appender.label} (home region ${other.appender.storage.region}) cannot be one transaction: ` +
        'DynamoDB transactions do not span regions. Send to topics of one home region together.',
    );
  }
  return storage;
}

function validate(entries: readonly AtomicEntry[], extraItems: readonly TransactWriteItem[]): void {
  if (entries.length === 0 && extraItems.length === 0) {
    throw new InvalidArgumentError('An atomic append needs at least one batch or item');
  }
  const total = entries.length + extraItems.length;
  if (total > MAX_TRANSACTION_ITEMS) {
    throw new TransactionTooLargeError(
      `An atomic append may touch at most ${MAX_TRANSACTION_ITEMS} items (one batch per partition plus extra items); got ${total}. ` +
        'Split it, or send to fewer partitions.',
    );
  }
  const seen = new Set<string>();
  let bytes = 0;
  for (const { appender, batch } of entries) {
    if (seen.has(appender.partitionKey)) {
      throw new InvalidArgumentError(
        `An atomic append may hold one batch per partition; ${appender.label} appears twice`,
      );
    }
    seen.add(appender.partitionKey);
    validateBatch(batch, appender.label);
    bytes += storedItemBytes(batch);
  }
  if (bytes > MAX_TRANSACTION_BYTES - 64 * 1024) {
    throw new TransactionTooLargeError(
      `An atomic append may carry at most ${MAX_TRANSACTION_BYTES} bytes; its batches hold ${bytes}. Split it.`,
    );
  }
}
