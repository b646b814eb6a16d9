/** The SASL state machine, what each state admits, and PLAIN tokens and credentials. */
import { describe, expect, it } from 'vitest';
import {
  admits,
  IllegalSaslTransitionError,
  PlainCredentials,
  parsePlainToken,
  type SaslState,
  transition,
} from '../../../gateway/sasl.ts';
import { InvalidArgumentError } from '../../../sdk/src/index.ts';

const STATES: readonly SaslState[] = [
  'open',
  'unauthenticated',
  'handshake-v0',
  'handshake-v1',
  'authenticated',
];
const ALLOWED = new Set([
  'unauthenticated>handshake-v0',
  'unauthenticated>handshake-v1',
  'handshake-v0>authenticated',
  'handshake-v1>authenticated',
]);

describe('SASL state machine', () => {
  it.each(STATES.flatMap((from) => STATES.map((to) => [from, to] as const)))('%s -> %s', (from, to) => {
    if (ALLOWED.has(`${from}>${to}`)) expect(transition(from, to)).toBe(to);
    else expect(() => transition(from, to)).toThrow(IllegalSaslTransitionError);
  });

  it('admits only ApiVersions and the handshake before authenticating, only SaslAuthenticate after a v1 handshake', () => {
    expect(admits('unauthenticated', 'ApiVersions')).toBe(true);
    expect(admits('unauthenticated', 'SaslHandshake')).toBe(true);
    expect(admits('unauthenticated', 'Produce')).toBe(false);
    expect(admits('unauthenticated', 'SaslAuthenticate')).toBe(false);
    expect(admits('handshake-v1', 'SaslAuthenticate')).toBe(true);
    expect(admits('handshake-v1', 'ApiVersions')).toBe(false);
    expect(admits('handshake-v0', 'SaslAuthenticate')).toBe(false);
    for (const api of ['Produce', 'Fetch', 'SaslHandshake']) {
      expect(admits('open', api)).toBe(true);
      expect(admits('authenticated', api)).toBe(true);
    }
  });
});

describe('PLAIN', () => {
  const token = (text: string) => Buffer.from(text, 'utf8');

  it('parses authzid NUL authcid NUL passwd, and nothing else', () => {
    expect(parsePlainToken(token('\0alice\0pw'))).toEqual({
      authorizationId: '',
      username: 'alice',
      password: 'pw',
    });
    expect(parsePlainToken(token('admin\0alice\0p\u00e4ss'))).toEqual({
      authorizationId: 'admin',
      username: 'alice',
      password: 'p\u00e4ss',
    });
    expect(parsePlainToken(token('alice\0pw'))).toBeUndefined();
    expect(parsePlainToken(token('\0alice\0pw\0more'))).toBeUndefined();
    expect(parsePlainToken(token('\0\0pw'))).toBeUndefined();
    expect(parsePlainToken(Uint8Array.from([0, 0xff, 0xfe, 0, 0x41]))).toBeUndefined();
  });

  it('verifies users and passwords; refuses unknown users, wrong passwords and acting as someone else', () => {
    const credentials = new PlainCredentials({ alice: 'wonderland', bob: 'builder' });
    expect(credentials.verify(token('\0alice\0wonderland'))).toBe('alice');
    expect(credentials.verify(token('alice\0alice\0wonderland'))).toBe('alice');
    expect(credentials.verify(token('\0alice\0builder'))).toBeUndefined();
    expect(credentials.verify(token('\0carol\0wonderland'))).toBeUndefined();
    expect(credentials.verify(token('bob\0alice\0wonderland'))).toBeUndefined();
    expect(credentials.verify(token('\0alice\0'))).toBeUndefined();
    expect(credentials.verify(new Uint8Array(0))).toBeUndefined();
  });

  it('refuses a configuration without users or with empty names or passwords', () => {
    expect(() => new PlainCredentials({})).toThrow(InvalidArgumentError);
    expect(() => new PlainCredentials({ '': 'x' })).toThrow(InvalidArgumentError);
    expect(() => new PlainCredentials({ alice: '' })).toThrow(InvalidArgumentError);
    expect(() => new PlainCredentials({ alice: 'a\0b' })).toThrow(InvalidArgumentError);
  });
});
