/**
 * The replicator of a multi-region local stack: it makes the regions' DynamoDB Locals behave like
 * one MREC (multi-region eventual consistency) global table per Tributary table. It is a simulation
 * on one machine, in the stack's own process.
 *
 * What it reproduces of DynamoDB global tables (MREC):
 * - Replication is asynchronous and item by item: each change read from a region's stream (new and
 *   old images, as global tables require) is written into every other region (PutItem of the new
 *   image, DeleteItem for a REMOVE) after its own delay, drawn around a configurable lag. Items
 *   overtake one another; one item's versions reach a region in the order they were written.
 * - Last writer wins per item: every region ends with the version written last. The write time is
 *   when the replicator read the write from its region's stream (AWS stamps it in the region when it
 *   is made); equal times go to the region whose name sorts last. A delivered version older than
 *   what a region holds is skipped.
 * - Each region evaluates conditions against its own copy: conditional writes in two regions can
 *   both succeed, and one of them is then overwritten (the reason Tributary appends in a topic's
 *   home region only).
 * - No cross-region transactions: a transaction's items replicate individually, with their own
 *   delays, so another region can see part of a transaction for a while.
 * - No loops: the replicator's own writes, read back from the target's stream, are not replicated.
 * - A region can be cut off both ways (`pause`): nothing replicates into or out of it; writes made
 *   meanwhile on either side replicate after `resume`, and conflicting ones resolve by last writer
 *   wins. The replicator keeps reading a paused region's streams, so its writes are stamped when
 *   they are made, not when the region comes back.
 *
 * What it does not reproduce:
 * - AWS's timestamps and lag: write times are the replicator's reading times (to within its poll
 *   interval), and the lag is whatever is configured, not AWS's (usually within a second, AWS says).
 * - The atomicity of AWS's conflict check. A delivery can land on a client's write the replicator
 *   has not read yet; it sees that in what the write replaced (`ALL_OLD`) and puts the client's
 *   write back at once, so a reader can see the delivered version for a few milliseconds.
 * - TTL: a TTL delete replicates as a plain REMOVE (the replicas' stream records do not carry the
 *   TTL service identity).
 * - S3: the stack's regions share one S3 emulator and one bucket (in AWS the archive bucket
 *   replicates separately). Lambda is shared as well.
 * - Throughput, replicated write units and their cost, throttling of replication, and adding a
 *   replica to a table that holds data (the stack's tables start empty). MRSC (strong consistency)
 *   is the stack's other mode, without a replicator (`strong-consistency.ts`).
 *
 * It keeps, for as long as it runs, the stamp and a digest of every item it has seen written in
 * each region (what last writer wins compares), and nothing of its deliveries once they are done.
 */
import { randomInt } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { DeleteItemCommand, DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { type _Record, DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import { ClientClosedError, InvalidArgumentError, TimeoutError } from '../../sdk/src/index.ts';
import {
  DEFAULT_LAG,
  dueTime,
  InOrderRelease,
  type ReplicationLag,
  replicationDelay,
  validateLag,
} from './delivery-schedule.ts';
import { type ItemImage, imageDigest, itemIdentity, repairStreamImage } from './item-image.ts';
import {
  decideDelivery,
  type HeldVersion,
  laterStamp,
  NEVER_WRITTEN,
  outcomeOfWrite,
  type Stamp,
  stampOfClientWrite,
} from './last-writer-wins.ts';
import { OwnWrites } from './own-writes.ts';
import { type RegionFeed, startRegionFeed } from './region-feed.ts';

export type { ReplicationLag } from './delivery-schedule.ts';

/** `replication` of a stack simulating MREC global tables (`startLocalStack({ replication })`). */
export interface MrecReplicationOptions {
  /**
   * `MREC`: multi-region eventual consistency, last writer wins (see this module's comment).
   * @default 'MREC'
   */
  readonly mode?: 'MREC';
  /** Per-item delay; `replicator.setLag()` changes it later. @default 200 ± 200 ms */
  readonly lag?: ReplicationLag;
  /**
   * Seed of the per-delivery delays: the same seed gives the same delay to the same delivery.
   * @default a random one, readable as `replicator.seed`
   */
  readonly seed?: number;
}

/** One region the replicator connects. */
export interface ReplicatorRegion {
  readonly region: string;
  /** The region's DynamoDB Local (DynamoDB and DynamoDB Streams). */
  readonly dynamodbEndpoint: string;
}

/** Options of {@link startReplicator}. */
export interface ReplicatorOptions extends MrecReplicationOptions {
  /** Two or more regions, the same tables in each. */
  readonly regions: readonly ReplicatorRegion[];
  /** The tables to replicate (physical names, the same in every region), each with a NEW_AND_OLD_IMAGES stream. */
  readonly tables: readonly string[];
  /** Pause between stream reads of a region that found nothing (ms). @default 100 */
  readonly pollIntervalMs?: number;
  /** Credentials to sign with (DynamoDB Local accepts any). @default local/local */
  readonly credentials?: { readonly accessKeyId: string; readonly secretAccessKey: string };
  /** Receives failures (each is retried). @default silent */
  readonly log?: ((line: string) => void) | undefined;
}

/** Counters since the replicator started. */
export interface ReplicationStats {
  /** Clients' writes read from the regions' streams (each is delivered to every other region). */
  readonly observed: number;
  /** Deliveries written into their region. */
  readonly applied: number;
  /** Deliveries not kept because the region held a newer version (last writer wins). */
  readonly skipped: number;
  /**
   * Of `skipped`, deliveries that had landed on a newer client write the replicator had not read
   * yet, which it then put back.
   */
  readonly restored: number;
  /** The replicator's own writes read back from a stream, and not replicated again. */
  readonly echoes: number;
  /** Deliveries not applied or skipped yet: waiting for their delay, being written, or held. */
  readonly pending: number;
  /** Of `pending`, deliveries held because their source or target region is paused. */
  readonly held: number;
  /** The paused regions. */
  readonly paused: readonly string[];
}

/** Options of {@link Replicator.settled}. */
export interface SettleOptions {
  /** How long to wait before failing with TimeoutError (ms). @default 30000 */
  readonly timeoutMs?: number;
}

/** The running MREC replicator of a multi-region local stack (`stack.replicator`). */
export interface Replicator {
  readonly mode: 'MREC';
  /** The regions it connects, the home region first. */
  readonly regions: readonly string[];
  /** The seed of the delivery delays (pass it as `replication.seed` to replay them). */
  readonly seed: number;
  /** The current per-item lag. */
  readonly lag: ReplicationLag;
  /** Changes the lag of deliveries scheduled from now on (those already waiting keep theirs). */
  setLag(lag: ReplicationLag): void;
  /**
   * Cuts `region` off both ways: nothing is written into it, nothing written there reaches the
   * others, until {@link resume}. A delivery already being written completes. Idempotent.
   * @throws InvalidArgumentError for a region the replicator does not connect.
   */
  pause(region: string): void;
  /**
   * Reconnects `region`: what was held replicates, each delivery after a fresh delay, conflicts
   * resolving by last writer wins. Idempotent.
   * @throws InvalidArgumentError for a region the replicator does not connect.
   */
  resume(region: string): void;
  /**
   * Resolves once every change written before the call has been applied (or skipped by last
   * writer wins) in every region it can reach, and the replicator has read its own writes back:
   * changes into or out of a paused region are not waited for.
   * @throws TimeoutError after `timeoutMs`; ClientClosedError once stopped.
   */
  settled(options?: SettleOptions): Promise<void>;
  stats(): ReplicationStats;
  /** Stops reading and delivering (pending deliveries are dropped) and closes its clients. Idempotent. */
  stop(): Promise<void>;
}

/** A change of one item on its way from one region to another. */
interface Delivery {
  readonly source: string;
  readonly target: string;
  readonly item: ItemState;
  /** The new image, or undefined for a delete. */
  readonly image: ItemImage | undefined;
  readonly digest: string;
  readonly stamp: Stamp;
  /** Ends when this delivery is applied, skipped or held (then re-armed when it is scheduled again). */
  round: Promise<void>;
  endRound: () => void;
}

/** What the replicator knows of one item. */
interface ItemState {
  readonly id: string;
  readonly table: string;
  readonly keys: ItemImage;
  /** Per region: the version it holds. */
  readonly versions: Map<string, HeldVersion>;
  /** Per target region: how many deliveries were scheduled so far (names each delivery's delay). */
  readonly scheduled: Map<string, number>;
  /** Per target region: when the last delivery is due (per-item order). */
  readonly lastDue: Map<string, number>;
  /** Per target region: the deliveries waiting for their delay, let go in the order they were scheduled. */
  readonly waiting: Map<string, InOrderRelease<Delivery>>;
  /** Per target region: the delivery being written and those queued behind it. */
  readonly chains: Map<string, Promise<void>>;
}

/** What a write into a region replaced. */
interface Replaced {
  readonly image: ItemImage | undefined;
  readonly digest: string;
  /**
   * The write changed nothing (so it has no stream record), yet its expectation was taken: by the
   * record of a client's write equal to it, read while the write was under way.
   */
  readonly echoTaken: boolean;
}

const DEFAULT_POLL_INTERVAL_MS = 100;
const DEFAULT_SETTLE_TIMEOUT_MS = 30_000;
const LOCAL_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' };
/** Backoff of a failed write: doubling from this, up to {@link MAX_RETRY_MS}. */
const FIRST_RETRY_MS = 100;
const MAX_RETRY_MS = 2_000;

class MrecReplicator implements Replicator {
  readonly mode = 'MREC' as const;
  readonly regions: readonly string[];
  readonly seed: number;
  #lag: ReplicationLag;
  readonly #clients: ReadonlyMap<string, DynamoDBClient>;
  readonly #streams: readonly DynamoDBStreamsClient[];
  readonly #log: ((line: string) => void) | undefined;
  #feeds: ReadonlyMap<string, RegionFeed> = new Map();
  readonly #items = new Map<string, ItemState>();
  readonly #own = new OwnWrites();
  readonly #paused = new Set<string>();
  /** Deliveries waiting for their delay, queued or being written. */
  readonly #active = new Set<Delivery>();
  /** Deliveries held by a pause, in the order they came due. */
  #held: Delivery[] = [];
  readonly #timers = new Set<NodeJS.Timeout>();
  readonly #stopped = new AbortController();
  readonly #counts = { observed: 0, applied: 0, skipped: 0, restored: 0, echoes: 0 };
  #stopping: Promise<void> | undefined;

  constructor(parts: {
    readonly regions: readonly string[];
    readonly clients: ReadonlyMap<string, DynamoDBClient>;
    readonly streams: readonly DynamoDBStreamsClient[];
    readonly lag: ReplicationLag;
    readonly seed: number;
    readonly log: ((line: string) => void) | undefined;
  }) {
    this.regions = parts.regions;
    this.#clients = parts.clients;
    this.#streams = parts.streams;
    this.#lag = parts.lag;
    this.seed = parts.seed;
    this.#log = parts.log;
  }

  /** The region feeds, once started (they call {@link onRecords}). */
  attach(feeds: ReadonlyMap<string, RegionFeed>): void {
    this.#feeds = feeds;
  }

  get lag(): ReplicationLag {
    return this.#lag;
  }

  setLag(lag: ReplicationLag): void {
    this.#lag = validateLag(lag);
  }

  pause(region: string): void {
    this.#checkRegion(region);
    this.#paused.add(region);
  }

  resume(region: string): void {
    this.#checkRegion(region);
    if (!this.#paused.delete(region)) return;
    const still: Delivery[] = [];
    for (const delivery of this.#held) {
      if (this.#blocked(delivery)) still.push(delivery);
      else this.#schedule(delivery);
    }
    this.#held = still;
  }

  async settled(options: SettleOptions = {}): Promise<void> {
    const { timeoutMs = DEFAULT_SETTLE_TIMEOUT_MS } = options;
    if (!Number.isSafeInteger(timeoutMs) || timeoutMs <= 0) {
      throw new InvalidArgumentError(`timeoutMs is ${timeoutMs}; use a whole number of ms above 0.`);
    }
    if (this.#stopping) throw new ClientClosedError('replicator');
    const caughtUp = () => Promise.all([...this.#feeds.values()].map((feed) => feed.caughtUp()));
    const work = (async () => {
      await caughtUp();
      await Promise.all([...this.#active].map((delivery) => delivery.round));
      // Reads the deliveries' own writes back, so nothing the replicator did is still to be read.
      await caughtUp();
    })();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        const { pending, held } = this.stats();
        reject(
          new TimeoutError(
            `The replicator did not settle within ${timeoutMs} ms (${pending - held} deliveries under way, ${held} held by a pause).`,
          ),
        );
      }, timeoutMs);
    });
    try {
      await Promise.race([work, timeout]);
    } catch (error) {
      if (error instanceof ClientClosedError) throw new ClientClosedError('replicator');
      throw error;
    } finally {
      clearTimeout(timer);
      work.catch(() => {});
    }
  }

  stats(): ReplicationStats {
    return {
      ...this.#counts,
      pending: this.#active.size + this.#held.length,
      held: this.#held.length,
      paused: [...this.#paused],
    };
  }

  stop(): Promise<void> {
    this.#stopping ??= (async () => {
      this.#stopped.abort();
      for (const timer of this.#timers) clearTimeout(timer);
      this.#timers.clear();
      await Promise.allSettled([...this.#feeds.values()].map((feed) => feed.stop()));
      const writing = [...this.#items.values()].flatMap((item) => [...item.chains.values()]);
      await Promise.allSettled(writing);
      for (const delivery of [...this.#active, ...this.#held]) delivery.endRound();
      this.#active.clear();
      this.#held = [];
      for (const client of [...this.#clients.values(), ...this.#streams]) client.destroy();
    })();
    return this.#stopping;
  }

  /** A page of records read from `region`'s stream of `table`. Never throws. */
  onRecords(region: string, table: string, records: readonly _Record[]): void {
    for (const record of records) {
      try {
        this.#onRecord(region, table, record);
      } catch (error) {
        // Not retried: the same record would fail the same way, and hold back every later one.
        this.#log?.(
          `Replicator: a ${record.eventName} record of ${table} in ${region} (sequence number ` +
            `${record.dynamodb?.SequenceNumber}) cannot be replicated; the regions differ on that item: ${String(error)}`,
        );
      }
    }
  }

  #onRecord(region: string, table: string, record: _Record): void {
    const streamKeys = record.dynamodb?.Keys as ItemImage | undefined;
    if (streamKeys === undefined) throw new InvalidArgumentError('The record has no keys.');
    const keys = repairStreamImage(streamKeys);
    const removed = record.eventName === 'REMOVE';
    const streamImage = record.dynamodb?.NewImage as ItemImage | undefined;
    if (!removed && streamImage === undefined) throw new InvalidArgumentError('The record has no new image.');
    const image = streamImage === undefined || removed ? undefined : repairStreamImage(streamImage);
    const id = itemIdentity(table, keys);
    const digest = imageDigest(image);
    if (this.#own.recognize(region, id, digest)) {
      this.#counts.echoes++;
      return;
    }
    const item = this.#item(id, table, keys);
    const held = item.versions.get(region) ?? NEVER_WRITTEN;
    const stamp = stampOfClientWrite(Date.now(), region, held.stamp);
    item.versions.set(region, { stamp, digest, unread: false });
    this.#counts.observed++;
    for (const target of this.regions) {
      if (target === region) continue;
      const delivery: Delivery = {
        source: region,
        target,
        item,
        image,
        digest,
        stamp,
        round: Promise.resolve(),
        endRound: () => {},
      };
      this.#schedule(delivery);
    }
  }

  #item(id: string, table: string, keys: ItemImage): ItemState {
    let item = this.#items.get(id);
    if (!item) {
      item = {
        id,
        table,
        keys,
        versions: new Map(),
        scheduled: new Map(),
        lastDue: new Map(),
        waiting: new Map(),
        chains: new Map(),
      };
      this.#items.set(id, item);
    }
    return item;
  }

  #checkRegion(region: string): void {
    if (!this.regions.includes(region)) {
      throw new InvalidArgumentError(
        `Unknown region "${region}"; the replicator connects ${this.regions.join(', ')}.`,
      );
    }
  }

  #blocked(delivery: Delivery): boolean {
    return this.#paused.has(delivery.source) || this.#paused.has(delivery.target);
  }

  /** Arms a new round of `delivery` and starts its delay. */
  #schedule(delivery: Delivery): void {
    if (this.#stopped.signal.aborted) return;
    const { item, target } = delivery;
    const count = item.scheduled.get(target) ?? 0;
    item.scheduled.set(target, count + 1);
    const now = Date.now();
    const delay = replicationDelay(this.seed, this.#lag, `${target}\u0000${item.id}\u0000${count}`);
    const due = dueTime(now, delay, item.lastDue.get(target));
    item.lastDue.set(target, due);
    delivery.round = new Promise<void>((resolve) => {
      delivery.endRound = resolve;
    });
    this.#active.add(delivery);
    let waiting = item.waiting.get(target);
    if (!waiting) {
      waiting = new InOrderRelease<Delivery>();
      item.waiting.set(target, waiting);
    }
    waiting.add(delivery);
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      this.#release(item, target, delivery);
    }, due - now);
    this.#timers.add(timer);
  }

  /**
   * `delivery`'s delay has passed: queues it, and the item's later deliveries to `target` already
   * due, behind the one being written, unless an earlier one is still waiting.
   */
  #release(item: ItemState, target: string, delivery: Delivery): void {
    const waiting = item.waiting.get(target);
    if (!waiting) return;
    for (const released of waiting.due(delivery)) {
      const previous = item.chains.get(target) ?? Promise.resolve();
      const next = previous.then(() => this.#deliver(released));
      item.chains.set(target, next);
      void next.finally(() => {
        if (item.chains.get(target) === next) item.chains.delete(target);
      });
    }
    if (waiting.size === 0) item.waiting.delete(target);
  }

  /** Applies `delivery`, retrying failed writes (in place, so the item's order holds). Never rejects. */
  async #deliver(delivery: Delivery): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      if (this.#stopped.signal.aborted) return;
      if (this.#blocked(delivery)) {
        this.#active.delete(delivery);
        this.#held.push(delivery);
        delivery.endRound();
        return;
      }
      try {
        await this.#apply(delivery);
        this.#active.delete(delivery);
        delivery.endRound();
        return;
      } catch (error) {
        if (this.#stopped.signal.aborted) return;
        const backoff = Math.min(MAX_RETRY_MS, FIRST_RETRY_MS * 2 ** (attempt - 1));
        this.#log?.(
          `Replicator: writing an item of ${delivery.item.table} into ${delivery.target} failed ` +
            `(attempt ${attempt}, next in ${backoff} ms): ${String(error)}`,
        );
        try {
          await sleep(backoff, undefined, { signal: this.#stopped.signal });
        } catch {
          return;
        }
      }
    }
  }

  /** Writes `delivery` into its region unless that holds a newer version (last writer wins). */
  async #apply(delivery: Delivery): Promise<void> {
    const { item, target } = delivery;
    const held = item.versions.get(target) ?? NEVER_WRITTEN;
    if (decideDelivery(held, delivery.stamp) === 'skip') {
      // An unread client write will be stamped later than every version skipped for it.
      if (held.unread) item.versions.set(target, { ...held, stamp: laterStamp(held.stamp, delivery.stamp) });
      this.#counts.skipped++;
      return;
    }
    const replaced = await this.#write(target, item, delivery.image, delivery.digest);
    // The stream may have shown a later client write of the item there while this one was under way.
    const unchanged = (item.versions.get(target) ?? NEVER_WRITTEN) === held;
    const outcome = outcomeOfWrite(held.digest, delivery.digest, replaced.digest);
    // `unread` whose client write the stream already showed, taken for this write's echo: that
    // write and this delivery are the same version, now in place.
    if (outcome === 'applied' || (outcome === 'unread' && replaced.echoTaken)) {
      if (unchanged)
        item.versions.set(target, { stamp: delivery.stamp, digest: delivery.digest, unread: false });
      this.#counts.applied++;
      return;
    }
    this.#counts.skipped++;
    let standing = replaced.digest;
    if (outcome === 'restore') {
      this.#counts.restored++;
      standing = await this.#restore(target, item, replaced, delivery.digest);
    }
    if ((item.versions.get(target) ?? NEVER_WRITTEN) === held) {
      const unread: HeldVersion = {
        stamp: laterStamp(held.stamp, delivery.stamp),
        digest: standing,
        unread: true,
      };
      item.versions.set(target, unread);
      this.#settleUnread(target, item, unread);
    }
  }

  /**
   * Once the region's stream has been read past the unread client write, it has been stamped (and
   * replaced `unread`); if `unread` is still there, that write's record was taken for one of the
   * replicator's own equal writes: the region holds that version, compared by its floor stamp from now on.
   */
  #settleUnread(target: string, item: ItemState, unread: HeldVersion): void {
    const feed = this.#feeds.get(target);
    feed?.caughtUp().then(
      () => {
        if (item.versions.get(target) === unread) item.versions.set(target, { ...unread, unread: false });
      },
      // Stopped: nothing to settle.
      () => {},
    );
  }

  /**
   * Puts back the client's write a delivery overwrote (`replaced`), and any newer one found in the
   * way of that, until a put-back replaces the replicator's own write. Returns the digest left.
   */
  async #restore(target: string, item: ItemState, replaced: Replaced, overwritten: string): Promise<string> {
    let putBack = replaced;
    let over = overwritten;
    // Ends once a put-back meets no newer write, or when the replicator stops.
    while (!this.#stopped.signal.aborted) {
      const found = await this.#write(target, item, putBack.image, putBack.digest);
      if (found.digest === over || found.digest === putBack.digest) return putBack.digest;
      // Yet another client write landed in between: newer still, so that one goes back.
      over = putBack.digest;
      putBack = found;
    }
    return putBack.digest;
  }

  /** Writes an item into a region (a delete when `image` is undefined) and tells what it replaced. */
  async #write(
    target: string,
    item: ItemState,
    image: ItemImage | undefined,
    digest: string,
  ): Promise<Replaced> {
    const client = this.#clients.get(target);
    if (!client) throw new InvalidArgumentError(`Unknown region "${target}".`);
    // Expected before the request: the stream may show the write before its response arrives.
    const token = this.#own.expect(target, item.id, digest);
    let old: ItemImage | undefined;
    try {
      const out =
        image === undefined
          ? await client.send(
              new DeleteItemCommand({ TableName: item.table, Key: item.keys, ReturnValues: 'ALL_OLD' }),
            )
          : await client.send(
              new PutItemCommand({ TableName: item.table, Item: image, ReturnValues: 'ALL_OLD' }),
            );
      old = out.Attributes;
    } catch (error) {
      this.#own.cancel(target, item.id, token);
      throw error;
    }
    const found = imageDigest(old);
    // A write that changed nothing leaves no stream record to recognise.
    const echoTaken = found === digest && !this.#own.cancel(target, item.id, token);
    return { image: old, digest: found, echoTaken };
  }
}

/**
 * `options` checked, with the defaults filled in (a random seed when none is given), so a stack
 * can refuse them before it starts anything.
 * @throws InvalidArgumentError for a mode other than MREC, an invalid lag or a seed that is not a whole number.
 */
export function resolveMrecReplication(
  options: MrecReplicationOptions = {},
): Required<MrecReplicationOptions> {
  const { mode = 'MREC' } = options;
  if (mode !== 'MREC') {
    throw new InvalidArgumentError(
      `replication mode is "${String(mode)}"; the replicator simulates 'MREC' (MRSC needs no replicator).`,
    );
  }
  const lag = validateLag(options.lag ?? DEFAULT_LAG);
  const seed = options.seed ?? randomInt(2 ** 31);
  if (!Number.isSafeInteger(seed)) {
    throw new InvalidArgumentError(`replication seed is ${seed}; use a whole number.`);
  }
  return { mode, lag, seed };
}

/**
 * Starts the replicator over regions whose tables exist with NEW_AND_OLD_IMAGES streams, reading
 * every stream from its trim horizon.
 * @throws InvalidArgumentError for fewer than two regions, a region twice, no tables, or an invalid lag or seed.
 * @throws StackNotReadyError when a table has no such stream.
 */
export async function startReplicator(options: ReplicatorOptions): Promise<Replicator> {
  const { tables, log } = options;
  const { lag, seed } = resolveMrecReplication(options);
  const regions = options.regions.map((entry) => entry.region);
  if (regions.length < 2 || new Set(regions).size !== regions.length) {
    throw new InvalidArgumentError(
      `The replicator needs two or more distinct regions; got ${regions.join(', ') || 'none'}.`,
    );
  }
  if (tables.length === 0) throw new InvalidArgumentError('The replicator needs at least one table.');
  const pollIntervalMs = options.pollIntervalMs ?? DEFAULT_POLL_INTERVAL_MS;
  const credentials = options.credentials ?? LOCAL_CREDENTIALS;
  const configs = options.regions.map(({ region, dynamodbEndpoint }) => ({
    region,
    endpoint: dynamodbEndpoint,
    credentials,
  }));
  const clients = new Map(configs.map((config) => [config.region, new DynamoDBClient(config)]));
  const streams = configs.map((config) => new DynamoDBStreamsClient(config));
  const replicator = new MrecReplicator({ regions, clients, streams, lag, seed, log });
  const feeds = new Map<string, RegionFeed>();
  try {
    for (const [index, config] of configs.entries()) {
      const ddb = clients.get(config.region);
      const stream = streams[index];
      if (!ddb || !stream) throw new InvalidArgumentError(`No client for ${config.region}.`);
      const feed = await startRegionFeed({
        region: config.region,
        ddb,
        streams: stream,
        tables,
        idleIntervalMs: pollIntervalMs,
        onRecords: (table, records) => replicator.onRecords(config.region, table, records),
        log,
      });
      feeds.set(config.region, feed);
    }
  } catch (error) {
    await Promise.allSettled([...feeds.values()].map((feed) => feed.stop()));
    for (const client of [...clients.values(), ...streams]) client.destroy();
    throw error;
  }
  replicator.attach(feeds);
  return replicator;
}
