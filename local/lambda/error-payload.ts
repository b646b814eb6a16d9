/**
 * The payload Lambda's Node.js runtime returns for a failed invocation, built the way the
 * runtime builds it: an error's `name`, `message` and stack lines, or for a thrown non-error its
 * `typeof` and string form. Shared by the worker (handler errors) and the service (timeouts,
 * crashes, oversized responses).
 */
import { types } from 'node:util';

/** The body of an invocation that failed (`X-Amz-Function-Error: Unhandled`). */
export interface ErrorPayload {
  readonly errorType: string;
  readonly errorMessage: string;
  readonly trace?: readonly string[];
}

function looksLikeError(value: unknown): value is { name: string; message: string; stack: string } {
  if (typeof value !== 'object' || value === null) return false;
  const { name, message, stack } = value as Record<string, unknown>;
  return typeof name === 'string' && typeof message === 'string' && typeof stack === 'string';
}

/** What Lambda returns for `value` thrown by (or passed to the callback of) a handler. */
export function errorPayload(value: unknown): ErrorPayload {
  try {
    if (types.isNativeError(value) || looksLikeError(value)) {
      const error = value as Error;
      return {
        errorType: error.name,
        errorMessage: error.message,
        trace: typeof error.stack === 'string' ? error.stack.split('\n') : [],
      };
    }
    return { errorType: typeof value, errorMessage: String(value), trace: [] };
  } catch {
    // A hostile value (a throwing getter or toString): say so, as the runtime does.
    return {
      errorType: 'handled',
      errorMessage:
        'callback called with Error argument, but there was a problem while retrieving one or more of its message, name, and stack',
    };
  }
}

/** An error the runtime itself reports (`Runtime.ImportModuleError`, `Runtime.HandlerNotFound`, ...). */
export function runtimeErrorPayload(type: string, message: string, cause?: unknown): ErrorPayload {
  const stack = cause instanceof Error && typeof cause.stack === 'string' ? cause.stack : undefined;
  return {
    errorType: `Runtime.${type}`,
    errorMessage: message,
    trace: stack === undefined ? [] : [`Runtime.${type}: ${message}`, ...stack.split('\n').slice(1)],
  };
}
