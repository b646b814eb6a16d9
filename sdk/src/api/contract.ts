/**
 * Each operation's schemas: path parameters, query, body and the success response. The router
 * validates with them, the OpenAPI document is generated from them, and the SDK's HTTP transport
 * types its calls with {@link OperationBody} and {@link OperationResult}.
 */
import { z } from 'zod';
import type { OperationId } from './routes.ts';
import * as s from './schemas.ts';

/** The schemas of one operation. */
export interface OperationContract {
  readonly params?: z.ZodType;
  readonly query?: z.ZodType;
  readonly body?: z.ZodType;
  /** The success body; undefined for 204 No Content. */
  readonly response?: z.ZodType;
  readonly status: 200 | 201 | 202 | 204;
}

const openApiDocument = z.record(z.string(), z.unknown()).describe('An OpenAPI 3.1 document.');

/** Every operation's contract. */
export const CONTRACT = {
  getOpenApi: { response: openApiDocument, status: 200 },
  listTopics: { response: s.TopicList, status: 200 },
  createTopic: { body: s.CreateTopicBody, response: s.TopicSummary, status: 201 },
  describeTopic: {
    params: s.TopicParams,
    query: s.DescribeTopicQuery,
    response: s.TopicDescriptionBody,
    status: 200,
  },
  deleteTopic: { params: s.TopicParams, response: s.DeleteTopicResult, status: 200 },
  alterTopicConfigs: { params: s.TopicParams, body: s.AlterConfigsBody, status: 204 },
  createPartitions: { params: s.TopicParams, body: s.CreatePartitionsBody, status: 204 },
  produce: { params: s.TopicParams, body: s.ProduceBody, response: s.ProduceResult, status: 200 },
  fetch: { params: s.PartitionParams, query: s.FetchQuery, response: s.FetchResult, status: 200 },
  partitionOffsets: {
    params: s.PartitionParams,
    query: s.OffsetsQuery,
    response: s.PartitionOffsetsResult,
    status: 200,
  },
  listGroups: { response: s.GroupList, status: 200 },
  describeGroup: { params: s.GroupParams, response: s.GroupDescriptionBody, status: 200 },
  deleteGroup: { params: s.GroupParams, query: s.DeleteGroupQuery, status: 204 },
  joinGroup: { params: s.GroupParams, body: s.JoinGroupBody, response: s.MembershipResult, status: 200 },
  heartbeat: { params: s.MemberParams, body: s.HeartbeatBody, response: s.MembershipResult, status: 200 },
  leaveGroup: { params: s.MemberParams, body: s.LeaveBody, status: 204 },
  commitOffsets: { params: s.GroupParams, body: s.CommitBody, status: 204 },
  consumeGroup: {
    params: s.MemberTopicParams,
    body: s.ConsumeGroupBody,
    response: s.ConsumeGroupResult,
    status: 200,
  },
  listTriggers: { response: s.TriggerList, status: 200 },
  createTrigger: { body: s.CreateTriggerBody, response: s.TriggerDescriptionBody, status: 201 },
  describeTrigger: { params: s.TriggerParams, response: s.TriggerDescriptionBody, status: 200 },
  updateTrigger: {
    params: s.TriggerParams,
    body: s.UpdateTriggerBody,
    response: s.TriggerDescriptionBody,
    status: 200,
  },
  deleteTrigger: { params: s.TriggerParams, status: 204 },
} as const satisfies Record<OperationId, OperationContract>;

type Contract = typeof CONTRACT;
type Infer<T> = T extends z.ZodType ? z.infer<T> : undefined;

/** The request body an operation takes (its input type). */
export type OperationBody<O extends OperationId> = Contract[O] extends { body: infer B }
  ? z.input<B & z.ZodType>
  : undefined;
/** The success body an operation returns. */
export type OperationResult<O extends OperationId> = Contract[O] extends { response: infer R }
  ? Infer<R>
  : undefined;
/** The query an operation takes. */
export type OperationQuery<O extends OperationId> = Contract[O] extends { query: infer Q }
  ? z.input<Q & z.ZodType>
  : undefined;
