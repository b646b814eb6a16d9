/**
 * The archiver's side of the dispatcher's doorbell (`triggers/dispatcher.ts`), which sees every
 * batch written to the log: it records in a partition's archive schedule that records came, so the
 * next scheduled archiver run visits the partition (see `archive-schedule.ts`).
 *
 * A busy partition rings on every stream batch; this records a ring at most once per
 * {@link RING_REPEAT_MS} per partition and process (one small conditional write), and the
 * schedule allows for the rings it skipped. Topics whose records can never give the archiver work
 * are not rung at all.
 */
import type { StorageContext } from '../context.ts';
import { archiveScheduleKey, type PartitionRef } from '../keys.ts';
import type { TopicMetadata } from '../topics/topic-metadata.ts';
import { TopicStore } from '../topics/topic-store.ts';
import { RING_REPEAT_MS, recordsMayBringWork } from './archive-schedule.ts';

/** Partitions remembered before old entries are dropped (they are only a write saved). */
const REMEMBERED_PARTITIONS = 10_000;

/** Rings archive schedules; one per process. */
export class ArchiveDoorbell {
  readonly #store: TopicStore;
  readonly #now: () => number;
  /** When this process last recorded a ring, per schedule key. */
  readonly #rungAt = new Map<string, number>();

  constructor(ctx: StorageContext) {
    this.#store = new TopicStore(ctx);
    this.#now = ctx.now;
  }

  /** Records that `partition` of `topic` (the incarnation the records were written to) got records. */
  async ring(topic: TopicMetadata, partition: number): Promise<void> {
    if (!recordsMayBringWork(topic.config)) return;
    const ref: PartitionRef = { topic: topic.name, incarnation: topic.incarnation, partition };
    const key = archiveScheduleKey(ref);
    const now = this.#now();
    const last = this.#rungAt.get(key);
    // A ring recorded at `last` stands for records up to RING_REPEAT_MS later (the schedule allows
    // for that); a clock that went back records again.
    if (last !== undefined && now >= last && now - last < RING_REPEAT_MS) return;
    // False: a ring at least as recent is recorded already, which stands for these records too.
    await this.#store.ringArchiveSchedule(ref, now);
    this.#rungAt.delete(key);
    this.#rungAt.set(key, now);
    if (this.#rungAt.size > REMEMBERED_PARTITIONS) {
      // Insertion order is ring order: the first entries are the oldest. Forgetting one only
      // costs its next ring a write.
      for (const k of this.#rungAt.keys()) {
        if (this.#rungAt.size <= REMEMBERED_PARTITIONS / 2) break;
        this.#rungAt.delete(k);
      }
    }
  }
}
