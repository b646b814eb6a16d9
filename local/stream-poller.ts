/**
 * Reads a table's DynamoDB stream on the local stack, as Lambda's event source mapping does in
 * AWS: every shard, in order, from where the poller started (shards opened later from their
 * beginning), handing each page of records' keys to a callback. DynamoDB Local serves the real
 * Streams API (DescribeStream, GetShardIterator, GetRecords), so this is the same protocol the
 * dispatcher's stream mapping consumes in AWS.
 *
 * Delivery is at least once per record while the poller runs; the callback's failures are
 * reported and the page retried (the dispatcher's doorbell is idempotent).
 */
import { DescribeTableCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  type _Record,
  DescribeStreamCommand,
  DynamoDBStreamsClient,
  type DynamoDBStreamsClientConfig,
  ExpiredIteratorException,
  GetRecordsCommand,
  GetShardIteratorCommand,
  TrimmedDataAccessException,
} from '@aws-sdk/client-dynamodb-streams';

/** Options of {@link startStreamPoller}. */
export interface StreamPollerOptions {
  /** The client of the table (to find its stream). */
  readonly ddb: DynamoDBClient;
  /** Configuration of the Streams client (endpoint, region, credentials: the edge's). */
  readonly streams: DynamoDBStreamsClientConfig;
  readonly tableName: string;
  /** Receives each non-empty page of records, in shard order. */
  readonly onRecords: (records: readonly _Record[]) => Promise<void>;
  /** How often each shard is read when it had nothing. @default 100 */
  readonly idleIntervalMs?: number;
  /** Receives problems (they never stop the poller). */
  readonly log?: (line: string) => void;
}

/** A running poller. */
export interface StreamPoller {
  /** Stops reading; resolves once the loop has ended. Idempotent. */
  stop(): Promise<void>;
}

interface ShardCursor {
  iterator: string | undefined;
  /** Set once GetRecords returned no next iterator: the shard is closed and read to its end. */
  done: boolean;
}

/** How often the stream's shard list is read again (new shards appear as old ones close). */
const DESCRIBE_INTERVAL_MS = 2_000;

/** Starts polling; the first read starts at each open shard's latest position. */
export async function startStreamPoller(options: StreamPollerOptions): Promise<StreamPoller> {
  const client = new DynamoDBStreamsClient({ ...options.streams, maxAttempts: 3 });
  const idle = options.idleIntervalMs ?? 100;
  const table = await options.ddb.send(new DescribeTableCommand({ TableName: options.tableName }));
  const streamArn = table.Table?.LatestStreamArn;
  if (!streamArn) {
    client.destroy();
    throw new Error(`Table ${options.tableName} has no stream; the local stack creates it with one`);
  }
  const cursors = new Map<string, ShardCursor>();
  let stopping = false;
  let wake: (() => void) | undefined;
  const pause = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });

  const describe = async (initial: boolean): Promise<void> => {
    let start: string | undefined;
    do {
      const out = await client.send(
        new DescribeStreamCommand({
          StreamArn: streamArn,
          ...(start ? { ExclusiveStartShardId: start } : {}),
        }),
      );
      for (const shard of out.StreamDescription?.Shards ?? []) {
        const id = shard.ShardId;
        if (!id || cursors.has(id)) continue;
        // Shards open when the poller starts are read from their end (what came before is the
        // sweep's); every shard that appears later is read from its beginning.
        const closed = shard.SequenceNumberRange?.EndingSequenceNumber !== undefined;
        if (initial && closed) {
          cursors.set(id, { iterator: undefined, done: true });
          continue;
        }
        const iterator = await client.send(
          new GetShardIteratorCommand({
            StreamArn: streamArn,
            ShardId: id,
            ShardIteratorType: initial ? 'LATEST' : 'TRIM_HORIZON',
          }),
        );
        cursors.set(id, { iterator: iterator.ShardIterator, done: iterator.ShardIterator === undefined });
      }
      start = out.StreamDescription?.LastEvaluatedShardId;
    } while (start);
  };

  await describe(true);
  const loop = (async () => {
    let lastDescribe = Date.now();
    while (!stopping) {
      let got = false;
      for (const [id, cursor] of cursors) {
        if (cursor.done || !cursor.iterator || stopping) continue;
        try {
          const out = await client.send(
            new GetRecordsCommand({ ShardIterator: cursor.iterator, Limit: 1000 }),
          );
          const records = out.Records ?? [];
          if (records.length > 0) {
            got = true;
            await options.onRecords(records);
          }
          cursor.iterator = out.NextShardIterator;
          if (cursor.iterator === undefined) cursor.done = true;
        } catch (error) {
          if (error instanceof ExpiredIteratorException) {
            // Fifteen minutes without a read (a paused process): continue from the shard's end.
            const fresh = await client
              .send(
                new GetShardIteratorCommand({
                  StreamArn: streamArn,
                  ShardId: id,
                  ShardIteratorType: 'LATEST',
                }),
              )
              .catch(() => undefined);
            cursor.iterator = fresh?.ShardIterator;
          } else if (error instanceof TrimmedDataAccessException) {
            // DynamoDB Local poisons every iterator taken while its shard was still empty (LATEST,
            // and the next iterator of an empty TRIM_HORIZON read alike): once a record lands,
            // GetRecords with it answers TrimmedDataAccessException forever, and the poller would
            // never ring again (only the sweep's due partitions were ever delivered). The shard
            // was empty at our position, so everything in it now is new to us: read it from its
            // trim horizon. (A real trim — records past the 24 h retention — recovers the same
            // way; the few doorbells that come twice are harmless, ringing is idempotent.)
            const fresh = await client
              .send(
                new GetShardIteratorCommand({
                  StreamArn: streamArn,
                  ShardId: id,
                  ShardIteratorType: 'TRIM_HORIZON',
                }),
              )
              .catch((reseek: unknown) => {
                if (!stopping) {
                  options.log?.(
                    `Re-reading shard ${id} of ${options.tableName}'s stream failed: ${String(reseek)}`,
                  );
                }
                return undefined;
              });
            if (fresh?.ShardIterator !== undefined) cursor.iterator = fresh.ShardIterator;
          } else if (!stopping) {
            options.log?.(
              `Reading the stream of ${options.tableName} (shard ${id}) failed: ${String(error)}`,
            );
          }
        }
      }
      if (Date.now() - lastDescribe > DESCRIBE_INTERVAL_MS) {
        lastDescribe = Date.now();
        await describe(false).catch((error: unknown) => {
          if (!stopping)
            options.log?.(`Describing the stream of ${options.tableName} failed: ${String(error)}`);
        });
      }
      if (!got && !stopping) await pause(idle);
    }
  })();

  let stopped: Promise<void> | undefined;
  return {
    stop: () => {
      stopped ??= (async () => {
        stopping = true;
        wake?.();
        await loop;
        client.destroy();
      })();
      return stopped;
    },
  };
}
