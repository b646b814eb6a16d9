/**
 * The API's request pipeline, shared by the Lambda handler and the local stack's server:
 * match the route, check the body size, parse and validate (nothing is written for a bad
 * request), call the operation, and shape the response — errors as
 * `{ error: { code, message, retriable, details } }` with the status of their code.
 */
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import type { z } from 'zod';
import { CONTRACT, type OperationContract } from '../../sdk/src/api/contract.ts';
import { errorToResponse } from '../../sdk/src/api/error-codec.ts';
import { openApiDocument } from '../../sdk/src/api/openapi.ts';
import type { OperationId } from '../../sdk/src/api/routes.ts';
import { MAX_REQUEST_BYTES } from '../../sdk/src/api/schemas.ts';
import { internalsOf, type Tributary } from '../../sdk/src/client.ts';
import {
  InternalError,
  InvalidArgumentError,
  RequestTooLargeError,
  RouteNotFoundError,
  ThrottledError,
  TributaryError,
} from '../../sdk/src/errors.ts';
import { GroupSessions } from '../../sdk/src/groups/group-sessions.ts';
import { TopicRegistry } from '../../sdk/src/topics/registry.ts';
import { directSources } from '../../sdk/src/transport/direct-source.ts';
import { MetricUnit, type Telemetry } from '../telemetry.ts';
import { groupOperations } from './operations/groups.ts';
import { recordOperations } from './operations/records.ts';
import { topicOperations } from './operations/topics.ts';
import type { ApiDeps, Operation, OperationInput } from './operations/types.ts';
import { matchRoute, routeByKey } from './router.ts';

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
};

/** Time kept back from a long-poll to answer before the function times out. */
const RESPONSE_MARGIN_MS = 2_000;

/** Builds the API over a direct-transport client. */
export function createApiHandler(tributary: Tributary, telemetry: Telemetry): ApiHandler {
  const { ctx, topics } = internalsOf(tributary);
  const registry = new TopicRegistry(ctx);
  const base = {
    admin: tributary.admin(),
    // Each request's records are sent at once; batching across requests would add latency.
    producer: tributary.producer({ lingerMs: 0 }),
    sessions: new GroupSessions(ctx, topics),
    sources: directSources(ctx, topics),
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
    const matched = routeByKey(event.routeKey);
    const match = matched ? { route: matched, params: event.pathParameters ?? {} } : matchRoute(method, path);
    const operationId = match?.route.operationId ?? 'unknown';
    return tracer.startActiveSpan(`tributary.${operationId}`, async (span) => {
      span.setAttribute('http.request.method', method);
      span.setAttribute('url.path', path);
      let status = 500;
      let recordsIn = 0;
      let recordsOut = 0;
      let responseBytes = 0;
      try {
        if (!match) throw new RouteNotFoundError(method, path);
        const contract: OperationContract = CONTRACT[match.route.operationId];
        const input = parseInput(contract, match.params, event);
        const remaining = context?.getRemainingTimeInMillis?.();
        const signal =
          remaining === undefined
            ? undefined
            : AbortSignal.timeout(Math.max(0, remaining - RESPONSE_MARGIN_MS));
        const deps: ApiDeps = signal ? { ...base, signal } : base;
        const operation = OPERATIONS[match.route.operationId] as Operation<OperationId>;
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
        return json(status, response.body);
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

function parseInput(
  contract: OperationContract,
  params: Readonly<Record<string, string | undefined>>,
  event: APIGatewayProxyEventV2,
): { params: unknown; query: unknown; body: unknown } {
  const rawBody = event.body ?? '';
  const bodyBytes = event.isBase64Encoded ? Buffer.from(rawBody, 'base64') : Buffer.from(rawBody, 'utf8');
  if (bodyBytes.length > MAX_REQUEST_BYTES)
    throw new RequestTooLargeError(bodyBytes.length, MAX_REQUEST_BYTES);
  let body: unknown;
  if (contract.body) {
    if (bodyBytes.length === 0) throw new InvalidArgumentError('This operation needs a JSON body');
    try {
      body = JSON.parse(bodyBytes.toString('utf8'));
    } catch (error) {
      throw new InvalidArgumentError(`The request body is not valid JSON: ${(error as Error).message}`);
    }
  }
  return {
    params: validate('path', contract.params, params),
    query: validate('query', contract.query, event.queryStringParameters ?? {}),
    body: validate('body', contract.body, body),
  };
}

function validate(where: string, schema: z.ZodType | undefined, value: unknown): unknown {
  if (!schema) return undefined;
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((issue) => {
    const at = issue.path.reduce<string>(
      (path, part) => (typeof part === 'number' ? `${path}[${part}]` : `${path}.${String(part)}`),
      where,
    );
    return `${at}: ${issue.message}`;
  });
  throw new InvalidArgumentError(`Invalid request: ${problems.join('; ')}`);
}

function asTributaryError(error: unknown, requestId: string | undefined): TributaryError {
  if (error instanceof TributaryError) return error;
  return new InternalError('The request failed unexpectedly', requestId, { retriable: false });
}

function countOf(result: unknown, field: string): number {
  const list = (result as Record<string, unknown> | undefined)?.[field];
  return Array.isArray(list) ? list.length : 0;
}

function json(statusCode: number, body: unknown): APIGatewayProxyStructuredResultV2 {
  if (body === undefined) return { statusCode, headers: {} };
  return { statusCode, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) };
}
