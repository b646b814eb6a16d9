/**
 * The local stack's Lambda Invoke API, through the real `@aws-sdk/client-lambda` pointed at the
 * edge endpoint: results, function errors, timeouts that really stop a handler, concurrency
 * throttling, Event invocations with Lambda's retries, Lambda's error shapes parsed into the
 * SDK's own exception classes, warm module state, and registering functions at runtime.
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  InvalidRequestContentException,
  InvocationType,
  InvokeCommand,
  type InvokeCommandInput,
  type InvokeCommandOutput,
  LambdaClient,
  LogType,
  RequestTooLargeException,
  ResourceNotFoundException,
  TooManyRequestsException,
} from '@aws-sdk/client-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEdgeProxy } from '../../../local/edge-proxy.ts';
import { freePorts } from '../../../local/free-port.ts';
import { type LocalStack, startLocalStack } from '../../../local/index.ts';
import { InvalidArgumentError } from '../../../sdk/src/errors.ts';
import { until } from '../../helpers/wait.ts';

const handlers = (file: string) => new URL(`./handlers/${file}`, import.meta.url);

let stack: LocalStack;
let lambda: LambdaClient;
let scratch: string;
const logLines: string[] = [];

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'tributary-lambda-'));
  stack = await startLocalStack({
    edgePort: 0,
    log: (line) => logLines.push(line),
    functions: [
      { name: 'context', module: handlers('context.ts'), timeoutMs: 5_000, environment: { GREETING: 'hi' } },
      { name: 'version', module: `${handlers('context.ts').pathname}#version` },
      { name: 'failing', module: handlers('failing.ts') },
      { name: 'oversized', module: handlers('failing.ts#oversized') },
      { name: 'not-a-function', module: handlers('failing.ts#notAFunction') },
      { name: 'busy', module: handlers('busy.ts'), timeoutMs: 1_000, concurrency: 1 },
      { name: 'gated', module: handlers('gated.ts'), timeoutMs: 30_000, concurrency: 1 },
      { name: 'attempts', module: handlers('attempts.ts') },
      { name: 'callback', module: handlers('callback.js') },
      { name: 'callback-failing', module: handlers('callback.js#failing') },
    ],
  });
  lambda = new LambdaClient({
    endpoint: stack.endpoint,
    region: stack.region,
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    // Throttles must reach the test, not be retried by the SDK.
    maxAttempts: 1,
  });
});

afterAll(async () => {
  lambda?.destroy();
  await stack?.stop();
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

function invoke(FunctionName: string, payload?: unknown, extra: Partial<InvokeCommandInput> = {}) {
  return lambda.send(
    new InvokeCommand({
      FunctionName,
      ...(payload === undefined ? {} : { Payload: JSON.stringify(payload) }),
      ...extra,
    }),
  );
}

function payloadOf(output: InvokeCommandOutput): unknown {
  return JSON.parse(new TextDecoder().decode(output.Payload));
}

async function failureOf(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => {
      throw new Error('expected the call to fail');
    },
    (error: unknown) => error,
  );
}

async function scratchDir(label: string): Promise<string> {
  return mkdtemp(join(scratch, `${label}-`));
}

/** The attempts `handlers/attempts.ts` recorded in `dir`. */
function attemptsIn(dir: string): string[] {
  return readdirSync(dir)
    .filter((name) => name.startsWith('attempt-'))
    .sort();
}

describe('RequestResponse', () => {
  it('answers with the result of a TypeScript handler, given a real Lambda context', async () => {
    const output = await invoke('context', { message: 'hello' });
    expect(output.StatusCode).toBe(200);
    expect(output.FunctionError).toBeUndefined();
    expect(output.ExecutedVersion).toBe('$LATEST');
    const result = payloadOf(output) as {
      event: unknown;
      context: Record<string, unknown> & { remainingTimeInMillis: number };
      environment: Record<string, string>;
    };
    expect(result.event).toEqual({ message: 'hello' });
    expect(result.context).toMatchObject({
      awsRequestId: output.$metadata.requestId,
      functionName: 'context',
      functionVersion: '$LATEST',
      invokedFunctionArn: 'arn:aws:lambda:us-east-1:000000000000:function:context',
      memoryLimitInMB: '128',
      logGroupName: '/aws/lambda/context',
      callbackWaitsForEmptyEventLoop: true,
    });
    expect(result.context.logStreamName).toMatch(/^\d{4}\/\d{2}\/\d{2}\/\[\$LATEST\][0-9a-f]{32}$/);
    expect(result.context.remainingTimeInMillis).toBeGreaterThan(0);
    expect(result.context.remainingTimeInMillis).toBeLessThanOrEqual(5_000);
    expect(result.environment).toEqual({
      AWS_LAMBDA_FUNCTION_NAME: 'context',
      AWS_REGION: 'us-east-1',
      AWS_ENDPOINT_URL: stack.endpoint,
      GREETING: 'hi',
    });
  });

  it('passes the decoded X-Amz-Client-Context as context.clientContext', async () => {
    const clientContext = { custom: { tenant: 'acme' }, env: {} };
    const output = await invoke(
      'context',
      {},
      { ClientContext: Buffer.from(JSON.stringify(clientContext)).toString('base64') },
    );
    expect((payloadOf(output) as { context: { clientContext: unknown } }).context.clientContext).toEqual(
      clientContext,
    );
  });

  it('keeps module state between invocations of one warm worker', async () => {
    const first = payloadOf(await invoke('context', {})) as { invocations: number; threadId: number };
    const second = payloadOf(await invoke('context', {})) as { invocations: number; threadId: number };
    expect(second.threadId).toBe(first.threadId);
    expect(second.invocations).toBe(first.invocations + 1);
  });

  it('runs the export named after # in the module', async () => {
    expect(payloadOf(await invoke('version'))).toBe('context-v1');
  });

  it.each([
    ['name:$LATEST', 'context:$LATEST', 'arn:aws:lambda:us-east-1:000000000000:function:context:$LATEST'],
    [
      'a function ARN',
      'arn:aws:lambda:us-east-1:000000000000:function:context',
      'arn:aws:lambda:us-east-1:000000000000:function:context',
    ],
    [
      'a qualified function ARN',
      'arn:aws:lambda:us-east-1:000000000000:function:context:$LATEST',
      'arn:aws:lambda:us-east-1:000000000000:function:context:$LATEST',
    ],
    [
      'a partial ARN',
      '000000000000:function:context',
      'arn:aws:lambda:us-east-1:000000000000:function:context',
    ],
  ])('accepts %s as FunctionName', async (_form, FunctionName, invokedFunctionArn) => {
    const result = payloadOf(await invoke(FunctionName, {})) as { context: { invokedFunctionArn: string } };
    expect(result.context.invokedFunctionArn).toBe(invokedFunctionArn);
  });

  it('reports a thrown error as Lambda does: FunctionError Unhandled and the error payload', async () => {
    const output = await invoke('failing', {});
    expect(output.StatusCode).toBe(200);
    expect(output.FunctionError).toBe('Unhandled');
    const error = payloadOf(output) as { errorType: string; errorMessage: string; trace: string[] };
    expect(error.errorType).toBe('RangeError');
    expect(error.errorMessage).toBe('card declined');
    expect(error.trace[0]).toBe('RangeError: card declined');
    expect(error.trace.some((line) => line.includes('failing.ts'))).toBe(true);
  });

  it('runs callback-style handlers, answering once the event loop is empty by default', async () => {
    const file = join(await scratchDir('callback'), 'timer');
    const output = await invoke('callback', { file });
    expect(output.FunctionError).toBeUndefined();
    expect(payloadOf(output)).toEqual({ via: 'callback', waits: true });
    expect(readFileSync(file, 'utf8')).toBe('timer ran');

    const failed = await invoke('callback-failing', {});
    expect(failed.FunctionError).toBe('Unhandled');
    expect(payloadOf(failed)).toMatchObject({ errorType: 'TypeError', errorMessage: 'bad input' });
  });

  it('reports a missing handler export as Runtime.HandlerNotFound', async () => {
    const output = await invoke('not-a-function', {});
    expect(output.FunctionError).toBe('Unhandled');
    expect(payloadOf(output)).toMatchObject({
      errorType: 'Runtime.HandlerNotFound',
      errorMessage: 'failing.notAFunction is not a function',
    });
  });

  it('returns the tail of the log with LogType Tail', async () => {
    const output = await invoke('context', { message: 'for the tail' }, { LogType: LogType.Tail });
    const requestId = output.$metadata.requestId;
    const log = Buffer.from(output.LogResult ?? '', 'base64').toString('utf8');
    expect(log).toContain(`START RequestId: ${requestId} Version: $LATEST`);
    expect(log).toMatch(new RegExp(`\\t${requestId}\\tINFO\\techoing for the tail`));
    expect(log).toContain(`END RequestId: ${requestId}`);
    expect(log).toContain(`REPORT RequestId: ${requestId}\tDuration: `);
    expect((await invoke('context', {})).LogResult).toBeUndefined();
  });
});

describe('timeouts', () => {
  it('stops a handler that never yields, and the next invocation runs in a new worker', async () => {
    const before = payloadOf(await invoke('busy', {})) as { threadId: number };
    const heartbeat = join(await scratchDir('busy'), 'heartbeat');

    const output = await invoke('busy', { heartbeat });
    expect(output.StatusCode).toBe(200);
    expect(output.FunctionError).toBe('Unhandled');
    expect(payloadOf(output)).toEqual({
      errorType: 'Sandbox.Timedout',
      errorMessage: `RequestId: ${output.$metadata.requestId} Error: Task timed out after 1.00 seconds`,
    });

    const beatsAtTimeout = readFileSync(heartbeat, 'utf8');
    expect(Number(beatsAtTimeout)).toBeGreaterThan(0);
    const after = await invoke('busy', {});
    expect(after.FunctionError).toBeUndefined();
    expect((payloadOf(after) as { threadId: number }).threadId).not.toBe(before.threadId);
    // The loop wrote on every turn; a thread still alive would have moved the count on by now.
    expect(readFileSync(heartbeat, 'utf8')).toBe(beatsAtTimeout);
  });
});

describe('concurrency', () => {
  it('throttles a synchronous invocation over the limit with TooManyRequestsException, and queues an Event one', async () => {
    const held = await scratchDir('held');
    const queued = await scratchDir('queued');
    writeFileSync(join(queued, 'release'), '');

    const first = invoke('gated', { dir: held });
    await until(() => existsSync(join(held, 'started')), { message: 'the first invocation to start' });

    const throttle = await failureOf(invoke('gated', { dir: queued }));
    expect(throttle).toBeInstanceOf(TooManyRequestsException);
    expect(throttle).toMatchObject({
      Reason: 'ReservedFunctionConcurrentInvocationLimitExceeded',
      Type: 'User',
      $metadata: { httpStatusCode: 429 },
    });

    const event = await invoke('gated', { dir: queued }, { InvocationType: InvocationType.Event });
    expect(event.StatusCode).toBe(202);
    expect(existsSync(join(queued, 'started'))).toBe(false);

    writeFileSync(join(held, 'release'), '');
    expect(payloadOf(await first)).toBe('released');
    await until(() => existsSync(join(queued, 'started')), { message: 'the queued Event invocation to run' });
  });
});

describe('Event invocations', () => {
  it('answer 202 and run in the background', async () => {
    const dir = await scratchDir('event');
    const output = await invoke('attempts', { dir, failures: 0 }, { InvocationType: InvocationType.Event });
    expect(output.StatusCode).toBe(202);
    expect(output.Payload?.length ?? 0).toBe(0);
    await until(() => existsSync(join(dir, 'done')), { message: 'the Event invocation to run' });
    expect(attemptsIn(dir)).toEqual(['attempt-1']);
    expect(readFileSync(join(dir, 'done'), 'utf8')).toBe(output.$metadata.requestId);
  });

  it('are retried twice after a function error, with the same request id, then dropped', async () => {
    const recovering = await scratchDir('recovering');
    const hopeless = await scratchDir('hopeless');
    const [recovered, dropped] = await Promise.all([
      invoke('attempts', { dir: recovering, failures: 2 }, { InvocationType: InvocationType.Event }),
      invoke('attempts', { dir: hopeless, failures: 5 }, { InvocationType: InvocationType.Event }),
    ]);

    await until(() => existsSync(join(recovering, 'done')), { message: 'the third attempt to succeed' });
    expect(attemptsIn(recovering)).toEqual(['attempt-1', 'attempt-2', 'attempt-3']);
    for (const attempt of attemptsIn(recovering)) {
      expect(readFileSync(join(recovering, attempt), 'utf8')).toBe(recovered.$metadata.requestId);
    }

    const droppedLine = `[attempts] Event invocation ${dropped.$metadata.requestId} dropped after 3 attempts.`;
    await until(() => logLines.includes(droppedLine), { message: 'the hopeless event to be dropped' });
    expect(attemptsIn(hopeless)).toEqual(['attempt-1', 'attempt-2', 'attempt-3']);
    expect(existsSync(join(hopeless, 'done'))).toBe(false);
  });
});

describe("Lambda's errors, as the SDK's exception classes", () => {
  it('answers an unknown function, qualifier or region with ResourceNotFoundException', async () => {
    for (const [FunctionName, arn] of [
      ['nope', 'arn:aws:lambda:us-east-1:000000000000:function:nope'],
      ['context:live', 'arn:aws:lambda:us-east-1:000000000000:function:context:live'],
      [
        'arn:aws:lambda:eu-west-1:000000000000:function:context',
        'arn:aws:lambda:eu-west-1:000000000000:function:context',
      ],
    ] as const) {
      const error = await failureOf(invoke(FunctionName, {}));
      expect(error).toBeInstanceOf(ResourceNotFoundException);
      expect(error).toMatchObject({
        message: `Function not found: ${arn}`,
        Type: 'User',
        $metadata: { httpStatusCode: 404 },
      });
    }
    const dryRun = await failureOf(invoke('nope', {}, { InvocationType: InvocationType.DryRun }));
    expect(dryRun).toBeInstanceOf(ResourceNotFoundException);
  });

  it('answers DryRun with 204 without running the function', async () => {
    const dir = await scratchDir('dry-run');
    const output = await invoke('attempts', { dir, failures: 0 }, { InvocationType: InvocationType.DryRun });
    expect(output.StatusCode).toBe(204);
    expect(attemptsIn(dir)).toEqual([]);
  });

  it('refuses a payload over 6 MB (1 MB for Event) with RequestTooLargeException', async () => {
    const big = { blob: 'x'.repeat(6_291_556) };
    const sync = await failureOf(invoke('context', big));
    expect(sync).toBeInstanceOf(RequestTooLargeException);
    expect(sync).toMatchObject({ $metadata: { httpStatusCode: 413 } });
    expect((sync as Error).message).toContain('6291556 bytes');

    const asyncPayload = { blob: 'x'.repeat(1_048_576) };
    const event = await failureOf(invoke('context', asyncPayload, { InvocationType: InvocationType.Event }));
    expect(event).toBeInstanceOf(RequestTooLargeException);
    expect((event as Error).message).toContain('1048576 bytes');
  });

  it('answers a result over 6 MB with Function.ResponseSizeTooLarge', async () => {
    const output = await invoke('oversized', {});
    expect(output.StatusCode).toBe(200);
    expect(output.FunctionError).toBe('Unhandled');
    expect(payloadOf(output)).toEqual({
      errorType: 'Function.ResponseSizeTooLarge',
      errorMessage: 'Response payload size exceeded maximum allowed payload size (6291556 bytes).',
    });
  });

  it('refuses a payload that is not JSON with InvalidRequestContentException', async () => {
    const error = await failureOf(
      lambda.send(
        new InvokeCommand({ FunctionName: 'context', Payload: new TextEncoder().encode('{not json') }),
      ),
    );
    expect(error).toBeInstanceOf(InvalidRequestContentException);
    expect(error).toMatchObject({ $metadata: { httpStatusCode: 400 } });
  });
});

describe('registering at runtime', () => {
  function writeModule(path: string, result: string): void {
    writeFileSync(path, `export const handler = async () => ${JSON.stringify(result)};\n`);
  }

  it('adds a function, and replacing it loads the new code in new workers', async () => {
    const module = join(await scratchDir('swap'), 'swap.mjs');
    writeModule(module, 'v1');
    const registered = stack.lambda.register({ name: 'swap', module });
    expect(registered).toMatchObject({
      name: 'swap',
      modulePath: module,
      exportName: 'handler',
      timeoutMs: 3_000,
      concurrency: 10,
    });
    expect(payloadOf(await invoke('swap'))).toBe('v1');

    writeModule(module, 'v2');
    // Still warm on the old module until the function is registered again.
    expect(payloadOf(await invoke('swap'))).toBe('v1');
    stack.lambda.register({ name: 'swap', module, timeoutMs: 10_000 });
    expect(payloadOf(await invoke('swap'))).toBe('v2');
    expect(stack.lambda.functions().find((fn) => fn.name === 'swap')).toMatchObject({ timeoutMs: 10_000 });
  });

  it.each([
    [
      'a missing import',
      "import 'tributary-no-such-package';\nexport const handler = async () => 1;\n",
      'Runtime.ImportModuleError',
    ],
    ['a syntax error', 'export const handler = async () => {\n', 'Runtime.UserCodeSyntaxError'],
    ['a throw at load time', "throw new Error('no config');\n", 'Error'],
  ])(
    'reports a module with %s as Lambda reports a failed init, then tries init again',
    async (_case, source, errorType) => {
      const module = join(await scratchDir('broken'), 'broken.mjs');
      writeFileSync(module, source);
      const name = `broken-${errorType.replaceAll('.', '-')}`;
      stack.lambda.register({ name, module });
      const output = await invoke(name, {});
      expect(output.FunctionError).toBe('Unhandled');
      expect(payloadOf(output)).toMatchObject({ errorType });

      writeModule(module, 'fixed');
      expect(payloadOf(await invoke(name, {}))).toBe('fixed');
    },
  );

  it('reports a handler that exits its process with Runtime.ExitError', async () => {
    const module = join(await scratchDir('exiting'), 'exiting.mjs');
    writeFileSync(module, 'export const handler = async () => process.exit(3);\n');
    stack.lambda.register({ name: 'exiting', module });
    const output = await invoke('exiting', {});
    expect(output.FunctionError).toBe('Unhandled');
    expect(payloadOf(output)).toEqual({
      errorType: 'Runtime.ExitError',
      errorMessage: `RequestId: ${output.$metadata.requestId} Error: Runtime exited with error: exit status 3`,
    });
  });

  it('refuses an invalid definition with InvalidArgumentError naming the field', () => {
    expect(() => stack.lambda.register({ name: 'no spaces', module: handlers('busy.ts') })).toThrow(
      InvalidArgumentError,
    );
    expect(() => stack.lambda.register({ name: 'missing', module: join(scratch, 'missing.ts') })).toThrow(
      /not a file/,
    );
    expect(() =>
      stack.lambda.register({
        name: 'reserved',
        module: handlers('busy.ts'),
        environment: { AWS_REGION: 'x' },
      }),
    ).toThrow(/AWS_REGION/);
    expect(() => stack.lambda.register({ name: 'slow', module: handlers('busy.ts'), timeoutMs: 0 })).toThrow(
      /timeoutMs/,
    );
  });
});

describe('the edge with the Lambda service down', () => {
  it('answers 502 in a shape the Lambda SDK reads, naming the service', async () => {
    const [deadDynamo, deadS3, deadLambda] = (await freePorts('127.0.0.1', 3)) as [number, number, number];
    const edge = await startEdgeProxy({
      host: '127.0.0.1',
      port: 0,
      upstreams: {
        dynamodb: { host: '127.0.0.1', port: deadDynamo },
        s3: { host: '127.0.0.1', port: deadS3 },
        lambda: { host: '127.0.0.1', port: deadLambda },
      },
    });
    const client = new LambdaClient({
      endpoint: edge.endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
      maxAttempts: 1,
    });
    try {
      const error = await failureOf(client.send(new InvokeCommand({ FunctionName: 'billing' })));
      expect(error).toMatchObject({ name: 'BadGateway', $metadata: { httpStatusCode: 502 } });
      expect((error as Error).message).toContain(
        `the local Lambda service at 127.0.0.1:${deadLambda} is not reachable`,
      );
    } finally {
      client.destroy();
      await edge.stop();
    }
  });
});
