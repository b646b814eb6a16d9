import { Readable } from 'node:stream';
import {
  InvalidRequestContentException,
  InvokeCommand,
  LambdaClient,
  LambdaServiceException,
  RequestTooLargeException,
  ResourceNotFoundException,
  TooManyRequestsException,
} from '@aws-sdk/client-lambda';
import { describe, expect, it } from 'vitest';
import {
  functionNotFound,
  INVOKE_PATH,
  invalidEnum,
  invocationResponse,
  invocationTypeOf,
  LOG_TAIL_BYTES,
  lambdaError,
  logTail,
  logTypeOf,
  requestTooLarge,
  responseTooLargePayload,
  throttled,
  type WireResponse,
} from '../../../../local/lambda/invoke-wire.ts';

/** A real LambdaClient whose HTTP handler answers with `response` instead of going to the network. */
function clientAnswering(response: WireResponse): LambdaClient {
  return new LambdaClient({
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    maxAttempts: 1,
    requestHandler: {
      handle: async () => ({
        response: {
          statusCode: response.status,
          headers: { ...response.headers },
          body: Readable.from([Buffer.from(response.body)]),
        },
      }),
    },
  });
}

async function sdkErrorFor(response: WireResponse): Promise<unknown> {
  const client = clientAnswering(response);
  try {
    await client.send(new InvokeCommand({ FunctionName: 'f' }));
    throw new Error('expected the SDK to raise an error');
  } catch (error) {
    return error;
  } finally {
    client.destroy();
  }
}

describe('error responses, as @aws-sdk/client-lambda parses them', () => {
  it('ResourceNotFoundException carries Type and the message', async () => {
    const error = await sdkErrorFor(functionNotFound('arn:aws:lambda:us-east-1:000000000000:function:f'));
    expect(error).toBeInstanceOf(ResourceNotFoundException);
    expect(error).toMatchObject({
      Type: 'User',
      message: 'Function not found: arn:aws:lambda:us-east-1:000000000000:function:f',
      $metadata: { httpStatusCode: 404 },
    });
  });

  it('TooManyRequestsException carries the reserved concurrency Reason', async () => {
    const error = await sdkErrorFor(throttled());
    expect(error).toBeInstanceOf(TooManyRequestsException);
    expect(error).toMatchObject({
      Reason: 'ReservedFunctionConcurrentInvocationLimitExceeded',
      Type: 'User',
      message: 'Rate Exceeded.',
      $metadata: { httpStatusCode: 429 },
    });
  });

  it('RequestTooLargeException names the limit', async () => {
    const error = await sdkErrorFor(requestTooLarge(6_291_556));
    expect(error).toBeInstanceOf(RequestTooLargeException);
    expect(error).toMatchObject({
      message: 'Request must be smaller than 6291556 bytes for the Invoke operation',
      $metadata: { httpStatusCode: 413 },
    });
  });

  it('InvalidRequestContentException for a payload that is not JSON', async () => {
    const error = await sdkErrorFor(
      lambdaError('InvalidRequestContentException', 'Could not parse request body into json'),
    );
    expect(error).toBeInstanceOf(InvalidRequestContentException);
  });

  it('unmodeled errors become a LambdaServiceException with that name', async () => {
    const error = await sdkErrorFor(
      invalidEnum('invocationType', 'Later', ['Event', 'RequestResponse', 'DryRun']),
    );
    expect(error).toBeInstanceOf(LambdaServiceException);
    expect(error).toMatchObject({ name: 'ValidationException', $metadata: { httpStatusCode: 400 } });
    expect((error as Error).message).toContain("Value 'Later' at 'invocationType'");
  });

  it('puts the message in the member the model names', () => {
    expect(JSON.parse(functionNotFound('arn').body)).toEqual({
      Type: 'User',
      Message: 'Function not found: arn',
    });
    expect(JSON.parse(throttled().body)).toEqual({
      Type: 'User',
      message: 'Rate Exceeded.',
      Reason: 'ReservedFunctionConcurrentInvocationLimitExceeded',
    });
    expect(throttled().headers['x-amzn-errortype']).toBe('TooManyRequestsException');
    expect(JSON.parse(lambdaError('ServiceException', 'down').body)).toMatchObject({ Type: 'Service' });
  });
});

describe('invocation responses, as @aws-sdk/client-lambda parses them', () => {
  it('a result: StatusCode 200, the payload and ExecutedVersion', async () => {
    const client = clientAnswering(
      invocationResponse({ requestId: 'r-1', payload: '{"ok":true}', failed: false, log: undefined }),
    );
    const output = await client.send(new InvokeCommand({ FunctionName: 'f' }));
    client.destroy();
    expect(output.StatusCode).toBe(200);
    expect(output.ExecutedVersion).toBe('$LATEST');
    expect(output.FunctionError).toBeUndefined();
    expect(output.LogResult).toBeUndefined();
    expect(output.$metadata.requestId).toBe('r-1');
    expect(JSON.parse(new TextDecoder().decode(output.Payload))).toEqual({ ok: true });
  });

  it('a function error: FunctionError Unhandled and the log tail', async () => {
    const client = clientAnswering(
      invocationResponse({
        requestId: 'r-2',
        payload: JSON.stringify(responseTooLargePayload()),
        failed: true,
        log: 'START RequestId: r-2\nEND RequestId: r-2',
      }),
    );
    const output = await client.send(new InvokeCommand({ FunctionName: 'f' }));
    client.destroy();
    expect(output.FunctionError).toBe('Unhandled');
    expect(Buffer.from(output.LogResult ?? '', 'base64').toString()).toBe(
      'START RequestId: r-2\nEND RequestId: r-2',
    );
    expect(JSON.parse(new TextDecoder().decode(output.Payload))).toEqual({
      errorType: 'Function.ResponseSizeTooLarge',
      errorMessage: 'Response payload size exceeded maximum allowed payload size (6291556 bytes).',
    });
  });
});

describe('logTail', () => {
  it('keeps a short log whole', () => {
    expect(Buffer.from(logTail('a\nb'), 'base64').toString()).toBe('a\nb');
  });

  it('keeps the last 4 KB, cut at a character boundary', () => {
    const log = `${'é'.repeat(3_000)}end`; // 2 bytes per é: 6,003 bytes
    const tail = Buffer.from(logTail(log), 'base64');
    expect(tail.length).toBeLessThanOrEqual(LOG_TAIL_BYTES);
    expect(tail.length).toBeGreaterThanOrEqual(LOG_TAIL_BYTES - 1);
    const text = tail.toString('utf8');
    expect(text.endsWith('end')).toBe(true);
    expect(text).not.toContain('\ufffd');
  });
});

describe('request headers', () => {
  it.each([
    [undefined, 'RequestResponse'],
    ['', 'RequestResponse'],
    ['RequestResponse', 'RequestResponse'],
    ['Event', 'Event'],
    ['DryRun', 'DryRun'],
    ['event', undefined],
    ['Later', undefined],
  ])('X-Amz-Invocation-Type %j is %j', (header, type) => {
    expect(invocationTypeOf(header)).toBe(type);
  });

  it.each([
    [undefined, 'None'],
    ['None', 'None'],
    ['Tail', 'Tail'],
    ['tail', undefined],
  ])('X-Amz-Log-Type %j is %j', (header, type) => {
    expect(logTypeOf(header)).toBe(type);
  });

  it('matches the Invoke path and captures the encoded FunctionName', () => {
    expect(INVOKE_PATH.exec('/2015-03-31/functions/billing/invocations')?.[1]).toBe('billing');
    expect(
      INVOKE_PATH.exec(
        '/2015-03-31/functions/arn%3Aaws%3Alambda%3Aus-east-1%3A000000000000%3Afunction%3Ab/invocations',
      )?.[1],
    ).toBe('arn%3Aaws%3Alambda%3Aus-east-1%3A000000000000%3Afunction%3Ab');
    expect(INVOKE_PATH.exec('/2015-03-31/functions/billing')).toBeNull();
    expect(INVOKE_PATH.exec('/2015-03-31/functions/billing/configuration')).toBeNull();
  });
});
