/**
 * The consumer of assigned partitions (consumer groups build on it). It fetches its partitions
 * round-robin, at most `fetchConcurrency` at a time (`fetch-turns.ts`): each pass round them gives
 * every partition one turn, so a busy partition never holds back the others. Each partition backs
 * off on its own when it comes back empty, from `minIdleIntervalMs` up to `maxIdleIntervalMs`, so
 * an idle partition costs one read per interval and is looked at once per interval however many
 * partitions there are; one with records is fetched again at once. Every batch is CRC-checked as
 * it is decoded.
 *
 * Sources that long-poll (HTTP) wait at the API for records, one request per partition. They do
 * so only while every unpaused partition can have its own request (at most `fetchConcurrency`);
 * with more partitions a long-poll would hold a slot while the others wait for their turn, so the
 * consumer fetches without waiting, in rounds with idle backoff, as on the direct transport.
 */
import { ClientClosedError, InvalidArgumentError, OffsetOutOfRangeError } from './errors.ts';
import { nextIdleInterval, nextTurns } from './fetch-turns.ts';
import { partitionLabel } from './keys.ts';
import type { Deserializer } from './serde.ts';
import type { ConsumedHeader, StartPosition, TopicPartition } from './topic-partition.ts';
import type { PartitionSource, PartitionSourceFactory } from './transport/partition-source.ts';

/** A partition to read and where to start. */
export interface Assignment extends TopicPartition {
  readonly offset: StartPosition;
}

/** A consumed message. */
export interface ConsumedMessage<V> {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
  readonly timestamp: number;
  readonly key: Buffer | null;
  readonly value: V;
  readonly headers: readonly ConsumedHeader[];
}

/** Messages of one partition, in offset order. */
export interface ConsumedBatch<V> {
  readonly topic: string;
  readonly partition: number;
  readonly messages: readonly ConsumedMessage<V>[];
  /** The offset after the last message: where this partition continues. */
  readonly nextOffset: number;
}

/** What to do when a position falls outside the log (e.g. below the log start after retention). */
export type OffsetResetPolicy = 'earliest' | 'latest' | 'error';

/** Consumer settings. */
export interface ConsumerOptions<V> {
  /** Turns record bytes into values. @default the bytes as a Buffer */
  readonly deserializer?: Deserializer<V>;
  /** Most records fetched from one partition per poll. @default 500 */
  readonly maxRecords?: number;
  /** Bytes fetched from one partition per poll (at least one batch is always returned). @default 1048576 */
  readonly maxBytes?: number;
  /** First wait before fetching a partition again after it came back empty. @default 50 */
  readonly minIdleIntervalMs?: number;
  /**
   * Longest wait before fetching an idle partition again (the wait doubles from
   * `minIdleIntervalMs` while it stays empty): every partition is looked at at least this often.
   * @default 1000
   */
  readonly maxIdleIntervalMs?: number;
  /**
   * Most fetches in flight at once; every partition gets its turn in each round of them. Over
   * HTTP, partitions long-poll only while there are at most this many unpaused. @default 8
   */
  readonly fetchConcurrency?: number;
  /** What to do when a position is out of range. @default 'error' */
  readonly offsetReset?: OffsetResetPolicy;
  /**
   * HTTP transport: how long one fetch waits at the API for records to arrive (long-poll, at most
   * 20000), while the consumer has at most `fetchConcurrency` unpaused partitions. The direct
   * transport, and HTTP with more partitions, fetch with idle backoff instead. @default 5000
   */
  readonly maxWaitMs?: number;
}

interface PartitionState<V> {
  readonly source: PartitionSource;
  /** Next offset to deliver. */
  position: number;
  /** Where the next fetch starts (where the last one ended); undefined after an assign or seek. */
  fetchOffset: number | undefined;
  /** Fetched batches not delivered yet (prefetched while the application works). */
  ready: ConsumedBatch<V>[];
  /** The fetch in flight, if any. */
  inflight: Promise<void> | undefined;
  /** Ends the fetch in flight when it is a long-poll (which may wait for seconds). */
  cancel: AbortController | undefined;
  /** A fetch failure, reported by the next poll. */
  failure: { error: unknown } | undefined;
  /** Bumped by every seek so that results of a fetch started earlier are discarded. */
  generation: number;
  paused: boolean;
  /** When the partition may be fetched next (epoch ms; 0: at once). */
  dueAt: number;
  /** Its idle interval: 0 while records come, doubling from `minIdleIntervalMs` while none do. */
  idleMs: number;
  /** The poll in which its last fetch started or came back: a poll fetches each partition at most once. */
  turn: number;
}

/** Reads assigned partitions. Obtain with `tributary.consumer()`. */
export class Consumer<V> implements AsyncIterable<ConsumedBatch<V>> {
  readonly #sources: PartitionSourceFactory;
  readonly #deserializer: Deserializer<V>;
  readonly #options: Required<Omit<ConsumerOptions<V>, 'deserializer'>>;
  readonly #partitions = new Map<string, PartitionState<V>>();
  /** Where the next round-robin step starts (an index into the partitions, in assignment order). */
  #cursor = 0;
  /** Rotates the order in which a poll returns the batches of several partitions. */
  #outputTurn = 0;
  /** Polls started so far (the current poll's number). */
  #polls = 0;
  /** Fetches that have come back (with or without records). */
  #completions = 0;
  /** Set by {@link wakeup}: the poll in progress, or else the next one, returns at once. */
  #wakeRequested = false;
  /** Ends the wait of a poll in progress, so that it looks again (see {@link #nudge}). */
  readonly #sleepers = new Set<() => void>();
  /** Aborted on close: ends fetches waiting at the API (long-polls). */
  readonly #closing = new AbortController();
  #closed = false;

  /** @internal use `tributary.consumer()` */
  constructor(
    sources: PartitionSourceFactory,
    options: ConsumerOptions<V> & { deserializer: Deserializer<V> },
  ) {
    this.#sources = sources;
    this.#deserializer = options.deserializer;
    this.#options = {
      maxRecords: options.maxRecords ?? 500,
      maxBytes: options.maxBytes ?? 1024 * 1024,
      minIdleIntervalMs: options.minIdleIntervalMs ?? 50,
      maxIdleIntervalMs: options.maxIdleIntervalMs ?? 1_000,
      fetchConcurrency: options.fetchConcurrency ?? 8,
      offsetReset: options.offsetReset ?? 'error',
      maxWaitMs: options.maxWaitMs ?? 5_000,
    };
    if (
      !Number.isInteger(this.#options.maxWaitMs) ||
      this.#options.maxWaitMs < 0 ||
      this.#options.maxWaitMs > 20_000
    ) {
      throw new InvalidArgumentError(
        `Consumer option maxWaitMs must be an integer from 0 to 20000, got ${this.#options.maxWaitMs}`,
      );
    }
    for (const key of ['maxRecords', 'maxBytes', 'fetchConcurrency'] as const) {
      if (!Number.isInteger(this.#options[key]) || this.#options[key] < 1) {
        throw new InvalidArgumentError(
          `Consumer option ${key} must be a positive integer, got ${this.#options[key]}`,
        );
      }
    }
  }

  /** Adds partitions to read (replacing the position of ones already assigned). */
  async assign(assignments: readonly Assignment[]): Promise<void> {
    this.#assertOpen();
    const resolved = await Promise.all(
      assignments.map(async (a) => {
        const source = await this.#sources(a);
        return { source, position: await source.resolve(a.offset) };
      }),
    );
    for (const { source, position } of resolved) {
      const label = partitionLabel(source.partition);
      // A partition assigned again starts afresh: a long-poll of its old state ends now.
      this.#partitions.get(label)?.cancel?.abort();
      this.#partitions.set(label, {
        source,
        position,
        fetchOffset: undefined,
        ready: [],
        inflight: undefined,
        cancel: undefined,
        failure: undefined,
        generation: 0,
        paused: false,
        dueAt: 0,
        idleMs: 0,
        turn: 0,
      });
    }
    this.#nudge();
  }

  /** Stops reading partitions. */
  unassign(partitions: readonly TopicPartition[]): void {
    for (const p of partitions) {
      const state = this.#partitions.get(partitionLabel(p));
      if (state) this.#reposition(state, state.position);
      this.#partitions.delete(partitionLabel(p));
    }
    this.#nudge();
  }

  /** Partitions currently assigned. */
  assignment(): TopicPartition[] {
    return [...this.#partitions.values()].map(({ source }) => ({ ...source.partition }));
  }

  /** Moves a partition's position; the next batch starts there. */
  async seek(target: Assignment): Promise<void> {
    const state = this.#state(target);
    const position = await state.source.resolve(target.offset);
    this.#reposition(state, position);
    this.#nudge();
  }

  /** The next offset this consumer will deliver for a partition. */
  position(partition: TopicPartition): number {
    return this.#state(partition).position;
  }

  /** Stops fetching these partitions until {@link resume}. */
  pause(partitions: readonly TopicPartition[]): void {
    for (const p of partitions) {
      const state = this.#state(p);
      state.paused = true;
      // Prefetched data is kept and delivered after resume; nothing is skipped.
    }
  }

  /** Resumes paused partitions. */
  resume(partitions: readonly TopicPartition[]): void {
    for (const p of partitions) {
      const state = this.#state(p);
      if (!state.paused) continue;
      state.paused = false;
      state.dueAt = 0;
      state.turn = 0;
    }
    this.#nudge();
  }

  /** Partitions currently paused. */
  paused(): TopicPartition[] {
    return [...this.#partitions.values()]
      .filter((s) => s.paused)
      .map(({ source }) => ({ ...source.partition }));
  }

  /**
   * Returns the batches available now. It fetches every assigned, unpaused partition whose turn
   * has come — never fetched, or delivered records last time, or idle for its interval — at most
   * `fetchConcurrency` at a time, round-robin (each partition at most once per poll), and returns
   * as soon as one of them has messages, or once all of them came back empty. When none is due
   * yet it first waits for the earliest (at most `maxIdleIntervalMs`). Partitions with records are
   * prefetched in the background so that the next poll finds their data ready.
   */
  async poll(): Promise<ConsumedBatch<V>[]> {
    this.#assertOpen();
    const serial = ++this.#polls;
    const completions = this.#completions;
    let waitedIdle = false;
    for (;;) {
      if (this.#closed) return [];
      if (this.#wakeRequested || this.#active().some((s) => s.ready.length > 0 || s.failure)) break;
      const now = Date.now();
      this.#pump(now, serial);
      const inflight = this.#inflight();
      // Every fetch this poll waited for came back empty.
      if (inflight.length === 0 && this.#completions !== completions) break;
      const due = inflight.length < this.#options.fetchConcurrency ? this.#nextDue(serial) : undefined;
      if (inflight.length === 0 && due === undefined) {
        // Nothing to fetch: no partition, or all paused. Wait for an assign or resume, a while.
        if (waitedIdle) break;
        waitedIdle = true;
        await this.#nap(this.#options.maxIdleIntervalMs, []);
        continue;
      }
      await this.#nap(due === undefined ? undefined : due - now, inflight);
    }
    this.#wakeRequested = false;
    const out = this.#collect();
    // Prefetch: partitions that delivered are due at once; their next batch is read while the
    // application works on this one (within fetchConcurrency, in their turn like any other).
    this.#pump(Date.now(), undefined);
    return out;
  }

  /** Batches as they arrive (each poll waits for the partitions' idle intervals); ends on {@link close}. */
  async *[Symbol.asyncIterator](): AsyncIterator<ConsumedBatch<V>> {
    while (!this.#closed) {
      for (const batch of await this.poll()) {
        if (this.#closed) return;
        yield batch;
      }
    }
  }

  /** Messages one by one, as {@link Symbol.asyncIterator} delivers batches. */
  async *messages(): AsyncGenerator<ConsumedMessage<V>> {
    for await (const batch of this) yield* batch.messages;
  }

  /**
   * Makes the poll in progress — or, if none is, the next one — return at once with what is ready
   * (possibly nothing), as Kafka's `wakeup()` does: for a loop that must act on something else
   * (a rebalance, a shutdown) while its poll waits for idle partitions or a long-poll.
   */
  wakeup(): void {
    this.#wakeRequested = true;
    this.#nudge();
  }

  /** Stops the consumer; iterators end after their current batch. */
  close(): void {
    this.#closed = true;
    this.#closing.abort();
    this.#nudge();
  }

  /** Assigned partitions that are not paused, in assignment order. */
  #active(): PartitionState<V>[] {
    return [...this.#partitions.values()].filter((s) => !s.paused);
  }

  #inflight(): Promise<void>[] {
    return [...this.#partitions.values()].flatMap((s) => (s.inflight ? [s.inflight] : []));
  }

  /** True when a partition may be fetched now (in poll `serial`, or between polls when undefined). */
  #eligible(state: PartitionState<V>, now: number, serial: number | undefined): boolean {
    return this.#waiting(state, serial) && state.dueAt <= now;
  }

  /** True when a partition waits for its turn: nothing in flight, nothing to deliver, not fetched in this poll. */
  #waiting(state: PartitionState<V>, serial: number | undefined): boolean {
    return (
      !state.paused &&
      !state.inflight &&
      state.ready.length === 0 &&
      !state.failure &&
      (serial === undefined || state.turn !== serial)
    );
  }

  /** The earliest time a partition still to be fetched in poll `serial` is due. */
  #nextDue(serial: number): number | undefined {
    let due: number | undefined;
    for (const state of this.#partitions.values())
      if (this.#waiting(state, serial) && (due === undefined || state.dueAt < due)) due = state.dueAt;
    return due;
  }

  /** Starts the fetches whose turn it is, filling the free slots (see `fetch-turns.ts`). */
  #pump(now: number, serial: number | undefined): void {
    const ring = [...this.#partitions.values()];
    // Long-poll only while every unpaused partition can have a request of its own; otherwise a
    // long-poll would hold a slot for up to maxWaitMs while the others wait for their turn.
    const longPoll = ring.filter((s) => !s.paused).length <= this.#options.fetchConcurrency;
    if (!longPoll) for (const state of ring) if (state.cancel) this.#cancelFetch(state);
    const inflight = ring.filter((s) => s.inflight).length;
    const turns = nextTurns(
      ring.map((s) => this.#eligible(s, now, serial)),
      this.#cursor,
      this.#options.fetchConcurrency - inflight,
    );
    this.#cursor = turns.cursor;
    for (const i of turns.start) {
      const state = ring[i]!;
      this.#startFetch(state, longPoll && state.source.waitsForRecords);
    }
  }

  /** Starts a background fetch of a partition (its turn has come). */
  #startFetch(state: PartitionState<V>, longPoll: boolean): void {
    const generation = state.generation;
    const from = state.fetchOffset ?? state.position;
    const cancel = longPoll ? new AbortController() : undefined;
    const current = () =>
      state.generation === generation &&
      this.#partitions.get(partitionLabel(state.source.partition)) === state;
    const settle = () => {
      if (state.inflight === fetching) state.inflight = undefined;
      if (state.cancel === cancel) state.cancel = undefined;
      // Came back during a poll: that poll has had this partition's turn (a prefetch long-poll
      // that came back empty is not waited for a second time).
      state.turn = this.#polls;
      this.#completions++;
    };
    const fetching: Promise<void> = this.#fetch(state, from, cancel).then(
      (result) => {
        if (!current()) return;
        settle();
        state.fetchOffset = result.nextOffset;
        if (result.batch || result.nextOffset > from || longPoll) {
          // Records, or progress past control batches: more may follow at once. An empty
          // long-poll has already waited at the API.
          state.idleMs = 0;
          state.dueAt = 0;
        } else {
          state.idleMs = nextIdleInterval(
            state.idleMs,
            this.#options.minIdleIntervalMs,
            this.#options.maxIdleIntervalMs,
          );
          state.dueAt = Date.now() + state.idleMs;
        }
        if (result.batch) state.ready.push(result.batch);
      },
      (error: unknown) => {
        if (!current()) return;
        settle();
        if (error instanceof OffsetOutOfRangeError && this.#options.offsetReset !== 'error') {
          this.#reposition(
            state,
            this.#options.offsetReset === 'earliest' ? error.logStartOffset : error.highWatermark,
          );
          return;
        }
        state.failure = { error };
      },
    );
    state.inflight = fetching;
    state.cancel = cancel;
    state.turn = this.#polls;
  }

  /** Ends a long-poll in flight and forgets it; the partition is due again at once. */
  #cancelFetch(state: PartitionState<V>): void {
    state.cancel?.abort();
    state.cancel = undefined;
    state.inflight = undefined;
    // Whatever it would still bring is discarded; the next fetch starts where it started.
    state.generation++;
    state.dueAt = 0;
    state.turn = 0;
  }

  async #fetch(
    state: PartitionState<V>,
    from: number,
    cancel: AbortController | undefined,
  ): Promise<{ batch: ConsumedBatch<V> | undefined; nextOffset: number }> {
    const { source } = state;
    const result = await source.fetch(
      from,
      {
        maxRecords: this.#options.maxRecords,
        maxBytes: this.#options.maxBytes,
        maxWaitMs: cancel ? this.#options.maxWaitMs : 0,
      },
      cancel ? AbortSignal.any([this.#closing.signal, cancel.signal]) : this.#closing.signal,
    );
    const { topic, partition } = source.partition;
    const messages: ConsumedMessage<V>[] = result.records.map((r) => ({
      topic,
      partition,
      offset: r.offset,
      timestamp: r.timestamp,
      key: r.key,
      value: this.#deserializer(r.value),
      headers: r.headers,
    }));
    const batch =
      messages.length === 0 ? undefined : { topic, partition, messages, nextOffset: result.nextOffset };
    return { batch, nextOffset: result.nextOffset };
  }

  /**
   * The ready batches of unpaused partitions, in round-robin order (rotating per poll); throws a
   * fetch failure instead, before taking anything out, so that no fetched records are lost with it.
   */
  #collect(): ConsumedBatch<V>[] {
    const ring = [...this.#partitions.values()];
    const first = ring.length === 0 ? 0 : this.#outputTurn++ % ring.length;
    const ordered = [...ring.slice(first), ...ring.slice(0, first)].filter((s) => !s.paused);
    const failed = ordered.find((s) => s.failure);
    if (failed?.failure) {
      const { error } = failed.failure;
      failed.failure = undefined;
      throw error;
    }
    const out: ConsumedBatch<V>[] = [];
    for (const state of ordered) {
      for (const batch of state.ready.splice(0)) {
        out.push(batch);
        state.position = batch.nextOffset;
      }
      if (state.fetchOffset !== undefined && !state.inflight)
        state.position = Math.max(state.position, state.fetchOffset);
    }
    return out;
  }

  /** Moves a partition to `position`, discarding anything fetched or being fetched. */
  #reposition(state: PartitionState<V>, position: number): void {
    state.cancel?.abort();
    state.cancel = undefined;
    state.generation++;
    state.position = position;
    state.fetchOffset = undefined;
    state.ready = [];
    state.inflight = undefined;
    state.failure = undefined;
    state.dueAt = 0;
    state.idleMs = 0;
    state.turn = 0;
  }

  /**
   * Waits `ms` (undefined: no timeout), or until one of `fetches` comes back, or until
   * {@link #nudge}; clears its timer in every case.
   */
  async #nap(ms: number | undefined, fetches: readonly Promise<void>[]): Promise<void> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    let wake: (() => void) | undefined;
    const woken = new Promise<void>((resolve) => {
      wake = resolve;
      if (ms !== undefined) timer = setTimeout(resolve, Math.max(0, ms));
    });
    this.#sleepers.add(wake!);
    try {
      await Promise.race([woken, ...fetches]);
    } finally {
      clearTimeout(timer);
      this.#sleepers.delete(wake!);
    }
  }

  #state(p: TopicPartition): PartitionState<V> {
    const state = this.#partitions.get(partitionLabel(p));
    if (!state)
      throw new InvalidArgumentError(
        `${partitionLabel(p)} is not assigned to this consumer; assign() it first`,
      );
    return state;
  }

  #assertOpen(): void {
    if (this.#closed) throw new ClientClosedError('consumer');
  }

  /** Something changed (assignment, position, pause, close): a waiting poll looks again. */
  #nudge(): void {
    for (const wake of this.#sleepers) wake();
  }
}
