/**
 * A TypeScript handler (run by Node's type stripping) that answers with what it was given: the
 * event, its context and the Lambda variables of its environment. Module state (`invocations`)
 * lives as long as the worker, as in a warm Lambda execution environment.
 */
import { threadId } from 'node:worker_threads';
import type { Context } from 'aws-lambda';

interface Echo {
  readonly message?: string;
}

let invocations = 0;

export const handler = async (event: Echo, context: Context) => {
  invocations += 1;
  console.log(`echoing ${event.message ?? '(nothing)'}`);
  return {
    event,
    invocations,
    threadId,
    context: {
      awsRequestId: context.awsRequestId,
      functionName: context.functionName,
      functionVersion: context.functionVersion,
      invokedFunctionArn: context.invokedFunctionArn,
      memoryLimitInMB: context.memoryLimitInMB,
      logGroupName: context.logGroupName,
      logStreamName: context.logStreamName,
      callbackWaitsForEmptyEventLoop: context.callbackWaitsForEmptyEventLoop,
      remainingTimeInMillis: context.getRemainingTimeInMillis(),
      clientContext: context.clientContext,
    },
    environment: {
      AWS_LAMBDA_FUNCTION_NAME: process.env.AWS_LAMBDA_FUNCTION_NAME,
      AWS_REGION: process.env.AWS_REGION,
      AWS_ENDPOINT_URL: process.env.AWS_ENDPOINT_URL,
      GREETING: process.env.GREETING,
    },
  };
};

/** Another export of the same module, registered with `#version`. */
export const version = async () => 'context-v1';
