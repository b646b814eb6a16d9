/**
 * On-failure destinations of a trigger: where the records the failure policy gave up on go, with
 * Lambda's invocation-record shapes (`failure-record.ts`):
 * - a Tributary topic: one dead letter per record, keyed like the original (same partition);
 * - an SQS queue: one message per give-up with the batch's metadata (no record bytes, as Lambda);
 * - an S3 bucket: one object per give-up, the metadata plus the whole event.
 * A destination that cannot be written throws: the dispatcher then keeps the records (the
 * partition retries later) rather than committing past them — nothing given up on is lost.
 */
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { GetQueueUrlCommand, SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import {
  type FailureInput,
  type ResponseContext,
  s3InvocationRecord,
  sqsInvocationRecord,
  topicDeadLetters,
} from './failure-record.ts';
import type { DestinationPort, GivenUp } from './partition-worker.ts';
import type { OnFailureDestination } from './trigger-settings.ts';

/**
 * Appends dead letters to a topic (the SDK's producer, idempotent). Being a producer, it appends in
 * the destination topic's home region when its client knows the deployment's regions.
 */
export type TopicAppend = (
  topic: string,
  messages: readonly { readonly key: Uint8Array | null; readonly value: Uint8Array }[],
) => Promise<void>;

/** What the destinations need besides the destination itself. */
export interface DestinationContext {
  readonly triggerName: string;
  readonly functionArn: string;
  readonly bootstrapServers: string;
  readonly now: () => number;
  readonly appendToTopic: TopicAppend;
  readonly sqs: () => SQSClient;
  readonly s3: () => S3Client;
}

/** The port of a trigger's destination. */
export function destinationPort(destination: OnFailureDestination, ctx: DestinationContext): DestinationPort {
  return {
    async deliver(failed: GivenUp): Promise<void> {
      const input = failureInput(failed, ctx);
      switch (destination.kind) {
        case 'topic': {
          const letters = topicDeadLetters(input);
          await ctx.appendToTopic(
            destination.topic,
            letters.map((l) => ({ key: l.key, value: l.value })),
          );
          return;
        }
        case 'sqs': {
          const client = ctx.sqs();
          const { QueueUrl } = await client.send(
            new GetQueueUrlCommand({
              QueueName: destination.queueName,
              QueueOwnerAWSAccountId: destination.accountId,
            }),
          );
          await client.send(
            new SendMessageCommand({ QueueUrl, MessageBody: JSON.stringify(sqsInvocationRecord(input)) }),
          );
          return;
        }
        case 's3': {
          const first = failed.records[0]!;
          const last = failed.records[failed.records.length - 1]!;
          // Lambda does not document its key naming; ours sorts by trigger, partition and offsets.
          const key =
            `aws/lambda/tributary/${ctx.triggerName}/${first.topic}-${first.partition}/` +
            `${String(first.offset).padStart(20, '0')}-${String(last.offset).padStart(20, '0')}-${input.requestId}.json`;
          await ctx.s3().send(
            new PutObjectCommand({
              Bucket: destination.bucket,
              Key: key,
              Body: JSON.stringify(s3InvocationRecord(input)),
              ContentType: 'application/json',
            }),
          );
          return;
        }
      }
    },
  };
}

function failureInput(failed: GivenUp, ctx: DestinationContext): FailureInput {
  const last = failed.lastInvocation;
  const response: ResponseContext | null =
    last === undefined || failed.condition === 'MaximumPayloadSizeExceeded'
      ? null
      : {
          statusCode: last.statusCode,
          executedVersion: last.executedVersion ?? '$LATEST',
          ...(last.functionError === undefined ? {} : { functionError: last.functionError }),
        };
  return {
    condition: failed.condition,
    records: failed.records,
    requestId: last?.requestId || crypto.randomUUID(),
    functionArn: ctx.functionArn,
    approximateInvokeCount: failed.approximateInvokeCount,
    response,
    bootstrapServers: ctx.bootstrapServers,
    now: ctx.now(),
  };
}
