/**
 * The worker thread of one execution environment: it plays the part of Lambda's Node.js runtime.
 * It imports the handler module once (the init phase), then runs one invocation per `invoke`
 * message, with a real `context` and both programming models: an async handler's promise, or a
 * callback (and `context.succeed/fail/done`). As in the runtime, a callback's result is returned
 * once the event loop is empty unless `context.callbackWaitsForEmptyEventLoop` is set to false,
 * and an invocation whose handler neither settles nor calls back ends when nothing is left to run.
 * `console` writes Lambda's text log lines (`timestamp\trequestId\tLEVEL\tmessage`) to the parent.
 *
 * Loaded by Node itself (not by a bundler), so it and what it imports must run under Node's type
 * stripping.
 */
import { pathToFileURL } from 'node:url';
import { format } from 'node:util';
import { parentPort, workerData } from 'node:worker_threads';
import { errorPayload, runtimeErrorPayload } from './error-payload.ts';
import type { InvokeMessage, WorkerInit, WorkerMessage } from './worker-protocol.ts';

type Callback = (error?: unknown, result?: unknown) => void;
type Handler = (event: unknown, context: object, callback: Callback) => unknown;

if (parentPort === null) throw new Error('handler-worker.ts runs only as a worker thread');
const port = parentPort;
const init = workerData as WorkerInit;

function send(message: WorkerMessage): void {
  port.postMessage(message);
}

/** The invocation in progress, for log lines and for errors nothing else catches. */
let current: InvokeMessage | undefined;
/** What to do once the event loop has nothing left but the parent port (see `waitForEmptyLoop`). */
let onEmptyLoop: (() => void) | undefined;

const LEVELS = { log: 'INFO', info: 'INFO', warn: 'WARN', error: 'ERROR', debug: 'DEBUG', trace: 'TRACE' };
for (const [method, level] of Object.entries(LEVELS)) {
  const write = (...args: unknown[]): void => {
    let message = format(...args);
    if (method === 'trace')
      message = `Trace: ${message}\n${new Error().stack?.split('\n').slice(2).join('\n')}`;
    // Lambda writes `undefined` as the request id of lines logged outside an invocation (at init).
    send({ type: 'log', line: `${new Date().toISOString()}\t${current?.requestId}\t${level}\t${message}` });
  };
  Object.defineProperty(console, method, { value: write, writable: true, configurable: true });
}

/**
 * The parent port normally keeps the thread's event loop alive; unreferenced, the loop empties
 * once the handler's own work is done, and `beforeExit` fires, as it does in Lambda's runtime
 * process. Referencing the port again there keeps the worker alive for the next invocation.
 */
process.on('beforeExit', () => {
  const action = onEmptyLoop;
  onEmptyLoop = undefined;
  port.ref();
  action?.();
});

function waitForEmptyLoop(action: () => void): void {
  onEmptyLoop = action;
  port.unref();
}

process.on('uncaughtException', (error) => {
  send({ type: 'fatal', requestId: current?.requestId, error: errorPayload(error) });
});
process.on('unhandledRejection', (reason) => {
  send({
    type: 'fatal',
    requestId: current?.requestId,
    error: runtimeErrorPayload('UnhandledPromiseRejection', String(reason), reason),
  });
});

function errorCode(error: unknown): unknown {
  return typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : undefined;
}

/** Imports the module and finds the handler; a failure is reported as Lambda's runtime reports it. */
async function load(): Promise<Handler | undefined> {
  let module: unknown;
  try {
    module = await import(pathToFileURL(init.modulePath).href);
  } catch (error) {
    const code = errorCode(error);
    const failure =
      error instanceof SyntaxError || code === 'ERR_UNSUPPORTED_TYPESCRIPT_SYNTAX'
        ? runtimeErrorPayload(
            'UserCodeSyntaxError',
            `${(error as Error).name}: ${(error as Error).message}`,
            error,
          )
        : code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND'
          ? runtimeErrorPayload('ImportModuleError', `Error: ${(error as Error).message}`, error)
          : errorPayload(error);
    send({ type: 'init-failed', error: failure });
    return undefined;
  }
  const handler = init.exportName
    .split('.')
    .reduce<unknown>(
      (value, key) =>
        typeof value === 'object' || typeof value === 'function'
          ? (value as Record<string, unknown> | null)?.[key]
          : undefined,
      module,
    );
  if (handler === undefined || handler === null) {
    send({
      type: 'init-failed',
      error: runtimeErrorPayload('HandlerNotFound', `${init.handler} is undefined or not exported`),
    });
    return undefined;
  }
  if (typeof handler !== 'function') {
    send({
      type: 'init-failed',
      error: runtimeErrorPayload('HandlerNotFound', `${init.handler} is not a function`),
    });
    return undefined;
  }
  return handler as Handler;
}

function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return (
    (typeof value === 'object' || typeof value === 'function') &&
    value !== null &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}

function invoke(handler: Handler, isAsync: boolean, message: InvokeMessage): void {
  current = message;
  const { requestId } = message;
  let finished = false;
  const finish = (outcome: WorkerMessage): void => {
    if (finished) return;
    finished = true;
    current = undefined;
    onEmptyLoop = undefined;
    port.ref();
    send(outcome);
  };
  const succeed = (result: unknown): void => {
    let payload: string;
    try {
      payload = JSON.stringify(result === undefined ? null : result);
    } catch (error) {
      finish({
        type: 'error',
        requestId,
        error: runtimeErrorPayload('JSONStringifyError', 'Unable to stringify response body', error),
      });
      return;
    }
    finish({ type: 'response', requestId, payload });
  };
  const fail = (error: unknown): void => finish({ type: 'error', requestId, error: errorPayload(error) });

  let waitsForEmptyLoop = true;
  let calledBack = false;
  const callback: Callback = (error, result) => {
    if (calledBack) return;
    calledBack = true;
    if (error !== undefined && error !== null) fail(error);
    else if (!waitsForEmptyLoop) succeed(result);
    else waitForEmptyLoop(() => setImmediate(() => succeed(result)));
  };
  const context = {
    awsRequestId: requestId,
    functionName: init.functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: message.invokedFunctionArn,
    memoryLimitInMB: init.memoryLimitInMB,
    logGroupName: init.logGroupName,
    logStreamName: init.logStreamName,
    clientContext: message.clientContext,
    identity: undefined,
    get callbackWaitsForEmptyEventLoop(): boolean {
      return waitsForEmptyLoop;
    },
    set callbackWaitsForEmptyEventLoop(value: boolean) {
      waitsForEmptyLoop = value;
    },
    getRemainingTimeInMillis: (): number => Math.max(0, message.deadlineMs - Date.now()),
    succeed: (result?: unknown): void => succeed(result),
    fail: (error?: unknown): void => fail(error ?? 'handled'),
    done: (error?: unknown, result?: unknown): void =>
      error !== undefined && error !== null ? fail(error) : succeed(result),
  };

  // Neither a settled promise nor a callback, and nothing left to run: the runtime fails an async
  // handler (its promise can never settle now) and returns null for any other.
  waitForEmptyLoop(() =>
    isAsync
      ? finish({
          type: 'error',
          requestId,
          error: runtimeErrorPayload(
            'NodeJsExit',
            "The handler's promise never settled and the event loop has nothing left to run.",
          ),
        })
      : succeed(null),
  );
  try {
    const result = handler(JSON.parse(message.event), context, callback);
    if (isPromiseLike(result)) result.then(succeed, fail);
  } catch (error) {
    fail(error);
  }
}

const handler = await load();
if (handler !== undefined) {
  const isAsync = handler.constructor.name === 'AsyncFunction';
  port.on('message', (message: InvokeMessage) => invoke(handler, isAsync, message));
  send({ type: 'ready' });
}
