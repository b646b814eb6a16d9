/**
 * SASL/PLAIN on a gateway configured with users: kafkajs and kcat authenticate and work; a wrong
 * password is SASL_AUTHENTICATION_FAILED and the connection closed; before authenticating only
 * ApiVersions and the handshake are served (anything else closes the connection, writing nothing);
 * the v0 handshake's raw token exchange works too.
 */
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Gateway } from '../../../gateway/index.ts';
import { encodeRequest } from '../../../gateway/protocol/index.ts';
import { kcat, kcatReadPartition, requireKcat, startTestGateway } from '../../helpers/gateway.ts';
import { batchOf, produceTo } from '../../helpers/kafka-batches.ts';
import { WireClient } from '../../helpers/kafka-wire.ts';
import { testClient, uniqueTopic } from '../../helpers/tributary.ts';

const client = testClient();
const admin = client.admin();
let gateway: Gateway;
const users = { alice: 'wonderland', bob: 'builder' };

beforeAll(async () => {
  await requireKcat();
  gateway = await startTestGateway({ sasl: { mechanism: 'PLAIN', users } });
});
afterAll(async () => {
  await gateway?.stop();
  client.close();
});

function kafkaAs(username: string, password: string): Kafka {
  return new Kafka({
    clientId: 'sasl-test',
    brokers: [`127.0.0.1:${gateway.port}`],
    sasl: { mechanism: 'plain', username, password },
    logLevel: logLevel.NOTHING,
    retry: { retries: 0 },
  });
}

function plainToken(user: string, password: string): Uint8Array {
  return Buffer.from(`\0${user}\0${password}`, 'utf8');
}

describe('SASL/PLAIN', () => {
  it('kafkajs with valid credentials produces; with a wrong password it is refused', async () => {
    const topic = uniqueTopic('sasl-kjs');
    await admin.createTopic({ topic, partitions: 1 });
    const producer = kafkaAs('alice', 'wonderland').producer();
    await producer.connect();
    const [acked] = await producer.send({ topic, messages: [{ value: 'authenticated' }] });
    await producer.disconnect();
    expect(acked?.errorCode).toBe(0);
    expect((await admin.partitionOffsets(topic, 0)).highWatermark).toBe(1);

    const intruder = kafkaAs('alice', 'looking-glass').producer();
    await expect(intruder.connect()).rejects.toMatchObject({ name: 'KafkaJSSASLAuthenticationError' });
  });

  it('kcat authenticates with SASL_PLAINTEXT and PLAIN', async () => {
    const topic = uniqueTopic('sasl-kcat');
    await admin.createTopic({ topic, partitions: 1 });
    const sasl = [
      '-X',
      'security.protocol=SASL_PLAINTEXT',
      '-X',
      'sasl.mechanisms=PLAIN',
      '-X',
      'sasl.username=bob',
    ];
    const produced = await kcat(
      gateway.port,
      ['-P', '-t', topic, '-p', '0', ...sasl, '-X', 'sasl.password=builder'],
      'one\ntwo\n',
    );
    expect(produced.code, produced.stderr).toBe(0);
    const consumed = await kcatReadPartition(gateway.port, topic, 0, '%s\n', [
      ...sasl,
      '-X',
      'sasl.password=builder',
    ]);
    expect(consumed.stdout.trim().split('\n')).toEqual(['one', 'two']);
    const refused = await kcat(gateway.port, ['-L', '-m', '3', ...sasl, '-X', 'sasl.password=nope']);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/SASL authentication error: Authentication failed/);
  });

  it('before authenticating, serves ApiVersions and the handshake only, and closes on anything else', async () => {
    const topic = uniqueTopic('sasl-gate');
    await admin.createTopic({ topic, partitions: 1 });
    const wire = await WireClient.connect(gateway.port);
    expect(
      (await wire.request('ApiVersions', 3, { clientSoftwareName: 'w', clientSoftwareVersion: '1' }))
        .errorCode,
    ).toBe(0);
    await expect(produceTo(wire, topic, 0, await batchOf(['sneaky']))).rejects.toThrow(/closed/);
    expect((await admin.partitionOffsets(topic, 0)).highWatermark).toBe(0);

    const other = await WireClient.connect(gateway.port);
    try {
      expect(await other.request('SaslHandshake', 1, { mechanism: 'SCRAM-SHA-256' })).toEqual({
        errorCode: 33,
        mechanisms: ['PLAIN'],
      });
      await other.closed;
    } finally {
      other.close();
    }
  });

  it('authenticates with SaslAuthenticate after a v1 handshake, and with a raw token after a v0 one', async () => {
    const v1 = await WireClient.connect(gateway.port);
    try {
      expect(await v1.request('SaslHandshake', 1, { mechanism: 'PLAIN' })).toEqual({
        errorCode: 0,
        mechanisms: ['PLAIN'],
      });
      const answer = await v1.request('SaslAuthenticate', 2, { authBytes: plainToken('bob', 'builder') });
      expect(answer.errorCode).toBe(0);
      const metadata = await v1.request('Metadata', 4, {
        topics: [],
        allowAutoTopicCreation: false,
        includeClusterAuthorizedOperations: false,
        includeTopicAuthorizedOperations: false,
      });
      expect(metadata.brokers).toEqual([{ nodeId: 0, host: '127.0.0.1', port: gateway.port, rack: null }]);
    } finally {
      v1.close();
    }

    const v0 = await WireClient.connect(gateway.port);
    try {
      expect((await v0.request('SaslHandshake', 0, { mechanism: 'PLAIN' })).errorCode).toBe(0);
      const token = plainToken('alice', 'wonderland');
      const frame = new Uint8Array(4 + token.length);
      new DataView(frame.buffer).setInt32(0, token.length);
      frame.set(token, 4);
      v0.writeRaw(frame);
      // An empty frame says the token was accepted.
      expect((await v0.nextFrame()).length).toBe(0);
      expect(
        (await v0.request('ApiVersions', 2, { clientSoftwareName: '', clientSoftwareVersion: '' })).errorCode,
      ).toBe(0);
    } finally {
      v0.close();
    }

    const wrong = await WireClient.connect(gateway.port);
    try {
      await wrong.request('SaslHandshake', 1, { mechanism: 'PLAIN' });
      const answer = await wrong.request('SaslAuthenticate', 1, { authBytes: plainToken('alice', 'wrong') });
      expect(answer.errorCode).toBe(58);
      await wrong.closed;
      // A token naming another user to act as is refused too.
      const proxy = await WireClient.connect(gateway.port);
      await proxy.request('SaslHandshake', 1, { mechanism: 'PLAIN' });
      const asBob = await proxy.request('SaslAuthenticate', 1, {
        authBytes: Buffer.from('bob\0alice\0wonderland', 'utf8'),
      });
      expect(asBob.errorCode).toBe(58);
      proxy.close();
    } finally {
      wrong.close();
    }
    // Not a handshake at all: a raw request encoding sent before authenticating closes too.
    const raw = await WireClient.connect(gateway.port);
    raw.writeRaw(
      encodeRequest(
        'Metadata',
        { apiVersion: 1, correlationId: 1, clientId: 'x' },
        { topics: null, includeClusterAuthorizedOperations: false, includeTopicAuthorizedOperations: false },
      ),
    );
    await raw.closed;
  });
});
