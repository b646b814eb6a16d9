/**
 * Calls a trigger's function the way Lambda's event source mappings do: a synchronous
 * (`RequestResponse`) `Invoke` through `@aws-sdk/client-lambda`, in AWS and against the local
 * stack's Invoke API alike. Errors of the call itself (throttling, a missing function, no
 * permission) are thrown as the AWS SDK raised them, for `classifyInvokeError` to tell a throttle
 * from a failure; a function that failed or timed out returns normally with its `FunctionError`.
 */
import { InvokeCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import type { InvokePort, InvokeResult } from './partition-worker.ts';

/** An {@link InvokePort} for one function (name, `name:qualifier` or ARN). */
export function lambdaInvoker(client: LambdaClient, functionName: string): InvokePort {
  return {
    async invoke(payload: string): Promise<InvokeResult> {
      const out = await client.send(
        new InvokeCommand({
          FunctionName: functionName,
          InvocationType: 'RequestResponse',
          Payload: Buffer.from(payload, 'utf8'),
        }),
      );
      return {
        functionError: out.FunctionError,
        payload: out.Payload,
        statusCode: out.StatusCode ?? 200,
        executedVersion: out.ExecutedVersion,
        requestId: out.$metadata.requestId ?? '',
      };
    },
  };
}
