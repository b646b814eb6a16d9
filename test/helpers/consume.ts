/** Draining an assigned consumer in integration tests. */
import type { ConsumedMessage, Consumer } from '../../sdk/src/index.ts';

/** Polls until `count` messages arrived or 20 s passed; returns what arrived (the caller asserts). */
export async function readAll<V>(consumer: Consumer<V>, count: number): Promise<ConsumedMessage<V>[]> {
  const out: ConsumedMessage<V>[] = [];
  const deadline = Date.now() + 20_000;
  while (out.length < count && Date.now() < deadline) {
    for (const b of await consumer.poll()) out.push(...b.messages);
  }
  return out;
}
