import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LogInvariantError } from '../../../sdk/src/errors.ts';
import type { PartitionOutcome } from '../../../sdk/src/triggers/batch-response.ts';
import {
  afterInvocation,
  blocksOnPoisonRecord,
  expireRecords,
  initialState,
  nextDelivery,
  type PartitionInvocation,
  type PartitionState,
  type PolicyAction,
  RULES,
  retryDelayMs,
  TRIGGER_RETRY_POLICY,
} from '../../../sdk/src/triggers/failure-policy.ts';
import {
  type TriggerConfig,
  type TriggerSettings,
  validateTriggerConfig,
} from '../../../sdk/src/triggers/trigger-settings.ts';
import { testSeed } from '../../helpers/random.ts';

const NOW = 1_800_000_000_000;

function settings(overrides: Partial<TriggerConfig> = {}): TriggerSettings {
  return validateTriggerConfig({
    name: 'orders-projector',
    topic: 'orders',
    functionName: 'projector',
    startingPosition: 'TRIM_HORIZON',
    ...overrides,
  });
}

const withDlq = { destinationConfig: { onFailure: { destination: 'tributary://orders-dlq' } } };

/** A fresh batch [from, to) with every offset invoked. */
function batch(from: number, to: number, offsets?: number[]): PartitionInvocation {
  return { from, to, offsets: offsets ?? Array.from({ length: to - from }, (_, i) => from + i) };
}

const success: PartitionOutcome = { kind: 'success' };
const fnError: PartitionOutcome = {
  kind: 'function-error',
  functionError: 'Unhandled',
  timedOut: false,
  errorType: 'Error',
  errorMessage: 'boom',
};
const timeout: PartitionOutcome = { ...fnError, timedOut: true, errorType: 'Sandbox.Timedout' };
const partialAt = (offset: number, ...more: number[]): PartitionOutcome => ({
  kind: 'partial',
  lowestFailedOffset: offset,
  failedOffsets: [offset, ...more],
});
const throttled: PartitionOutcome = { kind: 'throttled' };

function retrying(from: number, to: number, attempts: number, invokeCount = attempts + 1): PartitionState {
  return { position: from, pending: [{ from, to, attempts, invokeCount }], stalls: 0, notBefore: 0 };
}

describe('afterInvocation: every rule of the table', () => {
  interface Row {
    readonly name: string;
    readonly state: PartitionState;
    readonly invocation: PartitionInvocation;
    readonly outcome: PartitionOutcome;
    readonly settings: TriggerSettings;
    readonly decision: string;
    readonly actions: readonly PolicyAction[];
    readonly next: Pick<PartitionState, 'position' | 'pending'>;
  }
  const rows: Row[] = [
    {
      name: 'success commits past the batch',
      state: initialState(10),
      invocation: batch(10, 15),
      outcome: success,
      settings: settings(),
      decision: 'commit',
      actions: [{ type: 'commit', offset: 15 }],
      next: { position: 15, pending: [] },
    },
    {
      name: 'success of a fully filtered batch commits it (A8)',
      state: initialState(10),
      invocation: batch(10, 15, []),
      outcome: success,
      settings: settings(),
      decision: 'commit',
      actions: [{ type: 'commit', offset: 15 }],
      next: { position: 15, pending: [] },
    },
    {
      name: 'a function error retries the whole batch and counts',
      state: initialState(10),
      invocation: batch(10, 15),
      outcome: fnError,
      settings: settings({ maximumRetryAttempts: 2 }),
      decision: 'retry',
      actions: [],
      next: { position: 10, pending: [{ from: 10, to: 15, attempts: 1, invokeCount: 1 }] },
    },
    {
      name: 'a timeout counts like any function error',
      state: retrying(10, 15, 1),
      invocation: batch(10, 15),
      outcome: timeout,
      settings: settings({ maximumRetryAttempts: 2 }),
      decision: 'retry',
      actions: [],
      next: { position: 10, pending: [{ from: 10, to: 15, attempts: 2, invokeCount: 3 }] },
    },
    {
      name: 'retries exhausted: the batch goes to the destination and is committed past',
      state: retrying(10, 15, 2),
      invocation: batch(10, 15),
      outcome: fnError,
      settings: settings({ maximumRetryAttempts: 2, ...withDlq }),
      decision: 'give-up',
      actions: [
        {
          type: 'discard',
          condition: 'RetryAttemptsExhausted',
          offsets: [10, 11, 12, 13, 14],
          to: 'destination',
          approximateInvokeCount: 4,
        },
        { type: 'commit', offset: 15 },
      ],
      next: { position: 15, pending: [] },
    },
    {
      name: 'no retries and no destination: the batch is dropped at once',
      state: initialState(10),
      invocation: batch(10, 12),
      outcome: fnError,
      settings: settings({ maximumRetryAttempts: 0 }),
      decision: 'give-up',
      actions: [
        {
          type: 'discard',
          condition: 'RetryAttemptsExhausted',
          offsets: [10, 11],
          to: 'drop',
          approximateInvokeCount: 1,
        },
        { type: 'commit', offset: 12 },
      ],
      next: { position: 12, pending: [] },
    },
    {
      name: 'infinite retries and a destination give up after 10 retries (A12)',
      state: retrying(10, 12, 10),
      invocation: batch(10, 12),
      outcome: fnError,
      settings: settings(withDlq),
      decision: 'give-up',
      actions: [
        {
          type: 'discard',
          condition: 'RetryAttemptsExhausted',
          offsets: [10, 11],
          to: 'destination',
          approximateInvokeCount: 12,
        },
        { type: 'commit', offset: 12 },
      ],
      next: { position: 12, pending: [] },
    },
    {
      name: 'infinite retries without a destination block the partition',
      state: retrying(10, 12, 10_000),
      invocation: batch(10, 12),
      outcome: fnError,
      settings: settings(),
      decision: 'retry',
      actions: [],
      next: { position: 10, pending: [{ from: 10, to: 12, attempts: 10_001, invokeCount: 10_002 }] },
    },
    {
      name: 'a function error with bisect splits the invoked records in two, not counted',
      state: retrying(10, 20, 3),
      invocation: batch(10, 20, [10, 12, 13, 17, 19]),
      outcome: fnError,
      settings: settings({ bisectBatchOnFunctionError: true, maximumRetryAttempts: 3 }),
      decision: 'bisect',
      actions: [],
      next: {
        position: 10,
        pending: [
          { from: 10, to: 13, attempts: 0, invokeCount: 5 },
          { from: 13, to: 20, attempts: 0, invokeCount: 5 },
        ],
      },
    },
    {
      name: 'bisect keeps the rest of the split queue behind the new halves',
      state: {
        position: 10,
        pending: [
          { from: 10, to: 12, attempts: 0, invokeCount: 1 },
          { from: 12, to: 14, attempts: 0, invokeCount: 1 },
        ],
        stalls: 0,
        notBefore: 0,
      },
      invocation: batch(10, 12),
      outcome: fnError,
      settings: settings({ bisectBatchOnFunctionError: true }),
      decision: 'bisect',
      actions: [],
      next: {
        position: 10,
        pending: [
          { from: 10, to: 11, attempts: 0, invokeCount: 2 },
          { from: 11, to: 12, attempts: 0, invokeCount: 2 },
          { from: 12, to: 14, attempts: 0, invokeCount: 1 },
        ],
      },
    },
    {
      name: 'a single record with bisect is retried and counts',
      state: initialState(10),
      invocation: batch(10, 11),
      outcome: fnError,
      settings: settings({ bisectBatchOnFunctionError: true, maximumRetryAttempts: 1 }),
      decision: 'retry',
      actions: [],
      next: { position: 10, pending: [{ from: 10, to: 11, attempts: 1, invokeCount: 1 }] },
    },
    {
      name: 'success of a split piece moves on to the next piece',
      state: {
        position: 10,
        pending: [
          { from: 10, to: 12, attempts: 0, invokeCount: 1 },
          { from: 12, to: 14, attempts: 0, invokeCount: 1 },
        ],
        stalls: 0,
        notBefore: 0,
      },
      invocation: batch(10, 12),
      outcome: success,
      settings: settings({ bisectBatchOnFunctionError: true }),
      decision: 'commit',
      actions: [{ type: 'commit', offset: 12 }],
      next: { position: 12, pending: [{ from: 12, to: 14, attempts: 0, invokeCount: 1 }] },
    },
    {
      name: 'a partial response commits below the failure and retries from it, counted (A3, A9)',
      state: initialState(10),
      invocation: batch(10, 15),
      outcome: partialAt(12),
      settings: settings({ functionResponseTypes: ['ReportBatchItemFailures'], maximumRetryAttempts: 5 }),
      decision: 'retry-from-failure',
      actions: [{ type: 'commit', offset: 12 }],
      next: { position: 12, pending: [{ from: 12, to: 15, attempts: 1, invokeCount: 1 }] },
    },
    {
      name: 'a partial response at the first record commits nothing',
      state: retrying(12, 15, 1),
      invocation: batch(12, 15),
      outcome: partialAt(12),
      settings: settings({ functionResponseTypes: ['ReportBatchItemFailures'], maximumRetryAttempts: 5 }),
      decision: 'retry-from-failure',
      actions: [],
      next: { position: 12, pending: [{ from: 12, to: 15, attempts: 2, invokeCount: 3 }] },
    },
    {
      // The contract changed here: it used to give up on all of [13, 15), records the function
      // had just reported as processed included.
      name: 'a partial response with retries exhausted gives up on exactly the reported records',
      state: retrying(10, 15, 2),
      invocation: batch(10, 15),
      outcome: partialAt(11, 13),
      settings: settings({
        functionResponseTypes: ['ReportBatchItemFailures'],
        maximumRetryAttempts: 2,
        ...withDlq,
      }),
      decision: 'give-up',
      actions: [
        {
          type: 'discard',
          condition: 'RetryAttemptsExhausted',
          offsets: [11, 13],
          to: 'destination',
          approximateInvokeCount: 4,
        },
        { type: 'commit', offset: 15 },
      ],
      next: { position: 15, pending: [] },
    },
    {
      name: 'a partial response with bisect splits at the failed offset, not counted (A4)',
      state: retrying(10, 15, 2),
      invocation: batch(10, 15),
      outcome: partialAt(13),
      settings: settings({
        functionResponseTypes: ['ReportBatchItemFailures'],
        bisectBatchOnFunctionError: true,
        maximumRetryAttempts: 2,
      }),
      decision: 'split-at-failure',
      actions: [{ type: 'commit', offset: 13 }],
      next: { position: 13, pending: [{ from: 13, to: 15, attempts: 0, invokeCount: 4 }] },
    },
    {
      name: 'a partial response with bisect at the first invoked record counts (the same batch again)',
      state: retrying(10, 15, 0),
      invocation: batch(10, 15, [12, 14]),
      outcome: partialAt(12),
      settings: settings({
        functionResponseTypes: ['ReportBatchItemFailures'],
        bisectBatchOnFunctionError: true,
        maximumRetryAttempts: 3,
      }),
      decision: 'retry-from-failure',
      actions: [{ type: 'commit', offset: 12 }],
      next: { position: 12, pending: [{ from: 12, to: 15, attempts: 1, invokeCount: 2 }] },
    },
    {
      name: 'an invalid response retries the whole batch (no bisect) and counts',
      state: initialState(10),
      invocation: batch(10, 14),
      outcome: { kind: 'invalid-response', reason: 'bad id' },
      settings: settings({ bisectBatchOnFunctionError: true, maximumRetryAttempts: 1 }),
      decision: 'retry',
      actions: [],
      next: { position: 10, pending: [{ from: 10, to: 14, attempts: 1, invokeCount: 1 }] },
    },
    {
      name: 'an invalid response with retries exhausted gives up',
      state: retrying(10, 14, 1),
      invocation: batch(10, 14),
      outcome: { kind: 'invalid-response', reason: 'bad id' },
      settings: settings({ maximumRetryAttempts: 1 }),
      decision: 'give-up',
      actions: [
        {
          type: 'discard',
          condition: 'RetryAttemptsExhausted',
          offsets: [10, 11, 12, 13],
          to: 'drop',
          approximateInvokeCount: 3,
        },
        { type: 'commit', offset: 14 },
      ],
      next: { position: 14, pending: [] },
    },
    {
      name: 'a throttle backs off and never counts, even with retries exhausted',
      state: retrying(10, 14, 0),
      invocation: batch(10, 14),
      outcome: throttled,
      settings: settings({ maximumRetryAttempts: 0 }),
      decision: 'back-off',
      actions: [],
      next: { position: 10, pending: [{ from: 10, to: 14, attempts: 0, invokeCount: 1 }] },
    },
    {
      name: 'an invoke error backs off and never counts',
      state: initialState(10),
      invocation: batch(10, 14),
      outcome: { kind: 'invoke-error', errorName: 'ServiceException', retriable: true },
      settings: settings({ maximumRetryAttempts: 0 }),
      decision: 'back-off',
      actions: [],
      next: { position: 10, pending: [] },
    },
    {
      name: 'a record alone over the payload limit goes to the destination (A5)',
      state: initialState(10),
      invocation: batch(10, 11),
      outcome: { kind: 'payload-too-large' },
      settings: settings(withDlq),
      decision: 'oversized',
      actions: [
        {
          type: 'discard',
          condition: 'MaximumPayloadSizeExceeded',
          offsets: [10],
          to: 'destination',
          approximateInvokeCount: 0,
        },
        { type: 'commit', offset: 11 },
      ],
      next: { position: 11, pending: [] },
    },
    {
      name: 'a batch Lambda finds too large is halved, not counted, bisect or not',
      state: initialState(10),
      invocation: batch(10, 14),
      outcome: { kind: 'payload-too-large' },
      settings: settings(),
      decision: 'halve',
      actions: [],
      next: {
        position: 10,
        pending: [
          { from: 10, to: 12, attempts: 0, invokeCount: 0 },
          { from: 12, to: 14, attempts: 0, invokeCount: 0 },
        ],
      },
    },
  ];

  it.each(rows)('$name', (row) => {
    const step = afterInvocation(row.state, row.invocation, row.outcome, row.settings, NOW, 0.5);
    expect(step.decision).toBe(row.decision);
    expect(step.actions).toEqual(row.actions);
    expect({ position: step.state.position, pending: step.state.pending }).toEqual(row.next);
  });

  it('has a row for every rule', () => {
    const decided = new Set(rows.map((row) => row.decision));
    for (const rule of RULES) expect(decided).toContain(rule.decision);
  });

  it('delays retries with full-jitter backoff, and split pieces not at all', () => {
    const s = settings({ maximumRetryAttempts: 5, bisectBatchOnFunctionError: false });
    const first = afterInvocation(initialState(0), batch(0, 2), fnError, s, NOW, 0.5);
    expect(first.state.notBefore).toBe(NOW + retryDelayMs(1, 0.5));
    expect(retryDelayMs(1, 0.5)).toBe(TRIGGER_RETRY_POLICY.baseDelayMs / 2);
    expect(retryDelayMs(4, 0.5)).toBe(4 * TRIGGER_RETRY_POLICY.baseDelayMs);
    expect(retryDelayMs(40, 0.999)).toBeLessThan(TRIGGER_RETRY_POLICY.maxDelayMs);
    expect(retryDelayMs(3, 0)).toBe(0);
    const split = afterInvocation(
      initialState(0),
      batch(0, 4),
      fnError,
      settings({ bisectBatchOnFunctionError: true }),
      NOW,
      0.5,
    );
    expect(split.state.notBefore).toBe(NOW);
  });

  it('backs off longer with each stall, and longest for an error that will not clear up', () => {
    const s = settings();
    let state = initialState(0);
    const delays: number[] = [];
    for (let i = 0; i < 4; i++) {
      state = afterInvocation(state, batch(0, 2), throttled, s, NOW, 0.5).state;
      delays.push(state.notBefore - NOW);
    }
    expect(delays).toEqual([250, 500, 1000, 2000]);
    const missing = afterInvocation(
      initialState(0),
      batch(0, 2),
      { kind: 'invoke-error', errorName: 'ResourceNotFoundException', retriable: false },
      s,
      NOW,
      0.5,
    );
    expect(missing.state.notBefore).toBe(NOW + TRIGGER_RETRY_POLICY.maxDelayMs);
    // A run of the function resets the stall count.
    expect(afterInvocation(state, batch(0, 2), success, s, NOW, 0.5).state.stalls).toBe(0);
  });

  it.each<[string, PartitionState, PartitionInvocation, PartitionOutcome]>([
    ['an invocation not at the position', initialState(5), batch(6, 8), success],
    ['a pending range not redelivered exactly', retrying(5, 8, 1), batch(5, 9), success],
    ['offsets outside the range', initialState(5), batch(5, 8, [5, 9]), success],
    ['offsets out of order', initialState(5), batch(5, 8, [6, 5]), success],
    ['an empty range', initialState(5), batch(5, 5), success],
    ['a failure with nothing invoked', initialState(5), batch(5, 8, []), fnError],
    ['a partial failure at an offset not invoked', initialState(5), batch(5, 8, [5, 7]), partialAt(6)],
    ['a later partial failure not invoked', initialState(5), batch(5, 8, [5, 7]), partialAt(5, 6)],
  ])('refuses %s (a dispatcher bug)', (_, state, invocation, outcome) => {
    expect(() => afterInvocation(state, invocation, outcome, settings(), NOW, 0)).toThrow(LogInvariantError);
  });
});

describe('expireRecords', () => {
  const aged = settings({ maximumRecordAgeInSeconds: 60, ...withDlq });
  const at = (offset: number, ageMs: number) => ({ offset, timestamp: NOW - ageMs });

  it('gives up on the leading records over the age limit, before invoking the rest', () => {
    const step = expireRecords(
      initialState(10),
      [at(10, 61_000), at(12, 60_001), at(13, 60_000), at(14, 90_000)],
      15,
      aged,
      NOW,
    );
    expect(step.decision).toBe('expire');
    expect(step.actions).toEqual([
      {
        type: 'discard',
        condition: 'RecordAgeExceeded',
        offsets: [10, 12],
        to: 'destination',
        approximateInvokeCount: 0,
      },
      { type: 'commit', offset: 13 },
    ]);
    expect(step.remaining.map((r) => r.offset)).toEqual([13, 14]);
    expect(step.state.position).toBe(13);
    expect(nextDelivery(step.state)).toEqual({ kind: 'read', from: 13 });
  });

  it('shrinks a pending retry and keeps its attempts and invocations', () => {
    const step = expireRecords(retrying(10, 15, 3, 4), [at(10, 70_000), at(11, 1_000)], 15, aged, NOW);
    expect(step.actions[0]).toMatchObject({ offsets: [10], approximateInvokeCount: 4 });
    expect(step.state.pending).toEqual([{ from: 11, to: 15, attempts: 3, invokeCount: 4 }]);
  });

  it('commits the whole range when every record expired', () => {
    const step = expireRecords(retrying(10, 15, 1), [at(10, 70_000), at(14, 70_000)], 15, aged, NOW);
    expect(step.remaining).toEqual([]);
    expect(step.state).toMatchObject({ position: 15, pending: [] });
    expect(step.actions[1]).toEqual({ type: 'commit', offset: 15 });
  });

  it('does nothing without an age limit or with young records', () => {
    const records = [at(10, 10_000_000_000)];
    expect(expireRecords(initialState(10), records, 11, settings(), NOW).decision).toBe('none');
    expect(expireRecords(initialState(10), [at(10, 1)], 11, aged, NOW).actions).toEqual([]);
  });
});

describe('blocksOnPoisonRecord', () => {
  it.each<[string, Partial<TriggerConfig>, boolean]>([
    ['the defaults', {}, true],
    ['a destination', withDlq, false],
    ['finite retries', { maximumRetryAttempts: 3 }, false],
    ['an age limit', { maximumRecordAgeInSeconds: 3600 }, false],
  ])('%s', (_, config, blocks) => {
    expect(blocksOnPoisonRecord(settings(config))).toBe(blocks);
  });
});

describe('invariants for any sequence of outcomes (property)', () => {
  /** Offsets 0..LOG-1 exist; some are filtered out (never invoked). */
  const LOG = 40;

  const arbSettings = fc.record({
    maximumRetryAttempts: fc.constantFrom(-1, 0, 1, 3),
    bisectBatchOnFunctionError: fc.boolean(),
    destination: fc.boolean(),
    maximumRecordAgeInSeconds: fc.constantFrom(-1, 60),
    batchSize: fc.integer({ min: 1, max: 8 }),
  });

  const arbOutcomeKind = fc.constantFrom(
    'success',
    'partial',
    'function-error',
    'invalid-response',
    'throttled',
    'invoke-error',
    'payload-too-large',
  );

  it('never skips an offset except through a discard, and never commits backwards', () => {
    const seed = testSeed('failure-policy invariants');
    fc.assert(
      fc.property(
        arbSettings,
        fc.array(
          fc.record({
            kind: arbOutcomeKind,
            pick: fc.nat(),
            jitter: fc.double({ min: 0, max: 0.999, noNaN: true }),
            clock: fc.nat({ max: 120_000 }),
          }),
          {
            minLength: 1,
            maxLength: 60,
          },
        ),
        fc.uniqueArray(fc.integer({ min: 0, max: LOG - 1 }), { maxLength: 10 }),
        (config, outcomes, filteredOut) => {
          const s = settings({
            maximumRetryAttempts: config.maximumRetryAttempts,
            bisectBatchOnFunctionError: config.bisectBatchOnFunctionError,
            maximumRecordAgeInSeconds: config.maximumRecordAgeInSeconds,
            functionResponseTypes: ['ReportBatchItemFailures'],
            ...(config.destination ? withDlq : {}),
          });
          const filtered = new Set(filteredOut);
          // Every record was written at time 0; the clock moves forward with each step.
          let now = 0;
          let state = initialState(0);
          let committed = 0;
          const processed = new Set<number>();
          const discarded = new Set<number>();

          const apply = (actions: readonly PolicyAction[]) => {
            for (const action of actions) {
              if (action.type === 'commit') {
                expect(action.offset).toBeGreaterThanOrEqual(committed);
                committed = action.offset;
              } else {
                expect(action.to).toBe(config.destination ? 'destination' : 'drop');
                for (const offset of action.offsets) discarded.add(offset);
              }
            }
            expect(state.position).toBe(committed);
          };

          for (const step of outcomes) {
            now += step.clock;
            if (state.position >= LOG) break;
            const delivery = nextDelivery(state);
            const to =
              delivery.kind === 'redeliver' ? delivery.to : Math.min(LOG, delivery.from + config.batchSize);
            const read = Array.from({ length: to - delivery.from }, (_, i) => delivery.from + i);
            const candidates = read
              .filter((o) => !filtered.has(o))
              .map((offset) => ({ offset, timestamp: 0 }));

            const expiry = expireRecords(state, candidates, to, s, now);
            state = expiry.state;
            apply(expiry.actions);
            if (expiry.remaining.length === 0 && expiry.decision === 'expire') continue;

            const offsets = expiry.remaining.map((r) => r.offset);
            const invocation = { from: state.position, to, offsets };
            let outcome: PartitionOutcome;
            if (offsets.length === 0) outcome = { kind: 'success' };
            else if (step.kind === 'partial') {
              // The lowest failure, and some of the later records too.
              const lowest = offsets[step.pick % offsets.length]!;
              outcome = partialAt(lowest, ...offsets.filter((o) => o > lowest && (o + step.pick) % 3 === 0));
            } else if (step.kind === 'function-error') outcome = fnError;
            else if (step.kind === 'invalid-response') outcome = { kind: 'invalid-response', reason: 'x' };
            else if (step.kind === 'invoke-error')
              outcome = { kind: 'invoke-error', errorName: 'X', retriable: step.pick % 2 === 0 };
            else outcome = { kind: step.kind } as PartitionOutcome;

            const result = afterInvocation(state, invocation, outcome, s, now, step.jitter);
            expect(result.state.notBefore).toBeGreaterThanOrEqual(now);
            // What the function completed: everything on success, the records before the failure on a partial response.
            if (outcome.kind === 'success') for (const o of offsets) processed.add(o);
            // (A partial response says which records failed: the others were processed.)
            if (outcome.kind === 'partial') {
              const failed = outcome.failedOffsets;
              for (const o of offsets) if (!failed.includes(o)) processed.add(o);
            }
            state = result.state;
            apply(result.actions);
            // Pending ranges are contiguous from the position.
            let cursor = state.position;
            for (const range of state.pending) {
              expect(range.from).toBe(cursor);
              expect(range.to).toBeGreaterThan(range.from);
              cursor = range.to;
            }
          }
          for (let offset = 0; offset < committed; offset++) {
            if (filtered.has(offset)) continue;
            expect(processed.has(offset) || discarded.has(offset), `offset ${offset} was skipped`).toBe(true);
          }
          // Nothing is discarded that the committed position has not passed.
          for (const offset of discarded) expect(offset).toBeLessThan(committed);
        },
      ),
      { seed, numRuns: 500 },
    );
  });

  it('with finite retries, a record that always fails is given up on within a bounded number of invocations', () => {
    const seed = testSeed('failure-policy progress');
    fc.assert(
      fc.property(
        fc.constantFrom(0, 1, 3),
        fc.boolean(),
        fc.integer({ min: 1, max: 16 }),
        (retries, bisect, size) => {
          const s = settings({ maximumRetryAttempts: retries, bisectBatchOnFunctionError: bisect });
          let state = initialState(0);
          let invocations = 0;
          // Worst case: every split level plus the retries of the single poisoned record.
          const bound = 2 * size * (retries + 1) + 2;
          while (state.position < size) {
            const delivery = nextDelivery(state);
            const to = delivery.kind === 'redeliver' ? delivery.to : size;
            const invocation = batch(state.position, to);
            const poisoned = invocation.offsets.includes(0);
            state = afterInvocation(state, invocation, poisoned ? fnError : success, s, NOW, 0).state;
            invocations++;
            expect(invocations).toBeLessThanOrEqual(bound);
          }
        },
      ),
      { seed, numRuns: 100 },
    );
  });
});
