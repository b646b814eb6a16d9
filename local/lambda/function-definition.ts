/**
 * What a user registers as a local Lambda function, its defaults (Lambda's own where Lambda has
 * one), its validation, and the `npm start -- --function name=path[#export][:timeoutMs]` syntax.
 */
import { statSync } from 'node:fs';
import { basename, extname, isAbsolute, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { InvalidArgumentError } from '../../sdk/src/index.ts';
import { isValidFunctionName } from './function-name.ts';

/** A handler module to serve as a Lambda function. */
export interface LocalFunction {
  /** The function's name, as callers pass it as `FunctionName` (1 to 64 of `A-Za-z0-9_-`). */
  readonly name: string;
  /**
   * The ES module (`.ts` runs with Node's type stripping, `.js`/`.mjs`) exporting the handler: a
   * path (relative to the current directory) or a `file:` URL, with `#exportName` to use another
   * export than `handler` (`./billing.ts#onInvoice`, `new URL('./billing.ts#onInvoice', import.meta.url)`).
   */
  readonly module: string | URL;
  /**
   * How long one invocation may run (ms), as Lambda's function timeout: when it passes, the
   * worker running the handler is terminated and the invocation fails with `Sandbox.Timedout`.
   * @default 3000 (Lambda's default), at most 900000
   */
  readonly timeoutMs?: number;
  /**
   * How many invocations may run at once; each has a worker of its own. Beyond it, a synchronous
   * invocation is refused with 429 `TooManyRequestsException` (as reserved concurrency does) and
   * an asynchronous one waits for a free worker. Lambda itself has no per-function limit unless
   * reserved concurrency is set; functions share the account's (1,000 by default).
   * @default 10
   */
  readonly concurrency?: number;
  /** Environment variables of the function, on top of those Lambda defines. @default none */
  readonly environment?: Readonly<Record<string, string>>;
}

/** A registered function, its defaults applied. */
export interface RegisteredFunction {
  readonly name: string;
  /** Absolute path of the handler module. */
  readonly modulePath: string;
  /** The export (possibly a dotted path into it) that is the handler. */
  readonly exportName: string;
  readonly timeoutMs: number;
  readonly concurrency: number;
  readonly environment: Readonly<Record<string, string>>;
  /** Lambda's handler setting for this module and export (`billing.handler`), as in `_HANDLER`. */
  readonly handler: string;
}

/** Lambda's default function timeout. */
export const DEFAULT_TIMEOUT_MS = 3_000;
/** Lambda's maximum function timeout (15 minutes). */
export const MAX_TIMEOUT_MS = 900_000;
export const DEFAULT_CONCURRENCY = 10;
/** Beyond this, one local function's workers would only contend for the machine's cores. */
export const MAX_CONCURRENCY = 1_000;
/** Lambda's limit on a function's environment variables, names and values together. */
const MAX_ENVIRONMENT_BYTES = 4 * 1024;
const DEFAULT_EXPORT = 'handler';
const EXPORT_PATH = /^[A-Za-z_$][\w$]*(\.[A-Za-z_$][\w$]*)*$/;

/** Variables Lambda defines itself and refuses in a function's configuration. */
export const RESERVED_ENVIRONMENT_KEYS: ReadonlySet<string> = new Set([
  '_HANDLER',
  '_X_AMZN_TRACE_ID',
  'AWS_ACCESS_KEY',
  'AWS_ACCESS_KEY_ID',
  'AWS_DEFAULT_REGION',
  'AWS_EXECUTION_ENV',
  'AWS_LAMBDA_FUNCTION_MEMORY_SIZE',
  'AWS_LAMBDA_FUNCTION_NAME',
  'AWS_LAMBDA_FUNCTION_VERSION',
  'AWS_LAMBDA_INITIALIZATION_TYPE',
  'AWS_LAMBDA_LOG_GROUP_NAME',
  'AWS_LAMBDA_LOG_STREAM_NAME',
  'AWS_LAMBDA_RUNTIME_API',
  'AWS_REGION',
  'AWS_SECRET_ACCESS_KEY',
  'AWS_SESSION_TOKEN',
  'LAMBDA_RUNTIME_DIR',
  'LAMBDA_TASK_ROOT',
]);

/** `path#export` split; the export defaults to `handler`. */
function splitModule(module: string | URL, cwd: string): { path: string; exportName: string } {
  if (module instanceof URL) {
    if (module.protocol !== 'file:') {
      throw new InvalidArgumentError(`module is ${module.href}; use a file: URL or a path.`);
    }
    const exportName = module.hash === '' ? DEFAULT_EXPORT : decodeURIComponent(module.hash.slice(1));
    const file = new URL(module.href);
    file.hash = '';
    return { path: fileURLToPath(file), exportName };
  }
  const hash = module.lastIndexOf('#');
  const path = hash === -1 ? module : module.slice(0, hash);
  const exportName = hash === -1 ? DEFAULT_EXPORT : module.slice(hash + 1);
  return { path: isAbsolute(path) ? path : resolve(cwd, path), exportName };
}

function checkWholeNumber(field: string, value: number, min: number, max: number, name: string): void {
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new InvalidArgumentError(
      `${field} of function "${name}" is ${value}; use a whole number from ${min} to ${max}.`,
    );
  }
}

/**
 * Validates a definition and applies the defaults; relative module paths resolve against `cwd`.
 * The module must exist; it is imported only when the first invocation starts a worker, as
 * Lambda initializes a function on its first invocation.
 * @throws InvalidArgumentError naming the field, the value and what is allowed.
 */
export function resolveFunction(definition: LocalFunction, cwd: string = process.cwd()): RegisteredFunction {
  const {
    name,
    timeoutMs = DEFAULT_TIMEOUT_MS,
    concurrency = DEFAULT_CONCURRENCY,
    environment = {},
  } = definition;
  if (typeof name !== 'string' || !isValidFunctionName(name)) {
    throw new InvalidArgumentError(
      `Function name is "${String(name)}"; use 1 to 64 letters, digits, hyphens or underscores.`,
    );
  }
  checkWholeNumber('timeoutMs', timeoutMs, 1, MAX_TIMEOUT_MS, name);
  checkWholeNumber('concurrency', concurrency, 1, MAX_CONCURRENCY, name);
  const { path, exportName } = splitModule(definition.module, cwd);
  if (!EXPORT_PATH.test(exportName)) {
    throw new InvalidArgumentError(
      `The export of function "${name}" is "${exportName}"; name an export of the module, e.g. handler.`,
    );
  }
  let isFile = false;
  try {
    isFile = statSync(path).isFile();
  } catch {
    isFile = false;
  }
  if (!isFile) {
    throw new InvalidArgumentError(`The module of function "${name}" is ${path}, which is not a file.`);
  }
  const reserved = Object.keys(environment).filter((key) => RESERVED_ENVIRONMENT_KEYS.has(key));
  if (reserved.length > 0) {
    throw new InvalidArgumentError(
      `The environment of function "${name}" sets ${reserved.join(', ')}, which Lambda reserves; leave them out.`,
    );
  }
  const environmentBytes = Object.entries(environment).reduce(
    (sum, [key, value]) => sum + Buffer.byteLength(key) + Buffer.byteLength(String(value)),
    0,
  );
  if (environmentBytes > MAX_ENVIRONMENT_BYTES) {
    throw new InvalidArgumentError(
      `The environment of function "${name}" takes ${environmentBytes} bytes; Lambda allows ${MAX_ENVIRONMENT_BYTES}.`,
    );
  }
  return {
    name,
    modulePath: path,
    exportName,
    timeoutMs,
    concurrency,
    environment: { ...environment },
    handler: `${basename(path, extname(path))}.${exportName}`,
  };
}

/** How `npm start -- --function` is written. */
export const FUNCTION_FLAG_SYNTAX = 'name=path[#export][:timeoutMs]';

/**
 * Parses `name=path[#export][:timeoutMs]`, e.g. `billing=./handlers/billing.ts#onInvoice:10000`.
 * Only a trailing `:<digits>` is a timeout, so paths with colons elsewhere still work.
 * @throws InvalidArgumentError when the text is not in that form.
 */
export function parseFunctionFlag(text: string): LocalFunction {
  const equals = text.indexOf('=');
  if (equals <= 0 || equals === text.length - 1) {
    throw new InvalidArgumentError(`--function is "${text}"; write it as ${FUNCTION_FLAG_SYNTAX}.`);
  }
  const name = text.slice(0, equals);
  let module = text.slice(equals + 1);
  const timeout = /:(\d+)$/.exec(module);
  let timeoutMs: number | undefined;
  if (timeout) {
    timeoutMs = Number(timeout[1]);
    module = module.slice(0, timeout.index);
  }
  if (module === '' || module.startsWith('#')) {
    throw new InvalidArgumentError(`--function is "${text}"; write it as ${FUNCTION_FLAG_SYNTAX}.`);
  }
  return timeoutMs === undefined ? { name, module } : { name, module, timeoutMs };
}
