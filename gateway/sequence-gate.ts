/**
 * Keeps an idempotent producer's batches in order on one connection after a retriable failure.
 *
 * A client pipelines batches of one partition (librdkafka keeps up to five in flight). When batch
 * `s` fails retriably — its outcome may be unknown, or an earlier attempt of it still runs — the
 * batches after it on the same connection must not be appended before `s` is settled: `s + n`
 * would take the partition's next sequence while `s` may never land (a gap under an acknowledged
 * batch), or land after it (out of order). So until the client sends `s` again, every other batch
 * of that producer and partition on the connection is answered OUT_OF_ORDER_SEQUENCE_NUMBER
 * without being attempted; the client, which retries its batches in order, resends `s` first.
 * (Requests of a connection are handled one at a time, so nothing on it races the failed batch.)
 *
 * This is also what makes a DUPLICATE_SEQUENCE_NUMBER answer sound: a sequence behind the
 * partition's next one was claimed only after every earlier batch was settled.
 */

/** An idempotent batch's identity as the gate sees it. */
export interface SequencedBatchKey {
  readonly producerId: bigint;
  readonly producerEpoch: number;
  readonly topic: string;
  readonly partition: number;
  readonly baseSequence: number;
}

/** One connection's gate. */
export class SequenceGate {
  /** Producer, topic and partition → the epoch and sequence of the earliest unsettled failure. */
  readonly #failed = new Map<string, { readonly epoch: number; readonly sequence: number }>();

  /** True when `batch` may be attempted: no earlier batch of its producer and partition is unsettled. */
  admits(batch: SequencedBatchKey): boolean {
    const failed = this.#failed.get(keyOf(batch));
    // A newer epoch starts over at sequence 0; the claim path settles the old epoch's latest batch first.
    return (
      failed === undefined ||
      batch.producerEpoch > failed.epoch ||
      (failed.epoch === batch.producerEpoch && failed.sequence === batch.baseSequence)
    );
  }

  /** Records a retriable failure of `batch` (its outcome may be unknown); the first one stays. */
  failed(batch: SequencedBatchKey): void {
    const key = keyOf(batch);
    if (!this.#failed.has(key)) {
      this.#failed.set(key, { epoch: batch.producerEpoch, sequence: batch.baseSequence });
    }
  }

  /** `batch` is settled (appended, recognised as appended, or refused for good). */
  settled(batch: SequencedBatchKey): void {
    const key = keyOf(batch);
    const failed = this.#failed.get(key);
    if (
      failed &&
      (batch.producerEpoch > failed.epoch ||
        (failed.epoch === batch.producerEpoch && failed.sequence === batch.baseSequence))
    ) {
      this.#failed.delete(key);
    }
  }
}

function keyOf(batch: SequencedBatchKey): string {
  // `\0` occurs in no topic name.
  return `${batch.producerId}\0${batch.topic}\0${batch.partition}`;
}
