/**
 * What an invocation's result means for the batch, exactly per Lambda's Kafka partial batch
 * response contract (`shared/reference/lambda-kafka-esm.md` §3.2):
 * - a function error (the Invoke response's `FunctionError`, including a timeout) fails the whole
 *   batch, with or without `ReportBatchItemFailures`;
 * - without `ReportBatchItemFailures`, anything else is a success, whatever the payload;
 * - with it: an empty payload, `null`, an object without (or with an empty or null)
 *   `batchItemFailures` is a success; reported items give, per partition, the lowest failed
 *   offset; an identifier that is malformed, names a partition not in the event or an offset not
 *   invoked fails the whole batch ("treated as failure and entire batch will be retried").
 *
 * Where the docs are silent: a payload that is not JSON, or JSON that is neither an object nor
 * `null`, fails the whole batch (the function opted into reporting and its report cannot be
 * read; retrying loses nothing). An offset given as a decimal string is accepted, as the ESM's
 * JSON binding (Jackson) coerces it.
 */
import type { KafkaEventRecord, SelfManagedKafkaEvent } from './esm-event.ts';

/** The parts of a Lambda Invoke response that decide the outcome. */
export interface InvokeResponse {
  /** The response's `FunctionError` (`Unhandled` or `Handled`); `undefined` when the function succeeded. */
  readonly functionError: string | undefined;
  /** The response payload (what the function returned, or its error document). */
  readonly payload: Uint8Array | string | undefined;
}

/** What one invocation did to its batch (all partitions of the event). */
export type BatchOutcome =
  | { readonly kind: 'success' }
  | {
      readonly kind: 'function-error';
      /** `Unhandled` or `Handled`, as Lambda reported it. */
      readonly functionError: string;
      /** The function ran out of time (`Sandbox.Timedout` / "Task timed out"); it counts as a function error. */
      readonly timedOut: boolean;
      readonly errorType: string | undefined;
      readonly errorMessage: string | undefined;
    }
  | { readonly kind: 'invalid-response'; readonly reason: string }
  | {
      readonly kind: 'partial';
      /** Per `"<topic>-<partition>"` key, the lowest offset reported as failed. */
      readonly lowestFailedOffsets: ReadonlyMap<string, number>;
      /**
       * Per `"<topic>-<partition>"` key, every offset reported as failed (ascending, once each):
       * the records that go to the destination when the retries run out — the others of the
       * batch were processed, by the function's own account.
       */
      readonly failedOffsets: ReadonlyMap<string, readonly number[]>;
    }
  /** Lambda refused to run the function now (429 `TooManyRequestsException`): never a function error. */
  | { readonly kind: 'throttled' }
  /** The Invoke call failed without running the function (service error, function missing, no permission…). */
  | { readonly kind: 'invoke-error'; readonly errorName: string; readonly retriable: boolean }
  /** Lambda refused the request as too large (413): the batch must be smaller. */
  | { readonly kind: 'payload-too-large' };

/** What the invocation meant for one partition of its batch. */
export type PartitionOutcome =
  | { readonly kind: 'success' }
  | {
      readonly kind: 'partial';
      readonly lowestFailedOffset: number;
      /** Every offset reported as failed, ascending, `lowestFailedOffset` first. */
      readonly failedOffsets: readonly number[];
    }
  | Exclude<BatchOutcome, { readonly kind: 'success' } | { readonly kind: 'partial' }>;

/**
 * Interprets a completed Invoke call for the event that was sent. `reportBatchItemFailures` is
 * whether the trigger has `functionResponseTypes: ['ReportBatchItemFailures']`.
 */
export function interpretResponse(
  response: InvokeResponse,
  event: SelfManagedKafkaEvent,
  reportBatchItemFailures: boolean,
): BatchOutcome {
  if (response.functionError !== undefined) return functionErrorOutcome(response);
  if (!reportBatchItemFailures) return { kind: 'success' };

  const text = payloadText(response.payload);
  if (text.trim() === '') return { kind: 'success' };
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return { kind: 'invalid-response', reason: 'the response is not JSON' };
  }
  if (body === null) return { kind: 'success' };
  if (typeof body !== 'object' || Array.isArray(body)) {
    return { kind: 'invalid-response', reason: 'the response is neither an object nor null' };
  }
  const failures = (body as Record<string, unknown>).batchItemFailures;
  if (failures === undefined || failures === null) return { kind: 'success' };
  if (!Array.isArray(failures)) {
    return { kind: 'invalid-response', reason: 'batchItemFailures is not an array' };
  }
  if (failures.length === 0) return { kind: 'success' };

  const reported = new Map<string, Set<number>>();
  for (const [i, failure] of failures.entries()) {
    const identified = identify(failure, event);
    if (typeof identified === 'string') {
      return { kind: 'invalid-response', reason: `batchItemFailures[${i}]: ${identified}` };
    }
    let offsets = reported.get(identified.partition);
    if (offsets === undefined) {
      offsets = new Set();
      reported.set(identified.partition, offsets);
    }
    offsets.add(identified.offset);
  }
  const failedOffsets = new Map<string, readonly number[]>();
  const lowest = new Map<string, number>();
  for (const [key, offsets] of reported) {
    const sorted = [...offsets].sort((a, b) => a - b);
    failedOffsets.set(key, sorted);
    lowest.set(key, sorted[0]!);
  }
  return { kind: 'partial', lowestFailedOffsets: lowest, failedOffsets };
}

/**
 * Classifies an error thrown by the Invoke call itself (the AWS SDK's exception: its `name` and
 * `$metadata.httpStatusCode`), so a throttle is never mistaken for a function error.
 */
export function classifyInvokeError(error: unknown): BatchOutcome {
  const name = errorName(error);
  const status = httpStatus(error);
  if (status === 429 || THROTTLE_NAMES.has(name)) return { kind: 'throttled' };
  if (status === 413 || name === 'RequestTooLargeException') return { kind: 'payload-too-large' };
  // No HTTP status: the request never got an answer (network, timeout): worth retrying.
  const retriable = status === undefined || status >= 500 || RETRIABLE_NAMES.has(name);
  return { kind: 'invoke-error', errorName: name, retriable };
}

/** The outcome for one partition (`"<topic>-<partition>"` key) of the invoked event. */
export function outcomeForPartition(outcome: BatchOutcome, key: string): PartitionOutcome {
  if (outcome.kind === 'partial') {
    const offset = outcome.lowestFailedOffsets.get(key);
    return offset === undefined
      ? { kind: 'success' }
      : {
          kind: 'partial',
          lowestFailedOffset: offset,
          failedOffsets: outcome.failedOffsets.get(key) ?? [offset],
        };
  }
  return outcome;
}

/** True for outcomes that count as a failed attempt of the batch (a retry is consumed). */
export function countsAsAttempt(outcome: PartitionOutcome): boolean {
  return (
    outcome.kind === 'function-error' || outcome.kind === 'invalid-response' || outcome.kind === 'partial'
  );
}

const THROTTLE_NAMES = new Set(['TooManyRequestsException', 'EC2ThrottledException', 'ThrottlingException']);

/** 4xx errors that clear up by themselves (the function is being updated or is starting up). */
const RETRIABLE_NAMES = new Set(['ResourceConflictException', 'ResourceNotReadyException']);

function functionErrorOutcome(response: InvokeResponse): BatchOutcome {
  let errorType: string | undefined;
  let errorMessage: string | undefined;
  try {
    const body = JSON.parse(payloadText(response.payload)) as unknown;
    if (typeof body === 'object' && body !== null) {
      const record = body as Record<string, unknown>;
      if (typeof record.errorType === 'string') errorType = record.errorType;
      if (typeof record.errorMessage === 'string') errorMessage = record.errorMessage;
    }
  } catch {
    // An error document that is not JSON still is a function error; it just has no details.
  }
  const timedOut = errorType === 'Sandbox.Timedout' || /Task timed out after/.test(errorMessage ?? '');
  return {
    kind: 'function-error',
    functionError: response.functionError!,
    timedOut,
    errorType,
    errorMessage,
  };
}

function payloadText(payload: Uint8Array | string | undefined): string {
  if (payload === undefined) return '';
  if (typeof payload === 'string') return payload;
  return Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength).toString('utf8');
}

/** The failed record a `batchItemFailures` entry names, or why it names none. */
function identify(
  failure: unknown,
  event: SelfManagedKafkaEvent,
): { partition: string; offset: number } | string {
  if (typeof failure !== 'object' || failure === null || Array.isArray(failure)) return 'not an object';
  const identifier = (failure as Record<string, unknown>).itemIdentifier;
  if (typeof identifier !== 'object' || identifier === null || Array.isArray(identifier)) {
    return 'itemIdentifier must be an object { partition: "<topic>-<partition>", offset }';
  }
  const { partition, offset } = identifier as Record<string, unknown>;
  if (typeof partition !== 'string' || !Object.hasOwn(event.records, partition)) {
    return `itemIdentifier.partition ${JSON.stringify(partition)} is not a "<topic>-<partition>" key of the event`;
  }
  const numeric =
    typeof offset === 'number'
      ? offset
      : typeof offset === 'string' && /^\d+$/.test(offset)
        ? Number(offset)
        : NaN;
  const records = event.records[partition] as readonly KafkaEventRecord[];
  if (!Number.isSafeInteger(numeric) || !records.some((record) => record.offset === numeric)) {
    return `itemIdentifier.offset ${JSON.stringify(offset)} is not an offset of ${partition} in the event`;
  }
  return { partition, offset: numeric };
}

function errorName(error: unknown): string {
  if (typeof error === 'object' && error !== null) {
    const name = (error as { name?: unknown }).name;
    if (typeof name === 'string') return name;
  }
  return 'Error';
}

function httpStatus(error: unknown): number | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const metadata = (error as { $metadata?: { httpStatusCode?: unknown } }).$metadata;
  const status = metadata?.httpStatusCode;
  return typeof status === 'number' ? status : undefined;
}
