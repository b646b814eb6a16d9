/**
 * The gateway's own TLS listener (`tls: { cert, key }`, `--tls-cert/--tls-key`), for deployments
 * without a TLS-terminating load balancer: kcat (librdkafka's OpenSSL) and kafkajs (Node's TLS)
 * connect with `security.protocol=SSL` against the test certificate (self-signed for 127.0.0.1,
 * `test/fixtures/tls/`), with SASL/PLAIN on top too; a plaintext client, or one that does not
 * trust the certificate, is refused at the handshake, and the gateway goes on serving others.
 */
import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { fileURLToPath } from 'node:url';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Gateway } from '../../../gateway/index.ts';
import { kcat, requireKcat, startTestGateway } from '../../helpers/gateway.ts';
import { testClient, uniqueTopic } from '../../helpers/tributary.ts';

const fixture = (name: string) => fileURLToPath(new URL(`../../fixtures/tls/${name}`, import.meta.url));
const CERT = fixture('gateway-cert.pem');
const cert = readFileSync(CERT, 'utf8');
const key = readFileSync(fixture('gateway-key.pem'), 'utf8');

const client = testClient();
const admin = client.admin();
let gateway: Gateway;
let secured: Gateway;

beforeAll(async () => {
  await requireKcat();
  gateway = await startTestGateway({ tls: { cert, key } });
  secured = await startTestGateway({
    tls: { cert, key },
    sasl: { mechanism: 'PLAIN', users: { alice: 'wonderland' } },
  });
});
afterAll(async () => {
  await Promise.all([gateway?.stop(), secured?.stop()]);
  client.close();
});

describe('the gateway over TLS', () => {
  it('kcat produces and consumes over SSL, trusting the certificate', async () => {
    const topic = uniqueTopic('tls');
    await admin.createTopic({ topic, partitions: 1 });
    const ssl = ['-X', 'security.protocol=SSL', '-X', `ssl.ca.location=${CERT}`];
    const produced = await kcat(gateway.port, ['-P', '-t', topic, '-K:', ...ssl], 'k1:one\nk2:two\n');
    expect(produced.code, produced.stderr).toBe(0);
    const consumed = await kcat(gateway.port, [
      '-C',
      '-t',
      topic,
      '-p',
      '0',
      '-o',
      'beginning',
      '-e',
      '-f',
      '%k=%s\n',
      ...ssl,
    ]);
    expect(consumed.code, consumed.stderr).toBe(0);
    expect(consumed.stdout.trim().split('\n')).toEqual(['k1=one', 'k2=two']);
  });

  it('kafkajs over SASL_SSL: authenticated inside the TLS session', async () => {
    const topic = uniqueTopic('tls-sasl');
    await admin.createTopic({ topic, partitions: 1 });
    const kafka = new Kafka({
      brokers: [`127.0.0.1:${secured.port}`],
      ssl: { ca: [cert] },
      sasl: { mechanism: 'plain', username: 'alice', password: 'wonderland' },
      logLevel: logLevel.NOTHING,
    });
    const producer = kafka.producer();
    await producer.connect();
    const [meta] = await producer.send({ topic, acks: -1, messages: [{ value: 'secret' }] });
    await producer.disconnect();
    expect(meta?.baseOffset).toBe('0');
    const consumer = client.consumer();
    await consumer.assign([{ topic, partition: 0, offset: 'earliest' }]);
    const [batch] = await consumer.poll();
    expect(batch?.messages.map((m) => String(m.value))).toEqual(['secret']);
    await consumer.close();
  });

  it('refuses a client that does not trust the certificate, and a plaintext one, serving others meanwhile', async () => {
    const untrusted = await kcat(gateway.port, ['-L', '-X', 'security.protocol=SSL', '-m', '5'], '', 30_000);
    expect(untrusted.code).not.toBe(0);
    expect(untrusted.stderr).toMatch(/certificate|SSL|handshake/i);
    // A plaintext Kafka request on the TLS port: the handshake fails and the socket is closed.
    const closed = await new Promise<boolean>((resolve) => {
      const socket = connect({ host: '127.0.0.1', port: gateway.port }, () => {
        socket.write(Buffer.from([0, 0, 0, 10, 0, 18, 0, 0, 0, 0, 0, 1, 255, 255]));
      });
      socket.on('error', () => undefined);
      socket.on('close', () => resolve(true));
      socket.setTimeout(15_000, () => {
        socket.destroy();
        resolve(false);
      });
    });
    expect(closed).toBe(true);
    const metadata = await kcat(gateway.port, [
      '-L',
      '-X',
      'security.protocol=SSL',
      '-X',
      `ssl.ca.location=${CERT}`,
    ]);
    expect(metadata.code, metadata.stderr).toBe(0);
    expect(metadata.stdout).toContain('broker 0 at 127.0.0.1');
  });

  it('refuses an unusable certificate or key at start, with a typed error', async () => {
    await expect(startTestGateway({ tls: { cert: 'not a certificate', key } })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
    });
  });
});
