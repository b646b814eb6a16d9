/**
 * `tributary/local`: run Tributary's storage on your machine, for development and for your own
 * tests. One call starts AWS's DynamoDB Local (needs Java 17+) and an S3 emulator behind a single
 * LocalStack-style endpoint on loopback, and creates Tributary's tables and bucket.
 *
 * @example
 * import { startLocalStack, type LocalStack } from 'tributary/local';
 *
 * let stack: LocalStack;
 * beforeAll(async () => {
 *   stack = await startLocalStack({ edgePort: 0 }); // in memory, any free port
 * });
 * afterAll(() => stack.stop());
 *
 * // new Tributary({ endpoint: stack.endpoint, region: stack.region,
 * //   tablePrefix: stack.tablePrefix, bucket: stack.bucket })
 *
 * Lambda handlers are served through Lambda's Invoke API on the same endpoint:
 *
 * @example
 * const stack = await startLocalStack({
 *   edgePort: 0,
 *   functions: [{ name: 'billing', module: new URL('./billing.ts', import.meta.url), timeoutMs: 10_000 }],
 * });
 * stack.lambda.register({ name: 'audit', module: './handlers/audit.ts#onEvent' }); // add or replace
 * // new LambdaClient({ endpoint: stack.endpoint, region: stack.region }).send(new InvokeCommand(...))
 *
 * Several regions, replicated like MREC global tables (a simulation; see `regions/replicator.ts`):
 *
 * @example
 * const stack = await startLocalStack({ edgePort: 0, regions: ['us-east-1', 'eu-west-1'] });
 * // stack.regions: [{ region, endpoint, dynamodbEndpoint }, ...], the home region first
 * stack.replicator?.pause('eu-west-1'); // cut it off both ways
 * stack.replicator?.resume('eu-west-1');
 * await stack.replicator?.settled(); // every change so far applied everywhere reachable
 *
 * Or three regions of one MRSC region set, strongly consistent like MRSC global tables (one
 * DynamoDB Local behind every region's edge; no transactions, no TTL; see `regions/strong-consistency.ts`):
 *
 * @example
 * const stack = await startLocalStack({
 *   edgePort: 0,
 *   regions: ['us-east-1', 'us-east-2', 'us-west-2'],
 *   replication: { mode: 'MRSC' },
 * });
 * stack.strongConsistency?.pause('us-west-2'); // no quorum there: writes and strong reads fail
 * stack.strongConsistency?.resume('us-west-2');
 *
 * @packageDocumentation
 */
export type { LocalFunction, RegisteredFunction } from './lambda/function-definition.ts';
export type { LocalLambda } from './lambda/lambda-service.ts';
export type { ReplicationMode, ReplicationOptions } from './regions/replication-options.ts';
export type {
  MrecReplicationOptions,
  ReplicationLag,
  ReplicationStats,
  Replicator,
  SettleOptions,
} from './regions/replicator.ts';
export type {
  MrscReplicationOptions,
  StrongConsistency,
  StrongConsistencyStats,
} from './regions/strong-consistency.ts';
export { type LocalRegion, type LocalStack, type LocalStackOptions, startLocalStack } from './stack.ts';
