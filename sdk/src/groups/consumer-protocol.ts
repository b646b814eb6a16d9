/**
 * Kafka's consumer protocol: the subscription (protocol metadata) and assignment bytes that
 * consumers of protocol type "consumer" exchange through their group coordinator. The coordinator
 * never needs them; Tributary reads them only to describe a Kafka group in its own terms (which
 * topics its members read, which member holds which partition), as Kafka's own
 * `kafka-consumer-groups` tool does. Every version (0–3) starts with the fields read here, in
 * Kafka's non-flexible encoding; anything else (user data, owned partitions, rack) is ignored.
 */

/** The protocol type of Kafka consumers' groups. */
export const CONSUMER_PROTOCOL_TYPE = 'consumer';

/** The topics a consumer subscribes to, or undefined when `bytes` is not a consumer subscription. */
export function decodeSubscriptionTopics(bytes: Uint8Array): string[] | undefined {
  const r = new Reader(bytes);
  try {
    r.int16();
    return r.array(() => r.string());
  } catch {
    return undefined;
  }
}

/** A consumer's assigned partitions, or undefined when `bytes` is not a consumer assignment. */
export function decodeAssignment(bytes: Uint8Array): { topic: string; partitions: number[] }[] | undefined {
  if (bytes.byteLength === 0) return [];
  const r = new Reader(bytes);
  try {
    r.int16();
    return r.array(() => ({ topic: r.string(), partitions: r.array(() => r.int32()) }));
  } catch {
    return undefined;
  }
}

/** Bounds-checked big-endian reads; throws on anything out of range. */
class Reader {
  readonly #view: DataView;
  readonly #bytes: Uint8Array;
  #at = 0;

  constructor(bytes: Uint8Array) {
    this.#bytes = bytes;
    this.#view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  int16(): number {
    const v = this.#view.getInt16(this.#at);
    this.#at += 2;
    return v;
  }

  int32(): number {
    const v = this.#view.getInt32(this.#at);
    this.#at += 4;
    return v;
  }

  string(): string {
    const length = this.int16();
    if (length < 0 || this.#at + length > this.#bytes.byteLength) throw new RangeError('string out of range');
    const s = new TextDecoder('utf-8', { fatal: true }).decode(
      this.#bytes.subarray(this.#at, this.#at + length),
    );
    this.#at += length;
    return s;
  }

  array<T>(element: () => T): T[] {
    const count = this.int32();
    // Each element takes at least two bytes: a count beyond what is left is malformed.
    if (count < 0 || count > (this.#bytes.byteLength - this.#at) / 2)
      throw new RangeError('array out of range');
    return Array.from({ length: count }, element);
  }
}
