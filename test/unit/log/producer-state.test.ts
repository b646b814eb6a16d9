/**
 * The idempotent producer's sequence decisions, as tables of state × request → action: claim the
 * next sequence, recognise a retry (look it up, then answer it, wait for it, or take it over),
 * and refuse everything else without writing.
 */
import { describe, expect, it } from 'vitest';
import { ProducerAttr } from '../../../sdk/src/keys.ts';
import {
  type ClaimAction,
  type ClaimedState,
  decideAfterLookup,
  decideClaim,
  type LookupAction,
  type LookupPurpose,
  type ProducerState,
  recordsDigest,
  type SequenceClaim,
  type SequenceRequest,
  sequenceAfter,
  stateFromItem,
} from '../../../sdk/src/log/producer-state.ts';
import { LOG_TABLE } from '../../../sdk/src/schema.ts';

const NOW = 1_000_000;

const claim = (over: Partial<SequenceClaim> = {}): SequenceClaim => ({
  sequence: 10,
  count: 5,
  digest: 'd-10',
  from: 40,
  until: NOW + 30_000,
  token: 'first-attempt',
  ...over,
});

/** State after the claim of batch 10..14 (next expected 15). */
const claimed: ClaimedState = { epoch: 0, nextSequence: 15, claim: claim() };
/** The same claim, past its deadline. */
const expired: ClaimedState = { ...claimed, claim: claim({ until: NOW - 1 }) };
/** After a released claim: sequence 10 is expected again, no claim. */
const released: ProducerState = { epoch: 0, nextSequence: 10, claim: undefined };

const request = (over: Partial<SequenceRequest> = {}): SequenceRequest => ({
  epoch: 0,
  sequence: 15,
  count: 3,
  digest: 'd-15',
  token: 'this-attempt',
  ...over,
});

describe('decideClaim', () => {
  const cases: [string, ProducerState | undefined, SequenceRequest, ClaimAction][] = [
    [
      'a new producer at sequence 0 claims',
      undefined,
      request({ sequence: 0 }),
      { kind: 'claim', expected: undefined },
    ],
    [
      'a new producer past sequence 0 is unknown',
      undefined,
      request({ sequence: 7 }),
      { kind: 'refuse', reason: 'unknown-producer', expectedSequence: 0 },
    ],
    ['the next sequence claims', claimed, request(), { kind: 'claim', expected: claimed }],
    [
      'the next sequence after a release claims',
      released,
      request({ sequence: 10 }),
      { kind: 'claim', expected: released },
    ],
    [
      'its own claim (a lost response of its claim write) is claimed',
      claimed,
      request({ sequence: 10, count: 5, digest: 'd-10', token: 'first-attempt' }),
      { kind: 'claimed' },
    ],
    [
      'a retry of the latest batch is looked up',
      claimed,
      request({ sequence: 10, count: 5, digest: 'd-10' }),
      { kind: 'look-up', state: claimed, purpose: 'retry' },
    ],
    [
      'a retry of an expired claim is looked up too (it may have landed)',
      expired,
      request({ sequence: 10, count: 5, digest: 'd-10' }),
      { kind: 'look-up', state: expired, purpose: 'retry' },
    ],
    [
      'the latest sequence with other records is a reuse',
      claimed,
      request({ sequence: 10, count: 5, digest: 'other' }),
      { kind: 'refuse', reason: 'reused', expectedSequence: 15 },
    ],
    [
      'the latest sequence with another count is a reuse',
      claimed,
      request({ sequence: 10, count: 4, digest: 'd-10' }),
      { kind: 'refuse', reason: 'reused', expectedSequence: 15 },
    ],
    [
      'an older sequence is refused',
      claimed,
      request({ sequence: 5 }),
      { kind: 'refuse', reason: 'older', expectedSequence: 15 },
    ],
    [
      'a sequence inside the claimed batch is older',
      claimed,
      request({ sequence: 12 }),
      { kind: 'refuse', reason: 'older', expectedSequence: 15 },
    ],
    [
      'a gap is refused',
      claimed,
      request({ sequence: 16 }),
      { kind: 'refuse', reason: 'gap', expectedSequence: 15 },
    ],
    [
      'a lower epoch is fenced',
      { ...claimed, epoch: 3 },
      request({ epoch: 2 }),
      { kind: 'refuse', reason: 'fenced-epoch', expectedSequence: 15 },
    ],
    [
      'a higher epoch not at 0 is refused',
      claimed,
      request({ epoch: 1, sequence: 15 }),
      { kind: 'refuse', reason: 'new-epoch-not-at-zero', expectedSequence: 0 },
    ],
    [
      'a higher epoch at 0 waits for a live claim to be settled',
      claimed,
      request({ epoch: 1, sequence: 0 }),
      { kind: 'look-up', state: claimed, purpose: 'new-epoch' },
    ],
    [
      'a higher epoch at 0 after an expired claim claims',
      expired,
      request({ epoch: 1, sequence: 0 }),
      { kind: 'claim', expected: expired },
    ],
    [
      'a higher epoch at 0 without a claim claims',
      released,
      request({ epoch: 1, sequence: 0 }),
      { kind: 'claim', expected: released },
    ],
    [
      'sequences wrap: after 2^31 - 1 comes 0',
      { epoch: 0, nextSequence: 0, claim: claim({ sequence: 2 ** 31 - 2, count: 2 }) },
      request({ sequence: 0 }),
      {
        kind: 'claim',
        expected: { epoch: 0, nextSequence: 0, claim: claim({ sequence: 2 ** 31 - 2, count: 2 }) },
      },
    ],
    [
      'sequences wrap: just before 0 is older, not a gap',
      { epoch: 0, nextSequence: 3, claim: claim({ sequence: 1, count: 2 }) },
      request({ sequence: 2 ** 31 - 1 }),
      { kind: 'refuse', reason: 'older', expectedSequence: 3 },
    ],
  ];
  it.each(cases)('%s', (_, state, req, expected) => {
    expect(decideClaim(state, req, NOW)).toEqual(expected);
  });
});

describe('decideAfterLookup', () => {
  const live = claimed;
  const dead = expired;
  const cases: [string, ClaimedState, LookupPurpose, boolean, LookupAction][] = [
    ['a retry whose batch landed is a duplicate', live, 'retry', true, { kind: 'duplicate' }],
    ['a landed batch is a duplicate past the deadline too', dead, 'retry', true, { kind: 'duplicate' }],
    ['a retry whose first attempt may still write waits', live, 'retry', false, { kind: 'in-progress' }],
    [
      'a retry whose first attempt is dead takes over',
      dead,
      'retry',
      false,
      { kind: 'claim', expected: dead },
    ],
    ['a new epoch after the landed batch starts', live, 'new-epoch', true, { kind: 'claim', expected: live }],
    ['a new epoch waits for a batch still landing', live, 'new-epoch', false, { kind: 'in-progress' }],
    ['a new epoch after a dead attempt starts', dead, 'new-epoch', false, { kind: 'claim', expected: dead }],
  ];
  it.each(cases)('%s', (_, state, purpose, landed, expected) => {
    expect(decideAfterLookup(state, purpose, landed, NOW)).toEqual(expected);
  });

  it('counts the deadline itself as passed', () => {
    expect(decideAfterLookup(live, 'retry', false, live.claim.until)).toEqual({
      kind: 'claim',
      expected: live,
    });
  });
});

describe('recordsDigest', () => {
  const record = {
    key: Buffer.from('k'),
    value: Buffer.from('v'),
    headers: [{ key: 'h', value: Buffer.from('x') }],
    timestamp: 5 as number | undefined,
  };

  it('is equal for equal records and differs for any change', () => {
    const base = recordsDigest([record]);
    expect(recordsDigest([{ ...record, key: Buffer.from('k') }])).toBe(base);
    const changed = [
      [{ ...record, key: null }],
      [{ ...record, value: Buffer.from('w') }],
      [{ ...record, value: null }],
      [{ ...record, timestamp: 6 }],
      [{ ...record, timestamp: undefined }],
      [{ ...record, headers: [] }],
      [{ ...record, headers: [{ key: 'h', value: null }] }],
      [record, record],
      // Field boundaries count: "k"+"v" is not "kv"+"".
      [{ ...record, key: Buffer.from('kv'), value: Buffer.from('') }],
    ].map((records) => recordsDigest(records));
    expect(new Set([base, ...changed]).size).toBe(changed.length + 1);
  });
});

describe('producer state items', () => {
  it("expire through the log table's TTL attribute", () => {
    expect(ProducerAttr.expiresAt).toBe(LOG_TABLE.timeToLiveAttribute);
  });

  it('parse with and without a claim', () => {
    expect(
      stateFromItem({
        ep: { N: '2' },
        ns: { N: '15' },
        cs: { N: '10' },
        cn: { N: '5' },
        cd: { S: 'd' },
        cf: { N: '40' },
        cu: { N: '99' },
        ct: { S: 't' },
      }),
    ).toEqual({
      epoch: 2,
      nextSequence: 15,
      claim: { sequence: 10, count: 5, digest: 'd', from: 40, until: 99, token: 't' },
    });
    expect(stateFromItem({ ep: { N: '0' }, ns: { N: '10' } })).toEqual({
      epoch: 0,
      nextSequence: 10,
      claim: undefined,
    });
  });

  it('wrap sequences after 2^31 - 1', () => {
    expect(sequenceAfter(2 ** 31 - 2, 3)).toBe(1);
    expect(sequenceAfter(10, 5)).toBe(15);
  });
});
