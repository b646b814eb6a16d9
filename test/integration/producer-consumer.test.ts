/** The SDK's producer, consumer and admin against the real emulators. */
import { afterAll, describe, expect, it } from 'vitest';
import {
  ClientClosedError,
  ConcurrentAppendError,
  type ConsumedMessage,
  type Consumer,
  InvalidArgumentError,
  InvalidConfigError,
  InvalidPartitionsError,
  InvalidTopicNameError,
  jsonDeserializer,
  jsonSerializer,
  OffsetOutOfRangeError,
  RecordTooLargeError,
  TopicAlreadyExistsError,
  TopicNotFoundError,
  UnknownPartitionError,
  UnsupportedOperationError,
} from '../../sdk/src/index.ts';
import { injectFaults } from '../helpers/faults.ts';
import { seededRandom, testSeed } from '../helpers/random.ts';
import { TRANSPORTS, testClient, testDynamoDB, uniqueTopic } from '../helpers/tributary.ts';

const tributary = testClient();
const admin = tributary.admin();
afterAll(() => tributary.close());

/** Reads messages until `count` have arrived (or fails after the deadline). */
async function take<V>(
  consumer: Consumer<V>,
  count: number,
  timeoutMs = 20_000,
): Promise<ConsumedMessage<V>[]> {
  const out: ConsumedMessage<V>[] = [];
  const deadline = Date.now() + timeoutMs;
  while (out.length < count) {
    if (Date.now() > deadline) throw new Error(`Timed out with ${out.length}/${count} messages`);
    const batches = await consumer.poll();
    for (const b of batches) out.push(...b.messages);
    if (batches.length === 0) await new Promise((r) => setTimeout(r, 20));
  }
  return out;
}

// The same behaviour over both transports: direct to the emulators, and HTTP through the local API.
describe.each(TRANSPORTS)('%s transport', (transport) => {
  const tributary = testClient({ transport });
  const admin = tributary.admin();
  afterAll(() => tributary.close());

  describe('topics', () => {
    it('creates, lists, describes, alters, grows and deletes a topic', async () => {
      const topic = uniqueTopic('adm');
      await admin.createTopic({
        topic,
        partitions: 3,
        configs: { 'retention.ms': 3_600_000, 'compression.type': 'gzip' },
      });
      expect((await admin.listTopics()).find((t) => t.name === topic)).toEqual({
        name: topic,
        partitions: 3,
      });
      const described = await admin.describeTopic(topic);
      expect(described.partitions).toEqual(
        [0, 1, 2].map((partition) => ({
          partition,
          logStartOffset: 0,
          localLogStartOffset: 0,
          highWatermark: 0,
          dynamodb: { startOffset: 0, endOffset: 0, bytes: 0 },
          s3: { startOffset: 0, endOffset: 0, segments: 0, bytes: 0 },
        })),
      );
      expect(described.configs).toMatchObject({
        'retention.ms': '3600000',
        'compression.type': 'gzip',
        'cleanup.policy': 'delete',
      });
      await admin.alterTopicConfigs(topic, { 'retention.ms': null, 'max.message.bytes': 2048 });
      expect((await admin.describeTopic(topic)).configs).toMatchObject({
        'retention.ms': '604800000',
        'max.message.bytes': '2048',
      });
      await admin.createPartitions(topic, 5);
      expect((await admin.describeTopic(topic)).partitions).toHaveLength(5);
      await expect(admin.createPartitions(topic, 5)).rejects.toBeInstanceOf(InvalidPartitionsError);
      await expect(admin.createTopic({ topic, partitions: 1 })).rejects.toBeInstanceOf(
        TopicAlreadyExistsError,
      );
      await admin.deleteTopic(topic);
      await expect(admin.describeTopic(topic)).rejects.toBeInstanceOf(TopicNotFoundError);
      await expect(admin.deleteTopic(topic)).rejects.toBeInstanceOf(TopicNotFoundError);
    });

    it('refuses bad names, partition counts and configs with typed errors and writes nothing', async () => {
      const before = (await admin.listTopics()).length;
      for (const name of ['', '.', '..', 'a'.repeat(250), 'has space', 'sla/sh', 'colon:name', 'ünïcode']) {
        await expect(admin.createTopic({ topic: name })).rejects.toBeInstanceOf(InvalidTopicNameError);
      }
      for (const partitions of [0, -1, 1.5, 100_000]) {
        await expect(admin.createTopic({ topic: uniqueTopic(), partitions })).rejects.toBeInstanceOf(
          InvalidPartitionsError,
        );
      }
      const badConfigs: Record<string, string | number>[] = [
        { 'no.such.config': 1 },
        { 'retention.ms': 'soon' },
        { 'retention.ms': -5 },
        { 'max.message.bytes': 0 },
        { 'max.message.bytes': 11 * 1024 * 1024 },
        { 'cleanup.policy': 'compact' },
        { 'compression.type': 'brotli' },
        { 'retention.ms': 1000, 'local.retention.ms': 2000 },
      ];
      for (const configs of badConfigs) {
        await expect(admin.createTopic({ topic: uniqueTopic(), configs })).rejects.toBeInstanceOf(
          InvalidConfigError,
        );
      }
      expect((await admin.listTopics()).length).toBe(before);
    });

    it('gives a recreated topic an empty log', async () => {
      const topic = uniqueTopic('recreate');
      await admin.createTopic({ topic, partitions: 1 });
      const producer = tributary.producer();
      await producer.send({ topic, messages: [{ value: 'old-1' }, { value: 'old-2' }] });
      await producer.close();
      const progress: number[] = [];
      await admin.deleteTopic(topic, { onProgress: (p) => progress.push(p.itemsDeleted) });
      // Purge progress is reported in-process only; over HTTP the call returns once the purge is done.
      if (transport === 'direct') expect(progress.at(-1)).toBeGreaterThan(0);
      await admin.createTopic({ topic, partitions: 1 });
      expect((await admin.describeTopic(topic)).partitions[0]?.highWatermark).toBe(0);
      const p2 = tributary.producer();
      await p2.send({ topic, messages: [{ value: 'new' }] });
      await p2.close();
      const consumer = tributary.consumer();
      await consumer.assign([{ topic, partition: 0, offset: 'earliest' }]);
      expect((await take(consumer, 1)).map((m) => m.value?.toString())).toEqual(['new']);
      expect(await consumer.poll()).toEqual([]);
    });
  });

  describe('producer and consumer', () => {
    it('round-trips keys, values, headers and timestamps, with keys on their Kafka partitions', async () => {
      const topic = uniqueTopic('rt');
      await admin.createTopic({ topic, partitions: 4 });
      const producer = tributary.producer({ compression: 'gzip' });
      const sent = await producer.send({
        topic,
        messages: [
          {
            key: 'user-1',
            value: 'hello',
            headers: { trace: 'abc', multi: ['x', Buffer.from([1, 2])] },
            timestamp: 1_000,
          },
          { key: 'user-2', value: Buffer.from([0, 255, 7]), timestamp: new Date(2_000) },
          { key: null, value: null, partition: 3 },
          { value: '', partition: 3 },
        ],
      });
      await producer.close();
      // Kafka's default partitioner: toPositive(murmur2("user-1")) % 4 and ("user-2").
      expect(sent.map((m) => m.partition)).toEqual([sent[0]!.partition, sent[1]!.partition, 3, 3]);
      const consumer = tributary.consumer();
      await consumer.assign(
        [0, 1, 2, 3].map((partition) => ({ topic, partition, offset: 'earliest' as const })),
      );
      const got = await take(consumer, 4);
      const byKey = new Map(got.map((m) => [m.key?.toString() ?? `null-${m.offset}`, m]));
      expect(byKey.get('user-1')).toMatchObject({
        value: Buffer.from('hello'),
        timestamp: 1_000,
        partition: sent[0]!.partition,
      });
      expect(byKey.get('user-1')?.headers).toEqual([
        { key: 'trace', value: Buffer.from('abc') },
        { key: 'multi', value: Buffer.from('x') },
        { key: 'multi', value: Buffer.from([1, 2]) },
      ]);
      expect(byKey.get('user-2')).toMatchObject({ value: Buffer.from([0, 255, 7]), timestamp: 2_000 });
      const p3 = got.filter((m) => m.partition === 3).sort((a, b) => a.offset - b.offset);
      expect(p3.map((m) => m.value)).toEqual([null, Buffer.from('')]);
      consumer.close();
    });

    it('serializes JSON with typed (de)serializers', async () => {
      const topic = uniqueTopic('json');
      await admin.createTopic({ topic });
      interface Order {
        id: string;
        total: number;
      }
      const producer = tributary.producer<Order>({ serializer: jsonSerializer<Order>() });
      await producer.send({ topic, messages: [{ key: 'o1', value: { id: 'o1', total: 12.5 } }] });
      await producer.close();
      const consumer = tributary.consumer({ deserializer: jsonDeserializer<Order>() });
      await consumer.assign([{ topic, partition: 0, offset: 0 }]);
      const [message] = await take(consumer, 1);
      expect(message?.value).toEqual({ id: 'o1', total: 12.5 });
    });

    it('reads from the middle of a batch, across many batches, and waits at the end', async () => {
      const topic = uniqueTopic('seek');
      await admin.createTopic({ topic });
      const producer = tributary.producer({ lingerMs: 0 });
      for (let b = 0; b < 20; b++) {
        await producer.send({
          topic,
          messages: Array.from({ length: 10 }, (_, i) => ({ value: `m${b * 10 + i}` })),
        });
      }
      await producer.close();
      const consumer = tributary.consumer({ maxRecords: 37 });
      await consumer.assign([{ topic, partition: 0, offset: 45 }]);
      const got = await take(consumer, 155);
      expect(got.map((m) => m.offset)).toEqual(Array.from({ length: 155 }, (_, i) => 45 + i));
      expect(got[0]?.value?.toString()).toBe('m45');
      expect(await consumer.poll()).toEqual([]);
      await consumer.seek({ topic, partition: 0, offset: 199 });
      expect((await take(consumer, 1))[0]?.offset).toBe(199);
      // At the end: nothing yet, then the next record as soon as it is written.
      await consumer.seek({ topic, partition: 0, offset: 'latest' });
      expect(consumer.position({ topic, partition: 0 })).toBe(200);
      expect(await consumer.poll()).toEqual([]);
      const late = tributary.producer();
      await late.send({ topic, messages: [{ value: 'late' }] });
      await late.close();
      expect((await take(consumer, 1))[0]).toMatchObject({ offset: 200, value: Buffer.from('late') });
    });

    it('iterates asynchronously, pauses and resumes', async () => {
      const topic = uniqueTopic('iter');
      await admin.createTopic({ topic, partitions: 2 });
      const producer = tributary.producer();
      await producer.send({
        topic,
        messages: [
          { value: 'a', partition: 0 },
          { value: 'b', partition: 1 },
        ],
      });
      const consumer = tributary.consumer({ minIdleIntervalMs: 5, maxIdleIntervalMs: 50 });
      await consumer.assign([
        { topic, partition: 0, offset: 0 },
        { topic, partition: 1, offset: 0 },
      ]);
      consumer.pause([{ topic, partition: 1 }]);
      const seen: string[] = [];
      for await (const message of consumer.messages()) {
        seen.push(`${message.partition}:${message.value?.toString()}`);
        if (seen.length === 1) {
          expect(consumer.paused()).toEqual([{ topic, partition: 1 }]);
          consumer.resume([{ topic, partition: 1 }]);
          await producer.send({ topic, messages: [{ value: 'c', partition: 0 }] });
        }
        if (seen.length === 3) consumer.close();
      }
      await producer.close();
      expect(seen.sort()).toEqual(['0:a', '0:c', '1:b']);
      await expect(consumer.poll()).rejects.toBeInstanceOf(ClientClosedError);
    });

    it('finds offsets by timestamp', async () => {
      const topic = uniqueTopic('ts');
      await admin.createTopic({ topic });
      const producer = tributary.producer({ lingerMs: 0 });
      for (let i = 0; i < 30; i++)
        await producer.send({ topic, messages: [{ value: `v${i}`, timestamp: 10_000 + i * 100 }] });
      await producer.close();
      expect(await admin.offsetsForTimestamp(topic, 0)).toEqual([{ partition: 0, offset: 0 }]);
      expect(await admin.offsetsForTimestamp(topic, 10_250)).toEqual([{ partition: 0, offset: 3 }]);
      expect(await admin.offsetsForTimestamp(topic, 12_900)).toEqual([{ partition: 0, offset: 29 }]);
      expect(await admin.offsetsForTimestamp(topic, 99_999)).toEqual([{ partition: 0, offset: null }]);
      const consumer = tributary.consumer();
      await consumer.assign([{ topic, partition: 0, offset: { timestamp: 11_000 } }]);
      expect((await take(consumer, 1))[0]).toMatchObject({ offset: 10, value: Buffer.from('v10') });
    });

    it('sends at an expected offset (optimistic concurrency)', async () => {
      const topic = uniqueTopic('eo');
      await admin.createTopic({ topic });
      const producer = tributary.producer();
      const first = await producer.sendAtOffset({
        topic,
        partition: 0,
        expectedOffset: 0,
        messages: [{ value: 'e1' }, { value: 'e2' }],
      });
      expect(first.map((m) => m.offset)).toEqual([0, 1]);
      await expect(
        producer.sendAtOffset({ topic, partition: 0, expectedOffset: 0, messages: [{ value: 'stale' }] }),
      ).rejects.toBeInstanceOf(ConcurrentAppendError);
      await producer.close();
      expect((await admin.partitionOffsets(topic, 0)).highWatermark).toBe(2);
    });

    it('sends to several partitions atomically', async () => {
      const a = uniqueTopic('atomA');
      const b = uniqueTopic('atomB');
      await admin.createTopic({ topic: a, partitions: 2 });
      await admin.createTopic({ topic: b });
      const producer = tributary.producer();
      if (transport === 'http') {
        // Multi-topic transactions need DynamoDB transactions: refused over HTTP, nothing written.
        await expect(
          producer.sendAtomically([{ topic: a, messages: [{ value: 'x' }] }]),
        ).rejects.toBeInstanceOf(UnsupportedOperationError);
        expect((await admin.partitionOffsets(a, 0)).highWatermark).toBe(0);
        return;
      }
      const result = await producer.sendAtomically([
        {
          topic: a,
          messages: [
            { value: 'a0', partition: 0 },
            { value: 'a1', partition: 1 },
            { value: 'a0b', partition: 0 },
          ],
        },
        { topic: b, messages: [{ value: 'b0' }] },
      ]);
      expect(
        result.map((list) => list.map((m) => `${m.topic === a ? 'a' : 'b'}${m.partition}@${m.offset}`)),
      ).toEqual([['a0@0', 'a1@0', 'a0@1'], ['b0@0']]);
      await producer.close();
    });

    it('refuses bad input with typed errors before writing anything', async () => {
      const topic = uniqueTopic('bad');
      await admin.createTopic({ topic, partitions: 2, configs: { 'max.message.bytes': 1024 } });
      const producer = tributary.producer();
      await expect(
        producer.send({ topic: uniqueTopic('missing'), messages: [{ value: 'x' }] }),
      ).rejects.toBeInstanceOf(TopicNotFoundError);
      // One oversized message in a send refuses the whole send.
      await expect(
        producer.send({ topic, messages: [{ value: 'fine' }, { value: 'x'.repeat(2000) }] }),
      ).rejects.toBeInstanceOf(RecordTooLargeError);
      await expect(producer.send({ topic, messages: [{ value: 'x', partition: 2 }] })).rejects.toBeInstanceOf(
        UnknownPartitionError,
      );
      await expect(
        producer.send({ topic, messages: [{ value: 'x', timestamp: -1 }] }),
      ).rejects.toBeInstanceOf(InvalidArgumentError);
      await expect(
        producer.send({ topic, messages: [{ value: 42 as unknown as string }] }),
      ).rejects.toBeInstanceOf(InvalidArgumentError);
      await expect(producer.send({ topic, messages: [] })).rejects.toBeInstanceOf(InvalidArgumentError);
      await producer.close();
      await expect(producer.send({ topic, messages: [{ value: 'x' }] })).rejects.toBeInstanceOf(
        ClientClosedError,
      );
      expect((await admin.describeTopic(topic)).partitions.map((p) => p.highWatermark)).toEqual([0, 0]);

      const consumer = tributary.consumer();
      await expect(consumer.assign([{ topic, partition: 0, offset: -1 }])).rejects.toBeInstanceOf(
        InvalidArgumentError,
      );
      await expect(consumer.assign([{ topic, partition: 0, offset: 5 }])).rejects.toBeInstanceOf(
        OffsetOutOfRangeError,
      );
      await expect(consumer.assign([{ topic, partition: 7, offset: 0 }])).rejects.toBeInstanceOf(
        UnknownPartitionError,
      );
      await expect(
        consumer.assign([{ topic: uniqueTopic('nope'), partition: 0, offset: 0 }]),
      ).rejects.toBeInstanceOf(TopicNotFoundError);
      expect(() => tributary.producer({ maxBatchBytes: 10 })).toThrow(InvalidArgumentError);
    });
  });
});

describe('producer and consumer (direct transport, with injected faults)', () => {
  it('is exactly-once with 8 producers racing on one partition under injected faults', async () => {
    const seed = testSeed('racing-producers');
    const random = seededRandom(seed);
    const topic = uniqueTopic('race');
    await admin.createTopic({ topic });
    const producers = Array.from({ length: 8 }, () => {
      const ddb = testDynamoDB();
      injectFaults(ddb, ({ command }) => {
        if (command !== 'PutItemCommand' && command !== 'UpdateItemCommand' && command !== 'QueryCommand')
          return undefined;
        const roll = random();
        if (roll < 0.1) return 'drop-response';
        if (roll < 0.15) return 'throttle';
        if (roll < 0.2) return { delayMs: Math.floor(random() * 30) };
        return undefined;
      });
      return { client: testClient({ dynamoDBClient: ddb }), ddb };
    });
    const perProducer = 400;
    const acks = await Promise.all(
      producers.map(async ({ client }, p) => {
        const producer = client.producer({ lingerMs: 2, maxBatchBytes: 4096 });
        const sends: Promise<{ offset: number }[]>[] = [];
        for (let i = 0; i < perProducer; i += 8) {
          sends.push(
            producer.send({
              topic,
              messages: Array.from({ length: 8 }, (_, j) => ({ key: `p${p}`, value: `p${p}-${i + j}` })),
            }),
          );
        }
        const metas = (await Promise.all(sends)).flat();
        await producer.close();
        return metas.map((m) => m.offset);
      }),
    );
    const consumer = tributary.consumer({ maxRecords: 1000 });
    await consumer.assign([{ topic, partition: 0, offset: 0 }]);
    const got = await take(consumer, 8 * perProducer, 60_000);
    expect(await consumer.poll()).toEqual([]);
    expect(got.map((m) => m.offset)).toEqual(Array.from({ length: 8 * perProducer }, (_, i) => i));
    const values = got.map((m) => m.value!.toString());
    expect(new Set(values).size).toBe(values.length);
    for (let p = 0; p < 8; p++) {
      const mine = values.filter((v) => v.startsWith(`p${p}-`)).map((v) => Number(v.split('-')[1]));
      expect(mine).toEqual(Array.from({ length: perProducer }, (_, i) => i));
      // Acknowledged offsets are exactly where the records are.
      const offsetsOfMine = got.filter((m) => m.value!.toString().startsWith(`p${p}-`)).map((m) => m.offset);
      expect(acks[p]).toEqual(offsetsOfMine);
    }
    for (const { client } of producers) client.close();
  });

  it('applies backpressure when buffer memory is full and fails after maxBlockMs', async () => {
    const topic = uniqueTopic('bp');
    await admin.createTopic({ topic });
    const ddb = testDynamoDB();
    const gate = Promise.withResolvers<void>();
    // Appends stall until the test opens the gate, so buffered records cannot drain.
    injectFaults(ddb, ({ command }) =>
      command === 'PutItemCommand' ? { before: () => gate.promise } : undefined,
    );
    const client = testClient({ dynamoDBClient: ddb });
    const producer = client.producer({ bufferMemoryBytes: 8 * 1024, maxBlockMs: 300, lingerMs: 0 });
    const value = 'x'.repeat(3000);
    const first = producer.send({ topic, messages: [{ value }, { value }] });
    await expect(producer.send({ topic, messages: [{ value }, { value }] })).rejects.toMatchObject({
      code: 'TIMEOUT',
      retriable: true,
    });
    // A send that fits waits for room instead of failing, and completes once appends flow.
    const waiting = producer.send({ topic, messages: [{ value }] });
    gate.resolve();
    expect((await first).map((m) => m.offset)).toEqual([0, 1]);
    expect((await waiting)[0]?.offset).toBe(2);
    await producer.close();
    client.close();
    expect((await admin.partitionOffsets(topic, 0)).highWatermark).toBe(3);
  });

  it('backs off while idle so an idle consumer reads rarely', async () => {
    const topic = uniqueTopic('idle');
    await admin.createTopic({ topic });
    const ddb = testDynamoDB();
    let queries = 0;
    injectFaults(ddb, ({ command }) => {
      if (command === 'QueryCommand') queries++;
      return undefined;
    });
    const client = testClient({ dynamoDBClient: ddb });
    const consumer = client.consumer({ minIdleIntervalMs: 20, maxIdleIntervalMs: 400 });
    await consumer.assign([{ topic, partition: 0, offset: 0 }]);
    queries = 0;
    const started = Date.now();
    setTimeout(() => consumer.close(), 2_000);
    for await (const _ of consumer) expect.unreachable('the topic is empty');
    const elapsed = Date.now() - started;
    // Fixed-interval polling at the minimum interval would have made elapsed/20 queries.
    expect(queries).toBeLessThan(elapsed / 20 / 4);
    expect(queries).toBeGreaterThan(2);
    client.close();
  });

  it('falls back to a consistent read when an eventually consistent read is stale', async () => {
    const topic = uniqueTopic('stale');
    await admin.createTopic({ topic });
    const producer = tributary.producer({ lingerMs: 0 });
    for (let i = 0; i < 6; i++) await producer.send({ topic, messages: [{ value: `s${i}` }] });
    await producer.close();
    const ddb = testDynamoDB();
    let consistentQueries = 0;
    // A lagging replica: eventually consistent queries miss the batch at offset 2.
    injectFaults(ddb, ({ command, input }) => {
      if (command !== 'QueryCommand') return undefined;
      if (input.ConsistentRead) {
        consistentQueries++;
        return undefined;
      }
      return {
        rewrite: (output) => ({
          ...output,
          Items: ((output.Items as { off: { N: string } }[] | undefined) ?? []).filter(
            (item) => item.off.N !== '2',
          ),
        }),
      };
    });
    const reader = testClient({ dynamoDBClient: ddb });
    const consumer = reader.consumer();
    await consumer.assign([{ topic, partition: 0, offset: 0 }]);
    const got = await take(consumer, 6);
    expect(got.map((m) => m.value?.toString())).toEqual(['s0', 's1', 's2', 's3', 's4', 's5']);
    expect(consistentQueries).toBeGreaterThan(0);
    reader.close();
  });
});
