/** InitProducerId (key 22): a producer id and epoch for an idempotent producer. v3+ can resume one. */
import { defineApi } from '../api-description.ts';
import { int16, int32, int64, string } from '../schema.ts';

export const INIT_PRODUCER_ID = defineApi({
  name: 'InitProducerId',
  apiKey: 22,
  minVersion: 0,
  maxVersion: 4,
  flexibleVersions: '2+',
  request: {
    transactionalId: string({ nullableVersions: '0+' }),
    transactionTimeoutMs: int32(),
    producerId: int64({ versions: '3+', default: -1n }),
    producerEpoch: int16({ versions: '3+', default: -1 }),
  },
  response: {
    throttleTimeMs: int32(),
    errorCode: int16(),
    producerId: int64({ default: -1n }),
    producerEpoch: int16(),
  },
});
