/**
 * Hostile input against a gateway on tables of its own: truncated frames, wrong and huge declared
 * sizes, unknown API keys and versions, APIs not served, garbage after a valid request, thousands
 * of random and mutated frames (seeded). Each closes (or is answered on) its own connection only:
 * the gateway keeps serving the others, and nothing is written to any table.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADVERTISED_APIS, type Gateway } from '../../../gateway/index.ts';
import { encodeRequest } from '../../../gateway/protocol/index.ts';
import { tableNames } from '../../../sdk/src/internal.ts';
import { startTestGateway } from '../../helpers/gateway.ts';
import { batchOf, produceTo } from '../../helpers/kafka-batches.ts';
import { WireClient } from '../../helpers/kafka-wire.ts';
import { seededRandom, testSeed } from '../../helpers/random.ts';
import { freshTablePrefix } from '../../helpers/stack.ts';
import { type TableSnapshot, TableSnapshotter } from '../../helpers/table-snapshot.ts';
import { testClient, testDynamoDB, uniqueTopic } from '../../helpers/tributary.ts';

const ddb = testDynamoDB();
let prefix: string;
let gateway: Gateway & { readonly lines: string[] };
let snapshotter: TableSnapshotter;
let before: TableSnapshot;
const topic = uniqueTopic('hostile');

beforeAll(async () => {
  prefix = await freshTablePrefix('gw-hostile');
  const owner = testClient({ tablePrefix: prefix });
  await owner.admin().createTopic({ topic, partitions: 2 });
  owner.close();
  gateway = await startTestGateway({ tablePrefix: prefix });
  const tables = tableNames(prefix);
  snapshotter = new TableSnapshotter(ddb, [tables.log, tables.topics, tables.groups]);
  before = await snapshotter.snapshot();
});
afterAll(async () => {
  await gateway?.stop();
  ddb.destroy();
});

/** A size prefix and then `payload`. */
function framed(payload: Uint8Array, declared = payload.length): Uint8Array {
  const out = new Uint8Array(4 + payload.length);
  new DataView(out.buffer).setInt32(0, declared);
  out.set(payload, 4);
  return out;
}

const API_VERSIONS_V3 = (correlationId: number) =>
  encodeRequest(
    'ApiVersions',
    { apiVersion: 3, correlationId, clientId: 'sentinel' },
    { clientSoftwareName: 'sentinel', clientSoftwareVersion: '1' },
  );

/**
 * Writes `bytes` and then a valid ApiVersions request on a new connection; resolves `closed` when
 * the gateway closed the connection before answering the sentinel, `answered` when it answered it.
 */
async function sendThenSentinel(bytes: Uint8Array): Promise<'closed' | 'answered'> {
  const wire = await WireClient.connect(gateway.port);
  const sentinel = 0x5e47;
  wire.writeRaw(bytes);
  wire.writeRaw(API_VERSIONS_V3(sentinel));
  try {
    for (;;) {
      const frame = await wire.nextFrame();
      if (new DataView(frame.buffer, frame.byteOffset, 4).getInt32(0) === sentinel) return 'answered';
    }
  } catch {
    return 'closed';
  } finally {
    wire.close();
  }
}

/** A fresh connection gets answered: the gateway still serves. */
async function stillServes(): Promise<void> {
  const wire = await WireClient.connect(gateway.port);
  try {
    const metadata = await wire.request('Metadata', 12, {
      topics: [{ topicId: '00000000-0000-0000-0000-000000000000', name: topic }],
      allowAutoTopicCreation: false,
      includeClusterAuthorizedOperations: false,
      includeTopicAuthorizedOperations: false,
    });
    expect(metadata.topics[0]).toMatchObject({ name: topic, errorCode: 0 });
  } finally {
    wire.close();
  }
}

async function produceFrame(correlationId: number, partition = 0): Promise<Uint8Array> {
  return encodeRequest(
    'Produce',
    { apiVersion: 9, correlationId, clientId: 'hostile' },
    {
      transactionalId: null,
      acks: -1,
      timeoutMs: 30_000,
      topicData: [
        { name: topic, partitionData: [{ index: partition, records: await batchOf(['h0', 'h1']) }] },
      ],
    },
  );
}

describe('hostile input', () => {
  it('closes the connection on truncated frames, wrong sizes and empty frames; nothing is written', async () => {
    const produce = await produceFrame(1);
    const payload = produce.subarray(4);
    // The declared size says the frame ends inside the records.
    expect(await sendThenSentinel(framed(payload.subarray(0, payload.length - 10)))).toBe('closed');
    expect(await sendThenSentinel(framed(new Uint8Array(0)))).toBe('closed');
    expect(await sendThenSentinel(framed(new Uint8Array(5)))).toBe('closed');
    expect(await sendThenSentinel(framed(payload, -5))).toBe('closed');
    // More than the largest frame (100 MiB): refused before anything is buffered for it.
    expect(await sendThenSentinel(framed(payload, 0x7fff_ffff))).toBe('closed');
    // A frame that never completes: the client gives up and goes.
    const wire = await WireClient.connect(gateway.port);
    wire.writeRaw(framed(payload, payload.length + 100));
    wire.close();
    await stillServes();
    expect(TableSnapshotter.diff(before, await snapshotter.snapshot())).toEqual([]);
  });

  it('answers ApiVersions above its versions in the v0 body (KIP-511), and closes on other unknown keys and versions', async () => {
    const wire = await WireClient.connect(gateway.port);
    try {
      const header = new Uint8Array(10);
      const view = new DataView(header.buffer);
      view.setInt16(0, 18);
      view.setInt16(2, 9);
      view.setInt32(4, 77);
      view.setInt16(8, -1);
      wire.writeRaw(framed(header));
      const answer = await wire.response('ApiVersions', 0, 77);
      expect(answer.errorCode).toBe(35);
      expect(answer.apiKeys).toEqual([{ apiKey: 18, minVersion: 0, maxVersion: 4 }]);
      // The connection stays open: the client retries with a version both speak.
      expect(
        (await wire.request('ApiVersions', 3, { clientSoftwareName: 'w', clientSoftwareVersion: '1' }))
          .errorCode,
      ).toBe(0);
    } finally {
      wire.close();
    }
    const unknownKey = new Uint8Array(10);
    new DataView(unknownKey.buffer).setInt16(0, 999);
    expect(await sendThenSentinel(framed(unknownKey))).toBe('closed');
    const tooNew = new Uint8Array(10);
    new DataView(tooNew.buffer).setInt16(0, 3);
    new DataView(tooNew.buffer).setInt16(2, 13);
    expect(await sendThenSentinel(framed(tooNew))).toBe('closed');
    // Kafka's transaction APIs (EndTxn, key 26) are not served, so not advertised: closed, as Kafka
    // closes a connection for an API it does not know.
    const endTxn = new Uint8Array(10);
    new DataView(endTxn.buffer).setInt16(0, 26);
    new DataView(endTxn.buffer).setInt16(2, 1);
    expect(ADVERTISED_APIS.some((a) => a.apiKey === 26)).toBe(false);
    expect(await sendThenSentinel(framed(endTxn))).toBe('closed');
    await stillServes();
  });

  it('answers the requests before a malformed one, then closes; the malformed one writes nothing', async () => {
    const wire = await WireClient.connect(gateway.port);
    const good = API_VERSIONS_V3(11);
    const produce = await produceFrame(12);
    // The Produce frame with trailing garbage inside its declared size: malformed as a whole.
    const bad = framed(Buffer.concat([produce.subarray(4), Buffer.from([1, 2, 3])]));
    wire.writeRaw(Buffer.concat([good, bad]));
    expect((await wire.response('ApiVersions', 3, 11)).errorCode).toBe(0);
    await wire.closed;
    expect(TableSnapshotter.diff(before, await snapshotter.snapshot())).toEqual([]);
  });

  it('survives thousands of random, mutated and truncated frames; writes nothing; keeps serving', async () => {
    const random = seededRandom(testSeed('gateway hostile frames'));
    const int = (n: number) => Math.floor(random() * n);
    const bytes = (n: number) => Uint8Array.from({ length: n }, () => int(256));
    // APIs that write nothing whatever their body says (random admin requests could).
    const readOnly = ADVERTISED_APIS.filter((a) =>
      [
        'Produce',
        'Fetch',
        'ListOffsets',
        'Metadata',
        'ApiVersions',
        'FindCoordinator',
        'DescribeConfigs',
      ].includes(a.name),
    );
    const template = await produceFrame(21);
    // Where the partition's RecordBatch starts in the template: after its int32 length, the
    // records end the frame. Mutations from its CRC on can only make the batch fail its CRC.
    const batchLength = (await batchOf(['h0', 'h1'])).length;
    const batchStart = template.length - batchLength;
    let answered = 0;
    let closed = 0;
    const frames: Uint8Array[] = [];
    for (let i = 0; i < 1200; i++) {
      const api = readOnly[int(readOnly.length)]!;
      const header = new Uint8Array(10);
      const view = new DataView(header.buffer);
      view.setInt16(0, api.apiKey);
      view.setInt16(2, api.minVersion + int(api.maxVersion - api.minVersion + 1));
      view.setInt32(4, i);
      view.setInt16(8, -1);
      frames.push(framed(Buffer.concat([header, bytes(int(200))])));
    }
    for (let i = 0; i < 600; i++) {
      const mutated = new Uint8Array(template);
      const flips = 1 + int(4);
      for (let f = 0; f < flips; f++) {
        const at = batchStart + 17 + int(batchLength - 17);
        mutated[at] = (mutated[at]! ^ (1 + int(255))) & 0xff;
      }
      frames.push(mutated);
    }
    for (let i = 0; i < 400; i++) {
      const cut = 8 + int(template.length - 12);
      frames.push(framed(template.subarray(4, cut)));
    }
    for (let i = 0; i < frames.length; i += 20) {
      const outcomes = await Promise.all(frames.slice(i, i + 20).map(sendThenSentinel));
      answered += outcomes.filter((o) => o === 'answered').length;
      closed += outcomes.filter((o) => o === 'closed').length;
    }
    expect(answered + closed).toBe(frames.length);
    // Most garbage is refused at decoding, and every mutated batch fails its CRC (answered).
    expect(closed).toBeGreaterThan(0);
    expect(answered).toBeGreaterThan(0);
    expect(TableSnapshotter.diff(before, await snapshotter.snapshot())).toEqual([]);
    // Every frame was refused by the protocol's checks or answered: no handler failed on one.
    expect(gateway.lines.filter((line) => line.includes('request failed'))).toEqual([]);
    await stillServes();
    const wire = await WireClient.connect(gateway.port);
    try {
      expect((await produceTo(wire, topic, 1, await batchOf(['after']))).errorCode).toBe(0);
    } finally {
      wire.close();
    }
  });
});
