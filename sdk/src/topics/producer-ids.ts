/**
 * Producer ids for Kafka clients' InitProducerId (the Kafka gateway): handed out from one counter
 * item in the topics table of the deployment's home region, so that every gateway process, in any
 * region, hands out ids no other has. Each id is reserved by a durable write before it is
 * returned; a process that dies loses nothing but the ids it had not handed out yet.
 *
 * The ids start at 0 and count up. The SDK's own idempotent producers take random 63-bit ids
 * (`producer.ts`); the two meet only if a random id falls on one of the few counted ones, about
 * one chance in 2^40 per producer while fewer than 2^23 ids have been counted.
 */
import type { StorageContext } from '../context.ts';
import { LogInvariantError } from '../errors.ts';
import { MAX_PRODUCER_ID } from '../log/producer-state.ts';
import { registryContext } from '../regions/routing.ts';
import { TopicStore } from './topic-store.ts';

/** Hands out producer ids, one durable reservation per id. Cheap to create. */
export class ProducerIdAllocator {
  readonly #store: TopicStore;

  constructor(ctx: StorageContext) {
    this.#store = new TopicStore(registryContext(ctx));
  }

  /** A producer id no caller has been given before (one conditional-free `ADD` on the counter). */
  async next(): Promise<bigint> {
    const id = await this.#store.reserveProducerIds(1);
    if (id < 0n || id > MAX_PRODUCER_ID) {
      throw new LogInvariantError(`The producer id counter is at ${id}, outside 0..${MAX_PRODUCER_ID}`);
    }
    return id;
  }
}
