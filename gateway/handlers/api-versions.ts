/** ApiVersions: the version table of the APIs this gateway serves (see `advertised-apis.ts`). */
import { ADVERTISED_APIS } from '../advertised-apis.ts';
import type { Handler } from '../context.ts';
import { KafkaError } from '../kafka-errors.ts';

const API_KEYS = ADVERTISED_APIS.map(({ apiKey, minVersion, maxVersion }) => ({
  apiKey,
  minVersion,
  maxVersion,
}));

export const handleApiVersions: Handler<'ApiVersions'> = async () => ({
  errorCode: KafkaError.NONE,
  apiKeys: API_KEYS,
  throttleTimeMs: 0,
});
