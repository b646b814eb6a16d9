/**
 * Agreement with a real client's codec: kafkajs 2.2.4 (a dev dependency) encodes requests that
 * we decode, and decodes responses that we encode, for every version both implement. kafkajs's
 * request builders and response decoders are hand-written per version, independently of Kafka's
 * JSON specs, so this catches a field described in the wrong place or the wrong version.
 */
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { APIS, type ApiName, type RequestBody, type ResponseInput } from '../../../gateway/protocol/apis.ts';
import { decodeRequest, encodeResponse } from '../../../gateway/protocol/frame-codec.ts';

const require = createRequire(import.meta.url);

interface KafkajsRequest {
  readonly apiKey: number;
  readonly apiVersion: number;
}
interface KafkajsResponse {
  decode(payload: Buffer): Promise<Record<string, unknown>>;
}
type KafkajsFactory = (args: unknown) => { request: KafkajsRequest; response: KafkajsResponse };
interface KafkajsDefinitions {
  readonly versions: readonly string[];
  protocol(options: { version: number }): KafkajsFactory;
}
type FrameRequest = (options: {
  correlationId: number;
  clientId: string;
  request: KafkajsRequest;
}) => Promise<{ readonly buffer: Buffer }>;

const frameRequest = require('kafkajs/src/protocol/request.js') as FrameRequest;

interface Spec<N extends ApiName> {
  /** kafkajs's folder under `src/protocol/requests`. */
  readonly dir: string;
  /** Arguments of kafkajs's request builder (its `index.js` names). */
  readonly args: unknown;
  /** Assertions on the body we decoded from kafkajs's request. */
  readonly request: (body: RequestBody<N>, version: number) => void;
  /** A response we encode for kafkajs to decode. */
  readonly response: (version: number) => ResponseInput<N>;
  /** Assertions on what kafkajs decoded. */
  readonly decoded: (decoded: Record<string, unknown>, version: number) => void;
}

function interop<N extends ApiName>(api: N, spec: Spec<N>): void {
  const definitions = require(`kafkajs/src/protocol/requests/${spec.dir}/index.js`) as KafkajsDefinitions;
  const { minVersion, maxVersion } = APIS[api];
  const versions = definitions.versions.map(Number).filter((v) => v >= minVersion && v <= maxVersion);

  describe(api, () => {
    it('has versions in common with kafkajs', () => {
      expect(versions.length).toBeGreaterThan(0);
    });

    it.each(versions)(
      'v%i: we decode what kafkajs sends, kafkajs decodes what we answer',
      async (version) => {
        const { request, response } = definitions.protocol({ version })(spec.args);
        expect(request.apiVersion).toBe(version);
        const frame = await frameRequest({ correlationId: 4242, clientId: 'kafkajs', request });
        const decoded = decodeRequest(frame.buffer.subarray(4));
        expect(decoded.api).toBe(api);
        expect(decoded.header).toMatchObject({
          apiVersion: version,
          correlationId: 4242,
          clientId: 'kafkajs',
        });
        spec.request(decoded.body as RequestBody<N>, version);

        const answer = encodeResponse(api, version, 4242, spec.response(version));
        // kafkajs's connection strips the size and the correlation id before calling decode.
        const payload = Buffer.from(answer.subarray(8));
        spec.decoded(await response.decode(payload), version);
      },
    );
  });
}

const NO_UUID = '00000000-0000-0000-0000-000000000000';

interop('ApiVersions', {
  dir: 'apiVersions',
  args: undefined,
  request: (body) => expect(body).toEqual({ clientSoftwareName: '', clientSoftwareVersion: '' }),
  response: () => ({
    errorCode: 0,
    apiKeys: [
      { apiKey: 3, minVersion: 0, maxVersion: 12 },
      { apiKey: 18, minVersion: 0, maxVersion: 4 },
    ],
    throttleTimeMs: 7,
  }),
  decoded: (decoded) =>
    expect(decoded).toMatchObject({
      errorCode: 0,
      apiVersions: [
        { apiKey: 3, minVersion: 0, maxVersion: 12 },
        { apiKey: 18, minVersion: 0, maxVersion: 4 },
      ],
    }),
});

interop('Metadata', {
  dir: 'metadata',
  args: { topics: ['orders', 'audit'], allowAutoTopicCreation: false },
  request: (body, version) =>
    expect(body).toMatchObject({
      topics: [{ name: 'orders' }, { name: 'audit' }],
      allowAutoTopicCreation: version < 4,
    }),
  response: () => ({
    throttleTimeMs: 0,
    brokers: [{ nodeId: 0, host: 'gateway.local', port: 9092, rack: 'az1' }],
    clusterId: 'tributary',
    controllerId: 0,
    topics: [
      {
        errorCode: 0,
        name: 'orders',
        topicId: NO_UUID,
        partitions: [
          {
            errorCode: 0,
            partitionIndex: 1,
            leaderId: 0,
            leaderEpoch: 0,
            replicaNodes: [0],
            isrNodes: [0],
            offlineReplicas: [],
          },
        ],
      },
    ],
  }),
  decoded: (decoded) =>
    expect(decoded).toMatchObject({
      brokers: [{ nodeId: 0, host: 'gateway.local', port: 9092 }],
      topicMetadata: [
        {
          topicErrorCode: 0,
          topic: 'orders',
          partitionMetadata: [{ partitionErrorCode: 0, partitionId: 1, leader: 0, replicas: [0], isr: [0] }],
        },
      ],
    }),
});

interop('Produce', {
  dir: 'produce',
  args: {
    acks: -1,
    timeout: 30000,
    transactionalId: null,
    topicData: [
      {
        topic: 'orders',
        partitions: [{ partition: 2, firstSequence: 0, messages: [{ key: 'k', value: 'v' }] }],
      },
    ],
  },
  request: (body, version) => {
    expect(body).toMatchObject({ transactionalId: null, acks: -1, timeoutMs: 30000 });
    const records = body.topicData[0]?.partitionData[0];
    expect(records?.index).toBe(2);
    // From v3 a RecordBatch v2 (magic byte 2 at offset 16); before, a MessageSet of magic 0 or 1.
    expect(records?.records?.[16]).toBe(version >= 3 ? 2 : version === 2 ? 1 : 0);
  },
  response: () => ({
    responses: [
      {
        name: 'orders',
        partitionResponses: [
          {
            index: 2,
            errorCode: 0,
            baseOffset: 1234n,
            logAppendTimeMs: -1n,
            logStartOffset: 5n,
            recordErrors: [],
          },
        ],
      },
    ],
    throttleTimeMs: 3,
  }),
  decoded: (decoded, version) =>
    expect(decoded).toMatchObject({
      topics: [
        {
          topicName: 'orders',
          partitions: [
            version >= 3
              ? {
                  partition: 2,
                  errorCode: 0,
                  baseOffset: '1234',
                  logAppendTime: '-1',
                  ...(version >= 5 && { logStartOffset: '5' }),
                }
              : // kafkajs's v0-v2 decoders name the fields as Kafka's docs of those versions did.
                { partition: 2, errorCode: 0, offset: '1234', ...(version === 2 && { timestamp: '-1' }) },
          ],
        },
      ],
      ...(version >= 1 && version < 6 && { throttleTime: 3 }),
    }),
});

interop('Fetch', {
  dir: 'fetch',
  args: {
    replicaId: -1,
    maxWaitTime: 500,
    minBytes: 1,
    maxBytes: 1 << 20,
    isolationLevel: 1,
    rackId: 'az1',
    topics: [{ topic: 'orders', partitions: [{ partition: 3, fetchOffset: '42', maxBytes: 65536 }] }],
  },
  request: (body, version) =>
    expect(body).toMatchObject({
      replicaId: -1,
      maxWaitMs: 500,
      minBytes: 1,
      maxBytes: 1 << 20,
      isolationLevel: 1,
      topics: [
        { topic: 'orders', partitions: [{ partition: 3, fetchOffset: 42n, partitionMaxBytes: 65536 }] },
      ],
      rackId: version >= 11 ? 'az1' : '',
    }),
  response: () => ({
    throttleTimeMs: 0,
    errorCode: 0,
    sessionId: 0,
    responses: [
      {
        topic: 'orders',
        partitions: [
          {
            partitionIndex: 3,
            errorCode: 0,
            highWatermark: 100n,
            lastStableOffset: 100n,
            logStartOffset: 0n,
            abortedTransactions: [],
            preferredReadReplica: -1,
            records: null,
          },
        ],
      },
    ],
  }),
  decoded: (decoded) =>
    expect(decoded).toMatchObject({
      responses: [
        {
          topicName: 'orders',
          partitions: [
            { partition: 3, errorCode: 0, highWatermark: '100', lastStableOffset: '100', messages: [] },
          ],
        },
      ],
    }),
});

interop('ListOffsets', {
  dir: 'listOffsets',
  args: {
    replicaId: -1,
    isolationLevel: 1,
    topics: [{ topic: 'orders', partitions: [{ partition: 0, timestamp: -2 }] }],
  },
  request: (body, version) =>
    expect(body).toMatchObject({
      replicaId: -1,
      isolationLevel: version >= 2 ? 1 : 0,
      topics: [{ name: 'orders', partitions: [{ partitionIndex: 0, timestamp: -2n }] }],
    }),
  response: () => ({
    throttleTimeMs: 0,
    topics: [
      { name: 'orders', partitions: [{ partitionIndex: 0, errorCode: 0, timestamp: -1n, offset: 17n }] },
    ],
  }),
  decoded: (decoded) =>
    expect(decoded).toMatchObject({
      responses: [
        { topic: 'orders', partitions: [{ partition: 0, errorCode: 0, timestamp: '-1', offset: '17' }] },
      ],
    }),
});

interop('FindCoordinator', {
  dir: 'findCoordinator',
  args: { groupId: 'g1', coordinatorType: 0 },
  request: (body) => expect(body).toMatchObject({ key: 'g1', keyType: 0 }),
  response: () => ({
    throttleTimeMs: 0,
    errorCode: 0,
    errorMessage: null,
    nodeId: 0,
    host: 'gateway.local',
    port: 9092,
    coordinators: [],
  }),
  decoded: (decoded) =>
    expect(decoded).toMatchObject({
      errorCode: 0,
      coordinator: { nodeId: 0, host: 'gateway.local', port: 9092 },
    }),
});

interop('JoinGroup', {
  dir: 'joinGroup',
  args: {
    groupId: 'g1',
    sessionTimeout: 30000,
    rebalanceTimeout: 60000,
    memberId: '',
    protocolType: 'consumer',
    groupProtocols: [{ name: 'RoundRobinAssigner', metadata: Buffer.from([0, 1, 2]) }],
  },
  request: (body, version) =>
    expect(body).toMatchObject({
      groupId: 'g1',
      sessionTimeoutMs: 30000,
      rebalanceTimeoutMs: version >= 1 ? 60000 : -1,
      memberId: '',
      groupInstanceId: null,
      protocolType: 'consumer',
      protocols: [{ name: 'RoundRobinAssigner', metadata: Uint8Array.of(0, 1, 2) }],
    }),
  response: () => ({
    throttleTimeMs: 0,
    errorCode: 0,
    generationId: 4,
    protocolName: 'RoundRobinAssigner',
    leader: 'm-1',
    memberId: 'm-2',
    members: [{ memberId: 'm-1', metadata: Uint8Array.of(9) }],
  }),
  decoded: (decoded) =>
    expect(decoded).toMatchObject({
      errorCode: 0,
      generationId: 4,
      groupProtocol: 'RoundRobinAssigner',
      leaderId: 'm-1',
      memberId: 'm-2',
      members: [{ memberId: 'm-1', memberMetadata: Buffer.of(9) }],
    }),
});

interop('SyncGroup', {
  dir: 'syncGroup',
  args: {
    groupId: 'g1',
    generationId: 4,
    memberId: 'm-1',
    groupAssignment: [{ memberId: 'm-2', memberAssignment: Buffer.from([5, 6]) }],
  },
  request: (body) =>
    expect(body).toMatchObject({
      groupId: 'g1',
      generationId: 4,
      memberId: 'm-1',
      assignments: [{ memberId: 'm-2', assignment: Uint8Array.of(5, 6) }],
    }),
  response: () => ({ throttleTimeMs: 0, errorCode: 0, assignment: Uint8Array.of(7, 8) }),
  decoded: (decoded) => expect(decoded).toMatchObject({ errorCode: 0, memberAssignment: Buffer.of(7, 8) }),
});

interop('Heartbeat', {
  dir: 'heartbeat',
  args: { groupId: 'g1', groupGenerationId: 4, memberId: 'm-1' },
  request: (body) =>
    expect(body).toEqual({ groupId: 'g1', generationId: 4, memberId: 'm-1', groupInstanceId: null }),
  response: () => ({ throttleTimeMs: 0, errorCode: 27 }),
  decoded: (decoded) => expect(decoded).toMatchObject({ errorCode: 27 }),
});

interop('LeaveGroup', {
  dir: 'leaveGroup',
  args: { groupId: 'g1', memberId: 'm-1' },
  request: (body, version) =>
    expect(body).toMatchObject(
      version >= 3
        ? { groupId: 'g1', members: [{ memberId: 'm-1', groupInstanceId: null }] }
        : { groupId: 'g1', memberId: 'm-1', members: [] },
    ),
  response: () => ({
    throttleTimeMs: 0,
    errorCode: 0,
    members: [{ memberId: 'm-1', groupInstanceId: null, errorCode: 0 }],
  }),
  decoded: (decoded, version) =>
    expect(decoded).toMatchObject({
      errorCode: 0,
      ...(version >= 3 && { members: [{ memberId: 'm-1', groupInstanceId: null, errorCode: 0 }] }),
    }),
});

interop('OffsetCommit', {
  dir: 'offsetCommit',
  args: {
    groupId: 'g1',
    groupGenerationId: 4,
    memberId: 'm-1',
    retentionTime: -1,
    topics: [{ topic: 'orders', partitions: [{ partition: 0, offset: '99', metadata: 'md' }] }],
  },
  request: (body) =>
    expect(body).toMatchObject({
      groupId: 'g1',
      generationIdOrMemberEpoch: 4,
      memberId: 'm-1',
      topics: [
        {
          name: 'orders',
          partitions: [{ partitionIndex: 0, committedOffset: 99n, committedMetadata: 'md' }],
        },
      ],
    }),
  response: () => ({
    throttleTimeMs: 0,
    topics: [{ name: 'orders', partitions: [{ partitionIndex: 0, errorCode: 0 }] }],
  }),
  decoded: (decoded) =>
    expect(decoded).toMatchObject({
      responses: [{ topic: 'orders', partitions: [{ partition: 0, errorCode: 0 }] }],
    }),
});

interop('OffsetFetch', {
  dir: 'offsetFetch',
  args: { groupId: 'g1', topics: [{ topic: 'orders', partitions: [{ partition: 0 }, { partition: 1 }] }] },
  request: (body) =>
    expect(body).toMatchObject({ groupId: 'g1', topics: [{ name: 'orders', partitionIndexes: [0, 1] }] }),
  response: () => ({
    throttleTimeMs: 0,
    topics: [
      {
        name: 'orders',
        partitions: [{ partitionIndex: 0, committedOffset: 99n, metadata: 'md', errorCode: 0 }],
      },
    ],
    errorCode: 0,
    groups: [],
  }),
  decoded: (decoded) =>
    expect(decoded).toMatchObject({
      responses: [
        { topic: 'orders', partitions: [{ partition: 0, offset: '99', metadata: 'md', errorCode: 0 }] },
      ],
    }),
});

interop('DescribeGroups', {
  dir: 'describeGroups',
  args: { groupIds: ['g1', 'g2'] },
  request: (body) => expect(body).toMatchObject({ groups: ['g1', 'g2'] }),
  response: () => ({
    throttleTimeMs: 0,
    groups: [
      {
        errorCode: 0,
        groupId: 'g1',
        groupState: 'Stable',
        protocolType: 'consumer',
        protocolData: 'RoundRobinAssigner',
        members: [
          {
            memberId: 'm-1',
            clientId: 'kafkajs',
            clientHost: '/127.0.0.1',
            memberMetadata: Uint8Array.of(1),
            memberAssignment: Uint8Array.of(2),
          },
        ],
      },
    ],
  }),
  decoded: (decoded) =>
    expect(decoded).toMatchObject({
      groups: [
        {
          errorCode: 0,
          groupId: 'g1',
          state: 'Stable',
          protocolType: 'consumer',
          protocol: 'RoundRobinAssigner',
          members: [{ memberId: 'm-1', clientId: 'kafkajs', clientHost: '/127.0.0.1' }],
        },
      ],
    }),
});

interop('ListGroups', {
  dir: 'listGroups',
  args: undefined,
  request: (body) => expect(body).toEqual({ statesFilter: [], typesFilter: [] }),
  response: () => ({
    throttleTimeMs: 0,
    errorCode: 0,
    groups: [{ groupId: 'g1', protocolType: 'consumer', groupState: '', groupType: '' }],
  }),
  decoded: (decoded) =>
    expect(decoded).toMatchObject({ errorCode: 0, groups: [{ groupId: 'g1', protocolType: 'consumer' }] }),
});

interop('DeleteGroups', {
  dir: 'deleteGroups',
  args: ['g1', 'g2'],
  request: (body) => expect(body).toEqual({ groupsNames: ['g1', 'g2'] }),
  response: () => ({ throttleTimeMs: 0, results: [{ groupId: 'g1', errorCode: 0 }] }),
  decoded: (decoded) => expect(decoded).toMatchObject({ results: [{ groupId: 'g1', errorCode: 0 }] }),
});

interop('SaslHandshake', {
  dir: 'saslHandshake',
  args: { mechanism: 'PLAIN' },
  request: (body) => expect(body).toEqual({ mechanism: 'PLAIN' }),
  response: () => ({ errorCode: 0, mechanisms: ['PLAIN', 'OAUTHBEARER'] }),
  decoded: (decoded) =>
    expect(decoded).toMatchObject({ errorCode: 0, enabledMechanisms: ['PLAIN', 'OAUTHBEARER'] }),
});

interop('SaslAuthenticate', {
  dir: 'saslAuthenticate',
  // kafkajs hands SaslAuthenticate the mechanism's token already length-prefixed (its PLAIN
  // mechanism `writeBytes` the token), and writes it as is.
  args: { authBytes: Buffer.concat([Buffer.of(0, 0, 0, 12), Buffer.from('\u0000user\u0000secret')]) },
  request: (body) => expect(Buffer.from(body.authBytes).toString()).toBe('\u0000user\u0000secret'),
  response: () => ({
    errorCode: 0,
    errorMessage: null,
    authBytes: new Uint8Array(0),
    sessionLifetimeMs: 3600000n,
  }),
  decoded: (decoded) => expect(decoded).toMatchObject({ errorCode: 0, errorMessage: null }),
});

interop('CreateTopics', {
  dir: 'createTopics',
  args: {
    topics: [
      {
        topic: 'orders',
        numPartitions: 6,
        replicationFactor: 3,
        configEntries: [{ name: 'retention.ms', value: '1000' }],
      },
    ],
    validateOnly: true,
    timeout: 5000,
  },
  request: (body, version) =>
    expect(body).toMatchObject({
      topics: [
        {
          name: 'orders',
          numPartitions: 6,
          replicationFactor: 3,
          assignments: [],
          configs: [{ name: 'retention.ms', value: '1000' }],
        },
      ],
      timeoutMs: 5000,
      validateOnly: version >= 1,
    }),
  response: () => ({
    throttleTimeMs: 0,
    topics: [{ name: 'orders', topicId: NO_UUID, errorCode: 0, errorMessage: null, configs: null }],
  }),
  decoded: (decoded) => expect(decoded).toMatchObject({ topicErrors: [{ topic: 'orders', errorCode: 0 }] }),
});

interop('DeleteTopics', {
  dir: 'deleteTopics',
  args: { topics: ['orders', 'audit'], timeout: 5000 },
  request: (body) =>
    expect(body).toMatchObject({ topicNames: ['orders', 'audit'], timeoutMs: 5000, topics: [] }),
  response: () => ({ throttleTimeMs: 0, responses: [{ name: 'orders', topicId: NO_UUID, errorCode: 0 }] }),
  decoded: (decoded) => expect(decoded).toMatchObject({ topicErrors: [{ topic: 'orders', errorCode: 0 }] }),
});

interop('InitProducerId', {
  dir: 'initProducerId',
  args: { transactionalId: null, transactionTimeout: 5000 },
  request: (body) =>
    expect(body).toEqual({
      transactionalId: null,
      transactionTimeoutMs: 5000,
      producerId: -1n,
      producerEpoch: -1,
    }),
  response: () => ({ throttleTimeMs: 0, errorCode: 0, producerId: 9007199254740993n, producerEpoch: 2 }),
  decoded: (decoded) =>
    expect(decoded).toMatchObject({ errorCode: 0, producerId: '9007199254740993', producerEpoch: 2 }),
});

interop('DescribeConfigs', {
  dir: 'describeConfigs',
  args: { resources: [{ type: 2, name: 'orders', configNames: ['retention.ms'] }], includeSynonyms: false },
  request: (body) =>
    expect(body).toMatchObject({
      resources: [{ resourceType: 2, resourceName: 'orders', configurationKeys: ['retention.ms'] }],
      includeSynonyms: false,
    }),
  response: () => ({
    throttleTimeMs: 0,
    results: [
      {
        errorCode: 0,
        errorMessage: null,
        resourceType: 2,
        resourceName: 'orders',
        configs: [
          {
            name: 'retention.ms',
            value: '1000',
            readOnly: false,
            isDefault: false,
            configSource: 1,
            isSensitive: false,
            synonyms: [],
            documentation: null,
          },
        ],
      },
    ],
  }),
  decoded: (decoded) =>
    expect(decoded).toMatchObject({
      resources: [
        {
          errorCode: 0,
          resourceType: 2,
          resourceName: 'orders',
          configEntries: [
            { configName: 'retention.ms', configValue: '1000', readOnly: false, isSensitive: false },
          ],
        },
      ],
    }),
});

interop('AlterConfigs', {
  dir: 'alterConfigs',
  args: {
    resources: [{ type: 2, name: 'orders', configEntries: [{ name: 'retention.ms', value: '5' }] }],
    validateOnly: false,
  },
  request: (body) =>
    expect(body).toEqual({
      resources: [
        { resourceType: 2, resourceName: 'orders', configs: [{ name: 'retention.ms', value: '5' }] },
      ],
      validateOnly: false,
    }),
  response: () => ({
    throttleTimeMs: 0,
    responses: [{ errorCode: 0, errorMessage: null, resourceType: 2, resourceName: 'orders' }],
  }),
  decoded: (decoded) =>
    expect(decoded).toMatchObject({ resources: [{ errorCode: 0, resourceType: 2, resourceName: 'orders' }] }),
});

interop('CreatePartitions', {
  dir: 'createPartitions',
  args: { topicPartitions: [{ topic: 'orders', count: 12 }], validateOnly: false, timeout: 5000 },
  request: (body) =>
    expect(body).toEqual({
      // kafkajs writes an empty assignment list as a null array.
      topics: [{ name: 'orders', count: 12, assignments: null }],
      timeoutMs: 5000,
      validateOnly: false,
    }),
  response: () => ({ throttleTimeMs: 0, results: [{ name: 'orders', errorCode: 0 }] }),
  decoded: (decoded) => expect(decoded).toMatchObject({ topicErrors: [{ topic: 'orders', errorCode: 0 }] }),
});
