/**
 * Group sessions as tamper-proof tokens. A stateless API carries a member's coordination state
 * between calls in the caller's hands (its identity and subscription, the leases it holds, what it
 * has observed of the others' heartbeats, the view of the group it last read the leases for), so the state must come back exactly as the API issued
 * it: the token is the state's canonical JSON, signed with HMAC-SHA256 under a key only the API
 * holds, and expiring. Opening a token checks, in order: the exact shape (`t1.<payload>.<mac>`,
 * canonical unpadded base64url, nothing before or after), the MAC (constant time), the payload's
 * schema — as strict as the join request that created it, so even a token signed by a leaked key
 * cannot smuggle in what join would refuse — then who it belongs to and whether it expired.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import { InvalidArgumentError, InvalidSessionError } from '../errors.ts';
import { LEGAL_TOPIC_NAME } from '../topics/names.ts';
import type { HeldLease, MemberState } from './group-member.ts';
import type { MemberInfo } from './lease-store.ts';

/** Shortest HMAC key accepted (bytes): SHA-256's block of security. */
export const MIN_SESSION_KEY_BYTES = 32;

/** Legal member ids: a group id's alphabet (static members use their instance id). */
export const LEGAL_MEMBER_ID = /^[a-zA-Z0-9._-]{1,249}$/;

/** Session timeouts a member may ask for (ms). */
export const SESSION_TIMEOUT_RANGE = { min: 100, max: 300_000 } as const;

/** What a session token holds. */
export interface SessionClaims {
  readonly group: string;
  /** Identity and subscription, as join validated them; `joinId` is this join's. */
  readonly member: MemberInfo & { readonly joinId: string };
  readonly state: MemberState;
  /** Issued and expiry times (the API's clock, epoch ms). */
  readonly issuedAt: number;
  readonly expiresAt: number;
}

const VERSION = 't1';
const TOKEN = /^t1\.([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]{43})$/;

const memberId = z.string().regex(LEGAL_MEMBER_ID);
const topicName = z.string().regex(LEGAL_TOPIC_NAME);
const count = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
const time = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);

/** Compact wire form: arrays of tuples keep tokens small (a member may hold hundreds of leases). */
const Payload = z
  .object({
    g: z.string().regex(/^[a-zA-Z0-9._-]{1,249}$/),
    m: memberId,
    j: z.string().regex(/^[A-Za-z0-9_-]{22}$/),
    iid: memberId.nullable(),
    tp: z.array(topicName).min(1).max(100),
    sto: z.number().int().min(SESSION_TIMEOUT_RANGE.min).max(SESSION_TIMEOUT_RANGE.max),
    held: z
      .array(
        z.tuple([
          topicName,
          z.number().int().min(0).max(1_000_000),
          z.string().regex(/^[A-Za-z0-9_-]{1,64}$/),
          count,
          count.nullable(),
          z.enum(['owned', 'revoking']),
        ]),
      )
      .max(100_000),
    live: z.array(z.tuple([memberId, count, time])).max(10_000),
    lhb: time,
    // The member's change counter and the view its last lease read reacted to (fingerprint or
    // null, and heartbeats since); absent in sessions issued before they existed.
    chg: count.optional(),
    vw: z
      .tuple([
        z
          .string()
          .regex(/^[A-Za-z0-9_-]{22}$/)
          .nullable(),
        count,
      ])
      .optional(),
    iat: time,
    exp: time,
  })
  .strict();
type Payload = z.infer<typeof Payload>;

/** Issues and opens the session tokens of one API deployment. */
export class SessionSigner {
  readonly #key: Buffer;

  constructor(key: Uint8Array) {
    if (!(key instanceof Uint8Array) || key.byteLength < MIN_SESSION_KEY_BYTES) {
      throw new InvalidArgumentError(
        `A session key needs at least ${MIN_SESSION_KEY_BYTES} bytes of secret material`,
      );
    }
    this.#key = Buffer.from(key);
  }

  /** A signed token of `claims`. */
  issue(claims: SessionClaims): string {
    const payload: Payload = {
      g: claims.group,
      m: claims.member.memberId,
      j: claims.member.joinId,
      iid: claims.member.instanceId ?? null,
      tp: [...claims.member.topics],
      sto: claims.member.sessionTimeoutMs,
      held: claims.state.held.map((l) => [
        l.topic,
        l.partition,
        l.incarnation,
        l.epoch,
        l.committed ?? null,
        l.state === 'revoking' ? 'revoking' : 'owned',
      ]),
      live: claims.state.liveness.map(([id, heartbeat, changedAt]) => [id, heartbeat, changedAt]),
      lhb: claims.state.lastHeartbeatAt,
      ...(claims.state.changes === undefined ? {} : { chg: claims.state.changes }),
      ...(claims.state.view === undefined
        ? {}
        : { vw: [claims.state.view.fingerprint ?? null, claims.state.view.age] }),
      iat: claims.issuedAt,
      exp: claims.expiresAt,
    };
    const body = `${VERSION}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}`;
    return `${body}.${this.#mac(body).toString('base64url')}`;
  }

  /**
   * The claims of a token issued for member `memberId` of group `groupId`, or
   * {@link InvalidSessionError} when it is malformed, not signed with this key, altered,
   * expired at `now`, or another member's.
   */
  open(token: unknown, groupId: string, memberId: string, now: number): SessionClaims {
    const refuse = (reason: string) => new InvalidSessionError(groupId, memberId, reason);
    if (typeof token !== 'string') throw refuse('it is not a string');
    const match = TOKEN.exec(token);
    if (!match) throw refuse('it is not a session token this API issues');
    const [, encoded, mac] = match as unknown as [string, string, string];
    const given = canonicalBase64Url(mac);
    const expected = this.#mac(`${VERSION}.${encoded}`);
    if (!given || given.length !== expected.length || !timingSafeEqual(given, expected)) {
      throw refuse('its signature does not match: it was altered or issued by another deployment');
    }
    const json = canonicalBase64Url(encoded);
    if (!json) throw refuse('its payload is not canonical base64url');
    let parsed: Payload;
    try {
      parsed = Payload.parse(JSON.parse(json.toString('utf8')));
    } catch {
      throw refuse('its payload does not have the shape this API issues');
    }
    if (parsed.g !== groupId || parsed.m !== memberId) throw refuse('it belongs to another member or group');
    if (parsed.exp <= now) throw refuse('it expired: the member missed its heartbeats for too long');
    const topics = new Set(parsed.tp);
    if (topics.size !== parsed.tp.length) throw refuse('its subscription repeats a topic');
    const held: HeldLease[] = [];
    const seen = new Set<string>();
    for (const [topic, partition, incarnation, epoch, committed, state] of parsed.held) {
      const key = `${topic}\u0000${partition}`;
      if (!topics.has(topic) || seen.has(key)) throw refuse('it holds a lease outside its subscription');
      seen.add(key);
      held.push({ topic, partition, incarnation, epoch, committed: committed ?? undefined, state });
    }
    return {
      group: parsed.g,
      member: {
        memberId: parsed.m,
        joinId: parsed.j,
        instanceId: parsed.iid ?? undefined,
        topics: parsed.tp,
        sessionTimeoutMs: parsed.sto,
      },
      state: {
        held,
        liveness: parsed.live,
        lastHeartbeatAt: parsed.lhb,
        changes: parsed.chg,
        view: parsed.vw && { fingerprint: parsed.vw[0] ?? undefined, age: parsed.vw[1] },
      },
      issuedAt: parsed.iat,
      expiresAt: parsed.exp,
    };
  }

  #mac(text: string): Buffer {
    return createHmac('sha256', this.#key).update(text).digest();
  }
}

/** The bytes of unpadded base64url text, or undefined unless re-encoding them gives the same text. */
function canonicalBase64Url(text: string): Buffer | undefined {
  const bytes = Buffer.from(text, 'base64url');
  return bytes.toString('base64url') === text ? bytes : undefined;
}
