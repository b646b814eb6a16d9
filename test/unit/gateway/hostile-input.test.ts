/**
 * What a peer can send that is not a valid request: truncation at every byte, random and mutated
 * bytes, unknown APIs and versions, unknown tagged fields. The only error ever thrown is a
 * ProtocolError, and a request for something unsupported still yields its correlation id.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SUPPORTED_APIS } from '../../../gateway/protocol/apis.ts';
import { ProtocolError, UnsupportedRequestError } from '../../../gateway/protocol/errors.ts';
import {
  decodeRequest,
  decodeResponse,
  encodeRequest,
  encodeResponse,
} from '../../../gateway/protocol/frame-codec.ts';

const TOPIC_ID = '5f0c1a52-8a0e-4c4e-9d3c-1b2a3c4d5e6f';
const BATCH = Uint8Array.from({ length: 70 }, (_, i) => i);

/** Realistic requests, one per shape of interest (legacy and flexible), as written to the socket. */
const FRAMES: readonly (readonly [string, Uint8Array])[] = [
  [
    'ApiVersions v3',
    encodeRequest(
      'ApiVersions',
      { apiVersion: 3, correlationId: 1, clientId: 'rdkafka' },
      {
        clientSoftwareName: 'librdkafka',
        clientSoftwareVersion: '2.0.2',
      },
    ),
  ],
  [
    'Metadata v12',
    encodeRequest(
      'Metadata',
      { apiVersion: 12, correlationId: 2, clientId: 'platformatic' },
      {
        topics: [
          { topicId: TOPIC_ID, name: null },
          { topicId: '00000000-0000-0000-0000-000000000000', name: 'orders' },
        ],
        includeClusterAuthorizedOperations: false,
        includeTopicAuthorizedOperations: true,
      },
    ),
  ],
  [
    'Produce v7',
    encodeRequest(
      'Produce',
      { apiVersion: 7, correlationId: 3, clientId: 'kafkajs' },
      {
        acks: -1,
        timeoutMs: 30000,
        topicData: [{ name: 'orders', partitionData: [{ index: 2, records: BATCH }] }],
      },
    ),
  ],
  [
    'Produce v9',
    encodeRequest(
      'Produce',
      { apiVersion: 9, correlationId: 4, clientId: null },
      {
        transactionalId: null,
        acks: 1,
        timeoutMs: 1500,
        topicData: [
          {
            name: 'orders',
            partitionData: [
              { index: 0, records: BATCH },
              { index: 1, records: null },
            ],
          },
        ],
      },
    ),
  ],
  [
    'Fetch v12',
    encodeRequest(
      'Fetch',
      { apiVersion: 12, correlationId: 5, clientId: 'c' },
      {
        clusterId: 'cluster',
        maxWaitMs: 500,
        minBytes: 1,
        topics: [
          { topic: 'orders', partitions: [{ partition: 0, fetchOffset: 42n, partitionMaxBytes: 1 << 20 }] },
        ],
        forgottenTopicsData: [{ topic: 'old', partitions: [1, 2] }],
        rackId: 'az1',
      },
    ),
  ],
  [
    'JoinGroup v5',
    encodeRequest(
      'JoinGroup',
      { apiVersion: 5, correlationId: 6, clientId: 'kcat' },
      {
        groupId: 'g',
        sessionTimeoutMs: 45000,
        memberId: '',
        groupInstanceId: null,
        protocolType: 'consumer',
        protocols: [
          { name: 'range', metadata: Uint8Array.of(0, 1, 0, 0, 0, 1, 0, 6) },
          { name: 'roundrobin', metadata: Uint8Array.of(0, 1) },
        ],
      },
    ),
  ],
  [
    'OffsetCommit v8',
    encodeRequest(
      'OffsetCommit',
      { apiVersion: 8, correlationId: 7, clientId: 'c' },
      {
        groupId: 'g',
        generationIdOrMemberEpoch: 3,
        memberId: 'm-1',
        topics: [
          {
            name: 'orders',
            partitions: [{ partitionIndex: 0, committedOffset: 10n, committedMetadata: null }],
          },
        ],
      },
    ),
  ],
  [
    'SaslAuthenticate v2',
    encodeRequest(
      'SaslAuthenticate',
      { apiVersion: 2, correlationId: 8, clientId: 'c' },
      {
        authBytes: Buffer.from('\u0000user\u0000secret'),
      },
    ),
  ],
];

/** The same requests as FrameReader yields them: without the size prefix. */
const REQUESTS = FRAMES.map(([name, frame]) => [name, frame.subarray(4)] as const);

function decodeOutcome(payload: Uint8Array): 'decoded' | ProtocolError {
  try {
    decodeRequest(payload);
    return 'decoded';
  } catch (error) {
    if (error instanceof ProtocolError) return error;
    throw error;
  }
}

describe('truncated requests', () => {
  it.each(REQUESTS)('%s fails with a ProtocolError when cut at any byte', (_, payload) => {
    expect(decodeOutcome(payload)).toBe('decoded');
    for (let cut = 0; cut < payload.length; cut++) {
      const outcome = decodeOutcome(payload.subarray(0, cut));
      expect(outcome, `cut at ${cut} of ${payload.length}`).toBeInstanceOf(ProtocolError);
    }
  });

  it('fails with a ProtocolError for a response cut at any byte', () => {
    const frame = encodeResponse('Fetch', 12, 9, {
      throttleTimeMs: 0,
      errorCode: 0,
      sessionId: 0,
      responses: [
        {
          topic: 'orders',
          partitions: [
            {
              partitionIndex: 0,
              errorCode: 0,
              highWatermark: 100n,
              currentLeader: { leaderId: 0, leaderEpoch: 0 },
              abortedTransactions: null,
              records: BATCH,
            },
          ],
        },
      ],
    }).subarray(4);
    expect(decodeResponse('Fetch', 12, frame).body.responses[0]?.partitions[0]?.records).toEqual(BATCH);
    for (let cut = 0; cut < frame.length; cut++) {
      expect(() => decodeResponse('Fetch', 12, frame.subarray(0, cut))).toThrow(ProtocolError);
    }
  });
});

describe('garbage', () => {
  const header = fc
    .constantFrom(...SUPPORTED_APIS)
    .chain((api) =>
      fc.tuple(fc.constant(api.apiKey), fc.integer({ min: api.minVersion, max: api.maxVersion })),
    );

  it('random bodies behind a valid header either decode or fail with a ProtocolError', () => {
    fc.assert(
      fc.property(header, fc.uint8Array({ maxLength: 64 }), ([apiKey, version], body) => {
        const payload = new Uint8Array(8 + body.length);
        const view = new DataView(payload.buffer);
        view.setInt16(0, apiKey);
        view.setInt16(2, version);
        view.setInt32(4, 77);
        payload.set(body, 8);
        decodeOutcome(payload);
      }),
      { numRuns: 2000 },
    );
  });

  it('valid requests with bytes overwritten either decode or fail with a ProtocolError', () => {
    const mutated = fc.constantFrom(...REQUESTS.map(([, payload]) => payload)).chain((payload) =>
      fc.tuple(
        fc.constant(payload),
        fc.array(
          fc.tuple(fc.integer({ min: 0, max: payload.length - 1 }), fc.integer({ min: 0, max: 255 })),
          {
            minLength: 1,
            maxLength: 4,
          },
        ),
      ),
    );
    fc.assert(
      fc.property(mutated, ([payload, edits]) => {
        const copy = Uint8Array.from(payload);
        for (const [at, byte] of edits) copy[at] = byte;
        decodeOutcome(copy);
      }),
      { numRuns: 2000 },
    );
  });
});

describe('unsupported requests', () => {
  function header(apiKey: number, version: number, correlationId: number): Uint8Array {
    const payload = new Uint8Array(10);
    const view = new DataView(payload.buffer);
    view.setInt16(0, apiKey);
    view.setInt16(2, version);
    view.setInt32(4, correlationId);
    view.setInt16(8, -1);
    return payload;
  }

  function unsupported(payload: Uint8Array): UnsupportedRequestError {
    try {
      decodeRequest(payload);
    } catch (error) {
      if (error instanceof UnsupportedRequestError) return error;
      throw error;
    }
    throw new Error('decoded');
  }

  it('names an unknown API key with the correlation id, so the server can answer or close', () => {
    expect(unsupported(header(999, 0, 41))).toMatchObject({
      code: 'UNKNOWN_API',
      apiKey: 999,
      correlationId: 41,
    });
    // Transactions (EndTxn, key 26) are not implemented, hence not advertised.
    expect(unsupported(header(26, 1, 42))).toMatchObject({ code: 'UNKNOWN_API', apiKey: 26 });
  });

  it('names a version outside the implemented range', () => {
    expect(unsupported(header(18, 5, 43))).toMatchObject({
      code: 'UNSUPPORTED_VERSION',
      apiVersion: 5,
      correlationId: 43,
    });
    expect(unsupported(header(0, 12, 44))).toMatchObject({
      code: 'UNSUPPORTED_VERSION',
      apiKey: 0,
      apiVersion: 12,
    });
    expect(unsupported(header(1, 13, 45))).toMatchObject({ code: 'UNSUPPORTED_VERSION', apiKey: 1 });
    expect(unsupported(header(3, -1, 46))).toMatchObject({ code: 'UNSUPPORTED_VERSION' });
  });

  it('needs at least the fixed 8 header bytes to say anything', () => {
    expect(decodeOutcome(header(18, 0, 1).subarray(0, 7))).toMatchObject({
      code: 'TRUNCATED',
      field: 'header',
    });
  });
});

describe('unknown tagged fields', () => {
  it('are skipped in the request header, the body and nested structs', () => {
    const [, plain] = REQUESTS.find(([name]) => name === 'Metadata v12') ?? ['', new Uint8Array(0)];
    const expected = decodeRequest(plain);
    // Rebuild the same request with unknown tags: header v2 gets tag 3, the first topic tag 7, the body tag 9.
    const bytes = Buffer.from(plain).toString('hex');
    const clientIdEnd = (8 + 2 + 'platformatic'.length) * 2;
    const headerTags = `${bytes.slice(clientIdEnd, clientIdEnd + 2)}`;
    expect(headerTags).toBe('00');
    const body = bytes.slice(clientIdEnd + 2);
    // Body: 03 (2 topics) | topic 1: uuid (16) + 00 (null name) + 00 (tags) | ...
    const firstTopicTags = 2 + 32 + 2;
    const withTags =
      bytes.slice(0, clientIdEnd) +
      '01 03 02 abcd' +
      body.slice(0, firstTopicTags) +
      '01 07 00' +
      body.slice(firstTopicTags + 2, -2) +
      '01 09 03 010203';
    const decoded = decodeRequest(Uint8Array.from(Buffer.from(withTags.replaceAll(' ', ''), 'hex')));
    expect(decoded).toEqual(expected);
  });
});
