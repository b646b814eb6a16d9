/** What a trigger needs to know of its function: that it exists, and its timeout. */
import { GetFunctionConfigurationCommand, type LambdaClient } from '@aws-sdk/client-lambda';

/** A function as trigger administration sees it. */
export interface FunctionFacts {
  /** The function's timeout in seconds. */
  readonly timeoutSeconds: number;
}

/**
 * The facts of `functionName` (name, `name:qualifier` or ARN) from `GetFunctionConfiguration`
 * (metadata only, no code download URL), or undefined when Lambda answers
 * `ResourceNotFoundException`. Any other failure (no permission, the service unreachable)
 * propagates, so a trigger is never created on a guess.
 */
export async function lookUpFunction(
  client: LambdaClient,
  functionName: string,
): Promise<FunctionFacts | undefined> {
  try {
    // It takes every form a trigger accepts (a qualifier appended to a name or an ARN).
    const out = await client.send(new GetFunctionConfigurationCommand({ FunctionName: functionName }));
    return { timeoutSeconds: out.Timeout ?? 3 };
  } catch (error) {
    if ((error as { name?: unknown }).name === 'ResourceNotFoundException') return undefined;
    throw error;
  }
}
