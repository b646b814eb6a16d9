/**
 * The consumer of assigned partitions (consumer groups build on it later). It polls its
 * partitions round-robin; when nothing arrives it backs off exponentially up to
 * `maxIdleIntervalMs`, so an idle consumer costs few reads, and it returns to fast polling as soon
 * as data flows. Every batch is CRC-checked as it is decoded.
 */
import { ClientClosedError, InvalidArgumentError, OffsetOutOfRangeError } from './errors.ts';
import { partitionLabel } from './keys.ts';
import type { Deserializer } from './serde.ts';
import type { ConsumedHeader, StartPosition, TopicPartition } from './topic-partition.ts';
import type { PartitionSource, PartitionSourceFactory } from './transport/partition-source.ts';
import { Waker } from './waker.ts';

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
  /** First wait after an empty poll. @default 50 */
  readonly minIdleIntervalMs?: number;
  /** Longest wait between polls while idle. @default 1000 */
  readonly maxIdleIntervalMs?: number;
  /** Partitions fetched in parallel. @default 8 */
  readonly fetchConcurrency?: number;
  /** What to do when a position is out of range. @default 'error' */
  readonly offsetReset?: OffsetResetPolicy;
  /**
   * HTTP transport: how long one fetch waits at the API for records to arrive (long-poll, at most
   * 20000). The direct transport polls with idle backoff instead. @default 5000
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
  /** A fetch failure, reported by the next poll. */
  failure: { error: unknown } | undefined;
  /** Bumped by every seek so that results of a fetch started earlier are discarded. */
  generation: number;
  paused: boolean;
}

/** Reads assigned partitions. Obtain with `tributary.consumer()`. */
export class Consumer<V> implements AsyncIterable<ConsumedBatch<V>> {
  readonly #sources: PartitionSourceFactory;
  readonly #deserializer: Deserializer<V>;
  readonly #options: Required<Omit<ConsumerOptions<V>, 'deserializer'>>;
  readonly #partitions = new Map<string, PartitionState<V>>();
  #cursor = 0;
  #idleMs = 0;
  readonly #waker = new Waker();
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
      this.#partitions.set(partitionLabel(source.partition), {
        source,
        position,
        fetchOffset: undefined,
        ready: [],
        inflight: undefined,
        failure: undefined,
        generation: 0,
        paused: false,
      });
    }
    this.#wakeUp();
  }

  /** Stops reading partitions. */
  unassign(partitions: readonly TopicPartition[]): void {
    for (const p of partitions) {
      const state = this.#partitions.get(partitionLabel(p));
      if (state) this.#reposition(state, state.position);
      this.#partitions.delete(partitionLabel(p));
    }
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
    this.#wakeUp();
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
    for (const p of partitions) this.#state(p).paused = false;
    this.#wakeUp();
  }

  /** Partitions currently paused. */
  paused(): TopicPartition[] {
    return [...this.#partitions.values()]
      .filter((s) => s.paused)
      .map(({ source }) => ({ ...source.partition }));
  }

  /**
   * Returns the batches available now: it fetches once from every assigned, unpaused partition
   * that has nothing prefetched, waits until one of them has messages or all came back empty,
   * and returns every ready batch (partitions in round-robin order). Partitions that delivered
   * are prefetched in the background so the next poll finds their data ready.
   */
  async poll(): Promise<ConsumedBatch<V>[]> {
    this.#assertOpen();
    const active = [...this.#partitions.values()].filter((s) => !s.paused);
    if (active.length === 0) return [];
    const start = this.#cursor++ % active.length;
    const ordered = [...active.slice(start), ...active.slice(0, start)];
    for (const state of ordered) this.#startFetch(state);
    for (;;) {
      if (ordered.some((s) => s.ready.length > 0 || s.failure)) break;
      const inflight = ordered.flatMap((s) => (s.inflight ? [s.inflight] : []));
      if (inflight.length === 0) break;
      await Promise.race(inflight);
    }
    const out: ConsumedBatch<V>[] = [];
    for (const state of ordered) {
      if (state.failure) {
        const { error } = state.failure;
        state.failure = undefined;
        throw error;
      }
      for (const batch of state.ready.splice(0)) {
        out.push(batch);
        state.position = batch.nextOffset;
      }
      if (state.fetchOffset !== undefined && !state.inflight)
        state.position = Math.max(state.position, state.fetchOffset);
    }
    for (const state of ordered)
      if (
        out.some(
          (b) => b.partition === state.source.partition.partition && b.topic === state.source.partition.topic,
        )
      )
        this.#startFetch(state);
    return out;
  }

  /** Batches as they arrive, waiting (with idle backoff) when there are none; ends on {@link close}. */
  async *[Symbol.asyncIterator](): AsyncIterator<ConsumedBatch<V>> {
    while (!this.#closed) {
      const batches = await this.poll();
      if (batches.length > 0) {
        this.#idleMs = 0;
        for (const batch of batches) {
          if (this.#closed) return;
          yield batch;
        }
        continue;
      }
      const sources = [...this.#partitions.values()];
      // Sources that long-poll have already waited for records; polling again at once is right.
      if (sources.length > 0 && sources.every((s) => s.source.waitsForRecords)) continue;
      this.#idleMs = Math.min(
        this.#options.maxIdleIntervalMs,
        Math.max(this.#options.minIdleIntervalMs, this.#idleMs * 2),
      );
      await this.#waker.sleep(this.#idleMs);
    }
  }

  /** Messages one by one, as {@link Symbol.asyncIterator} delivers batches. */
  async *messages(): AsyncGenerator<ConsumedMessage<V>> {
    for await (const batch of this) yield* batch.messages;
  }

  /** Stops the consumer; iterators end after their current batch. */
  close(): void {
    this.#closed = true;
    this.#closing.abort();
    this.#wakeUp();
  }

  /** Starts a background fetch unless one is running or fetched data waits to be delivered. */
  #startFetch(state: PartitionState<V>): void {
    if (state.inflight || state.ready.length > 0 || state.failure) return;
    if ([...this.#partitions.values()].filter((s) => s.inflight).length >= this.#options.fetchConcurrency)
      return;
    const generation = state.generation;
    const current = () =>
      state.generation === generation &&
      this.#partitions.get(partitionLabel(state.source.partition)) === state;
    const fetching: Promise<void> = this.#fetch(state).then(
      (result) => {
        if (!current()) return;
        state.fetchOffset = result.nextOffset;
        if (result.batch) state.ready.push(result.batch);
      },
      (error: unknown) => {
        if (!current()) return;
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
    void fetching.finally(() => {
      if (state.inflight === fetching) state.inflight = undefined;
    });
  }

  async #fetch(
    state: PartitionState<V>,
  ): Promise<{ batch: ConsumedBatch<V> | undefined; nextOffset: number }> {
    const { source } = state;
    const result = await source.fetch(
      state.fetchOffset ?? state.position,
      {
        maxRecords: this.#options.maxRecords,
        maxBytes: this.#options.maxBytes,
        maxWaitMs: source.waitsForRecords ? this.#options.maxWaitMs : 0,
      },
      this.#closing.signal,
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

  /** Moves a partition to `position`, discarding anything fetched or being fetched. */
  #reposition(state: PartitionState<V>, position: number): void {
    state.generation++;
    state.position = position;
    state.fetchOffset = undefined;
    state.ready = [];
    state.inflight = undefined;
    state.failure = undefined;
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

  #wakeUp(): void {
    this.#idleMs = 0;
    this.#waker.wake();
  }
}
