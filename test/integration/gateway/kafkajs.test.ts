/**
 * kafkajs 2.2.4 (unmodified) against a gateway on the test stack: its admin client (create and
 * delete topics, add partitions, describe and alter configs, offsets by time), and its producer
 * with acks 1 and -1 and idempotent; what it produced is read back by the Tributary SDK with the
 * offsets kafkajs was told and its keys, values, headers, timestamps and partitions.
 */
import { Kafka, type Admin as KafkaAdmin, logLevel, Partitioners, type RecordMetadata } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Gateway } from '../../../gateway/index.ts';
import { readBatchHeader } from '../../../sdk/src/log/record-batch.ts';
import { readAll } from '../../helpers/consume.ts';
import { startTestGateway } from '../../helpers/gateway.ts';
import { WireClient } from '../../helpers/kafka-wire.ts';
import { testClient, uniqueTopic } from '../../helpers/tributary.ts';

const client = testClient();
const admin = client.admin();
let gateway: Gateway;
let kafka: Kafka;
let kafkaAdmin: KafkaAdmin;

beforeAll(async () => {
  gateway = await startTestGateway({ initialRebalanceDelayMs: 0 });
  kafka = new Kafka({
    clientId: 'gateway-test',
    brokers: [`127.0.0.1:${gateway.port}`],
    logLevel: logLevel.NOTHING,
    retry: { retries: 3, initialRetryTime: 50 },
  });
  kafkaAdmin = kafka.admin();
  await kafkaAdmin.connect();
});
afterAll(async () => {
  await kafkaAdmin?.disconnect();
  await gateway?.stop();
  client.close();
});

describe('kafkajs admin through the gateway', () => {
  it('creates topics with partitions and configs, refuses one that exists, and lists its metadata', async () => {
    const topic = uniqueTopic('kjs-create');
    const created = await kafkaAdmin.createTopics({
      topics: [{ topic, numPartitions: 3, configEntries: [{ name: 'retention.ms', value: '3600000' }] }],
    });
    expect(created).toBe(true);
    const described = await admin.describeTopic(topic);
    expect(described.partitions).toHaveLength(3);
    expect(described.configs['retention.ms']).toBe('3600000');
    // kafkajs resolves false for a topic that already exists (TOPIC_ALREADY_EXISTS).
    expect(await kafkaAdmin.createTopics({ topics: [{ topic, numPartitions: 1 }] })).toBe(false);
    expect((await admin.describeTopic(topic)).partitions).toHaveLength(3);

    const metadata = await kafkaAdmin.fetchTopicMetadata({ topics: [topic] });
    expect(metadata.topics).toEqual([
      {
        name: topic,
        partitions: [0, 1, 2].map((partitionId) => ({
          partitionErrorCode: 0,
          partitionId,
          leader: 0,
          replicas: [0],
          isr: [0],
          offlineReplicas: [],
        })),
      },
    ]);
  });

  it('refuses an unknown config with INVALID_CONFIG and creates nothing', async () => {
    const topic = uniqueTopic('kjs-badcfg');
    await expect(
      kafkaAdmin.createTopics({
        topics: [{ topic, configEntries: [{ name: 'min.insync.replicas', value: '2' }] }],
      }),
    ).rejects.toMatchObject({ errors: [expect.objectContaining({ type: 'INVALID_CONFIG' })] });
    await expect(admin.describeTopic(topic)).rejects.toMatchObject({ code: 'TOPIC_NOT_FOUND' });
  });

  it('with validateOnly checks everything and writes nothing', async () => {
    const topic = uniqueTopic('kjs-validate');
    expect(
      await kafkaAdmin.createTopics({
        topics: [{ topic, numPartitions: 2 }],
        validateOnly: true,
        waitForLeaders: false,
      }),
    ).toBe(true);
    await expect(admin.describeTopic(topic)).rejects.toMatchObject({ code: 'TOPIC_NOT_FOUND' });
  });

  it('deletes topics: they are gone for the SDK and for metadata', async () => {
    const topic = uniqueTopic('kjs-delete');
    await admin.createTopic({ topic, partitions: 2 });
    const producer = client.producer();
    await producer.send({ topic, messages: [{ value: 'doomed', partition: 1 }] });
    await producer.close();
    await kafkaAdmin.deleteTopics({ topics: [topic] });
    await expect(admin.describeTopic(topic)).rejects.toMatchObject({ code: 'TOPIC_NOT_FOUND' });
    expect((await kafkaAdmin.listTopics()).includes(topic)).toBe(false);
  });

  it('adds partitions, and refuses to shrink', async () => {
    const topic = uniqueTopic('kjs-grow');
    await admin.createTopic({ topic, partitions: 1 });
    await kafkaAdmin.createPartitions({ topicPartitions: [{ topic, count: 4 }] });
    expect((await admin.describeTopic(topic)).partitions).toHaveLength(4);
    await expect(
      kafkaAdmin.createPartitions({ topicPartitions: [{ topic, count: 2 }] }),
    ).rejects.toMatchObject({
      type: 'INVALID_PARTITIONS',
    });
    expect((await admin.describeTopic(topic)).partitions).toHaveLength(4);
  });

  it('describes and alters configs (AlterConfigs replaces the set)', async () => {
    const topic = uniqueTopic('kjs-configs');
    await admin.createTopic({ topic, configs: { 'retention.ms': 86_400_000, 'max.message.bytes': 500_000 } });
    const described = await kafkaAdmin.describeConfigs({
      resources: [{ type: 2, name: topic, configNames: ['retention.ms', 'max.message.bytes', 'segment.ms'] }],
      includeSynonyms: false,
    });
    const entries = described.resources[0]?.configEntries ?? [];
    expect(entries.map((e) => [e.configName, e.configValue, e.isDefault])).toEqual([
      ['retention.ms', '86400000', false],
      ['max.message.bytes', '500000', false],
      ['segment.ms', '3600000', true],
    ]);

    await kafkaAdmin.alterConfigs({
      validateOnly: false,
      resources: [{ type: 2, name: topic, configEntries: [{ name: 'retention.ms', value: '7200000' }] }],
    });
    const configs = (await admin.describeTopic(topic)).configs;
    expect(configs['retention.ms']).toBe('7200000');
    // Not listed, so back to its default: AlterConfigs is not incremental.
    expect(configs['max.message.bytes']).toBe('1048576');

    await expect(
      kafkaAdmin.alterConfigs({
        validateOnly: false,
        resources: [{ type: 2, name: topic, configEntries: [{ name: 'no.such.config', value: '1' }] }],
      }),
    ).rejects.toMatchObject({ type: 'INVALID_CONFIG' });
    expect((await admin.describeTopic(topic)).configs['retention.ms']).toBe('7200000');
  });

  it('IncrementalAlterConfigs sets and deletes single configs, and refuses unknown ones and APPEND on a scalar', async () => {
    const topic = uniqueTopic('kjs-incr');
    await admin.createTopic({ topic, configs: { 'retention.ms': 86_400_000 } });
    const wire = await WireClient.connect(gateway.port);
    try {
      const alter = (configs: { name: string; configOperation: number; value: string | null }[]) =>
        wire.request('IncrementalAlterConfigs', 1, {
          resources: [{ resourceType: 2, resourceName: topic, configs }],
          validateOnly: false,
        });
      const set = await alter([
        { name: 'segment.ms', configOperation: 0, value: '60000' },
        { name: 'retention.ms', configOperation: 1, value: null },
      ]);
      expect(set.responses[0]?.errorCode).toBe(0);
      const after = (await admin.describeTopic(topic)).configs;
      expect(after['segment.ms']).toBe('60000');
      expect(after['retention.ms']).toBe(String(7 * 86_400_000));

      const unknown = await alter([
        { name: 'unclean.leader.election.enable', configOperation: 0, value: 'true' },
      ]);
      expect(unknown.responses[0]?.errorCode).toBe(40);
      const append = await alter([{ name: 'segment.ms', configOperation: 2, value: '1' }]);
      expect(append.responses[0]?.errorCode).toBe(40);
      expect((await admin.describeTopic(topic)).configs['segment.ms']).toBe('60000');
    } finally {
      wire.close();
    }
  });

  it('lists offsets: earliest, latest, and by timestamp', async () => {
    const topic = uniqueTopic('kjs-offsets');
    await admin.createTopic({ topic, partitions: 2 });
    const base = Date.UTC(2024, 2, 3);
    const producer = client.producer();
    await producer.send({
      topic,
      messages: [0, 1, 2, 3, 4].map((i) => ({ value: `v${i}`, partition: 0, timestamp: base + i * 10 })),
    });
    await producer.close();
    const offsets = await kafkaAdmin.fetchTopicOffsets(topic);
    expect(offsets.sort((a, b) => a.partition - b.partition)).toEqual([
      { partition: 0, offset: '5', high: '5', low: '0' },
      { partition: 1, offset: '0', high: '0', low: '0' },
    ]);
    const byTime = await kafkaAdmin.fetchTopicOffsetsByTimestamp(topic, base + 25);
    expect(byTime.sort((a, b) => a.partition - b.partition)).toEqual([
      { partition: 0, offset: '3' },
      // Nothing that recent: kafkajs then asks for the latest offset.
      { partition: 1, offset: '0' },
    ]);
  });
});

describe('kafkajs producer through the gateway', () => {
  it.each([1, -1] as const)(
    'acks %i: the SDK reads what was acknowledged, at the offsets kafkajs was told',
    async (acks) => {
      const topic = uniqueTopic(`kjs-acks${acks === 1 ? '1' : 'all'}`);
      await admin.createTopic({ topic, partitions: 3 });
      const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
      await producer.connect();
      const timestamp = Date.UTC(2024, 3, 4, 5, 6, 7);
      const messages = Array.from({ length: 30 }, (_, i) => ({
        key: `key-${i % 7}`,
        value: `value-${i}`,
        headers: { index: String(i), kind: i % 2 === 0 ? 'even' : 'odd' },
        timestamp: String(timestamp + i),
      }));
      const acked: RecordMetadata[] = [];
      for (const message of messages) {
        acked.push(...(await producer.send({ topic, acks, messages: [message] })));
      }
      await producer.disconnect();
      expect(acked.every((a) => a.errorCode === 0)).toBe(true);

      const consumer = client.consumer();
      await consumer.assign(
        [0, 1, 2].map((partition) => ({ topic, partition, offset: 'earliest' as const })),
      );
      const read = await readAll(consumer, messages.length);
      consumer.close();
      expect(read).toHaveLength(messages.length);
      const byValue = new Map(read.map((m) => [m.value?.toString(), m]));
      messages.forEach((message, i) => {
        const got = byValue.get(message.value);
        expect(got, message.value).toBeDefined();
        // Where kafkajs's partitioner put it, at the offset the gateway acknowledged.
        expect(got?.partition).toBe(acked[i]?.partition);
        expect(String(got?.offset)).toBe(acked[i]?.baseOffset);
        expect(got?.key?.toString()).toBe(message.key);
        expect(got?.timestamp).toBe(timestamp + i);
        expect(got?.headers.map((h) => [h.key, h.value?.toString()])).toEqual([
          ['index', String(i)],
          ['kind', i % 2 === 0 ? 'even' : 'odd'],
        ]);
      });
      // The same key always went to the same partition.
      const partitionOfKey = new Map<string, number>();
      for (const m of read) {
        const key = m.key?.toString() ?? '';
        expect(partitionOfKey.get(key) ?? m.partition).toBe(m.partition);
        partitionOfKey.set(key, m.partition);
      }
    },
  );

  it('idempotent: every record lands once, in order, under a producer id and sequences from 0', async () => {
    const topic = uniqueTopic('kjs-idem');
    await admin.createTopic({ topic, partitions: 1 });
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    const values = Array.from({ length: 60 }, (_, i) => `idem-${i}`);
    for (let i = 0; i < values.length; i += 6) {
      await producer.send({
        topic,
        acks: -1,
        messages: values.slice(i, i + 6).map((value) => ({ value, partition: 0 })),
      });
    }
    await producer.disconnect();

    const consumer = client.consumer();
    await consumer.assign([{ topic, partition: 0, offset: 'earliest' }]);
    const read = await readAll(consumer, values.length);
    consumer.close();
    expect(read.map((m) => m.value?.toString())).toEqual(values);
    expect(read.map((m) => m.offset)).toEqual(values.map((_, i) => i));

    const wire = await WireClient.connect(gateway.port);
    try {
      const fetched = await wire.request('Fetch', 11, {
        maxWaitMs: 0,
        minBytes: 0,
        topics: [{ topic, partitions: [{ partition: 0, fetchOffset: 0n, partitionMaxBytes: 1 << 20 }] }],
        forgottenTopicsData: [],
      });
      const records = fetched.responses[0]?.partitions[0]?.records ?? new Uint8Array();
      const headers = [];
      for (let pos = 0; pos < records.length; ) {
        const header = readBatchHeader(records.subarray(pos));
        headers.push(header);
        pos += 12 + header.batchLength;
      }
      expect(headers).toHaveLength(10);
      const producerIds = new Set(headers.map((h) => h.producerId));
      expect(producerIds.size).toBe(1);
      expect([...producerIds][0]).toBeGreaterThanOrEqual(0n);
      expect(headers.map((h) => h.baseSequence)).toEqual(headers.map((_, i) => i * 6));
    } finally {
      wire.close();
    }
  });
});

describe('kafkajs admin of consumer groups through the gateway', () => {
  it('lists, describes, fetches, sets and resets offsets of, and deletes a group', async () => {
    const topic = uniqueTopic('kjs-gadmin');
    const groupId = `g-${topic}`;
    await admin.createTopic({ topic, partitions: 2 });
    const producer = client.producer({ compression: 'gzip' });
    for (let i = 0; i < 10; i++)
      await producer.send({ topic, messages: [{ value: `v${i}`, partition: i % 2 }] });

    // A standalone commit (generation -1) on a group without members, as kafkajs's setOffsets sends it.
    await kafkaAdmin.setOffsets({
      groupId,
      topic,
      partitions: [
        { partition: 0, offset: '3' },
        { partition: 1, offset: '5' },
      ],
    });
    const fetched = await kafkaAdmin.fetchOffsets({ groupId, topics: [topic] });
    expect(fetched).toEqual([
      {
        topic,
        partitions: [
          { partition: 0, offset: '3', metadata: null },
          { partition: 1, offset: '5', metadata: null },
        ],
      },
    ]);
    // The same offsets are the Tributary group's.
    const described = await admin.describeGroup(groupId);
    expect(described.partitions.map((p) => [p.partition, p.committedOffset, p.lag])).toEqual([
      [0, 3, 2],
      [1, 5, 0],
    ]);

    const { groups } = await kafkaAdmin.listGroups();
    expect(groups).toContainEqual({ groupId, protocolType: 'consumer' });
    const { groups: descriptions } = await kafkaAdmin.describeGroups([groupId]);
    expect(descriptions[0]).toMatchObject({ groupId, state: 'Empty', protocolType: 'consumer', members: [] });

    // resetOffsets commits ListOffsets' sentinels (-2 earliest, -1 latest): the log's start and end.
    await kafkaAdmin.resetOffsets({ groupId, topic, earliest: true });
    expect((await admin.describeGroup(groupId)).partitions.map((p) => p.committedOffset)).toEqual([0, 0]);
    await kafkaAdmin.resetOffsets({ groupId, topic, earliest: false });
    expect((await admin.describeGroup(groupId)).partitions.map((p) => p.committedOffset)).toEqual([5, 5]);

    await kafkaAdmin.deleteGroups([groupId]);
    await expect(admin.describeGroup(groupId)).rejects.toMatchObject({ code: 'GROUP_NOT_FOUND' });
    await expect(kafkaAdmin.deleteGroups([groupId])).rejects.toThrow();
  });
});
