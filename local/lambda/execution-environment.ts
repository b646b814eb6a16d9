/**
 * One execution environment of a local function: a worker thread that loads the handler module
 * once and then runs one invocation at a time, keeping module state between them as a warm Lambda
 * environment does. The invocation timeout is enforced from here, outside the handler's thread,
 * so even a handler that never yields is stopped: the worker is terminated and the environment is
 * dead, as Lambda discards a timed out environment. Init (importing the module) has Lambda's 10 s
 * limit; an init failure is the first invocation's result and kills the environment too.
 */
import { randomBytes } from 'node:crypto';
import { dirname } from 'node:path';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { Worker } from 'node:worker_threads';
import { type ErrorPayload, runtimeErrorPayload } from './error-payload.ts';
import type { RegisteredFunction } from './function-definition.ts';
import { LATEST } from './function-name.ts';
import type { InvokeMessage, WorkerInit, WorkerMessage } from './worker-protocol.ts';

/** Lambda's limit on the init phase of an on-demand environment. */
export const INIT_TIMEOUT_MS = 10_000;
/** The memory Lambda gives a function by default; reported, not enforced. */
export const MEMORY_SIZE_MB = 128;
/** Characters kept of one invocation's log: only its last 4 KB are ever returned. */
const KEPT_LOG_CHARS = 16 * 1024;

const WORKER_URL = new URL('./handler-worker.ts', import.meta.url);

/** Where the environment runs and what it gives the handler. */
export interface EnvironmentSettings {
  readonly region: string;
  /** The static key pair the handler's SDK clients find in the environment, as Lambda's role credentials. */
  readonly credentials: { readonly accessKeyId: string; readonly secretAccessKey: string };
  /** Put in `AWS_ENDPOINT_URL`, so the handler's AWS SDK clients reach the local stack. @default unset */
  readonly awsEndpointUrl?: string | undefined;
  /** Receives each line the environment logs (Lambda's START/END/REPORT and the handler's). */
  readonly log: (line: string) => void;
}

/** One invocation as the environment runs it. */
export interface InvocationRequest {
  readonly requestId: string;
  /** JSON text. */
  readonly event: string;
  readonly invokedFunctionArn: string;
  readonly clientContext: unknown;
}

/** What an invocation returned. */
export type InvocationResult =
  | { readonly kind: 'response'; readonly payload: string }
  | { readonly kind: 'error'; readonly error: ErrorPayload };

/** How an invocation ended. */
export type InvocationOutcome = InvocationResult & {
  /** The invocation's log: START, what the handler logged, END and REPORT. */
  readonly log: string;
};

type Waiting = (message: WorkerMessage | { readonly type: 'exit'; readonly code: number }) => void;

/** `2025/01/31/[$LATEST]` and 32 hex digits, as Lambda names a log stream per environment. */
function logStreamName(): string {
  const day = new Date().toISOString().slice(0, 10).replaceAll('-', '/');
  return `${day}/[${LATEST}]${randomBytes(16).toString('hex')}`;
}

/**
 * The parent's Node options for a worker, minus those about the parent's own entry point
 * (`-e`/`-p` and their script, `--input-type`), which a worker refuses to start with: a stack
 * started from `node --input-type=module -e '...'` still runs handlers. The rest (`--import`
 * hooks, `--conditions`, warnings) applies to handlers as it does to the parent.
 */
export function workerExecArgv(execArgv: readonly string[]): string[] {
  const kept: string[] = [];
  for (let i = 0; i < execArgv.length; i++) {
    const arg = execArgv[i] ?? '';
    if (['-e', '--eval', '-p', '--print', '--input-type'].includes(arg)) {
      i++; // and its value
      continue;
    }
    if (/^--(eval|print|input-type)=/.test(arg)) continue;
    kept.push(arg);
  }
  return kept;
}

function seconds(ms: number): string {
  return (ms / 1000).toFixed(2);
}

export class ExecutionEnvironment {
  readonly #fn: RegisteredFunction;
  readonly #settings: EnvironmentSettings;
  readonly #worker: Worker;
  readonly #exited: Promise<void>;
  /** Resolves once init is over: undefined when the handler is ready, else why it is not. */
  readonly #ready: Promise<ErrorPayload | 'timeout' | undefined>;
  #initDurationMs: number | undefined;
  #alive = true;
  #waiting: Waiting | undefined;
  #lines: string[] = [];
  #keptChars = 0;

  constructor(fn: RegisteredFunction, settings: EnvironmentSettings) {
    this.#fn = fn;
    this.#settings = settings;
    const stream = logStreamName();
    const init: WorkerInit = {
      modulePath: fn.modulePath,
      exportName: fn.exportName,
      handler: fn.handler,
      functionName: fn.name,
      memoryLimitInMB: String(MEMORY_SIZE_MB),
      logGroupName: `/aws/lambda/${fn.name}`,
      logStreamName: stream,
    };
    const startedAt = performance.now();
    this.#worker = new Worker(WORKER_URL, {
      workerData: init,
      env: this.#environment(stream),
      name: `lambda:${fn.name}`,
      execArgv: workerExecArgv(process.execArgv),
      stdout: true,
      stderr: true,
    });
    // What the handler writes to process.stdout/stderr directly (not through console) is not
    // part of any invocation's log; it is passed on as it comes.
    this.#forward(this.#worker.stdout);
    this.#forward(this.#worker.stderr);
    this.#worker.on('message', (message: WorkerMessage) => this.#receive(message));
    // An error escaping the worker (it cannot start, or throws outside any listener) ends it;
    // the 'exit' that follows settles whatever waits.
    this.#worker.on('error', (error) =>
      this.#line(`${new Date().toISOString()}\tundefined\tERROR\t${error.stack}`),
    );
    this.#exited = new Promise((resolve) => {
      this.#worker.once('exit', (code) => {
        this.#alive = false;
        this.#settle({ type: 'exit', code });
        resolve();
      });
    });
    this.#ready = this.#next(INIT_TIMEOUT_MS).then((message) => {
      this.#initDurationMs = performance.now() - startedAt;
      if (message === 'timeout') {
        void this.terminate();
        return 'timeout';
      }
      if (message.type === 'ready') return undefined;
      void this.terminate();
      if (message.type === 'init-failed' || message.type === 'fatal') return message.error;
      return runtimeErrorPayload(
        'ExitError',
        `Runtime exited with error: exit status ${this.#exitCode(message)}`,
      );
    });
  }

  /** False once the worker has ended or is being terminated: the environment takes no more invocations. */
  get alive(): boolean {
    return this.#alive;
  }

  /** Resolves once the worker thread has ended. */
  get exited(): Promise<void> {
    return this.#exited;
  }

  /** Runs one invocation (the first one waits for init). Never rejects: failures are outcomes. */
  async invoke(request: InvocationRequest): Promise<InvocationOutcome> {
    const { requestId } = request;
    const coldStart = this.#initDurationMs === undefined;
    const init = await this.#ready;
    this.#lines = [];
    this.#keptChars = 0;
    this.#line(`START RequestId: ${requestId} Version: ${LATEST}`);
    const startedAt = performance.now();
    const report = (status?: string): string => {
      const duration = performance.now() - startedAt;
      const initDuration =
        coldStart && this.#initDurationMs !== undefined
          ? `\tInit Duration: ${this.#initDurationMs.toFixed(2)} ms`
          : '';
      return (
        `REPORT RequestId: ${requestId}\tDuration: ${duration.toFixed(2)} ms\tBilled Duration: ${Math.ceil(duration)} ms\t` +
        `Memory Size: ${MEMORY_SIZE_MB} MB${initDuration}${status === undefined ? '' : `\tStatus: ${status}`}`
      );
    };
    const end = (result: InvocationResult, status?: string): InvocationOutcome => {
      this.#line(`END RequestId: ${requestId}`);
      this.#line(report(status));
      return { ...result, log: this.#lines.join('\n') };
    };
    if (init === 'timeout') {
      this.#line(`INIT_REPORT Init Duration: ${INIT_TIMEOUT_MS.toFixed(2)} ms\tPhase: init\tStatus: timeout`);
      const errorMessage = `RequestId: ${requestId} Error: Task timed out after ${seconds(INIT_TIMEOUT_MS)} seconds`;
      return end({ kind: 'error', error: { errorType: 'Sandbox.Timedout', errorMessage } }, 'timeout');
    }
    if (init !== undefined) {
      this.#line(`${new Date().toISOString()}\tundefined\tERROR\t${JSON.stringify(init)}`);
      return end({ kind: 'error', error: init }, 'error');
    }
    if (!this.#alive) {
      return end({ kind: 'error', error: this.#exitError(requestId, 0) }, 'error');
    }
    const message: InvokeMessage = {
      type: 'invoke',
      requestId,
      event: request.event,
      deadlineMs: Date.now() + this.#fn.timeoutMs,
      invokedFunctionArn: request.invokedFunctionArn,
      clientContext: request.clientContext,
    };
    const answer = this.#next(this.#fn.timeoutMs);
    this.#worker.postMessage(message);
    const reply = await answer;
    if (reply === 'timeout') {
      // Answer only once the thread has really stopped, so its slot is free when the caller knows.
      await this.terminate();
      const errorMessage = `RequestId: ${requestId} Error: Task timed out after ${seconds(this.#fn.timeoutMs)} seconds`;
      this.#line(`${new Date().toISOString()} ${errorMessage}`);
      return end({ kind: 'error', error: { errorType: 'Sandbox.Timedout', errorMessage } }, 'timeout');
    }
    switch (reply.type) {
      case 'response':
        return end({ kind: 'response', payload: reply.payload });
      case 'error':
        this.#line(
          `${new Date().toISOString()}\t${requestId}\tERROR\tInvoke Error \t${JSON.stringify(reply.error)}`,
        );
        return end({ kind: 'error', error: reply.error });
      case 'fatal':
        await this.terminate();
        this.#line(
          `${new Date().toISOString()}\t${requestId}\tERROR\tUncaught Exception \t${JSON.stringify(reply.error)}`,
        );
        return end({ kind: 'error', error: reply.error }, 'error');
      default:
        return end({ kind: 'error', error: this.#exitError(requestId, this.#exitCode(reply)) }, 'error');
    }
  }

  /** Terminates the worker (at once, even mid-invocation); resolves once its thread has ended. Idempotent. */
  terminate(): Promise<void> {
    this.#alive = false;
    void this.#worker.terminate();
    return this.#exited;
  }

  #environment(stream: string): Record<string, string> {
    const fn = this.#fn;
    const { region, credentials, awsEndpointUrl } = this.#settings;
    return {
      // Not Lambda's, but a handler that spawns a tool needs one.
      PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
      LANG: 'en_US.UTF-8',
      ...(awsEndpointUrl === undefined ? {} : { AWS_ENDPOINT_URL: awsEndpointUrl }),
      ...fn.environment,
      // Lambda's own variables last: a function cannot set them (checked at registration).
      _HANDLER: fn.handler,
      AWS_REGION: region,
      AWS_DEFAULT_REGION: region,
      AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs22.x',
      AWS_LAMBDA_FUNCTION_NAME: fn.name,
      AWS_LAMBDA_FUNCTION_VERSION: LATEST,
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(MEMORY_SIZE_MB),
      AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
      AWS_LAMBDA_LOG_GROUP_NAME: `/aws/lambda/${fn.name}`,
      AWS_LAMBDA_LOG_STREAM_NAME: stream,
      AWS_ACCESS_KEY_ID: credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
      LAMBDA_TASK_ROOT: dirname(fn.modulePath),
    };
  }

  #exitCode(message: WorkerMessage | { readonly type: 'exit'; readonly code: number }): number {
    return message.type === 'exit' ? message.code : 0;
  }

  #exitError(requestId: string, code: number): ErrorPayload {
    return {
      errorType: 'Runtime.ExitError',
      errorMessage:
        code === 0
          ? `RequestId: ${requestId} Error: Runtime exited without providing a reason`
          : `RequestId: ${requestId} Error: Runtime exited with error: exit status ${code}`,
    };
  }

  #line(line: string): void {
    this.#lines.push(line);
    this.#keptChars += line.length + 1;
    while (this.#keptChars > KEPT_LOG_CHARS && this.#lines.length > 1) {
      this.#keptChars -= (this.#lines.shift() ?? '').length + 1;
    }
    this.#settings.log(line);
  }

  #forward(stream: Readable): void {
    createInterface({ input: stream, crlfDelay: Number.POSITIVE_INFINITY }).on('line', (line) =>
      this.#settings.log(line),
    );
  }

  #receive(message: WorkerMessage): void {
    if (message.type === 'log') {
      this.#line(message.line);
      return;
    }
    if (message.type === 'fatal' && this.#waiting === undefined) {
      // Outside any invocation (a timer left running after one ended): the runtime process would
      // exit, so the environment goes.
      this.#line(
        `${new Date().toISOString()}\tundefined\tERROR\tUncaught Exception \t${JSON.stringify(message.error)}`,
      );
      void this.terminate();
      return;
    }
    this.#settle(message);
  }

  #settle(message: WorkerMessage | { readonly type: 'exit'; readonly code: number }): void {
    const waiting = this.#waiting;
    this.#waiting = undefined;
    waiting?.(message);
  }

  /** The next reply of the worker (or its exit), or 'timeout' after `timeoutMs`. */
  #next(
    timeoutMs: number,
  ): Promise<WorkerMessage | { readonly type: 'exit'; readonly code: number } | 'timeout'> {
    return new Promise((resolve) => {
      if (!this.#alive) {
        resolve({ type: 'exit', code: 1 });
        return;
      }
      const timer = setTimeout(() => {
        this.#waiting = undefined;
        resolve('timeout');
      }, timeoutMs);
      this.#waiting = (message) => {
        clearTimeout(timer);
        resolve(message);
      };
    });
  }
}
