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
 * @packageDocumentation
 */
export { type LocalStack, type LocalStackOptions, startLocalStack } from './stack.ts';
