/** The decoded types follow from the descriptions (no `any`, nullability and bigints where the spec says). */
import { describe, expectTypeOf, it } from 'vitest';
import type {
  RequestBody,
  RequestInput,
  ResponseBody,
  ResponseInput,
} from '../../../gateway/protocol/apis.ts';
import type { KafkaRequest } from '../../../gateway/protocol/frame-codec.ts';
import type { RequestHeader } from '../../../gateway/protocol/headers.ts';
import {
  array,
  int32,
  int64,
  type Message,
  type MessageInput,
  string,
  struct,
} from '../../../gateway/protocol/schema.ts';

describe('decoded types', () => {
  it('map wire types to TypeScript types, with null only where a version allows it', () => {
    expectTypeOf<RequestBody<'Metadata'>>().toEqualTypeOf<{
      topics: { topicId: string; name: string | null }[] | null;
      allowAutoTopicCreation: boolean;
      includeClusterAuthorizedOperations: boolean;
      includeTopicAuthorizedOperations: boolean;
    }>();
    expectTypeOf<RequestBody<'Produce'>['topicData'][number]['partitionData'][number]>().toEqualTypeOf<{
      index: number;
      records: Uint8Array | null;
    }>();
    expectTypeOf<
      ResponseBody<'Produce'>['responses'][number]['partitionResponses'][number]['currentLeader']
    >().toEqualTypeOf<{
      leaderId: number;
      leaderEpoch: number;
    }>();
    expectTypeOf<ResponseBody<'InitProducerId'>['producerId']>().toEqualTypeOf<bigint>();
    expectTypeOf<RequestHeader>().toEqualTypeOf<{
      apiKey: number;
      apiVersion: number;
      correlationId: number;
      clientId: string | null;
    }>();
  });

  it('narrow a decoded request by its api name', () => {
    expectTypeOf<Extract<KafkaRequest, { api: 'Fetch' }>['body']>().toEqualTypeOf<RequestBody<'Fetch'>>();
    expectTypeOf<KafkaRequest['api']>().toEqualTypeOf<
      | 'Produce'
      | 'Fetch'
      | 'ListOffsets'
      | 'Metadata'
      | 'OffsetCommit'
      | 'OffsetFetch'
      | 'FindCoordinator'
      | 'JoinGroup'
      | 'Heartbeat'
      | 'LeaveGroup'
      | 'SyncGroup'
      | 'DescribeGroups'
      | 'ListGroups'
      | 'SaslHandshake'
      | 'ApiVersions'
      | 'CreateTopics'
      | 'DeleteTopics'
      | 'InitProducerId'
      | 'DescribeConfigs'
      | 'AlterConfigs'
      | 'SaslAuthenticate'
      | 'CreatePartitions'
      | 'DeleteGroups'
      | 'IncrementalAlterConfigs'
    >();
  });

  it('let encoder inputs leave out fields with defaults and tagged fields, and only those', () => {
    expectTypeOf<{ throttleTimeMs: number; errorCode: number }>().toExtend<ResponseInput<'Heartbeat'>>();
    expectTypeOf<{ errorCode: number }>().not.toExtend<ResponseInput<'Heartbeat'>>();
    // ApiVersions v3's four tagged fields may be left out.
    expectTypeOf<{ errorCode: number; apiKeys: []; throttleTimeMs: number }>().toExtend<
      ResponseInput<'ApiVersions'>
    >();
    // A decoded message is always a valid input.
    expectTypeOf<RequestBody<'JoinGroup'>>().toExtend<RequestInput<'JoinGroup'>>();
    expectTypeOf<ResponseBody<'Fetch'>>().toExtend<ResponseInput<'Fetch'>>();
  });

  it('follow a description written with the helpers', () => {
    const fields = {
      id: int64(),
      name: string({ nullableVersions: '1+', default: null }),
      parts: array({ index: int32(), leader: struct({ id: int32() }, { tag: 0 }) }),
    };
    expectTypeOf<Message<typeof fields>>().toEqualTypeOf<{
      id: bigint;
      name: string | null;
      parts: { index: number; leader: { id: number } }[];
    }>();
    expectTypeOf<MessageInput<typeof fields>>().toEqualTypeOf<{
      readonly id: bigint;
      readonly parts: readonly { readonly index: number; readonly leader?: { readonly id: number } }[];
      readonly name?: string | null;
    }>();
  });
});
