/** Whether a Lambda function exists: `GetFunctionConfiguration` (metadata only, no code download URL). */
import { GetFunctionConfigurationCommand, type LambdaClient } from '@aws-sdk/client-lambda';

/**
 * True when `functionName` (name, `name:qualifier` or ARN) names a function the caller can see;
 * false when Lambda answers `ResourceNotFoundException`. Any other failure (no permission, the
 * service unreachable) propagates, so a trigger is never created on a guess.
 */
export async function functionExists(client: LambdaClient, functionName: string): Promise<boolean> {
  try {
    // It takes every form a trigger accepts (a qualifier appended to a name or an ARN).
    await client.send(new GetFunctionConfigurationCommand({ FunctionName: functionName }));
    return true;
  } catch (error) {
    if ((error as { name?: unknown }).name === 'ResourceNotFoundException') return false;
    throw error;
  }
}
