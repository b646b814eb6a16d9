/**
 * Gateways killed (SIGKILL) under load, behind a TCP balancer as behind an NLB: two gateway
 * processes serve the same tables and advertise the balancer's address, so a client whose
 * connection died reconnects to the other one.
 *
 * - Mid-produce: an idempotent kafkajs producer keeps sending while one gateway is killed; every
 *   send resolves, and the log holds each record exactly once, in order (a batch whose append was
 *   cut off is resolved by the producer state, on the surviving gateway, never written twice).
 * - Mid-rebalance: a gateway is killed while a second kafkajs member joins the group; the group
 *   settles with both members splitting the partitions, and every record is processed.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { type Consumer, Kafka, logLevel } from 'kafkajs';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { readAll } from '../../helpers/consume.ts';
import { testStackConfig } from '../../helpers/stack.ts';
import { startTcpBalancer, type TcpBalancer } from '../../helpers/tcp-balancer.ts';
import { testClient, uniqueTopic } from '../../helpers/tributary.ts';
import { until } from '../../helpers/wait.ts';

const GATEWAY = fileURLToPath(new URL('../../fixtures/gateway-process.ts', import.meta.url));
/** Short, so that a batch whose gateway died mid-append is retried within kafkajs's retries. */
const CLAIM_TIMEOUT_MS = 2_000;

const client = testClient();
const admin = client.admin();
const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});
afterAll(() => client.close());

/** A gateway process advertising `advertisedPort`; resolves with it and its own port. */
function startGatewayProcess(advertisedPort: number): Promise<{ child: ChildProcess; port: number }> {
  const { endpoint, region, tablePrefix, bucket } = testStackConfig();
  const child = spawn(
    process.execPath,
    [
      '--disable-warning=ExperimentalWarning',
      GATEWAY,
      JSON.stringify({
        endpoint,
        region,
        tablePrefix,
        bucket,
        advertisedPort,
        produceClaimTimeoutMs: CLAIM_TIMEOUT_MS,
      }),
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  cleanup.push(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  let stderr = '';
  child.stderr!.on('data', (d) => {
    stderr += d;
  });
  return new Promise((resolve, reject) => {
    createInterface({ input: child.stdout! }).once('line', (line) => {
      resolve({ child, port: (JSON.parse(line) as { port: number }).port });
    });
    child.once('exit', (code) => reject(new Error(`The gateway process exited (${code}): ${stderr}`)));
  });
}

/** A balancer with two gateway processes behind it. */
async function twoGateways(): Promise<{
  balancer: TcpBalancer;
  gateways: { child: ChildProcess; port: number }[];
}> {
  const balancer = await startTcpBalancer();
  cleanup.push(() => balancer.stop());
  const gateways = await Promise.all([
    startGatewayProcess(balancer.port),
    startGatewayProcess(balancer.port),
  ]);
  balancer.upstreams = gateways.map((g) => g.port);
  return { balancer, gateways };
}

function kafkaOf(balancer: TcpBalancer, clientId: string): Kafka {
  return new Kafka({
    clientId,
    brokers: [`127.0.0.1:${balancer.port}`],
    logLevel: logLevel.NOTHING,
    retry: { retries: 12, initialRetryTime: 100, maxRetryTime: 2_000 },
  });
}

describe('gateways killed under load', () => {
  it('mid-produce: an idempotent producer loses nothing and writes nothing twice', async () => {
    const { balancer, gateways } = await twoGateways();
    const topic = uniqueTopic('crash-produce');
    await admin.createTopic({ topic, partitions: 2 });
    const producer = kafkaOf(balancer, 'crash-producer').producer({
      idempotent: true,
      maxInFlightRequests: 1,
    });
    await producer.connect();
    cleanup.push(() => producer.disconnect());
    const total = 300;
    let sent = 0;
    const sending = (async () => {
      for (; sent < total; sent++) {
        await producer.send({
          topic,
          acks: -1,
          messages: [{ key: `k${sent % 7}`, value: String(sent), partition: sent % 2 }],
        });
      }
    })();
    await until(() => sent >= 60, { timeoutMs: 30_000, message: '60 records sent' });
    // Whichever gateway the producer's connection goes through, one of them dies now.
    gateways[0]!.child.kill('SIGKILL');
    balancer.upstreams = [gateways[1]!.port];
    await sending;

    const consumer = client.consumer();
    await consumer.assign([0, 1].map((partition) => ({ topic, partition, offset: 'earliest' as const })));
    // Nothing written twice: each partition's log ends exactly after its records.
    const described = await admin.describeTopic(topic);
    expect(described.partitions.map((p) => p.highWatermark)).toEqual([total / 2, total / 2]);
    const records = await readAll(consumer, total);
    expect(records).toHaveLength(total);
    for (const partition of [0, 1]) {
      const values = records.filter((r) => r.partition === partition).map((r) => Number(String(r.value)));
      // Each value once, in the order sent, at dense offsets.
      expect(values).toEqual(Array.from({ length: total / 2 }, (_, i) => 2 * i + partition));
      expect(records.filter((r) => r.partition === partition).map((r) => r.offset)).toEqual(
        Array.from({ length: total / 2 }, (_, i) => i),
      );
    }
  }, 120_000);

  it('mid-rebalance: the group settles with both members and every record is processed', async () => {
    const { balancer, gateways } = await twoGateways();
    const topic = uniqueTopic('crash-group');
    const groupId = `g-${topic}`;
    await admin.createTopic({ topic, partitions: 4 });
    const producer = client.producer({ compression: 'gzip' });
    for (let i = 0; i < 40; i++)
      await producer.send({ topic, messages: [{ value: `v${i}`, partition: i % 4 }] });

    const seen = new Set<string>();
    const assignments = new Map<string, number[]>();
    const member = async (name: string): Promise<Consumer> => {
      const consumer = kafkaOf(balancer, name).consumer({
        groupId,
        sessionTimeout: 6_000,
        rebalanceTimeout: 10_000,
        heartbeatInterval: 500,
        maxWaitTimeInMs: 500,
        retry: { retries: 12, initialRetryTime: 100, maxRetryTime: 2_000 },
      });
      consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
        assignments.set(name, payload.memberAssignment[topic] ?? []);
      });
      cleanup.push(() => consumer.disconnect());
      await consumer.connect();
      await consumer.subscribe({ topic, fromBeginning: true });
      await consumer.run({
        eachMessage: async ({ message }) => {
          seen.add(String(message.value));
        },
      });
      return consumer;
    };
    await member('one');
    await until(() => assignments.get('one')?.length === 4, {
      timeoutMs: 30_000,
      message: 'the first member joined',
    });
    await member('two');
    // The second join starts a rebalance that holds requests on the gateways: kill one of them.
    gateways[0]!.child.kill('SIGKILL');
    balancer.upstreams = [gateways[1]!.port];
    await until(() => assignments.get('one')?.length === 2 && assignments.get('two')?.length === 2, {
      timeoutMs: 60_000,
      message: 'two members with two partitions each',
    });
    expect([...(assignments.get('one') ?? []), ...(assignments.get('two') ?? [])].sort()).toEqual([
      0, 1, 2, 3,
    ]);
    for (let i = 40; i < 80; i++)
      await producer.send({ topic, messages: [{ value: `v${i}`, partition: i % 4 }] });
    await until(() => seen.size === 80, { timeoutMs: 30_000, message: 'all 80 records processed' });
    expect([...seen].sort()).toEqual(Array.from({ length: 80 }, (_, i) => `v${i}`).sort());
  }, 120_000);
});
