/**
 * The trigger resource provider's handler (the `onEvent` of aws-cdk-lib's provider framework):
 * CloudFormation's Create, Update and Delete of a `Custom::TributaryTrigger` as trigger
 * administration with the SDK (`trigger-resource.ts`). Configuration is read once, at cold start.
 */
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import { DirectTransport } from '../../sdk/src/internal.ts';
import { readFunctionConfig } from '../environment.ts';
import { lambdaTelemetry } from '../telemetry.ts';
import { type TriggerResourceResult, triggerResourceHandler } from './trigger-resource.ts';

const config = readFunctionConfig();
const transport = new DirectTransport({ tables: config.tables, bucket: config.bucket });
const handle = triggerResourceHandler(transport.triggers());
const { logger } = lambdaTelemetry();

export async function handler(event: CloudFormationCustomResourceEvent): Promise<TriggerResourceResult> {
  const request = {
    requestType: event.RequestType,
    logicalResourceId: event.LogicalResourceId,
    ...(event.RequestType === 'Create' ? {} : { physicalResourceId: event.PhysicalResourceId }),
  };
  try {
    const result = await handle(event);
    logger.info('Trigger resource done', { ...request, trigger: result.PhysicalResourceId });
    return result;
  } catch (error) {
    logger.error('Trigger resource failed', { ...request, error: error as Error });
    throw error;
  }
}
