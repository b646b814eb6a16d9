/**
 * Watches a consumer's fetches of one topic through AWS SDK middleware on its DynamoDB client:
 * every ascending read of a partition's batch items (a fetch; seeks and tail reads descend) is
 * logged in the order it was sent, with how many items it returned, and the most that ran at once
 * is kept. Nothing is changed on the way.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { injectFaults } from './faults.ts';

/** One fetch query. */
export interface FetchQuery {
  readonly partition: number;
  /** Items it returned; undefined while it runs. */
  items: number | undefined;
}

/** The fetch log of one topic. */
export interface FetchWatch {
  /** Every fetch query so far, in the order they were sent. */
  readonly log: readonly FetchQuery[];
  /** The most fetch queries that were in flight at once. */
  readonly maxInFlight: number;
  /** A position in the log, for {@link since}. */
  mark(): number;
  /** Fetch queries of `partition` sent after `mark` (up to `until`, a later mark). */
  since(mark: number, partition: number, until?: number): FetchQuery[];
  /** Fetch queries per partition sent after `mark` (up to `until`, a later mark). */
  countsSince(mark: number, until?: number): Map<number, number>;
  /** Forgets the most in flight so far (e.g. before the phase a test asserts on). */
  resetMaxInFlight(): void;
}

/** Starts watching fetches of `topic` (at `incarnation`) made through `ddb`. */
export function watchFetches(ddb: DynamoDBClient, topic: string, incarnation: string): FetchWatch {
  const log: FetchQuery[] = [];
  const prefix = `${topic}:${incarnation}:`;
  let inFlight = 0;
  let maxInFlight = 0;
  injectFaults(ddb, ({ command, input }) => {
    if (command !== 'QueryCommand' || input.ScanIndexForward === false) return undefined;
    const values = input.ExpressionAttributeValues as Record<string, { S?: string }> | undefined;
    const pk = values?.[':pk']?.S;
    if (values?.[':from'] === undefined || !pk?.startsWith(prefix)) return undefined;
    const partition = Number(pk.slice(prefix.length));
    if (!Number.isInteger(partition)) return undefined;
    const entry: FetchQuery = { partition, items: undefined };
    log.push(entry);
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    return {
      rewrite: (output) => {
        inFlight--;
        entry.items = (output.Items as unknown[] | undefined)?.length ?? 0;
        return output;
      },
    };
  });
  return {
    log,
    get maxInFlight() {
      return maxInFlight;
    },
    mark: () => log.length,
    since: (mark, partition, until = log.length) =>
      log.slice(mark, until).filter((q) => q.partition === partition),
    countsSince(mark, until = log.length) {
      const counts = new Map<number, number>();
      for (const q of log.slice(mark, until)) counts.set(q.partition, (counts.get(q.partition) ?? 0) + 1);
      return counts;
    },
    resetMaxInFlight() {
      maxInFlight = inFlight;
    },
  };
}

/**
 * How many fetches of `partition` that started after a record's send returned came back without
 * it before one found it: 0 when the first fetch after it landed found it (or one already in
 * flight did). The marks are log positions: `from` taken before the send began, `sent` when it
 * returned, `at` when the record was delivered. Undefined when no fetch in `[from, at)` found it.
 */
export function emptyFetchesAfterSend<T extends { readonly partition: number }>(
  log: readonly T[],
  partition: number,
  marks: { readonly from: number; readonly sent: number; readonly at: number },
  found: (fetch: T) => boolean,
): number | undefined {
  let empty = 0;
  for (let i = marks.from; i < marks.at; i++) {
    const fetch = log[i]!;
    if (fetch.partition !== partition) continue;
    if (found(fetch)) return empty;
    if (i >= marks.sent) empty++;
  }
  return undefined;
}

/**
 * The log position of the oldest fetch still running, else the log's end: a `from` mark for
 * {@link emptyFetchesAfterSend} that includes every fetch that may still see a record sent now
 * (a long-poll may have been waiting for a while).
 */
export function oldestRunning<T>(log: readonly T[], running: (fetch: T) => boolean): number {
  const i = log.findIndex(running);
  return i === -1 ? log.length : i;
}
