/**
 * The API's Lambda function: API Gateway HTTP API (payload v2, IAM-authorized routes) to the
 * SDK. Configuration is read once, at cold start; the secret group sessions are signed with is
 * fetched by the first invocation (and again only if that failed), and the SDK's direct transport
 * is shared by all invocations.
 */
import { getSecret } from '@aws-lambda-powertools/parameters/secrets';
import { DirectTransport } from '../../sdk/src/internal.ts';
import { readApiFunctionConfig, readFunctionConfig } from '../environment.ts';
import { lambdaTelemetry } from '../telemetry.ts';
import { type ApiHandler, createApiHandler } from './app.ts';

const config = readFunctionConfig();
const { sessionSecretArn } = readApiFunctionConfig();
// Metadata is cached briefly: other instances of this function may have changed a topic.
const direct = new DirectTransport({ tables: config.tables, bucket: config.bucket, metadataMaxAgeMs: 5_000 });
const telemetry = lambdaTelemetry();

let ready: Promise<ApiHandler> | undefined;

async function build(): Promise<ApiHandler> {
  const secret = await getSecret(sessionSecretArn);
  if (typeof secret !== 'string' && !(secret instanceof Uint8Array)) {
    throw new Error(`Tributary API function: the session secret ${sessionSecretArn} has no value`);
  }
  const sessionKey = typeof secret === 'string' ? Buffer.from(secret, 'utf8') : secret;
  return createApiHandler(direct, telemetry, { sessionKey });
}

export const handler: ApiHandler = async (event, context) => {
  ready ??= build().catch((error: unknown) => {
    ready = undefined;
    throw error;
  });
  return (await ready)(event, context);
};
