/**
 * Reads the DynamoDB streams of one region's tables for the replicator: every shard from its trim
 * horizon (the stack's tables are created empty just before), a child shard only after its parent
 * is read to its end (so each item's records stay in order across a shard split), each record once
 * (sequence numbers are remembered per shard, so a re-seek after DynamoDB Local's trimmed-iterator
 * quirk, see `stream-poller.ts`, delivers nothing twice).
 *
 * {@link RegionFeed.caughtUp} resolves after a pass that began after the call read every shard up
 * to its end: DynamoDB Local's GetRecords returns every record available up to the limit, so a page
 * shorter than the limit means the shard's end was reached.
 */
import { DescribeTableCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  type _Record,
  DescribeStreamCommand,
  type DynamoDBStreamsClient,
  ExpiredIteratorException,
  GetRecordsCommand,
  GetShardIteratorCommand,
  type ShardIteratorType,
  TrimmedDataAccessException,
} from '@aws-sdk/client-dynamodb-streams';
import { ClientClosedError, StackNotReadyError } from '../../sdk/src/index.ts';
import { REPLICATION_STREAM_VIEW } from './replica-tables.ts';

/** Options of {@link startRegionFeed}. */
export interface RegionFeedOptions {
  readonly region: string;
  /** The region's DynamoDB (to find the tables' streams). */
  readonly ddb: DynamoDBClient;
  /** The region's DynamoDB Streams. */
  readonly streams: DynamoDBStreamsClient;
  /** Tables whose streams to read. */
  readonly tables: readonly string[];
  /**
   * Receives each page of new records of one table, in stream order. Called synchronously with
   * respect to other pages: the next page is read only after it returned.
   */
  readonly onRecords: (table: string, records: readonly _Record[]) => void;
  /** Pause between passes that found nothing (ms). */
  readonly idleIntervalMs: number;
  /** Receives read failures (the feed retries on its next pass). */
  readonly log?: ((line: string) => void) | undefined;
}

/** A running feed. */
export interface RegionFeed {
  /**
   * Resolves once every record written to the region's tables before the call has been handed to
   * `onRecords`. Rejects with ClientClosedError when the feed stops first.
   */
  caughtUp(): Promise<void>;
  /** Stops reading; resolves once the loop has ended. Idempotent. */
  stop(): Promise<void>;
}

interface ShardCursor {
  readonly table: string;
  readonly streamArn: string;
  readonly shardId: string;
  readonly parentShardId: string | undefined;
  iterator: string | undefined;
  /** The last sequence number handed on (as sent and as a number); records at or below it are not handed on again. */
  lastSequence: { readonly text: string; readonly value: bigint } | undefined;
  /** Read to the end of a closed shard. */
  done: boolean;
}

interface Waiter {
  resolve(): void;
  reject(error: Error): void;
}

/** GetRecords' largest page. */
const PAGE_LIMIT = 1000;
/** How often the shard lists are read again between passes nobody waits on. */
const DESCRIBE_INTERVAL_MS = 2_000;

/** Starts reading; throws StackNotReadyError when a table has no stream of new and old images. */
export async function startRegionFeed(options: RegionFeedOptions): Promise<RegionFeed> {
  const { region, ddb, streams, log } = options;
  const streamArns = new Map<string, string>();
  for (const table of options.tables) {
    const { Table } = await ddb.send(new DescribeTableCommand({ TableName: table }));
    const view = Table?.StreamSpecification?.StreamViewType;
    if (!Table?.LatestStreamArn || view !== REPLICATION_STREAM_VIEW) {
      throw new StackNotReadyError(
        `Table ${table} in ${region} has ${view ? `a ${view} stream` : 'no stream'}; replication needs a ${REPLICATION_STREAM_VIEW} stream, as global tables do.`,
      );
    }
    streamArns.set(table, Table.LatestStreamArn);
  }

  const cursors = new Map<string, ShardCursor>();
  const waiters: Waiter[] = [];
  let stopping = false;
  let wake: (() => void) | undefined;

  const describe = async (): Promise<void> => {
    for (const [table, streamArn] of streamArns) {
      let start: string | undefined;
      do {
        const out = await streams.send(
          new DescribeStreamCommand({
            StreamArn: streamArn,
            ...(start ? { ExclusiveStartShardId: start } : {}),
          }),
        );
        for (const shard of out.StreamDescription?.Shards ?? []) {
          const shardId = shard.ShardId;
          if (!shardId || cursors.has(shardId)) continue;
          cursors.set(shardId, {
            table,
            streamArn,
            shardId,
            parentShardId: shard.ParentShardId,
            iterator: undefined,
            lastSequence: undefined,
            done: false,
          });
        }
        start = out.StreamDescription?.LastEvaluatedShardId;
      } while (start);
    }
  };

  const seek = async (cursor: ShardCursor, fromHorizon: boolean): Promise<void> => {
    const after = !fromHorizon && cursor.lastSequence !== undefined;
    const type: ShardIteratorType = after ? 'AFTER_SEQUENCE_NUMBER' : 'TRIM_HORIZON';
    const out = await streams.send(
      new GetShardIteratorCommand({
        StreamArn: cursor.streamArn,
        ShardId: cursor.shardId,
        ShardIteratorType: type,
        ...(after ? { SequenceNumber: cursor.lastSequence?.text } : {}),
      }),
    );
    cursor.iterator = out.ShardIterator;
    if (cursor.iterator === undefined) cursor.done = true;
  };

  /** Reads one shard to its current end. True when it got records. */
  const drain = async (cursor: ShardCursor): Promise<boolean> => {
    let got = false;
    for (;;) {
      if (stopping || cursor.done) return got;
      if (cursor.iterator === undefined) {
        try {
          await seek(cursor, false);
        } catch (error) {
          // The position after our last record is gone (trimmed): everything left is new to us.
          if (!(error instanceof TrimmedDataAccessException)) throw error;
          await seek(cursor, true);
        }
        continue;
      }
      let out: Awaited<ReturnType<typeof readPage>>;
      try {
        out = await readPage(cursor.iterator);
      } catch (error) {
        // An iterator DynamoDB Local poisoned, or one unused for 15 minutes: seek again after the
        // last record handed on (the sequence numbers keep anything from coming twice).
        if (error instanceof TrimmedDataAccessException || error instanceof ExpiredIteratorException) {
          cursor.iterator = undefined;
          continue;
        }
        throw error;
      }
      const fresh: _Record[] = [];
      for (const record of out.records) {
        const text = record.dynamodb?.SequenceNumber;
        if (text === undefined) continue;
        const value = BigInt(text);
        if (cursor.lastSequence !== undefined && value <= cursor.lastSequence.value) continue;
        fresh.push(record);
        cursor.lastSequence = { text, value };
      }
      if (fresh.length > 0) {
        got = true;
        options.onRecords(cursor.table, fresh);
      }
      cursor.iterator = out.next;
      if (out.next === undefined) cursor.done = true;
      if (out.records.length < PAGE_LIMIT) return got;
    }
  };

  const readPage = async (iterator: string) => {
    const out = await streams.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: PAGE_LIMIT }));
    return { records: out.Records ?? [], next: out.NextShardIterator };
  };

  const readable = (cursor: ShardCursor): boolean => {
    if (cursor.done) return false;
    const parent = cursor.parentShardId === undefined ? undefined : cursors.get(cursor.parentShardId);
    return parent === undefined || parent.done;
  };

  await describe();
  const loop = (async () => {
    let lastDescribe = Date.now();
    while (!stopping) {
      const waiting = waiters.splice(0);
      let clean = true;
      let got = false;
      try {
        if (waiting.length > 0 || Date.now() - lastDescribe > DESCRIBE_INTERVAL_MS) {
          lastDescribe = Date.now();
          await describe();
        }
        // A parent read to its end makes its children readable in the same pass.
        for (let progressed = true; progressed && !stopping; ) {
          progressed = false;
          for (const cursor of cursors.values()) {
            if (!readable(cursor) || stopping) continue;
            const wasDone = cursor.done;
            if (await drain(cursor)) got = true;
            if (!wasDone && cursor.done) progressed = true;
          }
        }
      } catch (error) {
        clean = false;
        if (!stopping)
          log?.(`Replicator: reading the streams of ${region} failed (retrying): ${String(error)}`);
      }
      if (clean && !stopping) for (const waiter of waiting) waiter.resolve();
      else waiters.unshift(...waiting);
      if (!got && waiters.length === 0 && !stopping) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, options.idleIntervalMs);
          wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        wake = undefined;
      }
    }
    for (const waiter of waiters.splice(0))
      waiter.reject(new ClientClosedError(`replicator's feed of ${region}`));
  })();

  let stopped: Promise<void> | undefined;
  return {
    caughtUp: () => {
      if (stopping) return Promise.reject(new ClientClosedError(`replicator's feed of ${region}`));
      return new Promise<void>((resolve, reject) => {
        waiters.push({ resolve, reject });
        wake?.();
      });
    },
    stop: () => {
      stopped ??= (async () => {
        stopping = true;
        wake?.();
        await loop;
      })();
      return stopped;
    },
  };
}
