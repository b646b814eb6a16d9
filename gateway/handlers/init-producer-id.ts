/**
 * InitProducerId for idempotent producers: a producer id no other producer has been given (a
 * durable reservation on the deployment's counter, `ProducerIdAllocator`) at epoch 0. As in
 * Kafka, a producer without a transactional id that asks again, with its current id and epoch
 * (KIP-360, after an unrecoverable sequence error), gets a new id rather than a bumped epoch.
 * Transactions are not supported: a transactional id is answered INVALID_REQUEST.
 */
import { TributaryError } from '../../sdk/src/index.ts';
import type { Handler } from '../context.ts';
import { KafkaError, kafkaErrorOf } from '../kafka-errors.ts';

export const handleInitProducerId: Handler<'InitProducerId'> = async (request, { gateway }) => {
  if (request.body.transactionalId !== null) {
    return { throttleTimeMs: 0, errorCode: KafkaError.INVALID_REQUEST, producerId: -1n, producerEpoch: -1 };
  }
  try {
    const producerId = await gateway.producerIds.next();
    return { throttleTimeMs: 0, errorCode: KafkaError.NONE, producerId, producerEpoch: 0 };
  } catch (error) {
    const failure = kafkaErrorOf(error);
    gateway.log(`InitProducerId failed: ${failure.message}`);
    // Clients retry InitProducerId on COORDINATOR_NOT_AVAILABLE: the answer to a passing failure.
    const retriable = error instanceof TributaryError && error.retriable;
    return {
      throttleTimeMs: 0,
      errorCode: retriable ? KafkaError.COORDINATOR_NOT_AVAILABLE : failure.code,
      producerId: -1n,
      producerEpoch: -1,
    };
  }
};
