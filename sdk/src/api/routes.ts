/**
 * The HTTP API's routes: one table read by the Lambda router, the SDK's HTTP transport, the
 * OpenAPI generator and the CDK stack (which creates one API Gateway route per entry and builds
 * `execute-api:Invoke` ARNs from `access`). Topic and group names sit in fixed path segments so
 * IAM policies can scope a principal to `<topic>` or `<group>`.
 */

/** HTTP methods the API uses. */
export type HttpMethod = 'GET' | 'POST' | 'PATCH' | 'DELETE';

/**
 * Who may call a route, by the grant that includes it:
 * - `admin`: `grantAdmin` only (topic, group and trigger administration);
 * - `describe`: any topic-scoped grant (producers and consumers read topic metadata);
 * - `produce`: `grantProduce` for the route's topic;
 * - `consume`: `grantConsume` for the route's topic;
 * - `group`: `grantConsume` for the route's group;
 * - `group-consume`: `grantConsume` for the route's group *and* topic (both sit in the path, so a
 *   principal granted one topic in a group reads no other topic through the group's routes);
 * - `public`: every grant (the API description).
 */
export type RouteAccess = 'admin' | 'describe' | 'produce' | 'consume' | 'group' | 'group-consume' | 'public';

/** One route of the API. */
export interface RouteDefinition {
  /** Stable name, used as the OpenAPI operationId and the handler key. */
  readonly operationId: OperationId;
  readonly method: HttpMethod;
  /** Path template; `{name}` segments are parameters (`topic`, `partition`, `group`, `member`, `trigger`). */
  readonly path: string;
  readonly access: RouteAccess;
  /** One-line description (OpenAPI summary). */
  readonly summary: string;
}

/** Names of the API's operations. */
export type OperationId =
  | 'getOpenApi'
  | 'listTopics'
  | 'createTopic'
  | 'describeTopic'
  | 'deleteTopic'
  | 'alterTopicConfigs'
  | 'createPartitions'
  | 'produce'
  | 'fetch'
  | 'partitionOffsets'
  | 'listGroups'
  | 'describeGroup'
  | 'deleteGroup'
  | 'joinGroup'
  | 'heartbeat'
  | 'leaveGroup'
  | 'commitOffsets'
  | 'consumeGroup'
  | 'listTriggers'
  | 'createTrigger'
  | 'describeTrigger'
  | 'updateTrigger'
  | 'deleteTrigger';

/** Every route, in documentation order. */
export const ROUTES: readonly RouteDefinition[] = [
  {
    operationId: 'getOpenApi',
    method: 'GET',
    path: '/v1/openapi.json',
    access: 'public',
    summary: 'This API description (OpenAPI 3.1).',
  },
  { operationId: 'listTopics', method: 'GET', path: '/v1/topics', access: 'admin', summary: 'List topics.' },
  {
    operationId: 'createTopic',
    method: 'POST',
    path: '/v1/topics',
    access: 'admin',
    summary: 'Create a topic.',
  },
  {
    operationId: 'describeTopic',
    method: 'GET',
    path: '/v1/topics/{topic}',
    access: 'describe',
    summary: 'Describe a topic: configs and, per partition, offsets and tier usage.',
  },
  {
    operationId: 'deleteTopic',
    method: 'DELETE',
    path: '/v1/topics/{topic}',
    access: 'admin',
    summary:
      'Delete a topic: it disappears at once; its records are purged before the answer or, if that takes too long, in the background.',
  },
  {
    operationId: 'alterTopicConfigs',
    method: 'PATCH',
    path: '/v1/topics/{topic}/configs',
    access: 'admin',
    summary: 'Set or reset topic configs.',
  },
  {
    operationId: 'createPartitions',
    method: 'POST',
    path: '/v1/topics/{topic}/partitions',
    access: 'admin',
    summary: 'Grow a topic to a total number of partitions.',
  },
  {
    operationId: 'produce',
    method: 'POST',
    path: '/v1/topics/{topic}/records',
    access: 'produce',
    summary: 'Append records; returns the partition and offset of each.',
  },
  {
    operationId: 'fetch',
    method: 'GET',
    path: '/v1/topics/{topic}/partitions/{partition}/records',
    access: 'consume',
    summary: 'Read records from an offset, waiting up to maxWaitMs for new ones.',
  },
  {
    operationId: 'partitionOffsets',
    method: 'GET',
    path: '/v1/topics/{topic}/partitions/{partition}/offsets',
    access: 'consume',
    summary: "A partition's log start and high watermark, or the offset for a timestamp.",
  },
  {
    operationId: 'listGroups',
    method: 'GET',
    path: '/v1/groups',
    access: 'admin',
    summary: 'List consumer groups.',
  },
  {
    operationId: 'describeGroup',
    method: 'GET',
    path: '/v1/groups/{group}',
    access: 'group',
    summary: 'Describe a group: members, leases, committed offsets and lag.',
  },
  {
    operationId: 'deleteGroup',
    method: 'DELETE',
    path: '/v1/groups/{group}',
    access: 'admin',
    summary: 'Delete a group and its committed offsets.',
  },
  {
    operationId: 'joinGroup',
    method: 'POST',
    path: '/v1/groups/{group}/members',
    access: 'group',
    summary: 'Join a group; returns the member id, its assignment and a session.',
  },
  {
    operationId: 'heartbeat',
    method: 'POST',
    path: '/v1/groups/{group}/members/{member}/heartbeat',
    access: 'group',
    summary: 'Renew membership, hand off released partitions and return the assignment.',
  },
  {
    operationId: 'leaveGroup',
    method: 'POST',
    path: '/v1/groups/{group}/members/{member}/leave',
    access: 'group',
    summary: 'Leave a group, handing its partitions straight to the remaining members.',
  },
  {
    operationId: 'commitOffsets',
    method: 'POST',
    path: '/v1/groups/{group}/offsets',
    access: 'group',
    summary: 'Commit offsets, fenced by the lease epochs the member holds.',
  },
  {
    operationId: 'consumeGroup',
    method: 'POST',
    path: '/v1/groups/{group}/members/{member}/topics/{topic}/records',
    access: 'group-consume',
    summary:
      "Fetch from the member's assigned partitions of one topic (in the path, so IAM grants see the topic as well as the group).",
  },
  // Triggers are administered like topics (`admin`); their paths name no topic, so no
  // topic-scoped grant reaches them.
  {
    operationId: 'listTriggers',
    method: 'GET',
    path: '/v1/triggers',
    access: 'admin',
    summary: 'List triggers (Lambda event source mappings for topics).',
  },
  {
    operationId: 'createTrigger',
    method: 'POST',
    path: '/v1/triggers',
    access: 'admin',
    summary:
      "Create a trigger: a Lambda function invoked with a topic's records, with Lambda's Kafka event source mapping settings.",
  },
  {
    operationId: 'describeTrigger',
    method: 'GET',
    path: '/v1/triggers/{trigger}',
    access: 'admin',
    summary: 'Describe a trigger: settings, state, last error, in-flight batches and, per partition, lag.',
  },
  {
    operationId: 'updateTrigger',
    method: 'PATCH',
    path: '/v1/triggers/{trigger}',
    access: 'admin',
    summary: "Change a trigger's settings (enabled: false disables it).",
  },
  {
    operationId: 'deleteTrigger',
    method: 'DELETE',
    path: '/v1/triggers/{trigger}',
    access: 'admin',
    summary: 'Delete a trigger; its consumer group and committed offsets stay.',
  },
];

/** The route of an operation. */
export function routeOf(operationId: OperationId): RouteDefinition {
  const route = ROUTES.find((r) => r.operationId === operationId);
  if (!route) throw new Error(`No route for operation ${operationId}`);
  return route;
}

/** An API Gateway route key (`POST /v1/topics/{topic}/records`). */
export function routeKey(route: RouteDefinition): string {
  return `${route.method} ${route.path}`;
}
