/**
 * Fault injection through AWS SDK middleware: the one way tests make DynamoDB (or S3) misbehave.
 * The emulators stay the source of truth; a fault only changes what the client sees (a throttle,
 * a lost response after the write landed, a failure before sending, a stale read).
 */
import { ProvisionedThroughputExceededException } from '@aws-sdk/client-dynamodb';

/** What to do with one request. */
export type FaultAction =
  /** Throw a throttling error without sending. */
  | 'throttle'
  /** Throw a network error without sending (the write did not happen). */
  | 'fail-before-send'
  /** Send the request (it takes effect), then throw a network error: the response is lost. */
  | 'drop-response'
  /**
   * Do not send the request, and answer as if it had succeeded (empty output): a write lost without
   * its writer knowing, as the others see a writer that died between two writes.
   */
  | 'drop-request'
  /** Send, then let the test rewrite the output (e.g. to simulate a stale read). */
  | { readonly rewrite: (output: Record<string, unknown>) => Record<string, unknown> }
  /**
   * Wait this many ms, then send normally; `settled` is told when the request is done (whether it
   * was sent or failed), e.g. to know a delayed write can no longer land.
   */
  | { readonly delayMs: number; readonly settled?: (error: unknown) => void }
  /** Run this first (e.g. wait for the test to do something), then send normally. */
  | { readonly before: () => Promise<void> }
  /** Throw this error without sending. */
  | { readonly error: Error };

/** Decides per request; return undefined to let it through. */
export type FaultRule = (request: {
  readonly command: string;
  readonly input: Record<string, unknown>;
}) => FaultAction | undefined;

/** Anything with an AWS SDK v3 middleware stack. */
interface MiddlewareHost {
  middlewareStack: {
    add: (middleware: never, options: { step: 'initialize'; name: string; override?: boolean }) => void;
    remove: (name: string) => boolean;
  };
}

/** Counts of injected faults by action. */
export interface FaultCounts {
  throttle: number;
  failBeforeSend: number;
  dropResponse: number;
  dropRequest: number;
  rewrite: number;
  delay: number;
  error: number;
}

let nextId = 0;

function networkError(message: string): Error {
  return Object.assign(new Error(message), { name: 'TimeoutError', code: 'ECONNRESET' });
}

/** Installs a fault rule on a client; returns counters and a remover. */
export function injectFaults(
  client: MiddlewareHost,
  rule: FaultRule,
): { counts: FaultCounts; remove: () => void } {
  const name = `tributary-test-faults-${nextId++}`;
  const counts: FaultCounts = {
    throttle: 0,
    failBeforeSend: 0,
    dropResponse: 0,
    dropRequest: 0,
    rewrite: 0,
    delay: 0,
    error: 0,
  };
  type Next = (args: { input: Record<string, unknown> }) => Promise<{ output: Record<string, unknown> }>;
  const middleware =
    (next: Next, context: { commandName?: string }) => async (args: { input: Record<string, unknown> }) => {
      const action = rule({ command: context.commandName ?? '', input: args.input });
      if (action === undefined) return next(args);
      if (action === 'throttle') {
        counts.throttle++;
        throw new ProvisionedThroughputExceededException({
          message: 'Injected throttle',
          $metadata: { httpStatusCode: 400 },
        });
      }
      if (action === 'fail-before-send') {
        counts.failBeforeSend++;
        throw networkError('Injected failure before send');
      }
      if (action === 'drop-response') {
        await next(args);
        counts.dropResponse++;
        throw networkError('Injected lost response');
      }
      if (action === 'drop-request') {
        counts.dropRequest++;
        return { output: { $metadata: { httpStatusCode: 200 } } };
      }
      if ('rewrite' in action) {
        const result = await next(args);
        counts.rewrite++;
        return { ...result, output: action.rewrite(result.output) };
      }
      if ('delayMs' in action) {
        counts.delay++;
        await new Promise((resolve) => setTimeout(resolve, action.delayMs));
        if (!action.settled) return next(args);
        try {
          const result = await next(args);
          action.settled(undefined);
          return result;
        } catch (error) {
          action.settled(error);
          throw error;
        }
      }
      if ('before' in action) {
        counts.delay++;
        await action.before();
        return next(args);
      }
      counts.error++;
      throw action.error;
    };
  client.middlewareStack.add(middleware as never, { step: 'initialize', name });
  return { counts, remove: () => void client.middlewareStack.remove(name) };
}
