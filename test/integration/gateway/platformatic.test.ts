/**
 * @platformatic/kafka (2.12, npm): a current client that speaks the flexible versions (tagged
 * fields, compact strings; ApiVersions v3, Metadata v12, Produce v11, Fetch v12, JoinGroup v9,
 * SyncGroup v5, OffsetCommit/OffsetFetch v9, ...) and nothing older — against the gateway:
 * admin creates a topic, a producer writes keyed records with headers, and a consumer group
 * member reads them back and commits, which Tributary's describe shows.
 */
import { Admin, Consumer, Producer, stringDeserializers, stringSerializers } from '@platformatic/kafka';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Gateway } from '../../../gateway/index.ts';
import { startTestGateway } from '../../helpers/gateway.ts';
import { testClient, uniqueTopic } from '../../helpers/tributary.ts';
import { until } from '../../helpers/wait.ts';

const client = testClient();
let gateway: Gateway;

beforeAll(async () => {
  gateway = await startTestGateway({ initialRebalanceDelayMs: 0, healthPort: 0 });
});
afterAll(async () => {
  await gateway?.stop();
  client.close();
});

describe('@platformatic/kafka through the gateway', () => {
  it('creates a topic, produces, and consumes in a group with commits', async () => {
    const brokers = [`127.0.0.1:${gateway.port}`];
    const topic = uniqueTopic('plat');
    const admin = new Admin({ clientId: 'plat-admin', bootstrapBrokers: brokers });
    await admin.createTopics({ topics: [topic], partitions: 2, replicas: 1 });
    await admin.close();
    expect((await client.admin().describeTopic(topic)).partitions).toHaveLength(2);

    const producer = new Producer({
      clientId: 'plat-producer',
      bootstrapBrokers: brokers,
      serializers: stringSerializers,
    });
    await producer.send({
      messages: Array.from({ length: 10 }, (_, i) => ({
        topic,
        key: `k${i}`,
        value: `v${i}`,
        partition: i % 2,
        headers: { n: String(i) },
      })),
    });
    await producer.close();

    const groupId = `g-${topic}`;
    const consumer = new Consumer({
      groupId,
      clientId: 'plat-consumer',
      bootstrapBrokers: brokers,
      deserializers: stringDeserializers,
      sessionTimeout: 10_000,
      heartbeatInterval: 500,
    });
    const stream = await consumer.consume({ autocommit: true, topics: [topic], mode: 'earliest' });
    const seen: string[] = [];
    stream.on('data', (message) => {
      seen.push(`${message.key}=${message.value} ${message.headers.get('n')}`);
    });
    await until(() => seen.length >= 10, { timeoutMs: 30_000, message: 'ten records consumed' });
    expect(seen.sort()).toEqual(Array.from({ length: 10 }, (_, i) => `k${i}=v${i} ${i}`).sort());
    await until(
      async () =>
        (await client.admin().describeGroup(groupId)).partitions.every(
          (p) => p.lag === 0 && p.committedOffset === 5,
        ),
      { timeoutMs: 30_000, message: 'the group committed at the ends' },
    );
    await stream.close();
    await consumer.close();

    // Flexible versions all the way: the versions the gateway served, from its metrics.
    const metrics = await (
      await fetch(`http://${gateway.health!.host}:${gateway.health!.port}/metrics`)
    ).text();
    const served = new Map<string, number[]>();
    for (const line of metrics.split('\n')) {
      const match = /^tributary_gateway_requests_total\{api="(\w+)",version="(\d+)"\} (\d+)/.exec(line);
      if (match) served.set(match[1]!, [...(served.get(match[1]!) ?? []), Number(match[2])]);
    }
    const flexibleFrom: Record<string, number> = {
      ApiVersions: 3,
      Metadata: 9,
      Produce: 9,
      Fetch: 12,
      JoinGroup: 6,
      SyncGroup: 4,
      OffsetCommit: 8,
      CreateTopics: 5,
    };
    for (const [api, from] of Object.entries(flexibleFrom)) {
      expect(served.get(api), api).toBeDefined();
      expect(Math.min(...(served.get(api) ?? [0])), api).toBeGreaterThanOrEqual(from);
    }
  });
});
