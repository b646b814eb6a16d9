import { createHmac, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { InvalidArgumentError, InvalidSessionError } from '../../../sdk/src/errors.ts';
import { type SessionClaims, SessionSigner } from '../../../sdk/src/groups/session-token.ts';

const NOW = 1_800_000_000_000;
const claims: SessionClaims = {
  group: 'billing',
  member: {
    memberId: 'm-0a1b2c3d4e5f',
    joinId: 'AAAAAAAAAAAAAAAAAAAAAA',
    instanceId: undefined,
    topics: ['orders', 'payments'],
    sessionTimeoutMs: 10_000,
  },
  state: {
    held: [
      { topic: 'orders', partition: 3, incarnation: 'a1b2c3d4e5', epoch: 7, committed: 42, state: 'owned' },
      {
        topic: 'payments',
        partition: 0,
        incarnation: 'f0e1d2c3b4',
        epoch: 1,
        committed: undefined,
        state: 'revoking',
      },
    ],
    liveness: [['m-other', 12, NOW - 500]],
    lastHeartbeatAt: NOW - 100,
  },
  issuedAt: NOW,
  expiresAt: NOW + 100_000,
};

const signer = new SessionSigner(randomBytes(32));
const token = signer.issue(claims);
const [version, payload, mac] = token.split('.') as [string, string, string];

function refusal(fn: () => unknown): InvalidSessionError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidSessionError);
    return error as InvalidSessionError;
  }
  throw new Error('expected the session to be refused');
}

/** A signer whose key the test knows, to sign arbitrary payloads as a holder of a leaked key could. */
const secret = randomBytes(32);
const keyed = new SessionSigner(secret);
function resign(payloadJson: unknown): string {
  const body = `t1.${Buffer.from(JSON.stringify(payloadJson)).toString('base64url')}`;
  return `${body}.${createHmac('sha256', secret).update(body).digest('base64url')}`;
}

describe('SessionSigner', () => {
  it('round-trips the claims it issued', () => {
    expect(signer.open(token, 'billing', 'm-0a1b2c3d4e5f', NOW + 1)).toEqual(claims);
  });

  it('carries the change counter and the view of the group, with or without a fingerprint', () => {
    for (const fingerprint of ['AbCdEfGhIjKlMnOpQrStUv', undefined]) {
      const withView: SessionClaims = {
        ...claims,
        state: { ...claims.state, changes: NOW - 5, view: { fingerprint, age: 17 } },
      };
      const opened = signer.open(signer.issue(withView), 'billing', 'm-0a1b2c3d4e5f', NOW + 1);
      expect(opened.state.changes).toBe(NOW - 5);
      expect(opened.state.view).toEqual({ fingerprint, age: 17 });
    }
    // A session issued before these existed opens without them (the member reads the leases).
    const opened = signer.open(token, 'billing', 'm-0a1b2c3d4e5f', NOW + 1);
    expect(opened.state.changes).toBeUndefined();
    expect(opened.state.view).toBeUndefined();
  });

  it('refuses keys too short to be secret', () => {
    expect(() => new SessionSigner(new Uint8Array(16))).toThrow(InvalidArgumentError);
  });

  it.each([
    ['empty', ''],
    ['a bare member id', 'm-0a1b2c3d4e5f'],
    ['trailing garbage', `${token}x`],
    ['trailing dot', `${token}.`],
    ['leading space', ` ${token}`],
    ['another version', `t2.${payload}.${mac}`],
    ['standard base64 alphabet', `${version}.${payload.replace(/-/g, '+').replace(/_/g, '/')}=.${mac}`],
    ['padding', `${version}.${payload}==.${mac}`],
    [
      'a flipped payload character',
      `${version}.${payload.slice(0, 10)}${payload[10] === 'A' ? 'B' : 'A'}${payload.slice(11)}.${mac}`,
    ],
    [
      'a flipped signature character',
      `${version}.${payload}.${mac.slice(0, -2)}${mac.at(-2) === 'A' ? 'B' : 'A'}${mac.at(-1)}`,
    ],
    ['a signature of another key', new SessionSigner(randomBytes(32)).issue(claims)],
  ])('refuses %s', (_label, forged) => {
    refusal(() => signer.open(forged, 'billing', 'm-0a1b2c3d4e5f', NOW + 1));
  });

  it('refuses values that are not strings', () => {
    for (const value of [undefined, null, 42, {}, [token]]) {
      refusal(() => signer.open(value, 'billing', 'm-0a1b2c3d4e5f', NOW + 1));
    }
  });

  it("refuses another member's or group's session, and an expired one", () => {
    refusal(() => signer.open(token, 'billing', 'm-other', NOW + 1));
    refusal(() => signer.open(token, 'shipping', 'm-0a1b2c3d4e5f', NOW + 1));
    expect(refusal(() => signer.open(token, 'billing', 'm-0a1b2c3d4e5f', NOW + 100_000)).message).toMatch(
      /expired/,
    );
  });

  it('validates a correctly signed payload as strictly as join: what join refuses, the token cannot carry', () => {
    const valid = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Record<string, unknown>;
    expect(keyed.open(resign(valid), 'billing', 'm-0a1b2c3d4e5f', NOW + 1).member.memberId).toBe(
      'm-0a1b2c3d4e5f',
    );
    const variants: Record<string, unknown>[] = [
      { ...valid, sto: -1 },
      { ...valid, sto: 10_000_000 },
      { ...valid, sto: 1.5 },
      { ...valid, sto: '10000' },
      { ...valid, iid: 12 },
      { ...valid, iid: '' },
      { ...valid, m: 'bad id!' },
      { ...valid, tp: ['not a topic!'] },
      { ...valid, tp: [] },
      { ...valid, tp: ['orders', 'orders'] },
      { ...valid, held: [['elsewhere', 0, 'a1b2c3d4e5', 1, null, 'owned']] },
      { ...valid, held: [['orders', -1, 'a1b2c3d4e5', 1, null, 'owned']] },
      { ...valid, held: [['orders', 0, 'a1b2c3d4e5', 1, null, 'stolen']] },
      {
        ...valid,
        held: [
          ['orders', 0, 'a1b2c3d4e5', 1, null, 'owned'],
          ['orders', 0, 'a1b2c3d4e5', 2, null, 'owned'],
        ],
      },
      { ...valid, extra: true },
    ];
    for (const variant of variants) {
      refusal(() => keyed.open(resign(variant), 'billing', 'm-0a1b2c3d4e5f', NOW + 1));
    }
  });
});
