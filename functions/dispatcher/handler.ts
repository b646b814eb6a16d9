/**
 * The trigger dispatcher's Lambda function. One function, three kinds of events:
 * - a batch of the log table's DynamoDB stream (the doorbell): partitions that got records are
 *   rung and, where no worker holds them, a worker job is started — as an asynchronous invocation
 *   of this function, so a delivery never holds the stream's shard;
 * - the schedule's sweep (`SWEEP_EVENT`): due partitions nobody holds get a worker job;
 * - a worker job `{ trigger, partition }`: delivers that partition until it is caught up or this
 *   invocation's time is nearly spent, then hands on (the partition stays due; the next job is
 *   started at once).
 * Stream batches report partial failures (`batchItemFailures`): a doorbell that failed is retried
 * by the stream mapping; duplicates are harmless (delivery is by offset, not by stream record).
 */
import { InvokeCommand } from '@aws-sdk/client-lambda';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { Context, DynamoDBBatchResponse, DynamoDBStreamEvent } from 'aws-lambda';
import {
  DirectTransport,
  Dispatcher,
  type RungPartition,
  rawSerializer,
  rungPartitionOf,
  type WorkJob,
} from '../../sdk/src/internal.ts';
import { isSweepEvent, readDispatcherFunctionConfig, readFunctionConfig } from '../environment.ts';
import { lambdaTelemetry, MetricUnit } from '../telemetry.ts';

const config = readFunctionConfig();
const { bootstrapServers } = readDispatcherFunctionConfig();
const region = process.env.AWS_REGION ?? 'us-east-1';
const self = process.env.AWS_LAMBDA_FUNCTION_NAME;
const transport = new DirectTransport({
  tables: config.tables,
  bucket: config.bucket,
  metadataMaxAgeMs: 5_000,
});
const { logger, metrics } = lambdaTelemetry();
const producer = transport.producer({ serializer: rawSerializer, lingerMs: 0 });
let sqs: SQSClient | undefined;

/** Room kept at the end of a worker invocation to release its lease and start the next job. */
const HAND_ON_MARGIN_MS = 10_000;

const dispatcher = new Dispatcher({
  ctx: transport.ctx,
  topics: transport.topics,
  triggers: transport.triggers(),
  lambda: transport.lambda,
  sqs: () => {
    sqs ??= new SQSClient({ region });
    return sqs;
  },
  region,
  bootstrapServers,
  appendToTopic: async (topic, messages) => {
    await producer.send({ topic, messages: messages.map((m) => ({ key: m.key, value: m.value })) });
  },
  startWorker: startWorker,
  onMetrics: (trigger, partition, counters) => {
    if (!metrics) return;
    const single = metrics.singleMetric();
    single.addDimension('trigger', trigger.name);
    for (const [name, value] of Object.entries(counters)) single.addMetric(name, MetricUnit.Count, value);
    logger.debug('Worker run', { trigger: trigger.name, partition, ...counters });
  },
  onProblem: (message, error) => logger.warn(message, { error }),
});

/** Starts a worker job as an asynchronous invocation of this function (Lambda retries it twice on failure). */
async function startWorker(job: WorkJob): Promise<void> {
  if (!self) throw new Error('AWS_LAMBDA_FUNCTION_NAME is not set: the dispatcher runs as a Lambda function');
  await transport.lambda.send(
    new InvokeCommand({
      FunctionName: self,
      InvocationType: 'Event',
      Payload: Buffer.from(JSON.stringify(job)),
    }),
  );
}

function isWorkJob(event: unknown): event is WorkJob {
  const e = event as Partial<WorkJob> | null;
  return typeof e?.trigger === 'string' && Number.isSafeInteger(e.partition) && (e.partition ?? -1) >= 0;
}

function isStreamEvent(event: unknown): event is DynamoDBStreamEvent {
  return Array.isArray((event as Partial<DynamoDBStreamEvent> | null)?.Records);
}

/** The dispatcher's entry point. */
export async function handler(
  event: unknown,
  context: Pick<Context, 'getRemainingTimeInMillis'>,
): Promise<DynamoDBBatchResponse | undefined> {
  if (isSweepEvent(event)) {
    await dispatcher.sweep();
    return undefined;
  }
  if (isWorkJob(event)) {
    const deadline = Date.now() + context.getRemainingTimeInMillis() - HAND_ON_MARGIN_MS;
    const result = await dispatcher.work(event, deadline);
    if (result.status === 'continue' && result.dueAt <= Date.now() + 60_000) await startWorker(event);
    return undefined;
  }
  if (isStreamEvent(event)) return doorbell(event);
  logger.error('Unknown event', { event });
  throw new Error('The dispatcher takes stream batches, the sweep schedule and worker jobs only');
}

/** Rings the partitions of a stream batch; records whose doorbell failed are reported for a retry. */
async function doorbell(event: DynamoDBStreamEvent): Promise<DynamoDBBatchResponse> {
  const rung: { partition: RungPartition; sequence: string | undefined }[] = [];
  for (const record of event.Records) {
    if (record.eventName === 'REMOVE') continue;
    const keys = record.dynamodb?.Keys;
    const partition = rungPartitionOf({
      pk: keys?.pk?.S,
      off: keys?.off?.N,
      newImage: record.dynamodb?.NewImage,
    });
    if (partition) rung.push({ partition, sequence: record.dynamodb?.SequenceNumber });
  }
  try {
    await dispatcher.doorbell(rung.map((r) => r.partition));
    return { batchItemFailures: [] };
  } catch (error) {
    logger.error('Doorbell failed', { error });
    // Report from the first record: the mapping retries the rest of the batch (ringing twice is harmless).
    const first = event.Records[0]?.dynamodb?.SequenceNumber;
    return { batchItemFailures: first ? [{ itemIdentifier: first }] : [] };
  }
}
