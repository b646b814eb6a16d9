/**
 * The API's Lambda function: API Gateway HTTP API (payload v2, IAM-authorized routes) to the
 * SDK. Configuration is read once, at cold start; the SDK client is shared by all invocations.
 */
import { Tributary } from '../../sdk/src/client.ts';
import { readFunctionConfig } from '../environment.ts';
import { lambdaTelemetry } from '../telemetry.ts';
import { createApiHandler } from './app.ts';

const config = readFunctionConfig();

export const handler = createApiHandler(
  // Metadata is cached briefly: other instances of this function may have changed a topic.
  new Tributary({ tables: config.tables, bucket: config.bucket, metadataMaxAgeMs: 5_000 }),
  lambdaTelemetry(),
);
