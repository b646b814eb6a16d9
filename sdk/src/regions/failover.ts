/**
 * Failover: moving a topic's home to another region and starting a new leader epoch there
 * (`admin.failoverTopic`). The pure decisions are in `failover-plan.ts` and `leader-epochs.ts`.
 *
 * - **Planned** (the old home A is reachable): per partition, a fence is written at A's chain end E
 *   (a conditional put into the next slot, so no append can land at or after it; appenders that
 *   meet it stop with `TopicMovedError`). Then the failover waits until the new home B holds the
 *   whole log up to and including the fence: every batch from A's local log start to E complete (a
 *   consistent scan of B's copy, resumed where the last one stopped), the fence itself, and the same
 *   partition metadata, segment manifest and producer state items as A (read consistently in both).
 *   A claim that stays pending past its deadline is voided in A, as any reader would. Only then is
 *   the switch written, in B: the epoch item (epoch e+1 homed in B, starting each partition at its
 *   E) and `home.region = B`. Nothing is lost: A takes nothing at or after a fence, and B holds
 *   everything below. If B does not catch up within `timeoutMs`, the fences are lifted (appends
 *   resume in A) and `TimeoutError` says so; nothing was switched.
 * - **Forced** (A unreachable; nothing is sent to it): per partition, E_B is the end of the chain B
 *   holds without a gap from its local log start (a gap or a pending claim ends it: those offsets
 *   may hold batches A acknowledged that never arrived). The switch is written in B as above, each
 *   partition's new epoch starting at its E_B. A's batches at or past E_B — acknowledged but not
 *   replicated, or written before A's producers learnt of the failover — stay in the old epoch's key
 *   space (`keys.ts` `batchKey`), outside the log; `divergence.ts` reports them.
 *
 * The switch is written in the new home, not in the deployment's home like other registry writes:
 * that is where the next appends go and the one region a forced failover can reach, and producers
 * that met a fence read the topic there. The epoch item is written only by failovers, conditional
 * on the version read, and the home it names wins over `home.region` (`regions.ts` `homeOf`).
 */
import { TierMetadata } from '../archive/tier-metadata.ts';
import { mapLimited } from '../concurrency.ts';
import type { RegionRouting, StorageContext } from '../context.ts';
import {
  InvalidFailoverError,
  StackNotReadyError,
  TimeoutError,
  TopicNotFoundError,
  UnsupportedOperationError,
} from '../errors.ts';
import { type PartitionRef, partitionLabel } from '../keys.ts';
import { EMPTY_TAIL, slotFromItem, tailAfter } from '../log/log-item.ts';
import { type FenceTarget, type LogItem, LogStore, type PartitionKeySpace } from '../log/log-store.ts';
import { PartitionReader } from '../log/reader.ts';
import { backoffDelay, sleep } from '../retry.ts';
import type { TopicRegistry } from '../topics/registry.ts';
import { partitionRef, type TopicMetadata } from '../topics/topic-metadata.ts';
import { TopicStore } from '../topics/topic-store.ts';
import {
  checkFailoverRequest,
  type FailoverRequest,
  type HeldChain,
  sameItems,
  scanChain,
  startChainScan,
} from './failover-plan.ts';
import { currentTopicEpoch, type FailoverMode, nextEpochs } from './leader-epochs.ts';

/** What a failover did to one partition. */
export interface PartitionFailover {
  readonly partition: number;
  /** The leader epoch the partition was in. */
  readonly previousEpoch: number;
  /** The leader epoch it is in now, homed in the new region. */
  readonly epoch: number;
  /**
   * The first offset of the new epoch: the old home's chain end, where its fence is (planned), or
   * the end of the chain the new home held (forced).
   */
  readonly startOffset: number;
  /** How long the failover waited for the new home to hold this partition's log (ms; 0 when forced). */
  readonly waitedMs: number;
}

/** What a failover did. */
export interface FailoverReport {
  readonly topic: string;
  readonly mode: FailoverMode;
  /** The old home region. */
  readonly from: string;
  /** The new home region. */
  readonly to: string;
  readonly previousEpoch: number;
  readonly epoch: number;
  readonly partitions: readonly PartitionFailover[];
  /** How long the whole failover took (ms). */
  readonly tookMs: number;
}

/** Partitions fenced, scanned or compared at once. */
const CONCURRENCY = 16;

/** Pause between looks at the new home while it catches up. */
const WAIT_POLICY = { baseDelayMs: 20, maxDelayMs: 500, deadlineMs: Number.POSITIVE_INFINITY };

/** The key spaces (beside the batches) whose items the new home must hold before the switch. */
const REPLICATED_SPACES: readonly PartitionKeySpace[] = [{ kind: 'segments' }, { kind: 'producers' }];

/** A fenced partition: its ref (the old epochs) and where the fence is. */
interface Fenced {
  readonly ref: PartitionRef;
  readonly end: number;
}

/** Runs failovers for one client (its regions and registry). */
export class Failover {
  readonly #ctx: StorageContext;
  readonly #registry: TopicRegistry;

  constructor(ctx: StorageContext, registry: TopicRegistry) {
    this.#ctx = ctx;
    this.#registry = registry;
  }

  /**
   * Moves `topic`'s home to `request.to` (see this module's comment).
   *
   * @throws UnsupportedOperationError without the deployment's regions, or on MRSC (no home to move)
   * @throws UnknownRegionError, InvalidFailoverError, TopicNotFoundError, InvalidArgumentError
   * before anything is written
   * @throws TimeoutError when a planned failover's new home did not catch up (fences lifted)
   */
  async run(topic: string, request: FailoverRequest): Promise<FailoverReport> {
    const started = Date.now();
    const regions = this.#regions();
    const meta =
      request.mode === 'forced'
        ? await this.#inTarget(topic, request.to)
        : await this.#atHome(topic, regions);
    const from = regions.homeOf(meta);
    const timeoutMs = checkFailoverRequest(topic, request, regions.names, from);
    await this.#checkReplica(meta, request.to, regions);
    const previousEpoch = currentTopicEpoch(meta.epochs);
    const next: FenceTarget = { epoch: previousEpoch + 1, region: request.to };
    const toCtx = regions.context(request.to);
    let partitions: PartitionFailover[];
    if (request.mode === 'planned') {
      const deadline = started + timeoutMs;
      partitions = await this.#planned(meta, from, regions.context(from), toCtx, next, deadline);
    } else {
      partitions = await this.#forced(meta, toCtx, next);
    }
    await this.#switch(meta, from, request.mode, next, partitions, toCtx);
    return {
      topic,
      mode: request.mode,
      from,
      to: request.to,
      previousEpoch,
      epoch: next.epoch,
      partitions,
      tookMs: Date.now() - started,
    };
  }

  #regions(): RegionRouting {
    const { regions } = this.#ctx;
    if (!regions) {
      throw new UnsupportedOperationError(
        "A failover moves a topic's home between the deployment's regions: give the client `regions` " +
          '(or TRIBUTARY_REGIONS).',
      );
    }
    if (regions.consistency === 'strong') {
      throw new UnsupportedOperationError(
        'An MRSC deployment (consistency: strong) has no home region to move: every region takes appends.',
      );
    }
    return regions;
  }

  /**
   * The topic as its current home has it (a planned failover reads and fences there): read where
   * this client reads it, then in the home that names (and in the home that copy names, should a
   * failover this region has not seen yet have moved it).
   */
  async #atHome(topic: string, regions: RegionRouting): Promise<TopicMetadata> {
    let meta = await this.#registry.get(topic);
    for (let hop = 0; hop < regions.names.length; hop++) {
      const home = regions.homeOf(meta);
      const there = await this.#registry.get(topic, { region: home });
      if (regions.homeOf(there) === home) return there;
      meta = there;
    }
    return meta;
  }

  /** The topic as the target region has it (a forced failover reads and writes nothing else). */
  async #inTarget(topic: string, to: string): Promise<TopicMetadata> {
    const regions = this.#regions();
    if (!regions.names.includes(to)) return this.#registry.get(topic);
    try {
      return await this.#registry.get(topic, { region: to });
    } catch (error) {
      if (!(error instanceof TopicNotFoundError) && !(error instanceof StackNotReadyError)) throw error;
      // Known here but not there: the target holds no replica of it.
      await this.#registry.get(topic);
      throw new InvalidFailoverError(topic, to, 'no-replica', `${to} holds no copy of the topic`);
    }
  }

  /** The target must hold this incarnation of the topic: its tables replicate the topic's. */
  async #checkReplica(meta: TopicMetadata, to: string, regions: RegionRouting): Promise<void> {
    let there: TopicMetadata | undefined;
    try {
      there = await new TopicStore(regions.context(to)).get(meta.name);
    } catch (error) {
      if (!(error instanceof StackNotReadyError)) throw error;
      throw new InvalidFailoverError(
        meta.name,
        to,
        'no-replica',
        `${to} has no Tributary tables (${error.message})`,
      );
    }
    if (there?.incarnation !== meta.incarnation) {
      throw new InvalidFailoverError(
        meta.name,
        to,
        'no-replica',
        `${to} holds no copy of this incarnation of the topic (${there ? 'another one' : 'none'} yet)`,
      );
    }
  }

  async #planned(
    meta: TopicMetadata,
    from: string,
    fromCtx: StorageContext,
    toCtx: StorageContext,
    next: FenceTarget,
    deadline: number,
  ): Promise<PartitionFailover[]> {
    const previousEpoch = next.epoch - 1;
    const done: PartitionFailover[] = [];
    let current = meta;
    const fenced: Fenced[] = [];
    try {
      // Partitions added while the failover ran are fenced and waited for too.
      while (done.length < current.partitions) {
        const partitions = Array.from(
          { length: current.partitions - done.length },
          (_, i) => done.length + i,
        );
        const topic = current;
        const batch: Fenced[] = [];
        await mapLimited(partitions, CONCURRENCY, async (p) => {
          const f = await this.#fence(fromCtx, partitionRef(topic, p), next);
          fenced.push(f);
          batch[p - partitions[0]!] = f;
        });
        const waited = await mapLimited(batch, CONCURRENCY, (f) =>
          this.#awaitHeld(fromCtx, toCtx, f, deadline),
        );
        batch.forEach((f, i) => {
          done.push({
            partition: f.ref.partition,
            previousEpoch,
            epoch: next.epoch,
            startOffset: f.end,
            waitedMs: waited[i]!,
          });
        });
        current = await this.#registry.get(meta.name, { region: from });
      }
      await this.#awaitEpochs(meta, toCtx, deadline);
    } catch (error) {
      // Nothing switched: let the old home take appends again.
      await mapLimited(fenced, CONCURRENCY, (f) => new LogStore(fromCtx).deleteFence(f.ref, f.end, next));
      throw error;
    }
    return done;
  }

  /** Writes the fence at the partition's chain end in the old home (or finds it, on a rerun). */
  async #fence(ctx: StorageContext, ref: PartitionRef, next: FenceTarget): Promise<Fenced> {
    const store = new LogStore(ctx);
    for (;;) {
      const tail = await store.tail(ref, true);
      if (tail?.kind === 'fence') {
        if (tail.nextEpoch === next.epoch && tail.nextRegion === next.region)
          return { ref, end: tail.offset };
        throw new InvalidFailoverError(
          ref.topic,
          next.region,
          'concurrent-failover',
          `${partitionLabel(ref)} is fenced for leader epoch ${tail.nextEpoch} in ${tail.nextRegion} already`,
        );
      }
      const chain = tail ? tailAfter(tail) : EMPTY_TAIL;
      const written = await store.putFence(ref, chain, next);
      if (written.kind === 'written') return { ref, end: chain.end };
      // An append took the slot first: the chain is longer, fence its new end.
    }
  }

  /**
   * Waits until the new home holds the partition's log up to and including its fence, and the same
   * metadata, manifest and producer state items as the old home. Returns how long it waited.
   */
  async #awaitHeld(
    fromCtx: StorageContext,
    toCtx: StorageContext,
    fenced: Fenced,
    deadline: number,
  ): Promise<number> {
    const started = Date.now();
    const { ref, end } = fenced;
    const from = new LogStore(fromCtx);
    const to = new LogStore(toCtx);
    const bottom = (await new TierMetadata(fromCtx, ref).bounds()).localLogStart.offset;
    let scan = startChainScan(Math.min(bottom, end));
    for (let attempt = 0; ; attempt++) {
      scan = await this.#scanHeld(to, ref, { held: scan.held, stop: undefined }, end);
      if (scan.held >= end && (await to.getBatch(ref, end))?.kind === 'fence') {
        if (await this.#sameSideItems(from, to, ref)) return Date.now() - started;
      } else if (scan.stop === 'pending') {
        await this.#voidIfAbandoned(fromCtx, ref, scan.held);
      }
      if (Date.now() > deadline) {
        throw new TimeoutError(
          `The failover of ${partitionLabel(ref)} to ${toCtx.region} timed out: that region holds its log only up ` +
            `to offset ${scan.held} of ${end} (or not yet its metadata). The fences were lifted and nothing was ` +
            'switched; appends continue in the old home. Retry when replication has caught up.',
        );
      }
      await sleep(backoffDelay(attempt, WAIT_POLICY));
    }
  }

  /** Scans a copy's chain from `scan.held` towards `end` (consistently), page by page. */
  async #scanHeld(store: LogStore, ref: PartitionRef, scan: HeldChain, end?: number): Promise<HeldChain> {
    let state = scan;
    if (end !== undefined && state.held >= end) return state;
    // One query from where the scan stands, paged (its pages' keys lead from epoch to epoch).
    const from = state.held;
    let startKey: LogItem | undefined;
    do {
      const page = await store.queryBatches(ref, {
        from,
        ...(end === undefined ? {} : { to: end }),
        consistent: true,
        startKey,
      });
      startKey = page.lastKey;
      state = scanChain(state, page.items.map(slotFromItem));
    } while (startKey && !state.stop);
    if (!state.stop && (end === undefined || state.held < end)) return { held: state.held, stop: 'gap' };
    return state;
  }

  /** Voids the old home's claim at `offset` once its deadline passed (its body never came). */
  async #voidIfAbandoned(ctx: StorageContext, ref: PartitionRef, offset: number): Promise<void> {
    const slot = await new LogStore(ctx).getBatch(ref, offset);
    if (slot?.kind === 'pending') await new PartitionReader(ctx, ref).voidIfAbandoned(slot);
  }

  /** Whether both regions hold the same partition metadata, manifest and producer state items. */
  async #sameSideItems(from: LogStore, to: LogStore, ref: PartitionRef): Promise<boolean> {
    const [a, b] = await Promise.all([from.readPartitionMeta(ref), to.readPartitionMeta(ref)]);
    if (!sameItems(a ? [a] : [], b ? [b] : [])) return false;
    for (const space of REPLICATED_SPACES) {
      const [here, there] = await Promise.all([allItems(from, ref, space), allItems(to, ref, space)]);
      if (!sameItems(here, there)) return false;
    }
    return true;
  }

  /** Per partition, where the chain the new home holds ends: the new epoch starts there. */
  async #forced(meta: TopicMetadata, toCtx: StorageContext, next: FenceTarget): Promise<PartitionFailover[]> {
    const store = new LogStore(toCtx);
    const partitions = Array.from({ length: meta.partitions }, (_, p) => p);
    return mapLimited(partitions, CONCURRENCY, async (partition) => {
      const ref = partitionRef(meta, partition);
      const bottom = (await new TierMetadata(toCtx, ref).bounds()).localLogStart.offset;
      const held = await this.#scanHeld(store, ref, startChainScan(bottom));
      return {
        partition,
        previousEpoch: next.epoch - 1,
        epoch: next.epoch,
        startOffset: held.held,
        waitedMs: 0,
      };
    });
  }

  /**
   * Waits until the new home's topics table holds the epochs the failover read in the old home (the
   * switch is written there conditional on them; a copy that lags would refuse it).
   */
  async #awaitEpochs(meta: TopicMetadata, toCtx: StorageContext, deadline: number): Promise<void> {
    const store = new TopicStore(toCtx);
    const version = meta.epochs?.version;
    for (let attempt = 0; ; attempt++) {
      const there = await store.getEpochs(meta.name, meta.incarnation);
      if (there?.version === version) return;
      if (Date.now() > deadline) {
        throw new TimeoutError(
          `The failover of topic "${meta.name}" to ${toCtx.region} timed out: that region's topics table does not ` +
            "hold the topic's leader epochs yet. Nothing was switched; retry when replication has caught up.",
        );
      }
      await sleep(backoffDelay(attempt, WAIT_POLICY));
    }
  }

  /**
   * Writes the new epoch (conditional on the epochs `meta` has) and `home.region` in the new home:
   * the switch.
   */
  async #switch(
    meta: TopicMetadata,
    from: string,
    mode: FailoverMode,
    next: FenceTarget,
    partitions: readonly PartitionFailover[],
    toCtx: StorageContext,
  ): Promise<void> {
    const store = new TopicStore(toCtx);
    const epochs = nextEpochs(meta.epochs, from, {
      region: next.region,
      mode,
      at: this.#ctx.now(),
      startOffsets: partitions.map((p) => p.startOffset),
    });
    if (!(await store.putEpochs(meta.name, meta.incarnation, epochs))) {
      throw new InvalidFailoverError(
        meta.name,
        next.region,
        'concurrent-failover',
        `another failover recorded leader epoch ${currentTopicEpoch(meta.epochs) + 1} first`,
      );
    }
    if (meta.configs['home.region'] !== next.region) {
      await store.setConfigs(meta, { ...meta.configs, 'home.region': next.region });
    }
  }
}

/** Every item of one of a partition's key spaces, read consistently. */
async function allItems(store: LogStore, ref: PartitionRef, space: PartitionKeySpace): Promise<LogItem[]> {
  const items: LogItem[] = [];
  let startKey: LogItem | undefined;
  do {
    const page = await store.keySpacePage(ref, space, startKey);
    items.push(...page.items);
    startKey = page.lastKey;
  } while (startKey);
  return items;
}
