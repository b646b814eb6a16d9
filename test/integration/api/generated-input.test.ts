/**
 * Generated input for every route of the HTTP API, driven by its OpenAPI document: for each
 * operation of `openApiDocument()`, fast-check builds valid requests from the operation's
 * parameters and schemas (with values from a small fixed world) and mutates them the way a hostile
 * caller would (see `test/helpers/openapi-cases.ts`). Every request is signed for real and sent to
 * an API server of this test's own, over fresh tables, and every response is checked:
 *
 * - never a 5xx; a 4xx always carries `{"error":{code,message,retriable}}` with a code of
 *   `ErrorCode` and the status that code maps to; a 2xx the operation's status and response schema;
 * - a request certainly invalid is refused, and a valid request of a read-only route succeeds;
 * - a refused request writes nothing: the three tables are snapshotted around every batch (and
 *   around every request that may write), and a difference is bisected to the request that made it;
 * - a principal granted `grantConsume(T, G)` reads nothing of topic U: every request IAM would
 *   let it send (its method and path match one of the grant's `execute-api` resources) is checked
 *   for U's record keys, values and headers, U's incarnation, and U's name outside the caller's
 *   own input and outside group G's own state (docs/deploy.md: joining G naming U is allowed and
 *   shows U's leases and lag in G, but never U's records).
 *
 * Requests come two ways: a sweep of every mutation family (a position and a kind of change) of
 * a complete request of every operation, and of every way to tamper with a session, which does not
 * depend on the seed; then `fc.assert` over random batches (`TEST_SEED` replays a run, `TEST_RUNS`
 * sets the number of batches). IAM is modelled on the path as the server and the SigV4 signer read
 * it (dot segments resolved), compared both as sent and with each segment percent-decoded.
 *
 * A route in `ROUTES` without generator hints here fails the test, so a new route is covered or
 * noticed.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { Agent } from 'node:http';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ApiServer, startApiServer } from '../../../local/api-server.ts';
import { CONTRACT, type OperationContract } from '../../../sdk/src/api/contract.ts';
import { STATUS_OF } from '../../../sdk/src/api/error-codec.ts';
import { openApiDocument } from '../../../sdk/src/api/openapi.ts';
import { type OperationId, ROUTES } from '../../../sdk/src/api/routes.ts';
import { LEGAL_MEMBER_ID } from '../../../sdk/src/groups/session-token.ts';
import { tableNames } from '../../../sdk/src/schema.ts';
import { LEGAL_TOPIC_NAME } from '../../../sdk/src/topics/names.ts';
import {
  caseArbitrary,
  completeCase,
  type DocOperation,
  type GeneratedCase,
  type Hints,
  type Label,
  OMIT,
  operationsOf,
  Ref,
  sweepCases,
} from '../../helpers/openapi-cases.ts';
import { sendWire, type WireRequest, type WireResponse } from '../../helpers/signed-http.ts';
import { freshTablePrefix, testStackConfig } from '../../helpers/stack.ts';
import { type TableSnapshot, TableSnapshotter } from '../../helpers/table-snapshot.ts';

// ---------- the world ----------

/** The topic the principal is granted, and the one it must never read. */
const T = 'granted-t';
const U = 'secret-u';
/** The principal's group, and another group (whose member's session is "another member's"). */
const G = 'group-g';
const H = 'group-h';
const PARTITIONS = 2;
const RECORDS_PER_PARTITION = 3;
/** U's records carry these, so any trace of them in a response is unmistakable. */
const U_RECORD = (i: number) => ({
  key: `U-SECRET-KEY-${i}`,
  value: `U-SECRET-VALUE-${i}`,
  headers: { 'U-SECRET-HEADER': `U-SECRET-HEADER-VALUE-${i}` },
});

/** A lease as a session carries it: `[topic, partition, incarnation, epoch, committed, state]`. */
type SessionLease = [string, number, string, number, number | null, string];

/** The payload of a session token (`sdk/src/groups/session-token.ts`). */
interface SessionPayload {
  g: string;
  m: string;
  j: string;
  iid: string | null;
  tp: string[];
  sto: number;
  held: SessionLease[];
  live: unknown[];
  lhb: number;
  iat: number;
  exp: number;
}

/** A group member as the test knows it: the latest session the API gave it. */
interface MemberModel {
  readonly group: string;
  readonly memberId: string;
  /** The world's own members, which no generated request is meant to remove. */
  readonly original: boolean;
  /** Its first session (superseded by every later one). */
  readonly first: string;
  session: string;
  payload: SessionPayload;
}

/** What requests are built from when they are sent. */
interface World {
  /** The server's session key: forged sessions are signed with it, to test the checks behind the MAC. */
  readonly key: Buffer;
  readonly members: MemberModel[];
  /** High watermark per `topic/partition`. */
  readonly hw: Map<string, number>;
  /** U's incarnation (an internal id: it must never reach the principal). */
  incarnationOfU: string;
  /** Counter for fresh names (member ids, topics). */
  fresh: number;
}

function payloadOf(session: string): SessionPayload {
  const [, encoded = ''] = session.split('.');
  return JSON.parse(Buffer.from(encoded, 'base64url').toString('utf8')) as SessionPayload;
}

function signSession(key: Buffer, payload: SessionPayload): string {
  const body = `t1.${Buffer.from(JSON.stringify(payload)).toString('base64url')}`;
  return `${body}.${createHmac('sha256', key).update(body).digest('base64url')}`;
}

/** Records a session the API issued (a join or heartbeat answer). */
function learn(world: World, session: string, original = false): void {
  const payload = payloadOf(session);
  const known = world.members.find((m) => m.group === payload.g && m.memberId === payload.m);
  if (known) {
    known.session = session;
    known.payload = payload;
  } else {
    world.members.push({ group: payload.g, memberId: payload.m, original, first: session, session, payload });
  }
}

function membersOf(world: World, group: string): MemberModel[] {
  return world.members.filter((m) => m.group === group);
}

/** The `slot`-th member of `group` (the world's own member when it has no other). */
function memberOf(world: World, group: string, slot: number): MemberModel {
  const members = membersOf(world, group);
  return members[slot % members.length]!;
}

function offsetIn(world: World, topic: string, partition: number, fraction: number): number {
  const hw = world.hw.get(`${topic}/${partition}`) ?? 0;
  return Math.min(hw, Math.floor(fraction * (hw + 1)));
}

// ---------- scenarios and hints ----------

/** How a case's session is altered. */
type Tamper =
  | 'none'
  | 'stale'
  | 'flip'
  | 'swap'
  | 'other'
  | 'garbage'
  | 'truncate'
  | 'reencode'
  | 'edited'
  | 'empty-mac'
  | 'forge-u'
  | 'forge-others'
  | 'forge-expired'
  | 'forge-group'
  | 'forge-join';

/**
 * What each tampered session must get. An earlier session of the same join (`stale`) may be taken:
 * leases are checked against DynamoDB, so a replay gains nothing (group-sessions.ts). Sessions
 * forged with the server's key pass the MAC, so only the checks behind it decide (`any`); an
 * expired one or one of another group must still be refused.
 */
const TAMPER_LABEL: Readonly<Record<Tamper, Label>> = {
  none: 'valid',
  stale: 'any',
  flip: 'invalid',
  swap: 'invalid',
  other: 'invalid',
  garbage: 'invalid',
  truncate: 'invalid',
  reencode: 'invalid',
  edited: 'invalid',
  'empty-mac': 'invalid',
  'forge-u': 'any',
  'forge-others': 'any',
  'forge-expired': 'invalid',
  'forge-group': 'invalid',
  'forge-join': 'any',
};

/** The choices one case makes about the world. */
interface Scenario {
  readonly topic: string;
  /** Name `topic` in a group consume's path even when the member does not subscribe to it. */
  readonly strictTopic: boolean;
  readonly group: string;
  readonly slot: number;
  readonly partition: number;
  readonly fraction: number;
  readonly tamper: Tamper;
  /** How a join names its member: generated id, a fresh id, a static instance (with its id named too). */
  readonly identity: 'generated' | 'fresh' | 'static' | 'static-named';
}

const scenarioArb: fc.Arbitrary<Scenario> = fc.record({
  topic: fc.oneof({ weight: 3, arbitrary: fc.constant(T) }, { weight: 1, arbitrary: fc.constant(U) }),
  strictTopic: fc.boolean(),
  group: fc.oneof({ weight: 4, arbitrary: fc.constant(G) }, { weight: 1, arbitrary: fc.constant(H) }),
  slot: fc.nat(7),
  partition: fc.constantFrom(0, 1),
  fraction: fc.integer({ min: 0, max: 1000 }).map((n) => n / 1000),
  identity: fc.oneof(
    { weight: 3, arbitrary: fc.constantFrom<Scenario['identity']>('generated', 'fresh') },
    { weight: 1, arbitrary: fc.constantFrom<Scenario['identity']>('static', 'static-named') },
  ),
  tamper: fc.oneof(
    { weight: 12, arbitrary: fc.constant<Tamper>('none') },
    {
      weight: 1,
      arbitrary: fc.constantFrom<Tamper>(
        'stale',
        'flip',
        'swap',
        'other',
        'garbage',
        'truncate',
        'reencode',
        'edited',
        'empty-mac',
        'forge-others',
        'forge-expired',
        'forge-group',
        'forge-join',
      ),
    },
    { weight: 2, arbitrary: fc.constant<Tamper>('forge-u') },
  ),
});

/** `session` altered as `tamper` says (`fraction` picks where). */
function tampered(world: World, member: MemberModel, tamper: Tamper, fraction: number): string {
  const token = member.session;
  const [version = '', payload = '', mac = ''] = token.split('.');
  const forged = (edit: (p: SessionPayload) => void) => {
    const p = structuredClone(member.payload);
    edit(p);
    return signSession(world.key, p);
  };
  switch (tamper) {
    case 'none':
      return token;
    case 'stale':
      return member.first;
    case 'flip': {
      const at = Math.min(token.length - 1, Math.floor(fraction * token.length));
      return `${token.slice(0, at)}${token[at] === 'A' ? 'B' : 'A'}${token.slice(at + 1)}`;
    }
    case 'swap':
      return `${version}.${mac}.${payload}`;
    case 'other': {
      const others = world.members.filter((m) => m !== member);
      return others[Math.floor(fraction * others.length) % others.length]!.session;
    }
    case 'garbage':
      return `${token}${['x', '.', '=', ' ', '\n', '.x', '%00'][Math.floor(fraction * 7) % 7]}`;
    case 'truncate':
      return token.slice(0, Math.max(1, Math.min(token.length - 1, Math.floor(fraction * token.length))));
    case 'reencode': {
      // Standard base64 of the same bytes; when that happens to read the same, padded base64url.
      const standard = Buffer.from(payload, 'base64url').toString('base64');
      return `${version}.${standard === payload ? `${payload}=` : standard}.${mac}`;
    }
    case 'edited':
      return `${version}.${Buffer.from(
        Buffer.from(payload, 'base64url')
          .toString('utf8')
          .replaceAll(`"${T}"`, `"${U}"`)
          .replace('"exp":', '"exp":9'),
      ).toString('base64url')}.${mac}`;
    case 'empty-mac':
      return `${version}.${payload}.`;
    case 'forge-u':
      // Signed with the server's key: only the lease check against DynamoDB stands in the way.
      return forged((p) => {
        p.tp = [...new Set([...p.tp, U])].sort();
        const epoch = Math.floor(fraction * 4);
        for (let partition = 0; partition < PARTITIONS; partition++) {
          if (!p.held.some(([topic, pt]) => topic === U && pt === partition)) {
            p.held.push([U, partition, world.incarnationOfU, epoch, null, 'owned']);
          }
        }
      });
    case 'forge-others':
      return forged((p) => {
        for (const other of membersOf(world, member.group)) {
          if (other === member) continue;
          for (const lease of other.payload.held) {
            if (p.tp.includes(lease[0]) && !p.held.some(([t, pt]) => t === lease[0] && pt === lease[1])) {
              p.held.push(lease);
            }
          }
        }
      });
    case 'forge-expired':
      return forged((p) => {
        p.exp = p.iat;
      });
    case 'forge-group':
      return forged((p) => {
        p.g = p.g === G ? H : G;
      });
    case 'forge-join':
      return forged((p) => {
        p.j = randomBytes(16).toString('base64url');
      });
  }
}

/** The topic a group consume reads: the scenario's when it is strict or subscribed, else the member's first. */
function consumedTopic(world: World, s: Scenario): string {
  const member = memberOf(world, s.group, s.slot);
  return s.strictTopic || member.payload.tp.includes(s.topic) ? s.topic : member.payload.tp[0]!;
}

/** The `k`-th lease a member holds (of `topic` when given), or a made-up one when it holds none. */
function heldLease(world: World, s: Scenario, k: number, topic?: string): SessionLease {
  const member = memberOf(world, s.group, s.slot);
  const held = member.payload.held.filter((l) => topic === undefined || l[0] === topic);
  return held[k % Math.max(1, held.length)] ?? [topic ?? T, k % PARTITIONS, '', 0, null, 'owned'];
}

const constant = <V>(value: V): fc.Arbitrary<V> => fc.constant(value);

/**
 * Values of one case that the schemas cannot make meaningful: names from the world, the member's
 * session (possibly tampered), epochs and offsets it holds. Positions without a hint are
 * generated from the schema alone.
 */
function hintsFor(operationId: string, s: Scenario, complete = false): Hints<World> {
  /** An optional value, left out `omitWeight` times in `omitWeight + 1` (never in a complete request). */
  const maybe = <V>(value: fc.Arbitrary<V>, omitWeight = 1): fc.Arbitrary<V | typeof OMIT> =>
    complete
      ? value
      : fc.oneof(
          { weight: omitWeight, arbitrary: constant<typeof OMIT>(OMIT) },
          { weight: 1, arbitrary: value },
        );
  const member = new Ref<World>(
    `member ${s.slot} of ${s.group}`,
    (w) => memberOf(w, s.group, s.slot).memberId,
  );
  /** A member that may leave: one the test joined (a world member only in a request meant to fail). */
  const leaverOf = (w: World): MemberModel | undefined => {
    const joined = membersOf(w, s.group).filter((m) => !m.original);
    return joined[s.slot % Math.max(1, joined.length)];
  };
  const leaver = new Ref<World>(
    `a joined member of ${s.group}`,
    (w) => leaverOf(w)?.memberId ?? 'nobody',
    'valid',
  );
  const session = new Ref<World>(
    `session of member ${s.slot} of ${s.group}${s.tamper === 'none' ? '' : ` (${s.tamper})`}`,
    (w) => {
      if (operationId === 'leaveGroup') {
        const m = leaverOf(w);
        return m ? tampered(w, m, s.tamper, s.fraction) : memberOf(w, s.group, 0).session;
      }
      return tampered(w, memberOf(w, s.group, s.slot), s.tamper, s.fraction);
    },
    operationId === 'leaveGroup' ? 'any' : TAMPER_LABEL[s.tamper],
  );
  const lease = (k: number, topic?: (w: World) => string) =>
    new Ref<World>(`lease ${k}`, (w) => heldLease(w, s, k, topic?.(w))[1]);
  const leaseTopic = (k: number) => new Ref<World>(`topic of lease ${k}`, (w) => heldLease(w, s, k)[0]);
  const leaseEpoch = (k: number) => new Ref<World>(`epoch of lease ${k}`, (w) => heldLease(w, s, k)[3]);
  const leaseOffset = (k: number, fraction: number, topic?: (w: World) => string) =>
    new Ref<World>(`an offset of lease ${k}`, (w) => {
      const [t, partition] = heldLease(w, s, k, topic?.(w));
      return offsetIn(w, t, partition, fraction);
    });
  const staticId = `static-${s.slot % 2}`;
  const highWatermark = (w: World) => w.hw.get(`${s.topic}/${s.partition}`) ?? 0;
  const fraction = fc.integer({ min: 0, max: 1000 }).map((n) => n / 1000);
  const shortText = fc.string({ maxLength: 12 });

  return (at) => {
    switch (at) {
      case 'path.topic':
        return operationId === 'consumeGroup'
          ? constant(new Ref<World>(`a topic of member ${s.slot}`, (w) => consumedTopic(w, s)))
          : constant(s.topic);
      case 'path.partition':
        return constant(s.partition);
      case 'path.group':
        return constant(s.group);
      case 'path.member':
        return constant(operationId === 'leaveGroup' ? leaver : member);
      case 'query.offset':
        return constant(new Ref<World>('an offset', (w) => offsetIn(w, s.topic, s.partition, s.fraction)));
      case 'query.maxWaitMs':
      case 'body.maxWaitMs':
        // Long-polls on an idle partition would only add wall time; the range's edges are mutations.
        return maybe(fc.integer({ min: 0, max: 20 }));
      case 'body.session':
        return constant(session);
      case 'body.memberId':
        if (operationId !== 'joinGroup') return constant(member);
        // A static member's id is its instance id: naming both differently is refused.
        return s.identity === 'fresh'
          ? constant(new Ref<World>('a fresh member id', (w) => `m-gen-${w.fresh++}`))
          : s.identity === 'static-named'
            ? constant(staticId)
            : constant<typeof OMIT>(OMIT);
      case 'body.instanceId':
        return s.identity === 'static' || s.identity === 'static-named'
          ? constant(staticId)
          : constant<typeof OMIT>(OMIT);
      case 'body.topics':
        // Joining G naming U is allowed (docs/deploy.md); reading U through it must not be.
        return s.topic === U ? fc.constantFrom([U], [T, U]) : fc.constantFrom([T], [T, T], [T, U]);
      case 'body.sessionTimeoutMs':
        // Long sessions: nobody expires during the run, so what happens depends on requests, not time.
        return fc.integer({ min: 60_000, max: 300_000 });
      case 'body.release[]':
        return fc.oneof(
          fc.nat(7).map((k) => ({ topic: leaseTopic(k), partition: lease(k) })),
          constant({ topic: U, partition: s.partition }),
        );
      case 'body.offsets[]':
        return fc.oneof(
          fc.tuple(fc.nat(7), fraction, maybe(shortText, 3)).map(([k, f, metadata]) => ({
            topic: leaseTopic(k),
            partition: lease(k),
            offset: leaseOffset(k, f),
            epoch: leaseEpoch(k),
            ...(metadata === OMIT ? {} : { metadata }),
          })),
          fc
            .tuple(fc.constantFrom(0, 1), fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 3 }))
            .map(([partition, offset, epoch]) => ({ topic: U, partition, offset, epoch })),
        );
      case 'body.positions[]': {
        const topic = (w: World) => consumedTopic(w, s);
        return fc
          .tuple(fc.nat(7), fraction)
          .map(([k, f]) => ({ partition: lease(k, topic), offset: leaseOffset(k, f, topic) }));
      }
      case 'body.records[].partition':
        return maybe(fc.constantFrom(0, 1));
      case 'body.records[].value':
        return fc.oneof(shortText, constant(null));
      case 'body.records[].key':
        return maybe(fc.oneof(shortText, constant(null)));
      case 'body.records[].timestamp':
        return maybe(fc.integer({ min: 0, max: 2_000_000_000_000 }), 3);
      case 'body.encoding':
        return operationId === 'produce' ? maybe(constant('utf8'), 3) : undefined;
      case 'body.expectedOffset':
        // The partition's end, or a stale one (CONCURRENT_APPEND, which must write nothing).
        return maybe(
          fc.oneof(
            { weight: 3, arbitrary: constant(new Ref<World>('the high watermark', (w) => highWatermark(w))) },
            {
              weight: 1,
              arbitrary: fc
                .constantFrom(-1, 1)
                .map(
                  (d) => new Ref<World>('a stale high watermark', (w) => Math.max(0, highWatermark(w) + d)),
                ),
            },
          ),
          2,
        );
      case 'body.producer.id':
        return constant(new Ref<World>('a fresh producer id', (w) => String(1_000_000 + w.fresh++)));
      case 'body.producer.epoch':
        return maybe(fc.integer({ min: 0, max: 2 }));
      case 'body.producer.sequences[]':
        // A new id starts at sequence 0; any other is OUT_OF_ORDER_SEQUENCE, which must write nothing.
        return fc
          .oneof(
            { weight: 3, arbitrary: constant(0) },
            { weight: 1, arbitrary: fc.integer({ min: 1, max: 5 }) },
          )
          .map((sequence) => ({ partition: s.partition, sequence }));
      case 'body.topic':
        return fc.oneof(
          { weight: 3, arbitrary: constant(new Ref<World>('a fresh topic', (w) => `scratch-${w.fresh++}`)) },
          { weight: 1, arbitrary: constant(T) },
        );
      case 'body.partitions':
        return maybe(fc.integer({ min: 1, max: 3 }));
      case 'body.totalPartitions':
        return fc.integer({ min: PARTITIONS + 1, max: 4 });
      case 'path.trigger':
        // No trigger exists in the world: every trigger route but the listing is a refusal here.
        return constant('no-such-trigger');
      case 'body.name':
        return constant(new Ref<World>('a fresh trigger name', (w) => `gen-trigger-${w.fresh++}`));
      case 'body.functionName':
        return constant('recorder');
      default:
        return undefined;
    }
  };
}

/** Strings the schemas leave open but the API checks as names. */
function namesAt(at: string): RegExp | undefined {
  // Group ids have the member ids' alphabet (sdk/src/groups/lease-store.ts, LEGAL_GROUP_ID).
  if (at === 'path.group') return LEGAL_MEMBER_ID;
  if (at === 'path.topic' || at === 'body.topics[]') return LEGAL_TOPIC_NAME;
  return undefined;
}

/**
 * Generator coverage per operation: how its valid requests may be sent. An operation of the
 * document missing here fails the test (write its hints above and add it).
 */
const COVERAGE: Readonly<Record<string, { readonly invalidOnly: boolean }>> = {
  getOpenApi: { invalidOnly: false },
  listTopics: { invalidOnly: false },
  createTopic: { invalidOnly: false },
  describeTopic: { invalidOnly: false },
  // Valid requests would delete or reshape the world's topics and groups: only refusals are sent.
  deleteTopic: { invalidOnly: true },
  alterTopicConfigs: { invalidOnly: true },
  createPartitions: { invalidOnly: true },
  produce: { invalidOnly: false },
  fetch: { invalidOnly: false },
  partitionOffsets: { invalidOnly: false },
  listGroups: { invalidOnly: false },
  describeGroup: { invalidOnly: false },
  deleteGroup: { invalidOnly: true },
  joinGroup: { invalidOnly: false },
  heartbeat: { invalidOnly: false },
  leaveGroup: { invalidOnly: false },
  commitOffsets: { invalidOnly: false },
  consumeGroup: { invalidOnly: false },
  listTriggers: { invalidOnly: false },
  // A trigger would start delivering the world's topics: only refusals are sent.
  createTrigger: { invalidOnly: true },
  describeTrigger: { invalidOnly: true },
  updateTrigger: { invalidOnly: true },
  deleteTrigger: { invalidOnly: true },
};

// ---------- routing and IAM as the test models them ----------

/** The route a request reaches and its decoded parameters (undefined when a parameter cannot be decoded). */
interface Routed {
  readonly operation: DocOperation;
  readonly params: Readonly<Record<string, string>> | undefined;
}

/** The path as the server and the SigV4 signer read it: dot segments resolved (WHATWG URL). */
function resolvedPath(path: string): string {
  return new URL(`http://localhost${path}`).pathname;
}

function decodeOr(text: string): string | undefined {
  try {
    return decodeURIComponent(text);
  } catch {
    return undefined;
  }
}

function routeOf(operations: readonly DocOperation[], method: string, path: string): Routed | undefined {
  const segments = resolvedPath(path).split('/');
  for (const operation of operations) {
    if (operation.method !== method) continue;
    const template = operation.path.split('/');
    if (template.length !== segments.length) continue;
    const params: Record<string, string> = {};
    let matches = true;
    let decodable = true;
    for (const [i, part] of template.entries()) {
      const segment = segments[i]!;
      const name = /^\{(\w+)\}$/.exec(part)?.[1];
      if (name === undefined) {
        if (part !== segment) matches = false;
      } else if (segment === '') {
        matches = false;
      } else {
        const decoded = decodeOr(segment);
        if (decoded === undefined) decodable = false;
        else params[name] = decoded;
      }
    }
    if (matches) return { operation, params: decodable ? params : undefined };
  }
  return undefined;
}

/**
 * The access classes `grantConsume` includes (`CONSUME_ACCESS` in infra/api.ts), and the execute-api
 * resources it grants for topic T and group G: each route's path with `{topic}` → T, `{group}` → G
 * and every other parameter → `*`, which in IAM matches any characters, `/` included.
 */
const GRANTED_ACCESS = ['public', 'describe', 'consume', 'group', 'group-consume'];

function grantedPatterns(operations: readonly DocOperation[]): { method: string; pattern: RegExp }[] {
  return operations
    .filter((op) => GRANTED_ACCESS.includes(op.access))
    .map((op) => {
      const path = op.path.replace(/\{(\w+)\}/g, (_m, name: string) =>
        name === 'topic' ? T : name === 'group' ? G : '*',
      );
      const source = path
        .split('*')
        .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
        .join('[\\s\\S]*');
      return { method: op.method, pattern: new RegExp(`^${source}$`) };
    });
}

// ---------- checks ----------

/** What a principal granted T and G must never see of U. */
interface Secrets {
  /** Record keys, values and header values of U, as sent in UTF-8 and as base64; header names. */
  readonly markers: readonly string[];
}

function secretsOf(): Secrets {
  const markers: string[] = [];
  for (let i = 0; i < PARTITIONS * RECORDS_PER_PARTITION; i++) {
    const r = U_RECORD(i);
    for (const text of [r.key, r.value, ...Object.values(r.headers)]) {
      markers.push(text, Buffer.from(text).toString('base64'));
    }
    markers.push(...Object.keys(r.headers));
  }
  return { markers };
}

/** What the caller itself sent, as text: path and query decoded, the body, and its sessions' payloads. */
function inputText(request: WireRequest): string {
  const body = request.body?.toString('utf8') ?? '';
  const payloads = [...body.matchAll(/t1\.([A-Za-z0-9_-]+)/g)].map((m) =>
    Buffer.from(m[1]!, 'base64url').toString('utf8'),
  );
  return [
    decodeOr(request.path) ?? request.path,
    decodeOr(request.query) ?? request.query,
    body,
    ...payloads,
  ].join('\n');
}

/**
 * The positions where group G's own state may name U (docs/deploy.md, "How group routes and topic
 * grants combine"): a member's assignment and lost partitions, the group's partitions (leases,
 * committed offsets, lag) and its members' subscriptions. They are blanked before looking for U.
 */
function withoutGroupState(operationId: string, body: unknown): unknown {
  if (body === null || typeof body !== 'object') return body;
  const copy = structuredClone(body) as Record<string, unknown>;
  const blank = (list: unknown, field: string) => {
    if (!Array.isArray(list)) return;
    for (const entry of list)
      if (entry && typeof entry === 'object' && field in entry)
        (entry as Record<string, unknown>)[field] = '';
  };
  if (operationId === 'joinGroup' || operationId === 'heartbeat') {
    blank(copy.assignment, 'topic');
    blank(copy.lost, 'topic');
    copy.session = '';
  }
  if (operationId === 'describeGroup') {
    blank(copy.partitions, 'topic');
    if (Array.isArray(copy.members)) {
      for (const m of copy.members as Record<string, unknown>[]) m.topics = [];
    }
  }
  return copy;
}

/** Why the exchange broke the grant invariant, or undefined. */
function leakOf(
  secrets: Secrets,
  world: World,
  request: WireRequest,
  response: WireResponse,
  routed: Routed | undefined,
): string | undefined {
  for (const marker of secrets.markers) {
    if (response.text.includes(marker))
      return `the response carries U's record data ${JSON.stringify(marker)}`;
  }
  const input = inputText(request);
  if (
    world.incarnationOfU &&
    response.text.includes(world.incarnationOfU) &&
    !input.includes(world.incarnationOfU)
  ) {
    return "the response carries U's incarnation";
  }
  if (!response.text.includes(U)) return undefined;
  if (response.status >= 400) {
    return input.includes(U) ? undefined : 'an error names U though the request did not';
  }
  let body: unknown;
  try {
    body = JSON.parse(response.text);
  } catch {
    return 'the response names U';
  }
  const rest = JSON.stringify(withoutGroupState(routed?.operation.operationId ?? '', body));
  return rest.includes(U)
    ? `a ${routed?.operation.operationId ?? 'unrouted'} response names U outside G's own state`
    : undefined;
}

/** `ErrorCode`'s members: `STATUS_OF` is a `Record<ErrorCode, number>`, so its keys are exactly them. */
const ERROR_CODES: ReadonlySet<string> = new Set(Object.keys(STATUS_OF));

/** Everything wrong with one response, as sentences (empty when it is right). */
function problemsOf(
  request: WireRequest,
  label: Label,
  response: WireResponse,
  routed: Routed | undefined,
): string[] {
  const problems: string[] = [];
  const { status } = response;
  if (status >= 500 || status < 200 || (status >= 300 && status < 400)) {
    problems.push(`status ${status} for generated input`);
    return problems;
  }
  let body: unknown;
  if (response.text !== '') {
    try {
      body = JSON.parse(response.text);
    } catch {
      problems.push('the body is not JSON');
      return problems;
    }
  }
  if (status >= 400) {
    const envelope = body as { error?: Record<string, unknown>; message?: unknown } | undefined;
    const error = envelope?.error;
    if (!error || typeof error !== 'object') problems.push('a 4xx without the error envelope');
    else {
      if (typeof error.code !== 'string' || error.code === '')
        problems.push('error.code is not a non-empty string');
      else if (!ERROR_CODES.has(error.code)) problems.push(`error.code ${error.code} is not an ErrorCode`);
      else if (STATUS_OF[error.code as keyof typeof STATUS_OF] !== status) {
        problems.push(
          `error.code ${error.code} maps to ${STATUS_OF[error.code as keyof typeof STATUS_OF]}, not ${status}`,
        );
      }
      if (typeof error.message !== 'string') problems.push('error.message is not a string');
      if (typeof error.retriable !== 'boolean') problems.push('error.retriable is not a boolean');
    }
    const extra = Object.keys(envelope ?? {}).filter((k) => k !== 'error' && k !== 'message');
    if (extra.length > 0) problems.push(`unexpected top-level keys ${extra.join(', ')}`);
    if (envelope?.message !== undefined && typeof envelope.message !== 'string')
      problems.push('message is not a string');
    // Refusals only the gateway makes (signature, header size) also carry API Gateway's own message.
    if (
      (status === 403 || status === 431) &&
      (typeof envelope?.message !== 'string' || envelope.message === '')
    ) {
      problems.push(`a ${status} without API Gateway's message`);
    }
    if (label === 'valid' && request.method === 'GET')
      problems.push('a valid request of a read-only route was refused');
    return problems;
  }
  if (label === 'invalid') problems.push(`an invalid request was accepted (${status})`);
  if (!routed) {
    problems.push(`a 2xx for a request that matches no route`);
    return problems;
  }
  const { operation } = routed;
  if (status !== operation.successStatus)
    problems.push(`status ${status}, documented ${operation.successStatus}`);
  const contract: OperationContract | undefined = CONTRACT[operation.operationId as OperationId];
  const schema = contract?.response;
  if (schema) {
    const parsed = schema.safeParse(body);
    if (!parsed.success)
      problems.push(`the body does not match the response schema: ${parsed.error.message.slice(0, 500)}`);
  } else if (response.text !== '') problems.push('a body on a no-content response');
  return problems;
}

function show(request: WireRequest, response?: WireResponse): string {
  const body = request.body;
  const shownBody =
    body === undefined
      ? '(none)'
      : body.length > 2000
        ? `${JSON.stringify(body.subarray(0, 2000).toString('latin1'))}… (${body.length} bytes)`
        : JSON.stringify(body.toString('latin1'));
  return [
    `  ${request.method} ${request.path.slice(0, 2000)}${request.query ? `?${request.query.slice(0, 2000)}` : ''}`,
    `  content-type: ${request.contentType ?? '(none)'}${request.signed === false ? ', unsigned' : ''}`,
    `  body: ${shownBody}`,
    ...(response ? [`  → ${response.status} ${response.text.slice(0, 2000)}`] : []),
  ].join('\n');
}

// ---------- the test ----------

const SEED = Number(process.env.TEST_SEED ?? 20_260_601);
const RUNS = Number(process.env.TEST_RUNS ?? 400);

describe('the HTTP API under generated input (every route of the OpenAPI document)', () => {
  let server: ApiServer;
  let ddb: DynamoDBClient;
  let snapshotter: TableSnapshotter;
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const operations = operationsOf(openApiDocument());
  const granted = grantedPatterns(operations);
  const secrets = secretsOf();
  const world: World = { key: randomBytes(32), members: [], hw: new Map(), incarnationOfU: '', fresh: 0 };

  const send = (request: WireRequest) => sendWire(server.url, request, agent);
  const json = (method: string, path: string, body?: unknown): WireRequest => ({
    method,
    path,
    query: '',
    contentType: body === undefined ? undefined : 'application/json',
    body: body === undefined ? undefined : Buffer.from(JSON.stringify(body)),
  });
  async function ok(request: WireRequest): Promise<Record<string, unknown>> {
    const response = await send(request);
    expect(response.status, show(request, response)).toBeLessThan(300);
    return response.text === '' ? {} : (JSON.parse(response.text) as Record<string, unknown>);
  }

  beforeAll(async () => {
    const { endpoint, region, bucket } = testStackConfig();
    const tablePrefix = await freshTablePrefix('gen');
    const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };
    server = await startApiServer({
      connection: { endpoint, region, tablePrefix, bucket, credentials },
      port: 0,
      sessionKey: world.key,
    });
    ddb = new DynamoDBClient({ endpoint, region, credentials });
    const tables = tableNames(tablePrefix);
    snapshotter = new TableSnapshotter(ddb, [tables.log, tables.topics, tables.groups]);

    await ok(json('POST', '/v1/topics', { topic: T, partitions: PARTITIONS }));
    await ok(
      json('POST', '/v1/topics', {
        topic: U,
        partitions: PARTITIONS,
        configs: { 'retention.ms': 123_456_789_012 },
      }),
    );
    for (const topic of [T, U]) {
      const records = Array.from({ length: PARTITIONS * RECORDS_PER_PARTITION }, (_, i) => ({
        ...(topic === U
          ? U_RECORD(i)
          : { key: `t-key-${i}`, value: `t-value-${i}`, headers: { 't-header': `t-${i}` } }),
        partition: i % PARTITIONS,
      }));
      await ok(json('POST', `/v1/topics/${topic}/records`, { records, encoding: 'utf8' }));
      for (let p = 0; p < PARTITIONS; p++) world.hw.set(`${topic}/${p}`, RECORDS_PER_PARTITION);
    }
    world.incarnationOfU = String((await ok(json('GET', `/v1/topics/${U}`))).incarnation);
    for (const [group, memberId] of [
      [G, 'member-w'],
      [H, 'member-x'],
    ] as const) {
      const joined = await ok(
        json('POST', `/v1/groups/${group}/members`, { topics: [T], memberId, sessionTimeoutMs: 300_000 }),
      );
      learn(world, String(joined.session), true);
      const assignment = joined.assignment as { topic: string; partition: number; epoch: number }[];
      expect(assignment).toHaveLength(PARTITIONS);
      await ok(
        json('POST', `/v1/groups/${group}/offsets`, {
          memberId,
          session: joined.session,
          offsets: assignment.map((l) => ({
            topic: l.topic,
            partition: l.partition,
            offset: 1 + l.partition,
            epoch: l.epoch,
          })),
        }),
      );
    }
    baseline = await snapshotter.snapshot();
  });

  afterAll(async () => {
    await server?.stop();
    agent.destroy();
    ddb?.destroy();
  });

  it('covers every route of ROUTES with generators', () => {
    const documented = new Set(operations.map((op) => `${op.method} ${op.path}`));
    const undocumented = ROUTES.filter((r) => !documented.has(`${r.method} ${r.path}`));
    const uncovered = ROUTES.filter((r) => COVERAGE[r.operationId] === undefined).map((r) => r.operationId);
    const stray = operations
      .filter((op) => COVERAGE[op.operationId] === undefined)
      .map((op) => op.operationId);
    expect(undocumented, 'routes missing from the OpenAPI document').toEqual([]);
    expect([...new Set([...uncovered, ...stray])], 'operations without generator hints in this test').toEqual(
      [],
    );
  });

  /** Per operation: requests meant invalid, refusals, valid reads answered. */
  const stats = new Map<
    string,
    { invalid: number; refused: number; accepted: number; valid2xx: number; principal: number }
  >();
  const stat = (id: string) => {
    const known = stats.get(id);
    if (known) return known;
    const fresh = { invalid: 0, refused: 0, accepted: 0, valid2xx: 0, principal: 0 };
    stats.set(id, fresh);
    return fresh;
  };
  const attacks = { joinNamingU: 0, sessionsClaimingU: 0, consumedT: 0, groupStateShowedU: 0 };
  /** The tables as the world left them: what every refused request must leave unchanged. */
  let baseline: TableSnapshot;
  /** Requests sent since `baseline` that must not have written anything. */
  let pending: { request: WireRequest; response: WireResponse }[] = [];

  /** Finds which of `candidates` changes the tables: restore, replay half, compare. */
  async function culpritOf(candidates: typeof pending, current: TableSnapshot): Promise<string> {
    let suspects = candidates;
    let now = current;
    while (suspects.length > 1) {
      const half = suspects.slice(0, Math.ceil(suspects.length / 2));
      await snapshotter.restore(now, baseline);
      for (const { request } of half) await send(request);
      now = await snapshotter.snapshot();
      suspects = TableSnapshotter.diff(baseline, now).length > 0 ? half : suspects.slice(half.length);
    }
    await snapshotter.restore(now, baseline);
    const [suspect] = suspects;
    if (!suspect) return 'no single request reproduces the change on its own';
    const replay = await send(suspect.request);
    const after = await snapshotter.snapshot();
    const changes = TableSnapshotter.diff(baseline, after);
    await snapshotter.restore(after, baseline);
    return changes.length > 0
      ? `this request, replayed alone, changed ${changes.length} item(s):\n${show(suspect.request, replay)}\n${JSON.stringify(changes.slice(0, 5), null, 1)}`
      : `the change needs several of the batch's requests; the last candidate was:\n${show(suspect.request, suspect.response)}`;
  }

  async function flush(): Promise<void> {
    if (pending.length === 0) return;
    const now = await snapshotter.snapshot();
    const changes = TableSnapshotter.diff(baseline, now);
    if (changes.length > 0) {
      const culprit = await culpritOf(pending, now);
      throw new Error(
        `Refused requests wrote to the tables (${changes.length} item(s) changed, e.g. ${JSON.stringify(changes[0])}).\n${culprit}`,
      );
    }
    pending = [];
  }

  async function run(c: GeneratedCase<World>): Promise<void> {
    const { request, label } = c.build(world);
    const routed = routeOf(operations, request.method, request.path);
    const target = routed?.operation ?? c.operation;
    const mayWrite = label !== 'invalid' && target.method !== 'GET';
    if (mayWrite) await flush();
    const response = await send(request);
    const problems = problemsOf(request, label, response, routed);
    const principal = granted.some(
      (g) => g.method === request.method && pathForms(request.path).some((p) => g.pattern.test(p)),
    );
    if (principal) {
      stat(target.operationId).principal++;
      const leak = leakOf(secrets, world, request, response, routed);
      if (leak) problems.push(`grant invariant: ${leak}`);
      const input = inputText(request);
      if (response.status < 300 && routed && response.text.includes(U)) attacks.groupStateShowedU++;
      if (target.operationId === 'joinGroup' && input.includes(U) && response.status === 200)
        attacks.joinNamingU++;
      // A session (forged with the server's key) that claims a lease of U.
      if (input.includes(`["${U}",`)) attacks.sessionsClaimingU++;
      if (
        target.operationId === 'consumeGroup' &&
        response.status === 200 &&
        response.text.includes('"records":[{')
      ) {
        attacks.consumedT++;
      }
    }
    if (problems.length > 0) {
      throw new Error(
        `${problems.join('; ')} (label ${label}${principal ? ', sent as the principal granted T and G' : ''})\n${show(request, response)}\ncase: ${String(c).slice(0, 3000)}`,
      );
    }
    const s = stat(target.operationId);
    if (label === 'invalid') s.invalid++;
    if (response.status >= 400) s.refused++;
    else {
      s.accepted++;
      if (label === 'valid' && target.method === 'GET') s.valid2xx++;
    }
    if (mayWrite) {
      const after = await snapshotter.snapshot();
      if (response.status >= 400) {
        const changes = TableSnapshotter.diff(baseline, after);
        if (changes.length > 0) {
          throw new Error(
            `A refused request wrote to the tables (${changes.length} item(s), e.g. ${JSON.stringify(changes[0])}):\n${show(request, response)}\ncase: ${String(c).slice(0, 3000)}`,
          );
        }
      }
      baseline = after;
    } else {
      pending.push({ request, response });
    }
    if (response.status < 300 && routed) observe(routed, response);
  }

  /** Keeps the world model up to date with what the API accepted. */
  function observe(routed: Routed, response: WireResponse): void {
    const id = routed.operation.operationId;
    if (id === 'joinGroup' || id === 'heartbeat') {
      learn(world, String((JSON.parse(response.text) as { session: string }).session));
    } else if (id === 'leaveGroup' && routed.params) {
      const { group, member } = routed.params;
      const at = world.members.findIndex((m) => m.group === group && m.memberId === member);
      if (at >= 0) world.members.splice(at, 1);
    } else if (id === 'produce') {
      const { topic, records } = JSON.parse(response.text) as {
        topic: string;
        records: { partition: number; offset: number }[];
      };
      for (const r of records) {
        const key = `${topic}/${r.partition}`;
        world.hw.set(key, Math.max(world.hw.get(key) ?? 0, r.offset + 1));
      }
    }
  }

  const optionsFor = (operation: DocOperation, s: Scenario, complete = false) => ({
    hints: hintsFor(operation.operationId, s, complete),
    names: namesAt,
    methodsOfPath: operations.filter((o) => o.path === operation.path).map((o) => o.method),
    invalidOnly: COVERAGE[operation.operationId]?.invalidOnly ?? true,
  });

  /** Starts comparing from the tables as they are (after a failed test left requests unaccounted). */
  async function resync(): Promise<void> {
    baseline = await snapshotter.snapshot();
    pending = [];
  }

  /** Runs cases in batches: the tables are compared after each batch of refusals. */
  async function runAll(cases: readonly GeneratedCase<World>[], batch = 6): Promise<void> {
    for (let i = 0; i < cases.length; i += batch) {
      for (const c of cases.slice(i, i + batch)) await run(c);
      await flush();
    }
  }

  /**
   * Runs cases like {@link runAll}, but a failing batch is recorded and the rest still run (from
   * the tables as the failure left them), so one run reports every distinct violation.
   */
  async function runEach(
    cases: readonly GeneratedCase<World>[],
    failures: Map<string, string>,
  ): Promise<void> {
    for (let i = 0; i < cases.length; i += 6) {
      try {
        await runAll(cases.slice(i, i + 6));
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        // One entry per kind of violation and route: the first line names both.
        const kind = `${message.split('\n')[0]!.replace(/\d+/g, '#').slice(0, 160)} ${/^case: (\w+)/m.exec(message)?.[1] ?? ''}`;
        if (!failures.has(kind)) failures.set(kind, message);
        await resync();
      }
    }
  }

  it('sweeps every position and kind of change of every operation, and every tampered session', async () => {
    await resync();
    // Two requests per operation, each with every optional position present: as the world's
    // member of G on T, and as that member going for U; every mutation family of each.
    const [scenario] = fc.sample(scenarioArb, { seed: SEED, numRuns: 1 });
    const plain: Scenario = { ...scenario!, tamper: 'none', group: G, slot: 0, topic: T, identity: 'fresh' };
    const bases: Scenario[] = [plain, { ...plain, topic: U, strictTopic: true, identity: 'generated' }];
    const failures = new Map<string, string>();
    for (const [i, operation] of operations.entries()) {
      for (const [b, scenario] of bases.entries()) {
        const cases = sweepCases(
          operation,
          optionsFor(operation, scenario, true),
          SEED + i * bases.length + b,
        );
        await runEach(cases, failures);
      }
    }
    // Sessions: each way of tampering, on each operation that takes one, with a request otherwise valid.
    for (const [i, operation] of operations.entries()) {
      if (!operation.body?.properties?.session) continue;
      const tampers = Object.keys(TAMPER_LABEL) as Tamper[];
      await runEach(
        tampers.map((tamper) =>
          completeCase(operation, optionsFor(operation, { ...plain, tamper }, true), SEED + i),
        ),
        failures,
      );
    }
    if (failures.size > 0) {
      throw new Error(
        `${failures.size} kind(s) of violation:\n\n${[...failures.values()].map((m) => m.slice(0, 4000)).join('\n\n')}`,
      );
    }
  }, 120_000);

  it('holds the invariants for every generated batch of requests (fast-check, TEST_SEED)', async () => {
    await resync();
    const caseArb: fc.Arbitrary<GeneratedCase<World>> = fc
      .constantFrom(...operations)
      .chain((operation) =>
        scenarioArb.chain((s) => caseArbitrary<World>(operation, optionsFor(operation, s))),
      );

    try {
      await fc.assert(
        fc.asyncProperty(fc.array(caseArb, { minLength: 1, maxLength: 6 }), async (batch) => {
          await runAll(batch, batch.length);
        }),
        { seed: SEED, numRuns: RUNS, endOnFailure: true },
      );
    } catch (error) {
      console.error(`generated-input failed; replay with TEST_SEED=${SEED} TEST_RUNS=${RUNS}`);
      throw error;
    }
  }, 180_000);

  it('attacked every operation, read every read-only one, and tried every way to U as the principal', () => {
    // Every operation was attacked and refused; every read-only one answered valid requests.
    for (const operation of operations) {
      const s = stat(operation.operationId);
      expect(s.invalid, `invalid requests of ${operation.operationId}`).toBeGreaterThan(0);
      expect(s.refused, `refusals of ${operation.operationId}`).toBeGreaterThan(0);
      if (operation.method === 'GET' && !COVERAGE[operation.operationId]?.invalidOnly)
        expect(s.valid2xx, `valid reads of ${operation.operationId}`).toBeGreaterThan(0);
      // The valid requests are meaningful: every operation that is sent them also succeeded.
      if (!COVERAGE[operation.operationId]?.invalidOnly) {
        expect(s.accepted, `accepted requests of ${operation.operationId}`).toBeGreaterThan(0);
      }
      if (GRANTED_ACCESS.includes(operation.access)) {
        expect(s.principal, `requests of ${operation.operationId} as the principal`).toBeGreaterThan(0);
      }
    }
    // The principal really tried for U: it joined G naming U, sent forged sessions claiming U's
    // leases, and still read T's records through the group.
    expect(attacks.joinNamingU, 'joins of G naming U accepted').toBeGreaterThan(0);
    expect(attacks.sessionsClaimingU, 'requests carrying sessions that claim U').toBeGreaterThan(0);
    expect(attacks.consumedT, "group consumes that returned T's records").toBeGreaterThan(0);
    console.info(
      `generated-input: seed ${SEED}, ${RUNS} batches; principal attempts ${JSON.stringify(attacks)}; per operation ${JSON.stringify(Object.fromEntries(stats))}`,
    );
  });
});

/** The forms of a request path IAM might compare with a resource: as resolved, and with each segment decoded. */
function pathForms(path: string): string[] {
  const resolved = resolvedPath(path);
  const decoded = resolved
    .split('/')
    .map((segment) => decodeOr(segment) ?? segment)
    .join('/');
  return [resolved, decoded];
}
