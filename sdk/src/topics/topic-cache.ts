/**
 * Topic metadata cached by producers and consumers, refreshed after `maxAgeMs` (like Kafka's
 * `metadata.max.age.ms`) so added partitions, recreated topics and failovers are noticed.
 */
import type { TopicMetadata, TopicReadOptions, TopicRegistry } from './registry.ts';

export class TopicCache {
  readonly #registry: Pick<TopicRegistry, 'get'>;
  readonly #maxAgeMs: number;
  readonly #now: () => number;
  readonly #entries = new Map<string, { topic: Promise<TopicMetadata>; at: number }>();

  /** `registry`: where metadata is read (the registry table, or the HTTP API's describeTopic). */
  constructor(registry: Pick<TopicRegistry, 'get'>, maxAgeMs: number, now: () => number) {
    this.#registry = registry;
    this.#maxAgeMs = maxAgeMs;
    this.#now = now;
  }

  /** The topic's metadata, from cache when fresh. Throws TopicNotFoundError (not cached). */
  get(name: string): Promise<TopicMetadata> {
    const entry = this.#entries.get(name);
    if (entry && this.#now() - entry.at <= this.#maxAgeMs) return entry.topic;
    const topic = this.#registry.get(name);
    this.#entries.set(name, { topic, at: this.#now() });
    topic.catch(() => this.#entries.delete(name));
    return topic;
  }

  /** Forgets a topic so the next `get` reads it again. */
  invalidate(name: string): void {
    this.#entries.delete(name);
  }

  /**
   * Reads the topic again now (from `options.region`'s table when given: a failover writes its
   * switch in the new home first) and caches what it read. Throws TopicNotFoundError (not cached).
   */
  reload(name: string, options: TopicReadOptions = {}): Promise<TopicMetadata> {
    const topic = this.#registry.get(name, options);
    this.#entries.set(name, { topic, at: this.#now() });
    topic.catch(() => this.#entries.delete(name));
    return topic;
  }
}
