/**
 * What the gateway's Fetch reads, in DynamoDB's read units as DynamoDB reports them: reading a
 * partition through the gateway from start to end, in fetches of Kafka's byte limits, costs what
 * one eventually consistent query of its items costs — no tail read, seek or re-read per fetch —
 * and a consumer waiting at the end of the log costs a minimal query per look, however large the
 * partition's last batch is. The bounds are ratios of units, which do not depend on the machine.
 */
import { randomBytes } from 'node:crypto';
import { DynamoDBClient, QueryCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Gateway, startGateway } from '../../../gateway/index.ts';
import { partitionKey, tableNames } from '../../../sdk/src/internal.ts';
import { meterCapacity } from '../../helpers/capacity.ts';
import { WireClient } from '../../helpers/kafka-wire.ts';
import { testStackConfig } from '../../helpers/stack.ts';
import { testClient, uniqueTopic } from '../../helpers/tributary.ts';

const client = testClient();
const admin = client.admin();
const { endpoint, region, tablePrefix, bucket } = testStackConfig();
const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };
const ddb = new DynamoDBClient({ endpoint, region, credentials });
const meter = meterCapacity(ddb);
let gateway: Gateway;
const logTable = tableNames(tablePrefix).log;

beforeAll(async () => {
  gateway = await startGateway({
    tributary: { endpoint, region, tablePrefix, bucket, credentials, dynamoDBClient: ddb },
    host: '127.0.0.1',
    port: 0,
    metricsLog: false,
    log: () => undefined,
  });
});
afterAll(async () => {
  await gateway?.stop();
  ddb.destroy();
  client.close();
});

/** Fetches partition 0 from `offset` with Fetch v11: the batches' bytes and the next offset. */
async function fetchOnce(wire: WireClient, topic: string, offset: bigint, maxBytes: number, maxWaitMs = 0) {
  const response = await wire.request('Fetch', 11, {
    replicaId: -1,
    maxWaitMs,
    minBytes: 1,
    maxBytes,
    isolationLevel: 0,
    sessionId: 0,
    sessionEpoch: -1,
    topics: [
      {
        topic,
        partitions: [
          {
            partition: 0,
            currentLeaderEpoch: -1,
            fetchOffset: offset,
            logStartOffset: -1n,
            partitionMaxBytes: maxBytes,
          },
        ],
      },
    ],
    forgottenTopicsData: [],
    rackId: '',
  });
  const p = response.responses[0]!.partitions[0]!;
  const records = p.records ?? new Uint8Array(0);
  // The next offset: after the last batch (baseOffset + lastOffsetDelta + 1), read from its header.
  let next = offset;
  const view = new DataView(records.buffer, records.byteOffset, records.byteLength);
  for (let at = 0; at + 12 <= records.byteLength; ) {
    const base = view.getBigInt64(at);
    const length = view.getInt32(at + 8);
    next = base + BigInt(view.getInt32(at + 23)) + 1n;
    at += 12 + length;
  }
  return { bytes: records.byteLength, next, highWatermark: p.highWatermark, errorCode: p.errorCode };
}

describe('the gateway Fetch read cost', () => {
  it('reads a partition for the units of one query of its items, and waits at its end for minimal queries', async () => {
    const topic = uniqueTopic('fetch-cost');
    await admin.createTopic({ topic, partitions: 1 });
    const producer = client.producer({ compression: 'none' });
    // 60 batches of 40 records × 1 KB (incompressible): items of ~41 KB.
    for (let b = 0; b < 60; b++) {
      await producer.send({
        topic,
        messages: Array.from({ length: 40 }, () => ({ value: randomBytes(1024), partition: 0 })),
      });
    }
    const described = await admin.describeTopic(topic);
    const end = BigInt(described.partitions[0]!.highWatermark);

    // The baseline: one eventually consistent query of the partition's items, paged.
    const ref = (await client.admin().describeTopic(topic)).partitions[0]!;
    expect(ref.highWatermark).toBe(2_400);
    meter.reset();
    let startKey: Record<string, unknown> | undefined;
    const key = partitionKey({
      topic,
      incarnation: (await admin.describeTopic(topic)).incarnation,
      partition: 0,
    });
    do {
      const page = await ddb.send(
        new QueryCommand({
          TableName: logTable,
          KeyConditionExpression: 'pk = :pk AND off >= :zero',
          ExpressionAttributeValues: { ':pk': { S: key }, ':zero': { N: '0' } },
          ...(startKey ? { ExclusiveStartKey: startKey as never } : {}),
        }),
      );
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    const raw = meter.table(logTable).readUnits;
    expect(raw).toBeGreaterThan(0);

    // Through the gateway, in fetches of 256 KiB (about six items each).
    const wire = await WireClient.connect(gateway.port);
    try {
      meter.reset();
      let offset = 0n;
      let fetches = 0;
      while (offset < end) {
        const { next, highWatermark } = await fetchOnce(wire, topic, offset, 256 * 1024);
        expect(highWatermark).toBe(end);
        expect(next).toBeGreaterThan(offset);
        offset = next;
        fetches++;
      }
      expect(offset).toBe(end);
      const gatewayUnits = meter.table(logTable).readUnits;
      // The first fetch's tail read (the reader starts knowing nothing) and page boundaries aside,
      // the same units as the raw query: nothing read twice.
      expect(gatewayUnits / raw).toBeLessThan(1.1);
      expect(fetches).toBeGreaterThan(8);

      // Caught up: each look at the end is a query that finds nothing.
      meter.reset();
      for (let i = 0; i < 10; i++) {
        const { bytes } = await fetchOnce(wire, topic, end, 256 * 1024);
        expect(bytes).toBe(0);
      }
      const idle = meter.table(logTable);
      expect(idle.readUnits / idle.requests).toBeLessThanOrEqual(0.5);
    } finally {
      wire.close();
    }
  });
});
