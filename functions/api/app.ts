/**
 * The API's request pipeline, shared by the Lambda handler and the local stack's server:
 * match the route and decode its path strictly, check the body size and content type, parse the
 * body (UTF-8 JSON object, no duplicate keys), validate path, query and body against the
 * contract's strict schemas, call the operation, and shape the response — errors as
 * `{ error: { code, message, retriable, details } }` with the status of their code.
 *
 * Everything a caller can send is checked here, before any operation runs, so a bad request is a
 * typed 4xx and writes nothing; a 500 means a fault of the API or its storage, never of the input.
 */
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import type { z } from 'zod';
import {
  InternalError,
  InvalidArgumentError,
  RequestTooLargeError,
  RouteNotFoundError,
  ThrottledError,
  TributaryError,
  UnsupportedMediaTypeError,
} from '../../sdk/src/index.ts';
import {
  CONTRACT,
  type DirectTransport,
  type ErrorBody,
  errorToResponse,
  GroupSessions,
  MAX_REQUEST_BYTES,
  type OperationContract,
  type OperationId,
  openApiDocument,
  RequestAppender,
  type RouteDefinition,
  refusalOf,
} from '../../sdk/src/internal.ts';
import { MetricUnit, type Telemetry } from '../telemetry.ts';
import { parseJsonBody } from './json-body.ts';
import { groupOperations } from './operations/groups.ts';
import { recordOperations } from './operations/records.ts';
import { topicOperations } from './operations/topics.ts';
import { triggerOperations } from './operations/triggers.ts';
import type { ApiDeps, Operation, OperationInput } from './operations/types.ts';
import { checkPathEncoding, findRoute, matchRoute, routeByKey } from './router.ts';

/** A handler of API Gateway HTTP API (payload v2) events. */
export type ApiHandler = (
  event: APIGatewayProxyEventV2,
  context?: {
    getRemainingTimeInMillis?: () => number;
    awsRequestId?: string;
    /** Ends long-polls early (the local server shutting down). */
    signal?: AbortSignal;
  },
) => Promise<APIGatewayProxyStructuredResultV2>;

const OPERATIONS: { readonly [O in OperationId]: Operation<O> } = {
  getOpenApi: async () => openApiDocument(),
  ...topicOperations,
  ...recordOperations,
  ...groupOperations,
  ...triggerOperations,
};

/** Time kept back from a long-poll to answer before the function times out. */
const RESPONSE_MARGIN_MS = 2_000;

/** Settings of the API that are not the SDK client's. */
export interface ApiHandlerOptions {
  /**
   * Secret that group sessions are signed with (at least 32 bytes). Every instance of one API
   * must use the same key, or a session issued by one is refused by another. In AWS it is the
   * stack's Secrets Manager secret; the local stack keeps one under its data directory.
   */
  readonly sessionKey: Uint8Array;
  /**
   * How long an idempotent produce request's claim on a partition's sequence lasts (ms): longer
   * than the function's timeout, so a retry that finds no batch after it knows the first attempt
   * is gone. @default DEFAULT_PRODUCE_CLAIM_TIMEOUT_MS
   */
  readonly produceClaimTimeoutMs?: number;
}

/** The API function's longest timeout (29 s, API Gateway's integration limit) plus a margin. */
export const DEFAULT_PRODUCE_CLAIM_TIMEOUT_MS = 29_000 + 5_000;

/**
 * Builds the API over the direct transport (`new DirectTransport(options)` from the SDK's
 * internal entry): its admin and partition sources, and the request appender and group sessions
 * on its storage.
 */
export function createApiHandler(
  direct: DirectTransport,
  telemetry: Telemetry,
  options: ApiHandlerOptions,
): ApiHandler {
  const { ctx, topics, registry } = direct;
  const base = {
    admin: direct.admin(),
    // Each request's records are appended at once; batching across requests would add latency.
    producer: new RequestAppender(ctx, topics, {
      claimTimeoutMs: options.produceClaimTimeoutMs ?? DEFAULT_PRODUCE_CLAIM_TIMEOUT_MS,
    }),
    sessions: new GroupSessions(ctx, topics, { key: options.sessionKey }),
    sources: direct.sources(),
    invalidateTopic: (topic: string) => topics.invalidate(topic),
    topicMetadata: (topic: string) => registry.get(topic),
  };
  const { logger, metrics, tracer } = telemetry;

  return async (event, context) => {
    const started = Date.now();
    const collisionsBefore = base.producer.metrics().collisions;
    const method = event.requestContext.http.method.toUpperCase();
    const path = event.rawPath;
    const requestId = context?.awsRequestId ?? event.requestContext.requestId;
    // API Gateway names the route it matched; the local server, when it could not match, sends
    // `$default` and the path is matched here. Parameters are decoded inside the try below, where
    // a malformed one is answered with a 400.
    const byKey = routeByKey(event.routeKey);
    const route = byKey ?? findRoute(method, path);
    const operationId = route?.operationId ?? 'unknown';
    return tracer.startActiveSpan(`tributary.${operationId}`, async (span) => {
      span.setAttribute('http.request.method', method);
      span.setAttribute('url.path', path);
      let status = 500;
      let recordsIn = 0;
      let recordsOut = 0;
      let responseBytes = 0;
      try {
        // Bad percent-encoding anywhere in the path is a 400, also when API Gateway matched the
        // route and decoded the parameters itself; decoding the route's parameters here first
        // names the one at fault.
        const decoded = matchRoute(method, path);
        checkPathEncoding(path);
        if (!route) throw new RouteNotFoundError(method, path);
        const contract: OperationContract = CONTRACT[route.operationId];
        const params = byKey ? ownEntries(event.pathParameters) : (decoded?.params ?? {});
        const input = parseInput(contract, route, params, event);
        const remaining = context?.getRemainingTimeInMillis?.();
        const signal =
          remaining === undefined
            ? undefined
            : AbortSignal.timeout(Math.max(0, remaining - RESPONSE_MARGIN_MS));
        const deps: ApiDeps = signal ? { ...base, signal } : base;
        const operation = OPERATIONS[route.operationId] as Operation<OperationId>;
        const result = await operation(input as OperationInput<OperationId>, deps);
        recordsIn = operationId === 'produce' ? countOf(result, 'records') : 0;
        recordsOut =
          operationId === 'fetch'
            ? countOf(result, 'records')
            : operationId === 'consumeGroup'
              ? (
                  (result as unknown as { batches?: { records: unknown[] }[] } | undefined)?.batches ?? []
                ).reduce((n, b) => n + b.records.length, 0)
              : 0;
        status = contract.status;
        const response = json(status, result);
        responseBytes = response.body?.length ?? 0;
        return response;
      } catch (error) {
        const failure = asTributaryError(error, requestId);
        if (failure.code === 'INTERNAL_ERROR' || failure.code === 'LOG_INVARIANT_VIOLATED') {
          logger.error('Request failed', { operationId, requestId, error });
        } else {
          logger.info('Request refused', {
            operationId,
            requestId,
            code: failure.code,
            message: failure.message,
          });
        }
        if (failure instanceof ThrottledError) metrics?.addMetric('throttles', MetricUnit.Count, 1);
        const response = errorToResponse(failure);
        status = response.status;
        span.setAttribute('tributary.error.code', failure.code);
        return errorJson(status, response.body);
      } finally {
        span.setAttribute('http.response.status_code', status);
        span.end();
        if (metrics) {
          metrics.addDimension('operation', operationId);
          metrics.addMetric('latency', MetricUnit.Milliseconds, Date.now() - started);
          metrics.addMetric('requestBytes', MetricUnit.Bytes, event.body?.length ?? 0);
          metrics.addMetric('responseBytes', MetricUnit.Bytes, responseBytes);
          if (recordsIn > 0) metrics.addMetric('recordsIn', MetricUnit.Count, recordsIn);
          if (recordsOut > 0) metrics.addMetric('recordsOut', MetricUnit.Count, recordsOut);
          if (status >= 500) metrics.addMetric('serverErrors', MetricUnit.Count, 1);
          // One invocation at a time per Lambda environment, so the difference is this request's.
          const collisions = base.producer.metrics().collisions - collisionsBefore;
          if (collisions > 0) metrics.addMetric('appendCollisions', MetricUnit.Count, collisions);
          metrics.publishStoredMetrics();
        }
        logger.debug('Request', { operationId, status, ms: Date.now() - started });
      }
    });
  };
}

/**
 * Query parameters of a SigV4 presigned request: API Gateway's IAM authorizer reads them, and
 * they are no operation's input, so they are neither validated nor refused.
 */
const SIGV4_QUERY_PARAMETERS: ReadonlySet<string> = new Set([
  'X-Amz-Algorithm',
  'X-Amz-Credential',
  'X-Amz-Date',
  'X-Amz-Expires',
  'X-Amz-SignedHeaders',
  'X-Amz-Signature',
  'X-Amz-Security-Token',
]);

/**
 * A copy of a map from the event made of own properties only (`Object.fromEntries` defines them),
 * so a key named `__proto__` stays a key — which the strict schemas then refuse as unknown —
 * instead of reaching the prototype.
 */
function ownEntries(map: Readonly<Record<string, string | undefined>> | undefined): Record<string, string> {
  return Object.fromEntries(
    Object.entries(map ?? {}).filter((entry): entry is [string, string] => entry[1] !== undefined),
  );
}

function parseInput(
  contract: OperationContract,
  route: RouteDefinition,
  params: Readonly<Record<string, string>>,
  event: APIGatewayProxyEventV2,
): { params: unknown; query: unknown; body: unknown } {
  const query = ownEntries(event.queryStringParameters);
  for (const name of SIGV4_QUERY_PARAMETERS) delete query[name];
  if (!contract.query && Object.keys(query).length > 0) {
    throw new InvalidArgumentError(
      `${route.method} ${route.path} takes no query parameters; got ${Object.keys(query)
        .map((name) => JSON.stringify(name))
        .join(', ')}`,
    );
  }
  return {
    params: validate('path', contract.params, params),
    query: validate('query', contract.query, query),
    body: validate('body', contract.body, readBody(contract, route, event)),
  };
}

/**
 * The request's JSON body, for operations that take one (undefined for the others): at most
 * {@link MAX_REQUEST_BYTES}, sent as `application/json` (415 otherwise), and UTF-8 JSON with an
 * object at the top and no duplicate keys (see `json-body.ts`). A body sent to an operation that
 * takes none is refused rather than ignored.
 */
function readBody(
  contract: OperationContract,
  route: RouteDefinition,
  event: APIGatewayProxyEventV2,
): unknown {
  const raw = event.body ?? '';
  const bytes = event.isBase64Encoded ? Buffer.from(raw, 'base64') : undefined;
  const size = bytes ? bytes.length : Buffer.byteLength(raw, 'utf8');
  if (size > MAX_REQUEST_BYTES) throw new RequestTooLargeError(size, MAX_REQUEST_BYTES);
  if (!contract.body) {
    if (size > 0) throw new InvalidArgumentError(`${route.method} ${route.path} takes no body; send none`);
    return undefined;
  }
  if (size === 0) throw new InvalidArgumentError('This operation needs a JSON body');
  checkContentType(event.headers?.['content-type']);
  return parseJsonBody(bytes ?? raw);
}

/**
 * Refuses, with `UnsupportedMediaTypeError` (415), a body not declared as `application/json`.
 * The media type is case-insensitive and may carry parameters; a charset, if given, must be
 * UTF-8 (the only encoding JSON bodies are read in). API Gateway lower-cases header names.
 */
function checkContentType(contentType: string | undefined): void {
  const value = contentType ?? '';
  const [type = '', ...parameters] = value.split(';');
  if (type.trim().toLowerCase() !== 'application/json') throw new UnsupportedMediaTypeError(value);
  for (const parameter of parameters) {
    const equals = parameter.indexOf('=');
    const name = parameter
      .slice(0, equals < 0 ? parameter.length : equals)
      .trim()
      .toLowerCase();
    if (name !== 'charset') continue;
    const charset = parameter
      .slice(equals + 1)
      .trim()
      .replace(/^"(.*)"$/, '$1')
      .toLowerCase();
    if (charset !== 'utf-8' && charset !== 'utf8') throw new UnsupportedMediaTypeError(value);
  }
}

/**
 * Validates one part of the request. A typed refusal of the schema (INVALID_TOPIC_NAME,
 * INVALID_CONFIG: the codes the SDK answers the same mistakes with) is thrown as it is; any
 * other problem is one `InvalidArgumentError` naming every field at fault.
 */
function validate(where: string, schema: z.ZodType | undefined, value: unknown): unknown {
  if (!schema) return undefined;
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  for (const issue of parsed.error.issues) {
    const refusal = refusalOf(issue);
    if (refusal) throw refusal;
  }
  const issues = parsed.error.issues;
  const problems = issues.slice(0, MAX_LISTED_PROBLEMS).map((issue) => {
    const at = issue.path.reduce<string>(
      (path, part) => (typeof part === 'number' ? `${path}[${part}]` : `${path}.${String(part)}`),
      where,
    );
    return `${at}: ${issue.message}`;
  });
  const more =
    issues.length > MAX_LISTED_PROBLEMS ? ` (and ${issues.length - MAX_LISTED_PROBLEMS} more)` : '';
  throw new InvalidArgumentError(`Invalid request: ${problems.join('; ')}${more}`);
}

function asTributaryError(error: unknown, requestId: string | undefined): TributaryError {
  if (error instanceof TributaryError) return error;
  return new InternalError('The request failed unexpectedly', requestId, { retriable: false });
}

function countOf(result: unknown, field: string): number {
  const list = (result as Record<string, unknown> | undefined)?.[field];
  return Array.isArray(list) ? list.length : 0;
}

/** Problems listed in one refusal: a body of 10,000 bad records is not answered with 10,000. */
const MAX_LISTED_PROBLEMS = 20;

/** Largest error response sent as is; a larger one has its strings clipped. */
const MAX_ERROR_BYTES = 16 * 1024;
/** Characters kept of each string of a clipped error response. */
const CLIPPED_CHARS = 1024;

/**
 * An error response. Messages and details echo what the caller sent (a name, a config key), and a
 * caller can send megabytes of it: a response past Lambda's 6 MB limit would fail the invocation
 * (a 5xx from API Gateway), so a large one keeps only the start of each string.
 */
function errorJson(statusCode: number, body: ErrorBody): APIGatewayProxyStructuredResultV2 {
  const response = json(statusCode, body);
  if ((response.body?.length ?? 0) <= MAX_ERROR_BYTES) return response;
  const clip = (value: unknown): unknown =>
    typeof value === 'string' && value.length > CLIPPED_CHARS ? `${value.slice(0, CLIPPED_CHARS)}…` : value;
  const { details, ...error } = body.error;
  return json(statusCode, {
    error: {
      ...error,
      message: clip(error.message) as string,
      ...(details
        ? {
            details: Object.fromEntries(Object.entries(details).map(([key, value]) => [key, clip(value)])),
          }
        : {}),
    },
  });
}

function json(statusCode: number, body: unknown): APIGatewayProxyStructuredResultV2 {
  if (body === undefined) return { statusCode, headers: {} };
  return { statusCode, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) };
}
