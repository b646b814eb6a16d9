/**
 * FindCoordinator: every gateway coordinates every consumer group (their state lives in the
 * groups table), so the coordinator of a group is the gateway asked, as the one broker it
 * advertises. Transactions (and KIP-932 share groups) are not supported: those key types are
 * answered INVALID_REQUEST.
 *
 * Its v0 matters beyond groups too: librdkafka (before 2.11) takes a broker without
 * FindCoordinator v0 for one older than Kafka 0.8.2 and then compresses with nothing but zstd
 * (its gzip, snappy and lz4 features are probed with FindCoordinator).
 */
import type { Handler } from '../context.ts';
import { KafkaError } from '../kafka-errors.ts';

/** FindCoordinator's key type of a consumer group. */
const GROUP = 0;

export const handleFindCoordinator: Handler<'FindCoordinator'> = async (request, { gateway }) => {
  const { body } = request;
  const { nodeId, host, port } = gateway.broker;
  const supported = body.keyType === GROUP;
  const errorCode = supported ? KafkaError.NONE : KafkaError.INVALID_REQUEST;
  const errorMessage = supported
    ? null
    : `Key type ${body.keyType} is not supported (only consumer groups, 0)`;
  const coordinator = supported ? { nodeId, host, port } : { nodeId: -1, host: '', port: -1 };
  return {
    throttleTimeMs: 0,
    errorCode,
    errorMessage,
    ...coordinator,
    coordinators: body.coordinatorKeys.map((key) => ({ key, ...coordinator, errorCode, errorMessage })),
  };
};
