/**
 * Byte vectors worked out by hand from Kafka's protocol guide (kafka.apache.org/protocol) and the
 * message specs, field by field in the comments. Each is checked both ways: our encoder writes
 * exactly these bytes, and our decoder reads them back to the same message.
 */
import { describe, expect, it } from 'vitest';
import {
  decodeRequest,
  decodeResponse,
  encodeRequest,
  encodeResponse,
  encodeUnsupportedApiVersionsResponse,
} from '../../../gateway/protocol/frame-codec.ts';

/** One hex field per line (single spaces allowed inside), then two or more spaces and a comment. */
function hex(text: string): Uint8Array {
  const digits = text
    .split('\n')
    .map((line) => line.trim().split(/\s{2,}/)[0] ?? '')
    .join('')
    .replaceAll(' ', '');
  if (!/^([0-9a-f]{2})*$/.test(digits)) throw new Error(`Not hex: ${digits}`);
  return Uint8Array.from(Buffer.from(digits, 'hex'));
}

function asHex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('hex');
}

describe('ApiVersions', () => {
  it('v0 request: header v1, empty body', () => {
    const wire = hex(`
      0000000e            size 14
      0012 0000           api key 18, version 0
      00000001            correlation id
      0004 6b636174       client id "kcat" (int16 length)
    `);
    const frame = encodeRequest(
      'ApiVersions',
      { apiVersion: 0, correlationId: 1, clientId: 'kcat' },
      {
        clientSoftwareName: '',
        clientSoftwareVersion: '',
      },
    );
    expect(asHex(frame)).toBe(asHex(wire));
    const decoded = decodeRequest(wire.subarray(4));
    expect(decoded.header).toEqual({ apiKey: 18, apiVersion: 0, correlationId: 1, clientId: 'kcat' });
    expect(decoded.body).toEqual({ clientSoftwareName: '', clientSoftwareVersion: '' });
  });

  it("v3 request (librdkafka's first): header v2 keeps an int16 client id, body is compact", () => {
    const wire = hex(`
      00000024                        size 36
      0012 0003 00000002              api key 18, version 3, correlation id 2
      0007 72646b61666b61             client id "rdkafka": int16 length even in header v2
      00                              header tagged fields: none
      0b 6c696272646b61666b61         client software name "librdkafka": compact, length + 1
      06 322e302e32                   client software version "2.0.2"
      00                              body tagged fields: none
    `);
    const frame = encodeRequest(
      'ApiVersions',
      { apiVersion: 3, correlationId: 2, clientId: 'rdkafka' },
      {
        clientSoftwareName: 'librdkafka',
        clientSoftwareVersion: '2.0.2',
      },
    );
    expect(asHex(frame)).toBe(asHex(wire));
    const decoded = decodeRequest(wire.subarray(4));
    expect(decoded.api).toBe('ApiVersions');
    expect(decoded.body).toEqual({ clientSoftwareName: 'librdkafka', clientSoftwareVersion: '2.0.2' });
  });

  it('v0 response: response header v0, int32 array count', () => {
    const wire = hex(`
      00000016                        size 22
      00000001                        correlation id
      0000                            error code
      00000002                        api keys: 2
      0003 0000 000c                  Metadata 0..12
      0012 0000 0004                  ApiVersions 0..4
    `);
    const body = {
      errorCode: 0,
      apiKeys: [
        { apiKey: 3, minVersion: 0, maxVersion: 12 },
        { apiKey: 18, minVersion: 0, maxVersion: 4 },
      ],
      throttleTimeMs: 0,
    };
    expect(asHex(encodeResponse('ApiVersions', 0, 1, body))).toBe(asHex(wire));
    expect(decodeResponse('ApiVersions', 0, wire.subarray(4)).body).toMatchObject(body);
  });

  it('v3 response: header stays v0 (no tagged fields), body compact with tagged fields in tag order', () => {
    const wire = hex(`
      00000020                        size 32
      00000002                        correlation id; no header tagged fields
      0000                            error code
      02                              api keys: 1 (compact)
      0012 0000 0004 00               ApiVersions 0..4, element tagged fields: none
      00000000                        throttle time
      02                              tagged fields: 2
      00 08                           tag 0 (supported features), 8 bytes:
        02 02 78 0000 0001 00           1 feature: name "x", 0..1, no tagged fields
      03 01 01                        tag 3 (zk migration ready), 1 byte: true
    `);
    const body = {
      errorCode: 0,
      apiKeys: [{ apiKey: 18, minVersion: 0, maxVersion: 4 }],
      throttleTimeMs: 0,
      // Given out of tag order on purpose; the encoder sorts by tag.
      zkMigrationReady: true,
      supportedFeatures: [{ name: 'x', minVersion: 0, maxVersion: 1 }],
    };
    expect(asHex(encodeResponse('ApiVersions', 3, 2, body))).toBe(asHex(wire));
    expect(decodeResponse('ApiVersions', 3, wire.subarray(4)).body).toEqual({
      ...body,
      finalizedFeaturesEpoch: -1n,
      finalizedFeatures: [],
    });
  });

  it('answers a too-new ApiVersions with UNSUPPORTED_VERSION in the v0 body, listing its own range', () => {
    const wire = hex(`
      00000010                        size 16
      00000009                        correlation id
      0023                            error code 35 UNSUPPORTED_VERSION
      00000001 0012 0000 0004         api keys: ApiVersions 0..4
    `);
    expect(asHex(encodeUnsupportedApiVersionsResponse(9))).toBe(asHex(wire));
  });
});

describe('Metadata', () => {
  it('v1 request for all topics: a null array', () => {
    const wire = hex(`
      0000000e                        size 14
      0003 0001 00000007              api key 3, version 1, correlation id 7
      ffff                            client id null
      ffffffff                        topics null: all topics
    `);
    const frame = encodeRequest(
      'Metadata',
      { apiVersion: 1, correlationId: 7, clientId: null },
      {
        topics: null,
        includeClusterAuthorizedOperations: false,
        includeTopicAuthorizedOperations: false,
      },
    );
    expect(asHex(frame)).toBe(asHex(wire));
    expect(decodeRequest(wire.subarray(4)).body).toEqual({
      topics: null,
      allowAutoTopicCreation: true,
      includeClusterAuthorizedOperations: false,
      includeTopicAuthorizedOperations: false,
    });
  });

  it('v1 request for two topics', () => {
    const wire = hex(`
      00000015                        size 21
      0003 0001 00000007 ffff         header v1, client id null
      00000002                        topics: 2
      0001 61                         "a"
      0002 6263                       "bc"
    `);
    const topics = [
      { topicId: '00000000-0000-0000-0000-000000000000', name: 'a' },
      { topicId: '00000000-0000-0000-0000-000000000000', name: 'bc' },
    ];
    const frame = encodeRequest(
      'Metadata',
      { apiVersion: 1, correlationId: 7, clientId: null },
      {
        topics,
        includeClusterAuthorizedOperations: false,
        includeTopicAuthorizedOperations: false,
      },
    );
    expect(asHex(frame)).toBe(asHex(wire));
    const decoded = decodeRequest(wire.subarray(4));
    expect(decoded.api === 'Metadata' && decoded.body.topics).toEqual(topics);
  });

  it('v9 request (first flexible): compact array, element tagged fields, header v2', () => {
    const wire = hex(`
      00000014                        size 20
      0003 0009 00000008              api key 3, version 9, correlation id 8
      0001 63 00                      client id "c", header tagged fields: none
      02                              topics: 1 (compact)
      02 61 00                        name "a", element tagged fields: none
      00                              allow auto topic creation false
      00                              include cluster authorized operations false (v8-10)
      01                              include topic authorized operations true
      00                              tagged fields: none
    `);
    const frame = encodeRequest(
      'Metadata',
      { apiVersion: 9, correlationId: 8, clientId: 'c' },
      {
        topics: [{ topicId: '00000000-0000-0000-0000-000000000000', name: 'a' }],
        allowAutoTopicCreation: false,
        includeClusterAuthorizedOperations: false,
        includeTopicAuthorizedOperations: true,
      },
    );
    expect(asHex(frame)).toBe(asHex(wire));
    expect(decodeRequest(wire.subarray(4)).body).toMatchObject({ allowAutoTopicCreation: false });
  });
});

describe('Produce', () => {
  it('v3 request: nullable transactional id, records as int32-length bytes', () => {
    const wire = hex(`
      00000028                        size 40
      0000 0003 00000001 ffff         api key 0, version 3, correlation id 1, client id null
      ffff                            transactional id null
      ffff                            acks -1 (all)
      00007530                        timeout 30000 ms
      00000001 0001 74                topic data: 1, name "t"
      00000001 00000000               partition data: 1, index 0
      00000003 010203                 records: 3 bytes, kept opaque
    `);
    const frame = encodeRequest(
      'Produce',
      { apiVersion: 3, correlationId: 1, clientId: null },
      {
        acks: -1,
        timeoutMs: 30000,
        topicData: [{ name: 't', partitionData: [{ index: 0, records: Uint8Array.of(1, 2, 3) }] }],
      },
    );
    expect(asHex(frame)).toBe(asHex(wire));
    const decoded = decodeRequest(wire.subarray(4));
    if (decoded.api !== 'Produce') throw new Error(`decoded ${decoded.api}`);
    expect(decoded.body.transactionalId).toBeNull();
    expect(decoded.body.topicData[0]?.partitionData[0]?.records).toEqual(Uint8Array.of(1, 2, 3));
  });
});

describe('Heartbeat', () => {
  it('v4 response: response header v1 carries a tagged-field section', () => {
    const wire = hex(`
      0000000c                        size 12
      00000005 00                     correlation id, header tagged fields: none
      00000000                        throttle time
      001b                            error code 27 REBALANCE_IN_PROGRESS
      00                              tagged fields: none
    `);
    expect(asHex(encodeResponse('Heartbeat', 4, 5, { throttleTimeMs: 0, errorCode: 27 }))).toBe(asHex(wire));
    expect(decodeResponse('Heartbeat', 4, wire.subarray(4))).toEqual({
      correlationId: 5,
      body: { throttleTimeMs: 0, errorCode: 27 },
    });
  });
});
