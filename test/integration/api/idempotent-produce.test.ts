/**
 * Exactly-once produce across the HTTP hop, against DynamoDB Local through the local API: records
 * sent through a network that loses, delays and resets (a chaos proxy between the SDK's client and
 * the API) land once each, in send order; a retry racing its first attempt, or following a crashed
 * one, is recognised; sequences out of order are refused without writing; a request without a
 * producer id that partly lands says exactly what did.
 */
import { QueryCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, describe, expect, it } from 'vitest';
import { recordOperations } from '../../../functions/api/operations/records.ts';
import type { ApiDeps } from '../../../functions/api/operations/types.ts';
import { startApiServer } from '../../../local/api-server.ts';
import type { ProduceBody } from '../../../sdk/src/api/schemas.ts';
import {
  type ConsumedMessage,
  InvalidArgumentError,
  OutOfOrderSequenceError,
  PartiallyAppendedError,
  ProduceInProgressError,
  RecordTooLargeError,
  ThrottledError,
  Tributary,
  type TributaryError,
} from '../../../sdk/src/index.ts';
import { LogAttr, partitionKey, producerStateKey } from '../../../sdk/src/keys.ts';
import { readBatchHeader } from '../../../sdk/src/log/record-batch.ts';
import { RequestAppender } from '../../../sdk/src/log/request-appender.ts';
import { HttpClient } from '../../../sdk/src/transport/http-client.ts';
import { api } from '../../helpers/api.ts';
import { type ProxyAction, randomFaults, startChaosProxy } from '../../helpers/chaos-proxy.ts';
import { type FaultRule, injectFaults } from '../../helpers/faults.ts';
import { seededRandom, testSeed } from '../../helpers/random.ts';
import { testStackConfig } from '../../helpers/stack.ts';
import {
  testClient,
  testDirectTransport,
  testDynamoDB,
  testS3,
  uniqueTopic,
} from '../../helpers/tributary.ts';
import { until } from '../../helpers/wait.ts';

const stack = testStackConfig();
const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };
const direct = testClient();
const admin = direct.admin();
/** The storage the direct client's options open (its tables, a metadata cache), for internal modules. */
const storage = testDirectTransport();
const ddb = testDynamoDB();
afterAll(() => {
  direct.close();
  storage.close();
  ddb.destroy();
});

/** A raw client of the API (it retries idempotent produce requests itself). */
function httpClient(endpoint: string, retry: { deadlineMs: number }, timeoutMs?: number): HttpClient {
  return new HttpClient({
    endpoint,
    region: stack.region,
    credentials,
    retry: { baseDelayMs: 20, maxDelayMs: 200, ...retry },
    ...(timeoutMs === undefined ? {} : { timeoutMs }),
  });
}

/**
 * A local API of its own whose DynamoDB client takes `rule`'s faults (the test stack's API runs in
 * the global setup, out of reach of a test's middleware), with a short produce claim deadline.
 */
async function faultyApi(
  rule: FaultRule,
  options: { claimTimeoutMs?: number; retryDeadlineMs?: number } = {},
) {
  const client = testDynamoDB();
  const s3 = testS3();
  const faults = injectFaults(client, rule);
  const server = await startApiServer({
    connection: {
      endpoint: stack.endpoint,
      region: stack.region,
      tablePrefix: stack.tablePrefix,
      bucket: stack.bucket,
      credentials,
      dynamoDBClient: client,
      s3Client: s3,
      retry: { baseDelayMs: 10, maxDelayMs: 50, deadlineMs: options.retryDeadlineMs ?? 5_000 },
    },
    port: 0,
    ...(options.claimTimeoutMs === undefined ? {} : { produceClaimTimeoutMs: options.claimTimeoutMs }),
  });
  return {
    url: server.url,
    faults,
    stop: async () => {
      await server.stop();
      client.destroy();
      s3.destroy();
    },
  };
}

/** Whether a DynamoDB request is a batch write to the log (not a producer state item). */
function isBatchPut(command: string, input: Record<string, unknown>, partition?: number): boolean {
  if (command !== 'PutItemCommand') return false;
  const pk = (input.Item as Record<string, { S?: string }> | undefined)?.[LogAttr.partitionKey]?.S ?? '';
  return !pk.includes('#') && (partition === undefined || pk.endsWith(`:${partition}`));
}

/** Every message of the topic's partitions, read with the direct transport up to each high watermark. */
async function readLog(topic: string, partitions: number): Promise<ConsumedMessage<Buffer | null>[][]> {
  const consumer = direct.consumer();
  const out: ConsumedMessage<Buffer | null>[][] = [];
  try {
    for (let partition = 0; partition < partitions; partition++) {
      const { highWatermark } = await admin.partitionOffsets(topic, partition);
      const messages: ConsumedMessage<Buffer | null>[] = [];
      await consumer.assign([{ topic, partition, offset: 0 }]);
      let next = 0;
      await until(
        async () => {
          if (next >= highWatermark) return true;
          for (const batch of await consumer.poll()) {
            messages.push(...batch.messages);
            next = batch.nextOffset;
          }
          return next >= highWatermark;
        },
        { timeoutMs: 20_000, message: `${topic}[${partition}] read up to ${highWatermark}` },
      );
      consumer.unassign([{ topic, partition }]);
      out.push(messages);
    }
  } finally {
    consumer.close();
  }
  return out;
}

const values = (messages: readonly ConsumedMessage<Buffer | null>[]) =>
  messages.map((m) => m.value?.toString());

/** A produce body with a producer part: `records` per partition, `sequences` their base sequences. */
function idempotentBody(
  id: string,
  records: readonly { partition: number; value: string }[],
  sequences: Readonly<Record<number, number>>,
  epoch = 0,
  compression?: ProduceBody['compression'],
): ProduceBody {
  return {
    ...(compression === undefined ? {} : { compression }),
    records: records.map((r) => ({ value: r.value, partition: r.partition, timestamp: 1_000 })),
    producer: {
      id,
      epoch,
      sequences: Object.entries(sequences).map(([partition, sequence]) => ({
        partition: Number(partition),
        sequence,
      })),
    },
  };
}

describe('idempotent produce over HTTP', () => {
  it('lands thousands of records exactly once, in send order, through a faulty network and two API instances', async () => {
    const seed = testSeed('idempotent-produce chaos');
    const random = seededRandom(seed);
    const topic = uniqueTopic('exactly-once');
    const partitions = 4;
    await admin.createTopic({ topic, partitions });
    const isProduce = (r: { method: string; url: string }) =>
      r.method === 'POST' && r.url.endsWith('/records');
    // A second instance of the API over the same tables: requests alternate, so retries cross over.
    const second = await faultyApi(() => undefined);
    const proxy = await startChaosProxy(
      [stack.apiUrl, second.url],
      randomFaults(
        random,
        { dropResponse: 0.1, reset: 0.05, delay: 0.1, gatewayError: 0.08 },
        300,
        isProduce,
      ),
    );
    const producers = 4;
    const lanes = 3;
    const sendsPerLane = 34;
    const perSend = 5;
    const clients = Array.from(
      { length: producers },
      () =>
        new Tributary({
          transport: 'http',
          endpoint: proxy.url,
          region: stack.region,
          credentials,
          retry: { baseDelayMs: 20, maxDelayMs: 300, deadlineMs: 30_000 },
        }),
    );
    try {
      /** value → where its send said it landed */
      const acknowledged = new Map<string, { partition: number; offset: number }>();
      const failures: unknown[] = [];
      await Promise.all(
        clients.flatMap((client, p) => {
          const producer = client.producer({ lingerMs: 1 });
          return Array.from({ length: lanes }, async (_, lane) => {
            for (let s = 0; s < sendsPerLane; s++) {
              const messages = Array.from({ length: perSend }, (_, m) => {
                const n = s * perSend + m;
                return { key: `k-${p}-${lane}-${n % 9}`, value: `p${p}-l${lane}-${n}` };
              });
              try {
                const sent = await producer.send({ topic, messages });
                sent.forEach((meta, m) => {
                  acknowledged.set(messages[m]!.value, { partition: meta.partition, offset: meta.offset });
                });
              } catch (error) {
                failures.push(error);
              }
            }
          });
        }),
      );
      expect(failures).toEqual([]);
      const total = producers * lanes * sendsPerLane * perSend;
      expect(acknowledged.size).toBe(total);
      // Every kind of fault happened, and some responses the client never got were successes.
      expect(proxy.counts.dropResponse).toBeGreaterThan(0);
      expect(proxy.counts.reset).toBeGreaterThan(0);
      expect(proxy.counts.delay).toBeGreaterThan(0);
      expect(proxy.counts.gatewayError).toBeGreaterThan(0);

      const log = await readLog(topic, partitions);
      const all = log.flat();
      // No loss, no duplicate.
      expect(all).toHaveLength(total);
      expect(new Set(values(all)).size).toBe(total);
      for (const message of all) {
        const value = message.value!.toString();
        // The send's metadata points at the record itself.
        expect(acknowledged.get(value)).toEqual({ partition: message.partition, offset: message.offset });
      }
      // Each lane's records keep their send order within every partition.
      for (const messages of log) {
        const last = new Map<string, number>();
        for (const message of messages) {
          const [, lane, n] = /^(p\d+-l\d+)-(\d+)$/.exec(message.value!.toString())!;
          expect(Number(n)).toBeGreaterThan(last.get(lane!) ?? -1);
          last.set(lane!, Number(n));
        }
      }
    } finally {
      for (const client of clients) client.close();
      await proxy.close();
      await second.stop();
    }
  }, 180_000);

  it('appends once when a second attempt is sent while the first is held by the network', async () => {
    const topic = uniqueTopic('held');
    await admin.createTopic({ topic, partitions: 1 });
    let releaseFirst!: () => void;
    const held = new Promise<void>((resolve) => {
      releaseFirst = resolve;
    });
    let produces = 0;
    const proxy = await startChaosProxy(
      stack.apiUrl,
      (request): ProxyAction =>
        request.method === 'POST' && produces++ === 0 ? { kind: 'hold', release: held } : { kind: 'pass' },
    );
    try {
      const client = httpClient(proxy.url, { deadlineMs: 10_000 });
      const body = idempotentBody(
        '1001',
        [0, 1, 2].map((i) => ({ partition: 0, value: `held-${i}` })),
        { 0: 0 },
      );
      const first = client.call('produce', { params: { topic }, body });
      await until(() => proxy.counts.hold === 1, { message: 'the first attempt held' });
      const second = await client.call('produce', { params: { topic }, body });
      releaseFirst();
      expect(await first).toEqual(second);
      expect(second.records.map((r) => r.offset)).toEqual([0, 1, 2]);
      const [log] = await readLog(topic, 1);
      expect(values(log!)).toEqual(['held-0', 'held-1', 'held-2']);
    } finally {
      releaseFirst();
      await proxy.close();
    }
  });

  it('answers a retry that arrives while the first attempt is still appending once it has landed', async () => {
    const topic = uniqueTopic('in-progress');
    await admin.createTopic({ topic, partitions: 1 });
    let lookups = 0;
    let stalled = false;
    const server = await faultyApi(({ command, input }) => {
      if (command === 'QueryCommand' && String(input.FilterExpression ?? '').includes('#pid')) lookups++;
      // The first attempt's batch write waits until the retry has looked for the batch.
      if (isBatchPut(command, input) && !stalled) {
        stalled = true;
        return { before: () => until(() => lookups > 0, { message: 'the retry looked the batch up' }) };
      }
      return undefined;
    });
    const proxy = await startChaosProxy(server.url, () => ({ kind: 'pass' }));
    try {
      const client = httpClient(proxy.url, { deadlineMs: 10_000 });
      const body = idempotentBody('2002', [{ partition: 0, value: 'only-once' }], { 0: 0 });
      const first = client.call('produce', { params: { topic }, body });
      await until(() => stalled, { message: 'the first attempt stalled in its append' });
      const retry = await client.call('produce', { params: { topic }, body });
      expect(await first).toEqual(retry);
      // The retry was told the first attempt was still running, then got its offsets.
      expect(proxy.counts.statuses).toContain(409);
      const [log] = await readLog(topic, 1);
      expect(values(log!)).toEqual(['only-once']);
    } finally {
      await proxy.close();
      await server.stop();
    }
  });

  it('takes over the claim of an attempt that froze between claim and append, which then writes nothing', async () => {
    const topic = uniqueTopic('zombie');
    await admin.createTopic({ topic, partitions: 1 });
    const claimTimeoutMs = 1_500;
    let frozen = false;
    let zombie: { error: unknown } | undefined;
    const server = await faultyApi(
      ({ command, input }) => {
        if (!isBatchPut(command, input) || frozen) return undefined;
        frozen = true;
        // Like a Lambda frozen mid-request: it resumes after its claim's deadline and tries to write.
        return {
          delayMs: claimTimeoutMs + 1_000,
          settled: (error) => {
            zombie = { error };
          },
        };
      },
      { claimTimeoutMs },
    );
    const proxy = await startChaosProxy(server.url, () => ({ kind: 'pass' }));
    try {
      // Gives up on the frozen attempt before it resumes, and retries.
      const client = httpClient(proxy.url, { deadlineMs: 15_000 }, 700);
      const body = idempotentBody(
        '3003',
        [0, 1].map((i) => ({ partition: 0, value: `z-${i}` })),
        { 0: 0 },
      );
      const result = await client.call('produce', { params: { topic }, body });
      expect(result.records.map((r) => r.offset)).toEqual([0, 1]);
      expect(frozen).toBe(true);
      // The frozen attempt resumed: its fence had fallen, so its write was never sent.
      await until(() => zombie !== undefined, { timeoutMs: 10_000, message: 'the frozen attempt resumed' });
      expect((zombie!.error as Error | undefined)?.name).toBe('AbortError');
      // It answered as soon as its fence fell: 504, as it cannot know whether its batch landed.
      expect(proxy.counts.statuses).toContain(504);
      const [log] = await readLog(topic, 1);
      expect(values(log!)).toEqual(['z-0', 'z-1']);
      expect((await admin.partitionOffsets(topic, 0)).highWatermark).toBe(2);
    } finally {
      await proxy.close();
      await server.stop();
    }
  });

  it('refuses sequences out of order, fenced epochs and reused sequences with 409, writing nothing', async () => {
    const topic = uniqueTopic('out-of-order');
    await admin.createTopic({ topic, partitions: 2 });
    const client = httpClient(stack.apiUrl, { deadlineMs: 5_000 });
    const produce = (body: ProduceBody) => client.call('produce', { params: { topic }, body });
    const hwm = async () => (await admin.partitionOffsets(topic, 0)).highWatermark;
    const three = [0, 1, 2].map((i) => ({ partition: 0, value: `v-${i}` }));
    const first = await produce(idempotentBody('4004', three, { 0: 0 }));
    expect(first.records.map((r) => r.offset)).toEqual([0, 1, 2]);

    const refusals: [string, ProduceBody, number][] = [
      ['a gap', idempotentBody('4004', [{ partition: 0, value: 'gap' }], { 0: 7 }), 3],
      ['an older sequence', idempotentBody('4004', [{ partition: 0, value: 'old' }], { 0: 1 }), 3],
      [
        'the latest sequence with other records',
        idempotentBody(
          '4004',
          [0, 1, 2].map((i) => ({ partition: 0, value: `other-${i}` })),
          { 0: 0 },
        ),
        3,
      ],
      [
        'an unknown producer past 0',
        idempotentBody('4005', [{ partition: 0, value: 'unknown' }], { 0: 5 }),
        0,
      ],
      ['a new epoch not at 0', idempotentBody('4004', [{ partition: 0, value: 'e1' }], { 0: 3 }, 1), 0],
    ];
    for (const [what, body, expected] of refusals) {
      const error = await produce(body).catch((e: unknown) => e);
      expect(error, what).toBeInstanceOf(OutOfOrderSequenceError);
      expect(error, what).toMatchObject({
        topic,
        partition: 0,
        expectedSequence: expected,
        retriable: false,
      });
      expect(await hwm(), what).toBe(3);
    }
    // Raw, the refusal is a 409 with the typed body.
    const raw = await api(
      'POST',
      `/v1/topics/${topic}/records`,
      idempotentBody('4004', [{ partition: 0, value: 'raw' }], { 0: 9 }),
    );
    expect(raw.status).toBe(409);
    expect(raw.body.error).toMatchObject({ code: 'OUT_OF_ORDER_SEQUENCE', retriable: false });

    // The same request again is a duplicate: the same offsets, nothing written.
    expect(await produce(idempotentBody('4004', three, { 0: 0 }))).toEqual(first);
    // A new epoch starts at 0 and fences the old one.
    const bumped = await produce(idempotentBody('4004', [{ partition: 0, value: 'epoch-1' }], { 0: 0 }, 1));
    expect(bumped.records[0]!.offset).toBe(3);
    const fenced = await produce(
      idempotentBody('4004', [{ partition: 0, value: 'epoch-0' }], { 0: 3 }, 0),
    ).catch((e: unknown) => e);
    expect(fenced).toBeInstanceOf(OutOfOrderSequenceError);
    const [log] = await readLog(topic, 1);
    expect(values(log!)).toEqual(['v-0', 'v-1', 'v-2', 'epoch-1']);
  });

  it("appends each partition's share as one batch carrying the producer's id, epoch and sequence", async () => {
    const topic = uniqueTopic('batch-fields');
    await admin.createTopic({ topic, partitions: 2 });
    const client = httpClient(stack.apiUrl, { deadlineMs: 5_000 });
    const produce = (body: ProduceBody) => client.call('produce', { params: { topic }, body });
    await produce(
      idempotentBody(
        '8008',
        [
          { partition: 0, value: 'a' },
          { partition: 1, value: 'b' },
          { partition: 0, value: 'c' },
        ],
        { 0: 0, 1: 0 },
        2,
      ),
    );
    await produce(idempotentBody('8008', [{ partition: 0, value: 'd' }], { 0: 2 }, 2));
    const incarnation = await incarnationOf(topic);
    const { ctx } = storage;
    const headers = async (partition: number) => {
      const out = await ddb.send(
        new QueryCommand({
          TableName: ctx.tables.log,
          KeyConditionExpression: '#pk = :pk AND #off >= :zero',
          ExpressionAttributeNames: { '#pk': LogAttr.partitionKey, '#off': LogAttr.offset },
          ExpressionAttributeValues: {
            ':pk': { S: partitionKey({ topic, incarnation, partition }) },
            ':zero': { N: '0' },
          },
          ConsistentRead: true,
        }),
      );
      return (out.Items ?? []).map((item) => {
        const header = readBatchHeader(item[LogAttr.body]!.B!);
        return [header.producerId, header.producerEpoch, header.baseSequence, header.recordCount];
      });
    };
    expect(await headers(0)).toEqual([
      [8008n, 2, 0, 2],
      [8008n, 2, 2, 1],
    ]);
    expect(await headers(1)).toEqual([[8008n, 2, 0, 1]]);
  });

  it('refuses a malformed producer part with 400 before anything is written', async () => {
    const topic = uniqueTopic('bad-producer');
    await admin.createTopic({ topic, partitions: 2 });
    const bodies: [string, unknown][] = [
      [
        'a record without a partition',
        { records: [{ value: 'x' }], producer: { id: '1', sequences: [{ partition: 0, sequence: 0 }] } },
      ],
      [
        'sequences missing a partition',
        idempotentBody(
          '1',
          [
            { partition: 0, value: 'a' },
            { partition: 1, value: 'b' },
          ],
          { 0: 0 },
        ),
      ],
      [
        'sequences naming another partition',
        idempotentBody('1', [{ partition: 0, value: 'a' }], { 0: 0, 1: 0 }),
      ],
      [
        'a partition named twice',
        {
          records: [{ value: 'x', partition: 0 }],
          producer: {
            id: '1',
            sequences: [
              { partition: 0, sequence: 0 },
              { partition: 0, sequence: 1 },
            ],
          },
        },
      ],
      ['an id of 2^63', idempotentBody(String(2n ** 63n), [{ partition: 0, value: 'a' }], { 0: 0 })],
      [
        'an id that is a number',
        { records: [{ value: 'x', partition: 0 }], producer: { id: 1, sequences: [] } },
      ],
      [
        'an unknown field',
        {
          ...idempotentBody('1', [{ partition: 0, value: 'a' }], { 0: 0 }),
          producer: { id: '1', sequences: [{ partition: 0, sequence: 0 }], extra: 1 },
        },
      ],
    ];
    for (const [what, body] of bodies) {
      const response = await api('POST', `/v1/topics/${topic}/records`, body);
      expect(response.status, what).toBe(400);
      expect(response.body.error.code, what).toBe('INVALID_ARGUMENT');
    }
    for (const partition of [0, 1]) {
      expect((await admin.partitionOffsets(topic, partition)).highWatermark).toBe(0);
    }
  });

  it("refuses a partition's share over max.message.bytes with 413 before anything is written", async () => {
    const topic = uniqueTopic('too-large');
    await admin.createTopic({ topic, partitions: 2, configs: { 'max.message.bytes': 2_000 } });
    const client = httpClient(stack.apiUrl, { deadlineMs: 5_000 });
    const records = [
      { partition: 1, value: 'small' },
      ...[0, 1, 2].map((i) => ({ partition: 0, value: `${i}`.repeat(900) })),
    ];
    // Uncompressed, so that the batch's size is the records' (max.message.bytes is checked on the
    // stored, compressed batch, as in Kafka).
    const error = await client
      .call('produce', {
        params: { topic },
        body: idempotentBody('5005', records, { 0: 0, 1: 0 }, 0, 'none'),
      })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RecordTooLargeError);
    for (const partition of [0, 1]) {
      expect((await admin.partitionOffsets(topic, partition)).highWatermark).toBe(0);
      const { ctx } = storage;
      const state = await ddb.send(
        new QueryCommand({
          TableName: ctx.tables.log,
          KeyConditionExpression: '#pk = :pk',
          ExpressionAttributeNames: { '#pk': LogAttr.partitionKey },
          ExpressionAttributeValues: {
            ':pk': { S: producerStateKey({ topic, incarnation: await incarnationOf(topic), partition }) },
          },
          ConsistentRead: true,
        }),
      );
      expect(state.Items ?? []).toEqual([]);
    }
  });

  it('recognises a retry of a large batch stored in S3, answering its stored timestamps', async () => {
    const topic = uniqueTopic('large-retry');
    await admin.createTopic({
      topic,
      partitions: 1,
      configs: { 'large.message.threshold.bytes': 1_024, 'message.timestamp.type': 'LogAppendTime' },
    });
    let produces = 0;
    const proxy = await startChaosProxy(
      stack.apiUrl,
      (request): ProxyAction =>
        request.method === 'POST' && produces++ === 0 ? { kind: 'drop-response' } : { kind: 'pass' },
    );
    try {
      const client = httpClient(proxy.url, { deadlineMs: 10_000 });
      const records = [0, 1].map((i) => ({ partition: 0, value: `${i}`.repeat(1_500) }));
      const result = await client.call('produce', {
        params: { topic },
        // Uncompressed: the batch must be over the claim-check threshold as stored.
        body: idempotentBody('6006', records, { 0: 0 }, 0, 'none'),
      });
      expect(proxy.counts.dropResponse).toBe(1);
      const [log] = await readLog(topic, 1);
      expect(log).toHaveLength(2);
      // On a LogAppendTime topic the first attempt stamped the records; the retry answers those.
      expect(result.records).toEqual(
        log!.map((m) => ({ partition: 0, offset: m.offset, timestamp: m.timestamp })),
      );
      expect(log!.every((m) => m.timestamp !== 1_000)).toBe(true);
      const { ctx } = storage;
      const items = await ddb.send(
        new QueryCommand({
          TableName: ctx.tables.log,
          KeyConditionExpression: '#pk = :pk AND #off >= :zero',
          ExpressionAttributeNames: { '#pk': LogAttr.partitionKey, '#off': LogAttr.offset },
          ExpressionAttributeValues: {
            ':pk': { S: partitionKey({ topic, incarnation: await incarnationOf(topic), partition: 0 }) },
            ':zero': { N: '0' },
          },
          ConsistentRead: true,
        }),
      );
      expect(items.Items?.map((i) => i[LogAttr.claimKey]?.S !== undefined)).toEqual([true]);
    } finally {
      await proxy.close();
    }
  });

  it('recognises its own batch when an expected-offset append is retried after a lost response', async () => {
    const topic = uniqueTopic('expected-retry');
    await admin.createTopic({ topic, partitions: 1 });
    let produces = 0;
    const proxy = await startChaosProxy(
      stack.apiUrl,
      (request): ProxyAction =>
        request.method === 'POST' && produces++ === 0 ? { kind: 'drop-response' } : { kind: 'pass' },
    );
    const client = new Tributary({
      transport: 'http',
      endpoint: proxy.url,
      region: stack.region,
      credentials,
    });
    try {
      const producer = client.producer();
      const sent = await producer.sendAtOffset({
        topic,
        partition: 0,
        expectedOffset: 0,
        messages: [{ value: 'e-0' }, { value: 'e-1' }],
      });
      expect(proxy.counts.dropResponse).toBe(1);
      expect(sent.map((m) => m.offset)).toEqual([0, 1]);
      // The partition continues in sequence after it.
      await producer.send({ topic, messages: [{ value: 'after' }] });
      const [log] = await readLog(topic, 1);
      expect(values(log!)).toEqual(['e-0', 'e-1', 'after']);
    } finally {
      client.close();
      await proxy.close();
    }
  });

  it('fails a send whose retries got no answer, saying it may have landed, and continues under a new id', async () => {
    const topic = uniqueTopic('ambiguous');
    await admin.createTopic({ topic, partitions: 1 });
    let dropping = true;
    const proxy = await startChaosProxy(
      stack.apiUrl,
      (request): ProxyAction =>
        dropping && request.method === 'POST' ? { kind: 'drop-response' } : { kind: 'pass' },
    );
    const client = new Tributary({
      transport: 'http',
      endpoint: proxy.url,
      region: stack.region,
      credentials,
      retry: { baseDelayMs: 10, maxDelayMs: 50, deadlineMs: 400 },
    });
    try {
      const producer = client.producer();
      const error = await producer.send({ topic, messages: [{ value: 'maybe' }] }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(Error);
      expect((error as Error).message).toContain('may or may not have been appended');
      expect(proxy.counts.dropResponse).toBeGreaterThan(1);
      dropping = false;
      await producer.send({ topic, messages: [{ value: 'next' }] });
      const [log] = await readLog(topic, 1);
      // Every retry of the lost request was recognised: it landed once.
      expect(values(log!)).toEqual(['maybe', 'next']);
    } finally {
      client.close();
      await proxy.close();
    }
  });
});

describe('produce that partly fails', () => {
  it('answers PARTIALLY_APPENDED without a producer id, naming what landed where', async () => {
    const topic = uniqueTopic('partial');
    await admin.createTopic({ topic, partitions: 2 });
    const server = await faultyApi(
      ({ command, input }) => (isBatchPut(command, input, 1) ? 'throttle' : undefined),
      {
        retryDeadlineMs: 200,
      },
    );
    try {
      const client = httpClient(server.url, { deadlineMs: 2_000 });
      const body: ProduceBody = {
        records: [
          { value: 'a', partition: 0 },
          { value: 'b', partition: 1 },
          { value: 'c', partition: 0 },
        ],
      };
      const error = await client.call('produce', { params: { topic }, body }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(PartiallyAppendedError);
      const partial = error as PartiallyAppendedError;
      expect(partial.retriable).toBe(false);
      expect(partial.appended).toEqual([
        { index: 0, partition: 0, offset: 0, timestamp: expect.any(Number) },
        { index: 2, partition: 0, offset: 1, timestamp: expect.any(Number) },
      ]);
      expect(partial.failed).toEqual([{ index: 1, partition: 1, code: 'THROTTLED' }]);
      const raw = await api('POST', `/v1/topics/${topic}/records`, body, { baseUrl: server.url });
      expect(raw.status).toBe(500);
      expect(raw.body.error.code).toBe('PARTIALLY_APPENDED');
      const [p0, p1] = await readLog(topic, 2);
      expect(values(p0!)).toEqual(['a', 'c', 'a', 'c']);
      expect(p1).toEqual([]);

      // The SDK's producer resolves the records that landed and rejects the others.
      const sdk = new Tributary({
        transport: 'http',
        endpoint: server.url,
        region: stack.region,
        credentials,
      });
      try {
        const producer = sdk.producer({ idempotent: false, lingerMs: 20 });
        const [landed, failed] = await Promise.allSettled([
          producer.send({ topic, messages: [{ value: 'd', partition: 0 }] }),
          producer.send({ topic, messages: [{ value: 'e', partition: 1 }] }),
        ]);
        expect(landed).toMatchObject({ status: 'fulfilled', value: [{ partition: 0, offset: 4 }] });
        expect(failed).toMatchObject({ status: 'rejected', reason: expect.any(PartiallyAppendedError) });
      } finally {
        sdk.close();
      }
    } finally {
      await server.stop();
    }
  });

  it('with a producer id answers the retriable failure, and the retry is recognised partition by partition', async () => {
    const topic = uniqueTopic('partial-idem');
    await admin.createTopic({ topic, partitions: 2 });
    let throttling = true;
    // The throttled append cannot tell whether an earlier attempt of its write landed, so its claim
    // holds until the deadline (short here); then the retry takes it over.
    const server = await faultyApi(
      ({ command, input }) => (throttling && isBatchPut(command, input, 1) ? 'throttle' : undefined),
      { retryDeadlineMs: 200, claimTimeoutMs: 1_000 },
    );
    try {
      const client = httpClient(server.url, { deadlineMs: 400 });
      const body = idempotentBody(
        '7007',
        [
          { partition: 0, value: 'x0' },
          { partition: 1, value: 'x1' },
        ],
        { 0: 0, 1: 0 },
      );
      const error = await client.call('produce', { params: { topic }, body }).catch((e: unknown) => e);
      // Throttled, then (retried) told the throttled attempt's claim still holds: retriable either way.
      expect([ThrottledError, ProduceInProgressError].some((c) => error instanceof c)).toBe(true);
      expect((error as TributaryError).retriable).toBe(true);
      throttling = false;
      const result = await httpClient(server.url, { deadlineMs: 10_000 }).call('produce', {
        params: { topic },
        body,
      });
      expect(result.records.map((r) => [r.partition, r.offset])).toEqual([
        [0, 0],
        [1, 0],
      ]);
      const [p0, p1] = await readLog(topic, 2);
      expect(values(p0!)).toEqual(['x0']);
      expect(values(p1!)).toEqual(['x1']);
    } finally {
      await server.stop();
    }
  });
});

describe('producer state lifecycle', () => {
  it("deletes the partitions' producer state with the topic", async () => {
    const topic = uniqueTopic('purge-state');
    await admin.createTopic({ topic, partitions: 2 });
    const incarnation = await incarnationOf(topic);
    const sdk = new Tributary({
      transport: 'http',
      endpoint: stack.apiUrl,
      region: stack.region,
      credentials,
    });
    const { ctx } = storage;
    const stateItems = async (partition: number) =>
      (
        await ddb.send(
          new QueryCommand({
            TableName: ctx.tables.log,
            KeyConditionExpression: '#pk = :pk',
            ExpressionAttributeNames: { '#pk': LogAttr.partitionKey },
            ExpressionAttributeValues: { ':pk': { S: producerStateKey({ topic, incarnation, partition }) } },
            ConsistentRead: true,
          }),
        )
      ).Items ?? [];
    try {
      const producer = sdk.producer();
      await producer.send({
        topic,
        messages: [
          { value: 'a', partition: 0 },
          { value: 'b', partition: 1 },
        ],
      });
      await producer.close();
      expect((await stateItems(0)).length).toBe(1);
      expect((await stateItems(1)).length).toBe(1);
      expect(Number((await stateItems(0))[0]![LogAttr.expiresAt]!.N)).toBeGreaterThan(Date.now() / 1000);
      await admin.deleteTopic(topic);
      expect(await stateItems(0)).toEqual([]);
      expect(await stateItems(1)).toEqual([]);
    } finally {
      sdk.close();
    }
  });
});

describe('produce operation', () => {
  it('keeps every header key, "__proto__" included, as a header', async () => {
    const topic = uniqueTopic('proto-header');
    await admin.createTopic({ topic, partitions: 1 });
    const { ctx, topics } = storage;
    const deps = {
      producer: new RequestAppender(ctx, topics, { claimTimeoutMs: 5_000 }),
    } as unknown as ApiDeps;
    // As the body parses once the schema keeps the key (JSON.parse makes it an own property).
    const body = JSON.parse('{"records":[{"value":"v","headers":{"__proto__":"p","x":"y"}}]}');
    await recordOperations.produce({ params: { topic }, query: undefined, body }, deps);
    const [log] = await readLog(topic, 1);
    expect(log![0]!.headers.map((h) => [h.key, h.value?.toString()])).toEqual([
      ['__proto__', 'p'],
      ['x', 'y'],
    ]);
  });

  it('refuses a producer sequence over 2^31 - 1 and a negative id, writing nothing', async () => {
    const { ctx, topics } = storage;
    const appender = new RequestAppender(ctx, topics, { claimTimeoutMs: 5_000 });
    const topic = uniqueTopic('bad-seq');
    await admin.createTopic({ topic, partitions: 1 });
    await expect(
      appender.append({
        topic,
        messages: [{ value: 'v', partition: 0 }],
        producer: { id: 1n, epoch: 0, sequences: new Map([[0, 2 ** 31]]) },
      }),
    ).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(
      appender.append({
        topic,
        messages: [{ value: 'v', partition: 0 }],
        producer: { id: -1n, epoch: 0, sequences: new Map([[0, 0]]) },
      }),
    ).rejects.toBeInstanceOf(InvalidArgumentError);
  });
});

async function incarnationOf(topic: string): Promise<string> {
  const { topics } = storage;
  return (await topics.get(topic)).incarnation;
}
