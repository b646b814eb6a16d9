/**
 * SASL/PLAIN authentication of a connection (KIP-43, KIP-152): the connection's authentication
 * state as an explicit state machine, what each state lets through, and the PLAIN credential check.
 *
 * With SASL configured a connection starts `unauthenticated`: it may ask ApiVersions and send a
 * SaslHandshake. A v1 handshake leads to `handshake-v1`, where the one request allowed is
 * SaslAuthenticate with the PLAIN token; a v0 handshake (older clients) to `handshake-v0`, where
 * the next frame is the raw token itself, without a request header, answered by an empty frame.
 * A valid token makes the connection `authenticated`; anything else closes it. Without SASL
 * configured a connection is `open` from the start.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { InvalidArgumentError } from '../sdk/src/index.ts';

/** SASL settings of a gateway: PLAIN, with these users. */
export interface SaslPlainOptions {
  readonly mechanism: 'PLAIN';
  /** Username → password. At least one. */
  readonly users: Readonly<Record<string, string>>;
}

/** Where a connection is in authenticating. */
export type SaslState = 'open' | 'unauthenticated' | 'handshake-v0' | 'handshake-v1' | 'authenticated';

/** The states each state may move to; every other move is a bug of the caller. */
const TRANSITIONS: Readonly<Record<SaslState, readonly SaslState[]>> = {
  open: [],
  unauthenticated: ['handshake-v0', 'handshake-v1'],
  'handshake-v0': ['authenticated'],
  'handshake-v1': ['authenticated'],
  authenticated: [],
};

/** A move the state machine does not allow (a bug in the connection, never a peer's doing). */
export class IllegalSaslTransitionError extends Error {
  constructor(from: SaslState, to: SaslState) {
    super(`SASL state ${from} cannot move to ${to}`);
    this.name = new.target.name;
  }
}

/** The one guarded transition. */
export function transition(from: SaslState, to: SaslState): SaslState {
  if (!TRANSITIONS[from].includes(to)) throw new IllegalSaslTransitionError(from, to);
  return to;
}

/** The requests (by Kafka API name) each state serves; any other closes the connection. */
const ADMITTED: Readonly<Record<SaslState, ReadonlySet<string> | 'all'>> = {
  open: 'all',
  unauthenticated: new Set(['ApiVersions', 'SaslHandshake']),
  // The next frame is a raw token, never a request.
  'handshake-v0': new Set(),
  'handshake-v1': new Set(['SaslAuthenticate']),
  authenticated: 'all',
};

/** True when a connection in `state` serves a request of `api` (else it is closed, as Kafka does). */
export function admits(state: SaslState, api: string): boolean {
  const admitted = ADMITTED[state];
  return admitted === 'all' || admitted.has(api);
}

/** The PLAIN mechanism's name, as clients send it in SaslHandshake. */
export const PLAIN = 'PLAIN';

/** A PLAIN token's parts (RFC 4616): `authzid NUL authcid NUL passwd`. */
export interface PlainToken {
  readonly authorizationId: string;
  readonly username: string;
  readonly password: string;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Parses a PLAIN token; undefined when it is not one (wrong separators, bad UTF-8, empty user). */
export function parsePlainToken(bytes: Uint8Array): PlainToken | undefined {
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    return undefined;
  }
  const parts = text.split('\0');
  if (parts.length !== 3) return undefined;
  const [authorizationId, username, password] = parts as [string, string, string];
  if (username === '') return undefined;
  return { authorizationId, username, password };
}

/** Checks PLAIN tokens against configured users, in time independent of where a password differs. */
export class PlainCredentials {
  readonly #digests: ReadonlyMap<string, Buffer>;

  /** @throws InvalidArgumentError without users, or with an empty username or password. */
  constructor(users: Readonly<Record<string, string>>) {
    const entries = Object.entries(users);
    if (entries.length === 0) throw new InvalidArgumentError('SASL/PLAIN needs at least one user');
    for (const [user, password] of entries) {
      if (user === '' || user.includes('\0') || password === '' || password.includes('\0')) {
        throw new InvalidArgumentError(
          `SASL/PLAIN users and passwords are non-empty and contain no NUL; check user "${user}"`,
        );
      }
    }
    this.#digests = new Map(entries.map(([user, password]) => [user, digest(password)]));
  }

  /**
   * The authenticated username, or undefined when the token is malformed, names an unknown user,
   * carries the wrong password, or asks to act as another user (an authorization id other than
   * its own: the gateway has no proxy users).
   */
  verify(bytes: Uint8Array): string | undefined {
    const token = parsePlainToken(bytes);
    if (!token) return undefined;
    // Compared whether or not the user exists, so timing tells nothing about which users do.
    const expected = this.#digests.get(token.username) ?? UNKNOWN_USER;
    const matches = timingSafeEqual(expected, digest(token.password));
    if (!matches || expected === UNKNOWN_USER) return undefined;
    if (token.authorizationId !== '' && token.authorizationId !== token.username) return undefined;
    return token.username;
  }
}

const UNKNOWN_USER = Buffer.alloc(32);

function digest(password: string): Buffer {
  return createHash('sha256').update(password, 'utf8').digest();
}
