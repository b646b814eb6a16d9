import { randomBytes } from 'node:crypto';
/**
 * The API handler's telemetry, as the Lambda function runs it: Powertools metrics in CloudWatch's
 * embedded metric format on stdout (records in/out, bytes, latency, throttles), per operation.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { type Tracer, trace } from '@opentelemetry/api';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { createApiHandler } from '../../../functions/api/app.ts';
import { injectFaults } from '../../helpers/faults.ts';
import { testClient, testDirectTransport, testDynamoDB, uniqueTopic } from '../../helpers/tributary.ts';

function event(
  method: string,
  path: string,
  routeKey: string,
  params: Record<string, string>,
  body?: unknown,
) {
  return {
    version: '2.0',
    routeKey,
    rawPath: path,
    rawQueryString: '',
    // API Gateway lower-cases header names; a JSON body is sent as application/json.
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    pathParameters: params,
    isBase64Encoded: false,
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    requestContext: { http: { method }, requestId: 'r-1' },
  } as unknown as APIGatewayProxyEventV2;
}

/** Runs `fn` and returns the EMF documents written to stdout meanwhile. */
async function emitted(fn: () => Promise<unknown>): Promise<Record<string, unknown>[]> {
  const lines: string[] = [];
  const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    lines.push(String(chunk));
    return true;
  });
  try {
    await fn();
  } finally {
    spy.mockRestore();
  }
  return lines
    .flatMap((l) => l.split('\n'))
    .filter((l) => l.includes('"_aws"'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

describe('API telemetry', () => {
  const ddb = testDynamoDB();
  let throttle = false;
  injectFaults(ddb, ({ command }) => (throttle && command === 'PutItemCommand' ? 'throttle' : undefined));
  const tributary = testClient({ dynamoDBClient: ddb, retry: { deadlineMs: 300, baseDelayMs: 10 } });
  // The handler's transport shares the throttled DynamoDB client (and does not destroy it).
  const transport = testDirectTransport({ dynamoDBClient: ddb, retry: { deadlineMs: 300, baseDelayMs: 10 } });
  afterAll(() => tributary.close());
  const handler = createApiHandler(
    transport,
    {
      logger: new Logger({ serviceName: 'test', logLevel: 'SILENT' }),
      metrics: new Metrics({ namespace: 'TributaryTest', serviceName: 'test' }),
      tracer: trace.getTracer('test'),
    },
    { sessionKey: randomBytes(32) },
  );

  it('publishes records, bytes and latency per operation, and counts throttles', async () => {
    const topic = uniqueTopic('telemetry');
    await tributary.admin().createTopic({ topic });
    const produce = () =>
      handler(
        event(
          'POST',
          `/v1/topics/${topic}/records`,
          'POST /v1/topics/{topic}/records',
          { topic },
          {
            records: [{ value: 'a' }, { value: 'b' }],
          },
        ),
      );
    const [produced] = await emitted(produce);
    expect(produced).toMatchObject({ operation: 'produce', recordsIn: 2, service: 'test' });
    expect(produced!.latency).toEqual(expect.any(Number));
    expect(produced!.requestBytes).toBeGreaterThan(0);
    const [fetched] = await emitted(() =>
      handler({
        ...event(
          'GET',
          `/v1/topics/${topic}/partitions/0/records`,
          'GET /v1/topics/{topic}/partitions/{partition}/records',
          {
            topic,
            partition: '0',
          },
        ),
        queryStringParameters: { offset: '0' },
      }),
    );
    expect(fetched).toMatchObject({ operation: 'fetch', recordsOut: 2 });
    expect(fetched!.responseBytes).toBeGreaterThan(0);

    throttle = true;
    let status = 0;
    const [throttled] = await emitted(async () => {
      status = (await produce()).statusCode ?? 0;
    });
    throttle = false;
    expect(status).toBe(429);
    expect(throttled).toMatchObject({ operation: 'produce', throttles: 1 });
    expect(throttled).not.toHaveProperty('recordsIn');
  });
});

/** A tracer that records the spans it is asked for (the OpenTelemetry API's interfaces, no SDK). */
function recordingTracer() {
  const spans: { name: string; attributes: Record<string, unknown>; ended: boolean }[] = [];
  const tracer = {
    startSpan: () => {
      throw new Error('the handler uses startActiveSpan');
    },
    startActiveSpan: (name: string, fn: (span: unknown) => unknown) => {
      const record = { name, attributes: {} as Record<string, unknown>, ended: false };
      spans.push(record);
      const span = {
        setAttribute: (key: string, value: unknown) => {
          record.attributes[key] = value;
          return span;
        },
        end: () => {
          record.ended = true;
        },
      };
      return fn(span);
    },
  } as unknown as Tracer;
  return { tracer, spans };
}

describe('API traces', () => {
  const tributary = testClient();
  const transport = testDirectTransport();
  afterAll(() => {
    tributary.close();
    transport.close();
  });

  it('opens one span per request, named for the operation, with method, path, status and error code', async () => {
    const { tracer, spans } = recordingTracer();
    const handler = createApiHandler(
      transport,
      {
        logger: new Logger({ serviceName: 'test', logLevel: 'SILENT' }),
        metrics: undefined,
        tracer,
      },
      { sessionKey: randomBytes(32) },
    );
    const topic = uniqueTopic('traces');
    await tributary.admin().createTopic({ topic });
    await handler(event('GET', `/v1/topics/${topic}`, 'GET /v1/topics/{topic}', { topic }));
    await handler(event('GET', '/v1/topics/nope-x', 'GET /v1/topics/{topic}', { topic: 'nope-x' }));
    expect(spans).toEqual([
      {
        name: 'tributary.describeTopic',
        ended: true,
        attributes: {
          'http.request.method': 'GET',
          'url.path': `/v1/topics/${topic}`,
          'http.response.status_code': 200,
        },
      },
      {
        name: 'tributary.describeTopic',
        ended: true,
        attributes: {
          'http.request.method': 'GET',
          'url.path': '/v1/topics/nope-x',
          'http.response.status_code': 404,
          'tributary.error.code': 'TOPIC_NOT_FOUND',
        },
      },
    ]);
  });
});
