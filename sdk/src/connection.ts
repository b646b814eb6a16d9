/**
 * What both transports decide alike about reaching a deployment: the region when none is given,
 * and the credentials when none are given — the standard AWS chain, except against a loopback
 * endpoint (the local stack, LocalStack) with none in the environment, where a dummy pair stands
 * in. A leaf: the transports and the client import it, it imports none of them.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { isLoopbackEndpoint } from './loopback.ts';

/** AWS credentials, as the AWS SDK accepts them. */
export type Credentials = NonNullable<ConstructorParameters<typeof DynamoDBClient>[0]>['credentials'];

/**
 * The dummy pair used against a loopback endpoint when no credentials are configured (LocalStack's
 * convention; the local API accepts signatures made with it).
 */
export const LOOPBACK_CREDENTIALS = { accessKeyId: 'test', secretAccessKey: 'test' } as const;

/** The region: the given one, else `AWS_REGION`, else `AWS_DEFAULT_REGION`, else `us-east-1`. */
export function resolveRegion(region: string | undefined): string {
  return region ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? 'us-east-1';
}

/**
 * The credentials to use: the given ones; else, for a loopback `endpoint` with no credentials in
 * the environment (`AWS_ACCESS_KEY_ID` or `AWS_PROFILE`), {@link LOOPBACK_CREDENTIALS}; else
 * `undefined`, meaning the standard AWS credential chain.
 */
export function defaultCredentials(
  endpoint: string | undefined,
  credentials: Credentials | undefined,
): Credentials | undefined {
  if (credentials) return credentials;
  const hasEnvCredentials = Boolean(process.env.AWS_ACCESS_KEY_ID || process.env.AWS_PROFILE);
  if (endpoint !== undefined && isLoopbackEndpoint(endpoint) && !hasEnvCredentials) {
    return { ...LOOPBACK_CREDENTIALS };
  }
  return undefined;
}
