/**
 * Admin and producer over the HTTP transport, through the local API server (the Lambda handler
 * over the test stack): results equal the direct transport's, records read back byte for byte,
 * and failures arrive as the same typed errors.
 */
import { afterAll, describe, expect, it } from 'vitest';
import {
  ConcurrentAppendError,
  GroupActiveError,
  GroupNotFoundError,
  InvalidPartitionsError,
  InvalidTopicNameError,
  OffsetOutOfRangeError,
  TopicAlreadyExistsError,
  TopicNotFoundError,
  UnknownPartitionError,
  UnsupportedOperationError,
} from '../../../sdk/src/index.ts';
import { partitionForKey } from '../../../sdk/src/log/partitioner.ts';
import { type RawValue, rawSerializer } from '../../../sdk/src/serde.ts';
import { TopicCache } from '../../../sdk/src/topics/topic-cache.ts';
import { HttpAdmin } from '../../../sdk/src/transport/http-admin.ts';
import { HttpClient } from '../../../sdk/src/transport/http-client.ts';
import { HttpProducer } from '../../../sdk/src/transport/http-producer.ts';
import { HttpTopicSource } from '../../../sdk/src/transport/http-topic-source.ts';
import { readAll } from '../../helpers/consume.ts';
import { testStackConfig } from '../../helpers/stack.ts';
import { testClient, uniqueTopic } from '../../helpers/tributary.ts';

const { apiUrl, region } = testStackConfig();
const http = new HttpClient({
  endpoint: apiUrl,
  region,
  // The pair the local API accepts by default (what the SDK signs with against loopback).
  credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  retry: { baseDelayMs: 20, maxDelayMs: 500, deadlineMs: 15_000 },
});
const admin = new HttpAdmin(http);
const direct = testClient();
const directAdmin = direct.admin();
afterAll(() => direct.close());

function httpProducer(options: { lingerMs?: number; maxBatchBytes?: number } = {}): HttpProducer<RawValue> {
  const topics = new TopicCache(new HttpTopicSource(http), 30_000, Date.now);
  return new HttpProducer<RawValue>(http, topics, { ...options, serializer: rawSerializer });
}

describe('HttpAdmin', () => {
  it('creates, lists, describes, alters, grows and deletes a topic as the direct admin sees it', async () => {
    const topic = uniqueTopic('http-adm');
    expect(await admin.createTopic({ topic, partitions: 2, configs: { 'retention.ms': 3_600_000 } })).toEqual(
      {
        name: topic,
        partitions: 2,
      },
    );
    expect((await admin.listTopics()).find((t) => t.name === topic)).toEqual({ name: topic, partitions: 2 });
    const described = await admin.describeTopic(topic);
    expect(described.createdAt).toBeInstanceOf(Date);
    expect(described.configs['retention.ms']).toBe('3600000');
    expect(described).toEqual(await directAdmin.describeTopic(topic));

    await admin.alterTopicConfigs(topic, { 'retention.ms': null, 'max.message.bytes': 2_000_000 });
    expect((await directAdmin.describeTopic(topic)).configs).toMatchObject({
      'retention.ms': '604800000',
      'max.message.bytes': '2000000',
    });
    await admin.createPartitions(topic, 3);
    expect((await admin.describeTopic(topic)).partitions).toHaveLength(3);
    expect(await admin.partitionOffsets(topic, 2)).toEqual(await directAdmin.partitionOffsets(topic, 2));

    await admin.deleteTopic(topic, { onProgress: () => undefined });
    await expect(admin.describeTopic(topic)).rejects.toBeInstanceOf(TopicNotFoundError);
    expect((await directAdmin.listTopics()).map((t) => t.name)).not.toContain(topic);
  });

  it('refuses bad requests with the typed errors of the direct transport, fields included', async () => {
    const topic = uniqueTopic('http-err');
    await admin.createTopic({ topic });
    const exists = await admin.createTopic({ topic }).catch((e: unknown) => e);
    expect(exists).toBeInstanceOf(TopicAlreadyExistsError);
    expect(exists).toMatchObject({ topic, code: 'TOPIC_ALREADY_EXISTS' });
    for (const name of ['bad name!', '', 'a'.repeat(250)]) {
      await expect(admin.createTopic({ topic: name })).rejects.toBeInstanceOf(InvalidTopicNameError);
    }
    await expect(admin.createTopic({ topic: uniqueTopic(), partitions: 0 })).rejects.toBeInstanceOf(
      InvalidPartitionsError,
    );
    await expect(admin.createPartitions(topic, 1)).rejects.toBeInstanceOf(InvalidPartitionsError);
    const unknown = await admin.partitionOffsets(topic, 5).catch((e: unknown) => e);
    expect(unknown).toBeInstanceOf(UnknownPartitionError);
    expect(unknown).toMatchObject({ topic, partition: 5, partitions: 1 });
    await expect(admin.describeTopic(uniqueTopic('none'))).rejects.toBeInstanceOf(TopicNotFoundError);
    await expect(admin.resetGroupOffsets('g', topic, 'earliest')).rejects.toBeInstanceOf(
      UnsupportedOperationError,
    );
  });

  it('finds offsets for a timestamp per partition, as the direct admin does', async () => {
    const topic = uniqueTopic('http-ts');
    await admin.createTopic({ topic, partitions: 2 });
    const producer = httpProducer();
    await producer.send({
      topic,
      messages: [
        { value: 'a', partition: 0, timestamp: 1_000 },
        { value: 'b', partition: 0, timestamp: 2_000 },
        { value: 'c', partition: 1, timestamp: 1_500 },
      ],
    });
    await producer.close();
    const found = await admin.offsetsForTimestamp(topic, 1_800);
    expect(found).toEqual([
      { partition: 0, offset: 1 },
      { partition: 1, offset: null },
    ]);
    expect(found).toEqual(await directAdmin.offsetsForTimestamp(topic, 1_800));
  });

  it('lists, describes and deletes a consumer group (refused while active, unless forced)', async () => {
    const topic = uniqueTopic('http-grp');
    const group = uniqueTopic('g');
    await admin.createTopic({ topic, partitions: 2 });
    await http.call('joinGroup', { params: { group }, body: { topics: [topic], sessionTimeoutMs: 60_000 } });

    expect((await admin.listGroups()).find((g) => g.groupId === group)).toEqual(
      (await directAdmin.listGroups()).find((g) => g.groupId === group),
    );
    const described = await admin.describeGroup(group);
    expect(described.members).toEqual([expect.objectContaining({ topics: [topic], active: true })]);
    expect(described.members[0]!.lastHeartbeatAt).toBeInstanceOf(Date);
    expect(described).toEqual(await directAdmin.describeGroup(group));

    await expect(admin.deleteGroup(group)).rejects.toBeInstanceOf(GroupActiveError);
    await admin.deleteGroup(group, { force: true });
    await expect(admin.describeGroup(group)).rejects.toBeInstanceOf(GroupNotFoundError);
  });
});

describe('HttpProducer', () => {
  it('appends records that the direct consumer reads back byte for byte, keys on Kafka partitions', async () => {
    const topic = uniqueTopic('http-prod');
    await admin.createTopic({ topic, partitions: 3 });
    const producer = httpProducer({ lingerMs: 20 });
    const bytes = Buffer.from([0, 1, 2, 253, 254, 255]);
    const [keyed, raw] = await Promise.all([
      producer.send({
        topic,
        messages: [
          { key: 'order-1', value: 'created', headers: { trace: 't-1', tag: ['a', Buffer.from([9])] } },
          { key: 'order-1', value: 'paid', timestamp: 1_234 },
        ],
      }),
      producer.send({
        topic,
        messages: [
          { value: bytes, partition: 0 },
          { value: null, partition: 0 },
        ],
      }),
    ]);
    const partition = partitionForKey(Buffer.from('order-1'), 3);
    expect(keyed.map((m) => [m.topic, m.partition, m.offset])).toEqual([
      [topic, partition, 0],
      [topic, partition, 1],
    ]);
    expect(keyed[1]!.timestamp).toBe(1_234);
    expect(raw.map((m) => m.partition)).toEqual([0, 0]);
    expect(producer.metrics()).toMatchObject({ records: 4, batches: 1 });
    await producer.close();

    const consumer = direct.consumer();
    await consumer.assign([
      { topic, partition, offset: 'earliest' },
      ...(partition === 0 ? [] : [{ topic, partition: 0, offset: 'earliest' as const }]),
    ]);
    const read = await readAll(consumer, 4);
    consumer.close();
    const byPartition = (p: number) => read.filter((m) => m.partition === p);
    expect(
      byPartition(partition)
        .slice(0, 2)
        .map((m) => [m.key?.toString(), m.value?.toString()]),
    ).toEqual([
      ['order-1', 'created'],
      ['order-1', 'paid'],
    ]);
    expect(byPartition(partition)[0]!.headers).toEqual([
      { key: 'trace', value: Buffer.from('t-1') },
      { key: 'tag', value: Buffer.from('a') },
      { key: 'tag', value: Buffer.from([9]) },
    ]);
    const zero = byPartition(0).slice(-2);
    expect(zero.map((m) => m.value)).toEqual([bytes, null]);
  });

  it('splits large sends into several requests and keeps offsets in send order', async () => {
    const topic = uniqueTopic('http-split');
    await admin.createTopic({ topic });
    const producer = httpProducer({ lingerMs: 0, maxBatchBytes: 4096 });
    const value = 'x'.repeat(1500);
    const sent = await producer.send({ topic, messages: Array.from({ length: 9 }, () => ({ value })) });
    expect(sent.map((m) => m.offset)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8]);
    expect(producer.metrics().batches).toBeGreaterThanOrEqual(3);
    expect((await directAdmin.partitionOffsets(topic, 0)).highWatermark).toBe(9);
    await producer.close();
  });

  it('appends at an expected offset, and refuses a stale one with ConcurrentAppendError writing nothing', async () => {
    const topic = uniqueTopic('http-cas');
    await admin.createTopic({ topic, partitions: 2 });
    const producer = httpProducer();
    const sent = await producer.sendAtOffset({
      topic,
      partition: 1,
      expectedOffset: 0,
      messages: [{ value: 'e1' }, { value: 'e2' }],
    });
    expect(sent.map((m) => [m.partition, m.offset])).toEqual([
      [1, 0],
      [1, 1],
    ]);
    const stale = await producer
      .sendAtOffset({ topic, partition: 1, expectedOffset: 1, messages: [{ value: 'late' }] })
      .catch((e: unknown) => e);
    expect(stale).toBeInstanceOf(ConcurrentAppendError);
    expect(stale).toMatchObject({ topic, partition: 1, expectedOffset: 1, actualOffset: 2 });
    expect((await admin.partitionOffsets(topic, 1)).highWatermark).toBe(2);
    await expect(producer.sendAtomically([{ topic, messages: [{ value: 'x' }] }])).rejects.toBeInstanceOf(
      UnsupportedOperationError,
    );
    await producer.close();
  });

  it('surfaces an offset out of range from the API with its bounds', async () => {
    const topic = uniqueTopic('http-oor');
    await admin.createTopic({ topic });
    const error = await http
      .call('fetch', { params: { topic, partition: 0 }, query: { offset: 7 } })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OffsetOutOfRangeError);
    expect(error).toMatchObject({ topic, partition: 0, offset: 7, logStartOffset: 0, highWatermark: 0 });
  });
});
