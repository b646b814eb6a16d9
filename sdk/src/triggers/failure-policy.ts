/**
 * The per-partition error-handling state machine of a trigger: Lambda's Kafka ESM contract
 * (`shared/reference/lambda-kafka-esm.md` §3) as one table of rules and one guarded transition
 * function. Pure: the dispatcher passes `now` (and the jitter for backoff) in and carries out the
 * returned actions **in order** (write dead letters before the commit that passes them).
 *
 * A partition's state is its committed position plus the ranges that must be redelivered exactly
 * (a failed batch, or the pieces of a split one). Offsets only leave the partition through a
 * `commit` (they were processed, filtered out, or given up on by an explicit `discard` just
 * before); commits never go backwards.
 *
 * The rules, first match wins (see {@link RULES}):
 *
 * | outcome            | when                                            | decision           |
 * |--------------------|-------------------------------------------------|--------------------|
 * | success            |                                                 | commit             |
 * | partial (at X)     | bisect on and X is past the first invoked record | split-at-failure   |
 * | partial (at X)     | retries exhausted                               | give-up            |
 * | partial (at X)     |                                                 | retry-from-failure |
 * | function-error     | bisect on and more than one record              | bisect             |
 * | function-error     | retries exhausted                               | give-up            |
 * | function-error     |                                                 | retry              |
 * | invalid-response   | retries exhausted                               | give-up            |
 * | invalid-response   |                                                 | retry              |
 * | throttled          |                                                 | back-off           |
 * | invoke-error       |                                                 | back-off           |
 * | payload-too-large  | one record                                      | oversized          |
 * | payload-too-large  |                                                 | halve              |
 *
 * Before each invocation, {@link expireRecords} gives up on the records older than
 * `maximumRecordAgeInSeconds` (`RecordAgeExceeded`).
 *
 * Decisions of the docs, and where they are silent (reference §3, §9):
 * - Retries exclude the first attempt; `-1` is infinite. With infinite retries and no destination
 *   a record that always fails blocks its partition: it is retried forever (the ESM's rule). With a
 *   destination, infinite means 10 (A12).
 * - A timeout is a function error; a throttle or an Invoke call that did not run the function is
 *   never one: it is retried with backoff and consumes no retry (the docs: "if the function is
 *   throttled or the Lambda service returns an error without invoking the function, Lambda retries
 *   until the records expire").
 * - Bisecting "does not count towards the retry quota": the halves start with no attempts.
 * - A partial response commits below the lowest failed offset X and redelivers exactly [X, end)
 *   (A3). Without bisect that counts as a failed attempt (A9). With bisect it is a split at X (A4)
 *   and counts only when X is the first invoked record (otherwise the same batch would be resent
 *   forever without ever counting).
 * - Giving up sends the records still failing to the destination (or drops them when there is
 *   none) and commits past the range: after a function error or an unreadable response the whole
 *   range; after a partial response exactly the records the last response reported. The other
 *   records of [X, end) were redelivered with them and processed, by the function's own account:
 *   writing them as failed would have a destination's reader redo work that succeeded (the docs
 *   are silent; an earlier version sent all of [X, end)).
 * - A partial response's failures must all be records of the invocation (`batch-response.ts`
 *   turns any other report into an invalid response, which fails the whole batch).
 * - Age is checked on a prefix: the leading records older than the limit. Records of a partition
 *   are in append order, so their timestamps only go backwards when producers' clocks disagree;
 *   such a record behind a younger one is delivered.
 */
import { LogInvariantError } from '../errors.ts';
import { backoffDelay, type RetryPolicy } from '../retry.ts';
import type { PartitionOutcome } from './batch-response.ts';
import {
  effectiveMaximumRetryAttempts,
  maximumRecordAgeMs,
  onFailureDestination,
  type TriggerSettings,
} from './trigger-settings.ts';

/** Why records were given up on (the `condition` of Lambda's invocation record). */
export type FailureCondition = 'RetryAttemptsExhausted' | 'RecordAgeExceeded' | 'MaximumPayloadSizeExceeded';

/** A range of offsets `[from, to)` to redeliver exactly as it was. */
export interface Redelivery {
  readonly from: number;
  readonly to: number;
  /** Failed attempts of exactly this range so far (retries consumed). */
  readonly attempts: number;
  /** Invocations that included these records so far (`approximateInvokeCount`). */
  readonly invokeCount: number;
}

/** The state of one (trigger, partition). */
export interface PartitionState {
  /** The committed position: every offset below it is done. */
  readonly position: number;
  /**
   * Ranges to redeliver exactly, in order; contiguous, the first starting at `position`. Empty:
   * read fresh records from `position`.
   */
  readonly pending: readonly Redelivery[];
  /** Consecutive invocations that did not run the function (throttles, invoke errors). */
  readonly stalls: number;
  /** Do not invoke before this time (epoch ms). */
  readonly notBefore: number;
}

/** The records of an invocation for this partition. */
export interface PartitionInvocation {
  /** First offset the batch covers: the state's position. */
  readonly from: number;
  /** The offset after the batch: records read, invoked or filtered out, end before it. */
  readonly to: number;
  /** Offsets of the invoked records, ascending, within `[from, to)`; empty when all were filtered out. */
  readonly offsets: readonly number[];
}

/** A record about to be invoked, as far as the age check needs it. */
export interface RecordAge {
  readonly offset: number;
  /** Epoch ms. */
  readonly timestamp: number;
}

/** Something the dispatcher must do, in the order given. */
export type PolicyAction =
  /** Commit the group's offset for the partition: `offset` is the next offset to deliver. */
  | { readonly type: 'commit'; readonly offset: number }
  /**
   * Give up on these records: write them to the destination, or drop them when there is none.
   * `approximateInvokeCount` is how often they were invoked.
   */
  | {
      readonly type: 'discard';
      readonly condition: FailureCondition;
      readonly offsets: readonly number[];
      readonly to: 'destination' | 'drop';
      readonly approximateInvokeCount: number;
    };

/** The rule that decided a step; see the table in this module's documentation. */
export type Decision =
  | 'commit'
  | 'split-at-failure'
  | 'retry-from-failure'
  | 'bisect'
  | 'retry'
  | 'give-up'
  | 'back-off'
  | 'oversized'
  | 'halve'
  | 'expire'
  | 'none';

/** The result of a step: the next state and what to do. */
export interface Step {
  readonly state: PartitionState;
  readonly decision: Decision;
  readonly actions: readonly PolicyAction[];
}

/** Backoff of retried batches and of stalled invocations (full jitter, in one place). */
export const TRIGGER_RETRY_POLICY: RetryPolicy = {
  baseDelayMs: 500,
  maxDelayMs: 30_000,
  // Unused here: a trigger retries until its retry limit or the record age says otherwise.
  deadlineMs: Number.POSITIVE_INFINITY,
};

/** The state of a partition whose committed offset is `position`. */
export function initialState(position: number): PartitionState {
  return { position, pending: [], stalls: 0, notBefore: 0 };
}

/**
 * What the next invocation must cover: `redeliver` exactly `[from, to)`, or `read` fresh records
 * from `from` (at most a batch, as the batcher decides).
 */
export function nextDelivery(
  state: PartitionState,
):
  | { readonly kind: 'read'; readonly from: number }
  | { readonly kind: 'redeliver'; readonly from: number; readonly to: number } {
  const head = state.pending[0];
  return head === undefined
    ? { kind: 'read', from: state.position }
    : { kind: 'redeliver', from: head.from, to: head.to };
}

/** The full-jitter backoff before retry number `attempt` (1 = the first retry), for `jitter` in [0, 1). */
export function retryDelayMs(attempt: number, jitter: number): number {
  return backoffDelay(Math.max(0, attempt - 1), TRIGGER_RETRY_POLICY, () => jitter);
}

/**
 * True when a record that always fails stops the partition for good: infinite retries, no
 * destination and no age limit (the Kafka ESM's default).
 */
export function blocksOnPoisonRecord(settings: TriggerSettings): boolean {
  return (
    effectiveMaximumRetryAttempts(settings) === Number.POSITIVE_INFINITY &&
    maximumRecordAgeMs(settings) === Number.POSITIVE_INFINITY
  );
}

/**
 * The age check before an invocation: the leading `records` older than
 * `maximumRecordAgeInSeconds` at `now` are given up on (`RecordAgeExceeded`) and committed past.
 * Returns the step and the records still to invoke. `records` are those about to be invoked for
 * {@link nextDelivery} (`to` is the end of what was read).
 */
export function expireRecords(
  state: PartitionState,
  records: readonly RecordAge[],
  to: number,
  settings: TriggerSettings,
  now: number,
): Step & { readonly remaining: readonly RecordAge[] } {
  const maxAge = maximumRecordAgeMs(settings);
  let expired = 0;
  while (expired < records.length && now - records[expired]!.timestamp > maxAge) expired++;
  if (expired === 0) return { state, decision: 'none', actions: [], remaining: records };

  const head = state.pending[0];
  if (head !== undefined && to !== head.to) {
    throw new LogInvariantError(
      `Records to redeliver end at ${to}, but the pending range ends at ${head.to}`,
    );
  }
  const remaining = records.slice(expired);
  // All of them expired: the whole read range is done (filtered records in it included).
  const commitTo = remaining.length === 0 ? to : remaining[0]!.offset;
  const pending =
    head === undefined
      ? []
      : commitTo >= head.to
        ? state.pending.slice(1)
        : [{ ...head, from: commitTo }, ...state.pending.slice(1)];
  return {
    state: { ...state, position: commitTo, pending },
    decision: 'expire',
    actions: [
      discard(
        'RecordAgeExceeded',
        records.slice(0, expired).map((r) => r.offset),
        settings,
        head?.invokeCount ?? 0,
      ),
      { type: 'commit', offset: commitTo },
    ],
    remaining,
  };
}

/** Input of one rule's guard. */
interface RuleInput {
  readonly outcome: PartitionOutcome;
  readonly invocation: PartitionInvocation;
  readonly head: Redelivery;
  readonly settings: TriggerSettings;
}

interface Rule {
  readonly on: PartitionOutcome['kind'];
  readonly when?: (input: RuleInput) => boolean;
  readonly decision: Decision;
}

const exhausted = ({ head, settings }: RuleInput): boolean =>
  head.attempts >= effectiveMaximumRetryAttempts(settings);

/** The state machine's transition table; first matching rule wins. */
export const RULES: readonly Rule[] = [
  { on: 'success', decision: 'commit' },
  {
    on: 'partial',
    when: ({ outcome, invocation, settings }) =>
      settings.bisectBatchOnFunctionError &&
      outcome.kind === 'partial' &&
      outcome.lowestFailedOffset > invocation.offsets[0]!,
    decision: 'split-at-failure',
  },
  { on: 'partial', when: exhausted, decision: 'give-up' },
  { on: 'partial', decision: 'retry-from-failure' },
  {
    on: 'function-error',
    when: ({ invocation, settings }) => settings.bisectBatchOnFunctionError && invocation.offsets.length > 1,
    decision: 'bisect',
  },
  { on: 'function-error', when: exhausted, decision: 'give-up' },
  { on: 'function-error', decision: 'retry' },
  { on: 'invalid-response', when: exhausted, decision: 'give-up' },
  { on: 'invalid-response', decision: 'retry' },
  { on: 'throttled', decision: 'back-off' },
  { on: 'invoke-error', decision: 'back-off' },
  {
    on: 'payload-too-large',
    when: ({ invocation }) => invocation.offsets.length === 1,
    decision: 'oversized',
  },
  { on: 'payload-too-large', decision: 'halve' },
];

/**
 * The transition after an invocation of `invocation` (which must be what {@link nextDelivery}
 * asked for) ended with `outcome` for this partition. `jitter` in [0, 1) drives the backoff.
 * Throws {@link LogInvariantError} when the invocation does not fit the state (a dispatcher bug).
 */
export function afterInvocation(
  state: PartitionState,
  invocation: PartitionInvocation,
  outcome: PartitionOutcome,
  settings: TriggerSettings,
  now: number,
  jitter: number,
): Step {
  checkInvocation(state, invocation, outcome);
  const head: Redelivery = state.pending[0] ?? {
    from: invocation.from,
    to: invocation.to,
    attempts: 0,
    invokeCount: 0,
  };
  const rest = state.pending.slice(1);
  const input: RuleInput = { outcome, invocation, head, settings };
  const rule = RULES.find((r) => r.on === outcome.kind && (r.when === undefined || r.when(input)));
  if (rule === undefined) throw new LogInvariantError(`No trigger failure rule for outcome ${outcome.kind}`);

  const invoked = head.invokeCount + 1;
  const settled = (position: number, pending: readonly Redelivery[]): PartitionState => ({
    position,
    pending,
    stalls: 0,
    notBefore: now,
  });
  const failedAt = outcome.kind === 'partial' ? outcome.lowestFailedOffset : invocation.from;
  const { offsets, to } = invocation;

  switch (rule.decision) {
    case 'commit':
      return { state: settled(to, rest), decision: 'commit', actions: [{ type: 'commit', offset: to }] };

    case 'split-at-failure':
      return {
        state: settled(failedAt, [{ from: failedAt, to, attempts: 0, invokeCount: invoked }, ...rest]),
        decision: 'split-at-failure',
        actions: [{ type: 'commit', offset: failedAt }],
      };

    case 'retry-from-failure': {
      const attempts = head.attempts + 1;
      return {
        state: {
          position: failedAt,
          pending: [{ from: failedAt, to, attempts, invokeCount: invoked }, ...rest],
          stalls: 0,
          notBefore: now + retryDelayMs(attempts, jitter),
        },
        decision: 'retry-from-failure',
        actions: failedAt > invocation.from ? [{ type: 'commit', offset: failedAt }] : [],
      };
    }

    case 'retry': {
      const attempts = head.attempts + 1;
      return {
        state: {
          position: invocation.from,
          pending: [{ from: invocation.from, to, attempts, invokeCount: invoked }, ...rest],
          stalls: 0,
          notBefore: now + retryDelayMs(attempts, jitter),
        },
        decision: 'retry',
        actions: [],
      };
    }

    case 'bisect':
    case 'halve': {
      // Split the invoked records in two; the filtered-out offsets go with their neighbours.
      const middle = offsets[Math.floor(offsets.length / 2)]!;
      const count = rule.decision === 'bisect' ? invoked : head.invokeCount;
      return {
        state: settled(invocation.from, [
          { from: invocation.from, to: middle, attempts: 0, invokeCount: count },
          { from: middle, to, attempts: 0, invokeCount: count },
          ...rest,
        ]),
        decision: rule.decision,
        actions: [],
      };
    }

    case 'give-up':
      return {
        state: settled(to, rest),
        decision: 'give-up',
        actions: [
          discard(
            'RetryAttemptsExhausted',
            outcome.kind === 'partial' ? outcome.failedOffsets : offsets,
            settings,
            invoked,
          ),
          { type: 'commit', offset: to },
        ],
      };

    case 'oversized':
      return {
        state: settled(to, rest),
        decision: 'oversized',
        actions: [
          discard('MaximumPayloadSizeExceeded', offsets, settings, head.invokeCount),
          { type: 'commit', offset: to },
        ],
      };

    case 'back-off': {
      const stalls = state.stalls + 1;
      const retriable = outcome.kind !== 'invoke-error' || outcome.retriable;
      // A function that is missing or forbidden will not come back soon: wait the longest.
      const delay = retriable ? retryDelayMs(stalls, jitter) : TRIGGER_RETRY_POLICY.maxDelayMs;
      return {
        state: { ...state, stalls, notBefore: now + delay },
        decision: 'back-off',
        actions: [],
      };
    }

    default:
      throw new LogInvariantError(`Trigger failure rule ${rule.decision} applies before an invocation only`);
  }
}

function discard(
  condition: FailureCondition,
  offsets: readonly number[],
  settings: TriggerSettings,
  approximateInvokeCount: number,
): PolicyAction {
  return {
    type: 'discard',
    condition,
    offsets,
    to: onFailureDestination(settings) === undefined ? 'drop' : 'destination',
    approximateInvokeCount,
  };
}

function checkInvocation(
  state: PartitionState,
  invocation: PartitionInvocation,
  outcome: PartitionOutcome,
): void {
  const { from, to, offsets } = invocation;
  const fail = (why: string): never => {
    throw new LogInvariantError(`Trigger invocation [${from}, ${to}) does not fit partition state: ${why}`);
  };
  if (from !== state.position) fail(`it must start at the committed position ${state.position}`);
  const head = state.pending[0];
  if (head !== undefined && (head.from !== from || head.to !== to)) {
    fail(`the range [${head.from}, ${head.to}) must be redelivered exactly`);
  }
  if (!(to > from)) fail('it covers no offsets');
  for (let i = 0; i < offsets.length; i++) {
    const offset = offsets[i]!;
    if (offset < from || offset >= to || (i > 0 && offset <= offsets[i - 1]!)) {
      fail('its offsets must be ascending and inside the range');
    }
  }
  if (offsets.length === 0 && outcome.kind !== 'success')
    fail('nothing was invoked, so only success applies');
  if (outcome.kind === 'partial') {
    if (!offsets.includes(outcome.lowestFailedOffset)) {
      fail(`the failed offset ${outcome.lowestFailedOffset} was not invoked`);
    }
    if (outcome.failedOffsets[0] !== outcome.lowestFailedOffset) {
      fail(`the failed offsets must start at the lowest, ${outcome.lowestFailedOffset}`);
    }
    const missing = outcome.failedOffsets.find((offset) => !offsets.includes(offset));
    if (missing !== undefined) fail(`the failed offset ${missing} was not invoked`);
  }
}
