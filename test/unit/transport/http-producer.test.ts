/**
 * The HTTP producer's batching, splitting, validation and lifecycle, against a loopback capture
 * server that answers describeTopic and produce as the API would (offsets counted per partition).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { errorToResponse } from '../../../sdk/src/api/error-codec.ts';
import type { ProduceBody } from '../../../sdk/src/api/schemas.ts';
import {
  ClientClosedError,
  InvalidArgumentError,
  OutOfOrderSequenceError,
  PartiallyAppendedError,
  RecordTooLargeError,
  RequestTooLargeError,
  TopicNotFoundError,
  UnknownPartitionError,
  UnsupportedOperationError,
} from '../../../sdk/src/errors.ts';
import type { ProducerOptions } from '../../../sdk/src/producer-input.ts';
import { type RawValue, rawSerializer } from '../../../sdk/src/serde.ts';
import { TopicCache } from '../../../sdk/src/topics/topic-cache.ts';
import { HttpClient } from '../../../sdk/src/transport/http-client.ts';
import { HttpProducer } from '../../../sdk/src/transport/http-producer.ts';
import { HttpTopicSource } from '../../../sdk/src/transport/http-topic-source.ts';
import { type CaptureServer, type Reply, startCaptureServer } from '../../helpers/capture-server.ts';
import { until } from '../../helpers/wait.ts';

interface FakeApi {
  readonly server: CaptureServer;
  /** Bodies of the produce requests received, in order. */
  readonly produced: ProduceBody[];
}

let api: FakeApi | undefined;
afterEach(async () => {
  await api?.server.close();
  api = undefined;
});

/** A fake API with topic "t" (`partitions`, `configs`); `failProduce` answers produce requests instead. */
async function fakeApi(
  partitions = 1,
  configs: Record<string, string> = {},
  failProduce?: () => Reply,
  /** Holds each produce request until it resolves (to observe requests in flight together). */
  gate?: (body: ProduceBody) => Promise<void>,
): Promise<FakeApi> {
  const produced: ProduceBody[] = [];
  const next = new Map<number, number>();
  const server = await startCaptureServer(async (request) => {
    if (request.method === 'GET' && request.url === '/v1/topics/t?offsets=false') {
      return {
        status: 200,
        body: {
          name: 't',
          incarnation: 'inc-1',
          createdAt: '2026-01-01T00:00:00.000Z',
          partitionCount: partitions,
          partitions: [],
          configs,
        },
      };
    }
    if (request.method === 'GET' && request.url.startsWith('/v1/topics/')) {
      const topic = decodeURIComponent(request.url.split('/')[3]!);
      return errorToResponse(new TopicNotFoundError(topic));
    }
    if (request.method === 'POST' && request.url === '/v1/topics/t/records') {
      const body = JSON.parse(request.body) as ProduceBody;
      produced.push(body);
      await gate?.(body);
      if (failProduce) return failProduce();
      return {
        status: 200,
        body: {
          topic: 't',
          records: body.records.map((r) => {
            const partition = r.partition ?? 0;
            const offset = next.get(partition) ?? 0;
            next.set(partition, offset + 1);
            return { partition, offset, timestamp: r.timestamp ?? 0 };
          }),
        },
      };
    }
    return { status: 404, body: { message: 'Not Found' } };
  });
  api = { server, produced };
  return api;
}

function producer(server: CaptureServer, options: ProducerOptions<RawValue> = {}): HttpProducer<RawValue> {
  const client = new HttpClient({
    endpoint: server.url,
    region: 'us-east-1',
    credentials: { accessKeyId: 'a', secretAccessKey: 'b' },
    retry: { baseDelayMs: 1, maxDelayMs: 2, deadlineMs: 500 },
  });
  const topics = new TopicCache(new HttpTopicSource(client), 30_000, Date.now);
  return new HttpProducer<RawValue>(client, topics, { ...options, serializer: rawSerializer });
}

const fromBase64 = (s: string | null | undefined) => (s == null ? s : Buffer.from(s, 'base64').toString());

describe('HttpProducer', () => {
  it('overlaps requests on different partitions and keeps each partition in send order', async () => {
    const held: { partitions: number[]; release: () => void }[] = [];
    const active = new Set<number>();
    const overlaps: number[] = [];
    const { server, produced } = await fakeApi(2, {}, undefined, (body) => {
      const partitions = body.records.map((r) => r.partition ?? 0);
      for (const partition of partitions) {
        if (active.has(partition)) overlaps.push(partition);
        active.add(partition);
      }
      return new Promise((release) =>
        held.push({
          partitions,
          release: () => {
            for (const partition of partitions) active.delete(partition);
            release();
          },
        }),
      );
    });
    const p = producer(server, { lingerMs: 0 });
    const first = p.send({ topic: 't', messages: [{ value: 'p0-a', partition: 0 }] });
    await until(() => held.length === 1);
    // Partition 1 is free: its request goes out while partition 0's is still in flight.
    const second = p.send({ topic: 't', messages: [{ value: 'p1-a', partition: 1 }] });
    const third = p.send({ topic: 't', messages: [{ value: 'p0-b', partition: 0 }] });
    await until(() => held.length === 2);
    expect(held.map((h) => h.partitions)).toEqual([[0], [1]]);
    // Partition 0's next record goes only once its first request was answered.
    held[0]!.release();
    await until(() => held.length === 3);
    expect(held[2]!.partitions).toEqual([0]);
    held[1]!.release();
    held[2]!.release();
    const [a, b, c] = await Promise.all([first, second, third]);
    expect([a[0]!.offset, b[0]!.offset, c[0]!.offset]).toEqual([0, 0, 1]);
    expect(produced.map((r) => r.records.map((x) => fromBase64(x.value)))).toEqual([
      ['p0-a'],
      ['p1-a'],
      ['p0-b'],
    ]);
    expect(overlaps).toEqual([]);
    await p.close();
  });

  it('puts concurrent sends to a topic within lingerMs in one request and maps results back to each caller', async () => {
    const { server, produced } = await fakeApi(2);
    const p = producer(server, { lingerMs: 50 });
    const [a, b] = await Promise.all([
      p.send({
        topic: 't',
        messages: [
          { value: 'a0', partition: 0 },
          { value: 'a1', partition: 1 },
        ],
      }),
      p.send({
        topic: 't',
        messages: [{ key: 'k', value: 'b0', partition: 0, headers: { h: ['x', 'y'] }, timestamp: 7 }],
      }),
    ]);
    expect(produced).toHaveLength(1);
    expect(produced[0]!.encoding).toBe('base64');
    expect(produced[0]!.records.map((r) => [fromBase64(r.value), r.partition])).toEqual([
      ['a0', 0],
      ['a1', 1],
      ['b0', 0],
    ]);
    expect(produced[0]!.records[2]).toMatchObject({
      key: 'aw==',
      headers: { h: ['eA==', 'eQ=='] },
      timestamp: 7,
    });
    expect(a.map((m) => [m.partition, m.offset])).toEqual([
      [0, 0],
      [1, 0],
    ]);
    expect(b).toEqual([{ topic: 't', partition: 0, offset: 1, timestamp: 7 }]);
    expect(p.metrics()).toEqual({
      records: 3,
      batches: 1,
      collisions: 0,
      writeUnits: 0,
      wastedWriteUnits: 0,
    });
    await p.close();
  });

  it("splits a partition's records into requests of at most maxBatchBytes, in order", async () => {
    const { server, produced } = await fakeApi(1);
    const p = producer(server, { lingerMs: 0, maxBatchBytes: 1024 });
    const value = 'v'.repeat(300);
    const sent = await p.send({ topic: 't', messages: Array.from({ length: 10 }, () => ({ value })) });
    expect(sent.map((m) => m.offset)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    // Each record is ~340 bytes as the log counts it: two fit in a 1024-byte batch.
    expect(produced.map((b) => b.records.length)).toEqual([2, 2, 2, 2, 2]);
    expect(p.metrics()).toMatchObject({ records: 10, batches: 5 });
    await p.close();
  });

  it('validates every message before any produce request, with the direct producer errors', async () => {
    const { server, produced } = await fakeApi(2, { 'max.message.bytes': '2000' });
    const p = producer(server);
    await expect(p.send({ topic: 't', messages: [] })).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(
      p.send({ topic: 't', messages: [{ value: 'ok' }, { value: 'x', partition: 2 }] }),
    ).rejects.toBeInstanceOf(UnknownPartitionError);
    await expect(
      p.send({ topic: 't', messages: [{ value: 'ok' }, { value: 'x'.repeat(3000) }] }),
    ).rejects.toBeInstanceOf(RecordTooLargeError);
    await expect(
      p.send({ topic: 't', messages: [{ value: 42 as unknown as string }] }),
    ).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(p.send({ topic: 'missing', messages: [{ value: 'x' }] })).rejects.toBeInstanceOf(
      TopicNotFoundError,
    );
    expect(produced).toHaveLength(0);
    expect(() => producer(server, { maxBatchBytes: 10 })).toThrow(InvalidArgumentError);
    await p.close();
  });

  it('refuses a record too large for one API request before sending anything', async () => {
    const { server, produced } = await fakeApi(1, { 'max.message.bytes': String(10 * 1024 * 1024) });
    const p = producer(server);
    const error = await p
      .send({ topic: 't', messages: [{ value: Buffer.alloc(5 * 1024 * 1024) }] })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RequestTooLargeError);
    expect(produced).toHaveLength(0);
    await p.close();
  });

  it('sends sendAtOffset as one request with expectedOffset, every record on its partition', async () => {
    const { server, produced } = await fakeApi(3);
    const p = producer(server);
    const sent = await p.sendAtOffset({
      topic: 't',
      partition: 2,
      expectedOffset: 0,
      messages: [{ value: 'e1' }, { key: 'other-key', value: 'e2' }],
    });
    expect(produced).toEqual([
      expect.objectContaining({
        expectedOffset: 0,
        records: [expect.objectContaining({ partition: 2 }), expect.objectContaining({ partition: 2 })],
      }),
    ]);
    expect(sent.map((m) => [m.partition, m.offset])).toEqual([
      [2, 0],
      [2, 1],
    ]);
    await p.close();
  });

  it('rejects every caller of a failed request with the error the API sent', async () => {
    const { server } = await fakeApi(1, {}, () => errorToResponse(new InvalidArgumentError('bad record')));
    const p = producer(server, { lingerMs: 20 });
    const results = await Promise.allSettled([
      p.send({ topic: 't', messages: [{ value: 'a' }] }),
      p.send({ topic: 't', messages: [{ value: 'b' }] }),
    ]);
    for (const r of results) {
      expect(r.status).toBe('rejected');
      expect((r as PromiseRejectedResult).reason).toBeInstanceOf(InvalidArgumentError);
    }
    expect(p.metrics()).toMatchObject({ records: 0, batches: 0 });
    await p.close();
  });

  it('refuses sendAtomically: transactions across topics need the direct transport', async () => {
    const { server } = await fakeApi(1);
    const p = producer(server);
    await expect(p.sendAtomically([{ topic: 't', messages: [{ value: 'x' }] }])).rejects.toBeInstanceOf(
      UnsupportedOperationError,
    );
    await p.close();
  });

  it('flushes on close without waiting out lingerMs, closes once, then refuses sends', async () => {
    const { server, produced } = await fakeApi(1);
    const p = producer(server, { lingerMs: 60_000 });
    const pending = p.send({ topic: 't', messages: [{ value: 'last' }] });
    await Promise.all([p.close(), p.close()]);
    await expect(pending).resolves.toHaveLength(1);
    expect(produced).toHaveLength(1);
    await p.close();
    await expect(p.send({ topic: 't', messages: [{ value: 'late' }] })).rejects.toBeInstanceOf(
      ClientClosedError,
    );
  });
});

describe('HttpProducer idempotence', () => {
  /** A fake API for topic "t" (2 partitions) answering produce requests with `reply(body, n)`. */
  async function idempotentApi(reply: (body: ProduceBody, n: number) => Reply): Promise<FakeApi> {
    const produced: ProduceBody[] = [];
    const server = await startCaptureServer((request) => {
      if (request.method === 'GET') {
        return {
          status: 200,
          body: {
            name: 't',
            incarnation: 'inc-1',
            createdAt: '2026-01-01T00:00:00.000Z',
            partitionCount: 2,
            partitions: [],
            configs: {},
          },
        };
      }
      const body = JSON.parse(request.body) as ProduceBody;
      produced.push(body);
      return reply(body, produced.length - 1);
    });
    api = { server, produced };
    return api;
  }

  /** A success for `body`, offsets counted from `base` per record. */
  const ok = (body: ProduceBody, base = 0): Reply => ({
    status: 200,
    body: {
      topic: 't',
      records: body.records.map((r, i) => ({ partition: r.partition ?? 0, offset: base + i, timestamp: 1 })),
    },
  });

  it('sends a 63-bit producer id and a sequence per partition, advanced by each request', async () => {
    const { server, produced } = await idempotentApi((body) => ok(body));
    const p = producer(server, { lingerMs: 0 });
    await p.send({
      topic: 't',
      messages: [
        { value: 'a', partition: 0 },
        { value: 'b', partition: 1 },
        { value: 'c', partition: 0 },
      ],
    });
    await p.send({ topic: 't', messages: [{ value: 'd', partition: 0 }] });
    await p.send({ topic: 't', messages: [{ value: 'e', partition: 1 }] });
    const [first, second, third] = produced;
    expect(first!.producer).toEqual({
      id: expect.stringMatching(/^\d+$/),
      epoch: 0,
      sequences: [
        { partition: 0, sequence: 0 },
        { partition: 1, sequence: 0 },
      ],
    });
    expect(BigInt(first!.producer!.id)).toBeLessThan(2n ** 63n);
    expect(second!.producer).toEqual({ ...first!.producer, sequences: [{ partition: 0, sequence: 2 }] });
    expect(third!.producer).toEqual({ ...first!.producer, sequences: [{ partition: 1, sequence: 1 }] });
    await p.close();
  });

  it('retries a request whose response was lost with the same body, and resolves it', async () => {
    const { server, produced } = await idempotentApi((body, n) => (n === 0 ? 'hang-up' : ok(body)));
    const p = producer(server, { lingerMs: 0 });
    const sent = await p.send({ topic: 't', messages: [{ value: 'a', partition: 1 }] });
    expect(sent).toEqual([{ topic: 't', partition: 1, offset: 0, timestamp: 1 }]);
    expect(produced).toHaveLength(2);
    expect(produced[1]).toEqual(produced[0]);
    await p.close();
  });

  it('fails a request with no definite answer, saying it may have landed, and continues under a new id', async () => {
    let answering = false;
    const { server, produced } = await idempotentApi((body) => (answering ? ok(body) : 'hang-up'));
    const p = producer(server, { lingerMs: 0 });
    const error = await p
      .send({ topic: 't', messages: [{ value: 'a', partition: 0 }] })
      .catch((e: unknown) => e);
    expect((error as Error).message).toContain('may or may not have been appended');
    const lost = produced.length;
    expect(lost).toBeGreaterThan(1);
    answering = true;
    await p.send({ topic: 't', messages: [{ value: 'b', partition: 0 }] });
    const next = produced[lost]!.producer!;
    expect(next.id).not.toBe(produced[0]!.producer!.id);
    expect(next.sequences).toEqual([{ partition: 0, sequence: 0 }]);
    await p.close();
  });

  it('keeps the sequences of a request the API refused before writing', async () => {
    const { server, produced } = await idempotentApi((body, n) =>
      n === 0 ? errorToResponse(new InvalidArgumentError('bad record')) : ok(body),
    );
    const p = producer(server, { lingerMs: 0 });
    await expect(p.send({ topic: 't', messages: [{ value: 'a', partition: 0 }] })).rejects.toBeInstanceOf(
      InvalidArgumentError,
    );
    await p.send({ topic: 't', messages: [{ value: 'b', partition: 0 }] });
    expect(produced[1]!.producer).toEqual(produced[0]!.producer);
    await p.close();
  });

  it('resends a request refused as out of order once, under a new id from sequence 0', async () => {
    const { server, produced } = await idempotentApi((body, n) =>
      n === 1 ? errorToResponse(new OutOfOrderSequenceError('t', 0, body.producer!.id, 1, 0)) : ok(body),
    );
    const p = producer(server, { lingerMs: 0 });
    await p.send({ topic: 't', messages: [{ value: 'a', partition: 0 }] });
    // The API lost this producer's state (expired, topic recreated): nothing was written.
    await expect(p.send({ topic: 't', messages: [{ value: 'b', partition: 0 }] })).resolves.toHaveLength(1);
    expect(produced.map((b) => b.producer!.sequences[0]!.sequence)).toEqual([0, 1, 0]);
    expect(produced[2]!.producer!.id).not.toBe(produced[1]!.producer!.id);
    await p.close();
  });

  it('resolves the records a PARTIALLY_APPENDED request landed and rejects the others', async () => {
    const { server } = await idempotentApi((body) =>
      errorToResponse(
        new PartiallyAppendedError(
          't',
          [{ index: 0, partition: 0, offset: 5, timestamp: 9 }],
          body.records.slice(1).map((_, i) => ({ index: i + 1, partition: 1, code: 'CORRUPT_RECORD' })),
        ),
      ),
    );
    const p = producer(server, { lingerMs: 30 });
    const [landed, failed] = await Promise.allSettled([
      p.send({ topic: 't', messages: [{ value: 'a', partition: 0 }] }),
      p.send({ topic: 't', messages: [{ value: 'b', partition: 1 }] }),
    ]);
    expect(landed).toEqual({
      status: 'fulfilled',
      value: [{ topic: 't', partition: 0, offset: 5, timestamp: 9 }],
    });
    expect(failed).toMatchObject({ status: 'rejected', reason: expect.any(PartiallyAppendedError) });
    expect(p.metrics()).toMatchObject({ records: 1 });
    await p.close();
  });

  it('sends no producer part with idempotent: false, and does not retry a lost response', async () => {
    const { server, produced } = await idempotentApi(() => 'hang-up');
    const p = producer(server, { lingerMs: 0, idempotent: false });
    const error = await p
      .send({ topic: 't', messages: [{ value: 'a', partition: 0 }] })
      .catch((e: unknown) => e);
    expect((error as Error).message).toContain('may or may not have been appended');
    expect(produced).toHaveLength(1);
    expect(produced[0]!.producer).toBeUndefined();
    await p.close();
  });

  it('keeps one request in flight per partition across sendAtOffset and send, so sequences stay in order', async () => {
    let release!: () => void;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    const produced: ProduceBody[] = [];
    const server = await startCaptureServer(async (request) => {
      if (request.method === 'GET') {
        return {
          status: 200,
          body: {
            name: 't',
            incarnation: 'inc-1',
            createdAt: '2026-01-01T00:00:00.000Z',
            partitionCount: 2,
            partitions: [],
            configs: {},
          },
        };
      }
      const body = JSON.parse(request.body) as ProduceBody;
      produced.push(body);
      if (produced.length === 1) await held;
      return ok(body);
    });
    api = { server, produced };
    const p = producer(server, { lingerMs: 0 });
    const at = p.sendAtOffset({
      topic: 't',
      partition: 0,
      expectedOffset: 0,
      messages: [{ value: 'x' }, { value: 'y' }],
    });
    await until(() => produced.length === 1);
    // Sent while the expected-offset append is in flight: it waits, then follows it in sequence.
    const after = p.send({ topic: 't', messages: [{ value: 'z', partition: 0 }] });
    const other = await p.send({ topic: 't', messages: [{ value: 'w', partition: 1 }] });
    expect(other).toHaveLength(1);
    release();
    await Promise.all([at, after]);
    expect(produced.map((b) => [b.expectedOffset, b.producer!.sequences])).toEqual([
      [0, [{ partition: 0, sequence: 0 }]],
      [undefined, [{ partition: 1, sequence: 0 }]],
      [undefined, [{ partition: 0, sequence: 2 }]],
    ]);
    await p.close();
  });
});
