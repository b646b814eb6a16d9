/**
 * The version table ApiVersions advertises, checked against what the clients of the survey
 * (`shared/reference/kafka-gateway.md` §1) need: librdkafka 2.0.2's feature probes (Debian's
 * kcat), kafkajs 2.2.4's version choice, and the flexible-only ranges of @platformatic/kafka.
 */
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { APIS, type ApiName, apiByKey, SUPPORTED_APIS } from '../../../gateway/protocol/apis.ts';

function range(name: ApiName): [number, number] {
  return [APIS[name].minVersion, APIS[name].maxVersion];
}

function overlaps(name: ApiName, min: number, max: number): boolean {
  const [ourMin, ourMax] = range(name);
  return ourMin <= max && min <= ourMax;
}

describe('SUPPORTED_APIS', () => {
  it('is the table of the descriptions, by api key', () => {
    expect(
      SUPPORTED_APIS.map(
        ({ apiKey, name, minVersion, maxVersion }) => `${apiKey} ${name} ${minVersion}-${maxVersion}`,
      ),
    ).toEqual([
      '0 Produce 0-11',
      '1 Fetch 4-12',
      '2 ListOffsets 1-7',
      '3 Metadata 0-12',
      '8 OffsetCommit 2-9',
      '9 OffsetFetch 1-9',
      '10 FindCoordinator 0-6',
      '11 JoinGroup 0-9',
      '12 Heartbeat 0-4',
      '13 LeaveGroup 0-5',
      '14 SyncGroup 0-5',
      '15 DescribeGroups 0-5',
      '16 ListGroups 0-5',
      '17 SaslHandshake 0-1',
      '18 ApiVersions 0-4',
      '19 CreateTopics 0-7',
      '20 DeleteTopics 0-6',
      '22 InitProducerId 0-4',
      '32 DescribeConfigs 0-4',
      '33 AlterConfigs 0-2',
      '36 SaslAuthenticate 0-2',
      '37 CreatePartitions 0-3',
      '42 DeleteGroups 0-2',
      '44 IncrementalAlterConfigs 0-1',
    ]);
    for (const row of SUPPORTED_APIS) expect(apiByKey(row.apiKey)?.name).toBe(row.name);
    expect(Object.isFrozen(SUPPORTED_APIS)).toBe(true);
  });

  // rd_kafka_feature_map of librdkafka v2.0.2: a feature is on only if every probe overlaps.
  const LIBRDKAFKA_2_0_2_FEATURES: Record<string, [ApiName, number, number][]> = {
    MsgVer2: [
      ['Produce', 3, 3],
      ['Fetch', 4, 4],
    ],
    BrokerBalancedConsumer: [
      ['FindCoordinator', 0, 0],
      ['OffsetCommit', 1, 2],
      ['OffsetFetch', 1, 1],
      ['JoinGroup', 0, 0],
      ['SyncGroup', 0, 0],
      ['Heartbeat', 0, 0],
      ['LeaveGroup', 0, 0],
    ],
    IdempotentProducer: [['InitProducerId', 0, 0]],
    OffsetTime: [['ListOffsets', 1, 1]],
    SaslAuthReq: [
      ['SaslHandshake', 1, 1],
      ['SaslAuthenticate', 0, 0],
    ],
    ZSTD: [
      ['Produce', 7, 7],
      ['Fetch', 10, 10],
    ],
    LZ4: [['FindCoordinator', 0, 0]],
  };

  it.each(Object.entries(LIBRDKAFKA_2_0_2_FEATURES))('turns on librdkafka 2.0.2 feature %s', (_, probes) => {
    for (const [name, min, max] of probes)
      expect(overlaps(name, min, max), `${name} ${min}..${max}`).toBe(true);
  });

  // librdkafka 2.0.2 (rdkafka_msgset_writer.c) compresses with gzip, snappy or lz4 only when the
  // broker's Produce range overlaps 0..0 (zstd: 0..7); otherwise it sends the batch uncompressed.
  it.each([
    ['gzip', 0],
    ['snappy', 0],
    ['lz4', 0],
    ['zstd', 7],
  ] as const)('lets librdkafka 2.0.2 compress with %s (Produce 0..%i)', (_, max) => {
    expect(overlaps('Produce', 0, max)).toBe(true);
  });

  it("contains librdkafka's first ApiVersions request (v3)", () => {
    expect(overlaps('ApiVersions', 3, 3)).toBe(true);
  });

  it('contains the version kafkajs 2.2.4 picks for every API it implements: min(its highest, our max)', () => {
    const require = createRequire(import.meta.url);
    const folders: Partial<Record<ApiName, string>> = {
      Produce: 'produce',
      Fetch: 'fetch',
      ListOffsets: 'listOffsets',
      Metadata: 'metadata',
      OffsetCommit: 'offsetCommit',
      OffsetFetch: 'offsetFetch',
      FindCoordinator: 'findCoordinator',
      JoinGroup: 'joinGroup',
      Heartbeat: 'heartbeat',
      LeaveGroup: 'leaveGroup',
      SyncGroup: 'syncGroup',
      DescribeGroups: 'describeGroups',
      ListGroups: 'listGroups',
      SaslHandshake: 'saslHandshake',
      ApiVersions: 'apiVersions',
      CreateTopics: 'createTopics',
      DeleteTopics: 'deleteTopics',
      InitProducerId: 'initProducerId',
      DescribeConfigs: 'describeConfigs',
      AlterConfigs: 'alterConfigs',
      SaslAuthenticate: 'saslAuthenticate',
      CreatePartitions: 'createPartitions',
      DeleteGroups: 'deleteGroups',
    };
    for (const [name, folder] of Object.entries(folders) as [ApiName, string][]) {
      const { versions } = require(`kafkajs/src/protocol/requests/${folder}/index.js`) as {
        versions: string[];
      };
      const [ourMin, ourMax] = range(name);
      // kafkajs ignores the broker's minimum (src/protocol/requests/index.js `lookup`).
      const picked = Math.min(Math.max(...versions.map(Number)), ourMax);
      expect(picked >= ourMin && versions.includes(String(picked)), `${name} v${picked}`).toBe(true);
    }
  });

  it('overlaps the flexible-only ranges of @platformatic/kafka 2.9', () => {
    const platformatic: [ApiName, number, number][] = [
      ['Produce', 7, 11],
      ['Fetch', 12, 17],
      ['ListOffsets', 5, 9],
      ['Metadata', 9, 12],
      ['OffsetCommit', 8, 9],
      ['OffsetFetch', 8, 9],
      ['FindCoordinator', 4, 6],
      ['JoinGroup', 6, 9],
      ['Heartbeat', 4, 4],
      ['LeaveGroup', 4, 5],
      ['SyncGroup', 4, 5],
      ['DescribeGroups', 5, 5],
      ['ListGroups', 4, 5],
      ['SaslHandshake', 1, 1],
      ['ApiVersions', 3, 3],
      ['CreateTopics', 7, 7],
      ['DeleteTopics', 6, 6],
      ['InitProducerId', 3, 5],
      ['DescribeConfigs', 2, 4],
      ['SaslAuthenticate', 2, 2],
      ['CreatePartitions', 1, 3],
    ];
    for (const [name, min, max] of platformatic)
      expect(overlaps(name, min, max), `${name} ${min}..${max}`).toBe(true);
  });
});
