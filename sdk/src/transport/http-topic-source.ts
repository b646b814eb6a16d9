/**
 * Topic metadata over the HTTP API, for the producer's {@link TopicCache}: what the direct
 * transport reads from the registry table, read here with `describeTopic` (the route every
 * topic-scoped grant may call).
 */
import { parseTopicConfig } from '../topics/configs.ts';
import type { TopicMetadata, TopicRegistry } from '../topics/registry.ts';
import type { HttpClient } from './http-client.ts';

/** Reads a topic's metadata through the API. */
export class HttpTopicSource implements Pick<TopicRegistry, 'get'> {
  readonly #client: HttpClient;

  constructor(client: HttpClient) {
    this.#client = client;
  }

  /**
   * The topic's metadata; `TopicNotFoundError` if it does not exist. `configs` holds the
   * effective configs (defaults filled in), as the API describes them, not only the ones set.
   */
  async get(name: string): Promise<TopicMetadata> {
    // Metadata only: one registry read on the API, not three reads per partition.
    const described = await this.#client.call('describeTopic', {
      params: { topic: name },
      query: { offsets: 'false' },
    });
    return {
      name: described.name,
      incarnation: described.incarnation,
      partitions: described.partitionCount,
      configs: described.configs,
      config: parseTopicConfig(described.configs),
      createdAt: Date.parse(described.createdAt),
    };
  }
}
