/** The SDK's public types: what users write must type-check, and what they must not, must not. */
import type { TransactWriteItem } from '@aws-sdk/client-dynamodb';
import { describe, expectTypeOf, it } from 'vitest';
import type { DirectAdmin } from '../../sdk/src/admin.ts';
import * as sdk from '../../sdk/src/index.ts';
import {
  type Admin,
  type ConsumedMessage,
  type Consumer,
  type DivergenceReport,
  type DivergentBatch,
  type FailoverReport,
  type FailoverRequest,
  type HttpTributaryOptions,
  jsonDeserializer,
  jsonSerializer,
  type Producer,
  type ProducerMetrics,
  type ProducerRecord,
  type PurgeProgress,
  type ReappendResult,
  type RecordMetadata,
  type SendAtomicallyOptions,
  type StartingPosition,
  type StartPosition,
  Tributary,
  type TributaryError,
  type TributaryOptions,
  type TriggerConfig,
  type TriggerDescription,
  type TriggerSettings,
  type TriggerSummary,
  type TriggerUpdate,
} from '../../sdk/src/index.ts';
import type {
  KafkaBatchResponse,
  KafkaEventRecord,
  SelfManagedKafkaEvent,
} from '../../sdk/src/lambda/index.ts';
import type { DirectProducer } from '../../sdk/src/producer.ts';
import type { HttpAdmin } from '../../sdk/src/transport/http-admin.ts';
import type { HttpProducer } from '../../sdk/src/transport/http-producer.ts';

interface Order {
  id: string;
  total: number;
}

describe('public types', () => {
  const tributary = new Tributary({ endpoint: 'http://127.0.0.1:4566' });

  it('defaults to string or bytes values', () => {
    const producer = tributary.producer();
    expectTypeOf(producer).toEqualTypeOf<Producer<string | Uint8Array | null>>();
    expectTypeOf(producer.send).parameter(0).toHaveProperty('messages');
    expectTypeOf(producer.send).returns.resolves.toEqualTypeOf<RecordMetadata[]>();
    const consumer = tributary.consumer();
    expectTypeOf(consumer).toEqualTypeOf<Consumer<Buffer | null>>();
  });

  it('types values by their serializer', () => {
    const producer = tributary.producer({ serializer: jsonSerializer<Order>() });
    expectTypeOf(producer).toEqualTypeOf<Producer<Order>>();
    type SentValue = Parameters<typeof producer.send>[0]['messages'][number]['value'];
    expectTypeOf<SentValue>().toEqualTypeOf<Order>();
    expectTypeOf<string>().not.toExtend<SentValue>();
    const consumer = tributary.consumer({ deserializer: jsonDeserializer<Order>() });
    expectTypeOf(consumer.messages()).toEqualTypeOf<AsyncGenerator<ConsumedMessage<Order | null>>>();
  });

  it('accepts every start position and nothing else', () => {
    expectTypeOf<0>().toExtend<StartPosition>();
    expectTypeOf<'earliest'>().toExtend<StartPosition>();
    expectTypeOf<{ timestamp: number }>().toExtend<StartPosition>();
    expectTypeOf<'first'>().not.toExtend<StartPosition>();
  });

  it('gives both transports one interface', () => {
    const http = new Tributary({
      transport: 'http',
      endpoint: 'https://abc.execute-api.eu-west-1.amazonaws.com',
    });
    expectTypeOf(http.producer()).toEqualTypeOf(tributary.producer());
    expectTypeOf(http.consumer()).toEqualTypeOf(tributary.consumer());
    expectTypeOf(http.admin()).toEqualTypeOf(tributary.admin());
    expectTypeOf(http.consumer({ groupId: 'g' })).toEqualTypeOf(tributary.consumer({ groupId: 'g' }));
    expectTypeOf<HttpTributaryOptions>().toHaveProperty('endpoint').toEqualTypeOf<string>();
    // Table options belong to the direct transport only.
    // @ts-expect-error tablePrefix is not an option of the http transport
    void (() => new Tributary({ transport: 'http', endpoint: 'http://127.0.0.1:4567', tablePrefix: 'p' }));
  });

  it('declares the producer and admin interfaces that both transports implement', () => {
    expectTypeOf<keyof Producer<string>>().toEqualTypeOf<
      'send' | 'sendAtOffset' | 'sendAtomically' | 'flush' | 'close' | 'metrics'
    >();
    expectTypeOf<DirectProducer<string>>().toExtend<Producer<string>>();
    expectTypeOf<HttpProducer<string>>().toExtend<Producer<string>>();
    expectTypeOf<Producer<string>['metrics']>().returns.toEqualTypeOf<ProducerMetrics>();
    expectTypeOf<Producer<string>['sendAtomically']>()
      .parameter(0)
      .toEqualTypeOf<readonly ProducerRecord<string>[]>();
    expectTypeOf<Producer<string>['sendAtomically']>()
      .parameter(1)
      .toEqualTypeOf<SendAtomicallyOptions | undefined>();
    expectTypeOf<SendAtomicallyOptions['extraItems']>().toEqualTypeOf<
      readonly TransactWriteItem[] | undefined
    >();

    expectTypeOf<keyof Admin>().toEqualTypeOf<
      | 'listGroups'
      | 'describeGroup'
      | 'resetGroupOffsets'
      | 'deleteGroup'
      | 'createTopic'
      | 'listTopics'
      | 'describeTopic'
      | 'alterTopicConfigs'
      | 'createPartitions'
      | 'deleteTopic'
      | 'offsetsForTimestamp'
      | 'partitionOffsets'
      | 'createTrigger'
      | 'updateTrigger'
      | 'deleteTrigger'
      | 'listTriggers'
      | 'describeTrigger'
      | 'failoverTopic'
      | 'divergence'
      | 'readDivergent'
      | 'reappendDivergent'
    >();
    expectTypeOf<Admin['failoverTopic']>().parameters.toEqualTypeOf<[string, FailoverRequest]>();
    expectTypeOf<FailoverRequest['mode']>().toEqualTypeOf<'planned' | 'forced'>();
    expectTypeOf<Admin['failoverTopic']>().returns.resolves.toEqualTypeOf<FailoverReport>();
    expectTypeOf<Admin['divergence']>().returns.resolves.toEqualTypeOf<DivergenceReport>();
    expectTypeOf<DivergenceReport['batches'][number]>().toEqualTypeOf<DivergentBatch>();
    expectTypeOf<Admin['reappendDivergent']>().returns.resolves.toEqualTypeOf<ReappendResult[]>();
    expectTypeOf<DirectAdmin>().toExtend<Admin>();
    expectTypeOf<HttpAdmin>().toExtend<Admin>();
    type OnProgress = NonNullable<NonNullable<Parameters<Admin['deleteTopic']>[1]>['onProgress']>;
    expectTypeOf<OnProgress>().parameter(0).toEqualTypeOf<PurgeProgress>();
  });

  it('types trigger administration with the ESM settings, and only create settings at create', () => {
    expectTypeOf<Admin['createTrigger']>().parameter(0).toEqualTypeOf<TriggerConfig>();
    expectTypeOf<Admin['createTrigger']>().returns.resolves.toEqualTypeOf<TriggerDescription>();
    expectTypeOf<Admin['updateTrigger']>().parameters.toEqualTypeOf<[string, TriggerUpdate]>();
    expectTypeOf<Admin['updateTrigger']>().returns.resolves.toEqualTypeOf<TriggerDescription>();
    expectTypeOf<Admin['deleteTrigger']>().parameters.toEqualTypeOf<[string]>();
    expectTypeOf<Admin['deleteTrigger']>().returns.resolves.toEqualTypeOf<void>();
    expectTypeOf<Admin['listTriggers']>().returns.resolves.toEqualTypeOf<TriggerSummary[]>();
    expectTypeOf<Admin['describeTrigger']>().returns.resolves.toEqualTypeOf<TriggerDescription>();
    expectTypeOf<TriggerDescription>().toExtend<TriggerSummary>();
    expectTypeOf<TriggerDescription['settings']>().toEqualTypeOf<TriggerSettings>();
    expectTypeOf<TriggerDescription['partitions'][number]['dueAt']>().toEqualTypeOf<Date | undefined>();
    expectTypeOf<TriggerSummary['state']>().toEqualTypeOf<'Enabled' | 'Disabled'>();
    // The starting position is required (as for Lambda's Kafka ESM) and takes only the ESM's values.
    expectTypeOf<{
      name: 'n';
      topic: 't';
      functionName: 'f';
      startingPosition: 'LATEST';
    }>().toExtend<TriggerConfig>();
    expectTypeOf<{ name: 'n'; topic: 't'; functionName: 'f' }>().not.toExtend<TriggerConfig>();
    expectTypeOf<'EARLIEST'>().not.toExtend<StartingPosition>();
    // Create-only settings are not part of an update.
    expectTypeOf<TriggerUpdate>().not.toHaveProperty('topic');
    expectTypeOf<TriggerUpdate>().not.toHaveProperty('startingPosition');
    expectTypeOf<TriggerUpdate>().not.toHaveProperty('groupId');
    expectTypeOf<{ batchSize: 10; enabled: false }>().toExtend<TriggerUpdate>();
  });

  it('keeps internals out of the public entry', () => {
    expectTypeOf(sdk).not.toHaveProperty('DirectTransport');
    expectTypeOf(sdk).not.toHaveProperty('HttpClient');
    expectTypeOf(sdk).not.toHaveProperty('PeriodicTask');
    expectTypeOf(sdk).not.toHaveProperty('internalsOf');
    expectTypeOf(sdk).toHaveProperty('Tributary');
    // Table options belong to the direct transport only.
    expectTypeOf<TributaryOptions>().toHaveProperty('tablePrefix');
  });

  it('types the Kafka event and batch response of tributary/lambda', () => {
    expectTypeOf<SelfManagedKafkaEvent['eventSource']>().toEqualTypeOf<'SelfManagedKafka'>();
    expectTypeOf<SelfManagedKafkaEvent['records'][string][number]>().toEqualTypeOf<KafkaEventRecord>();
    expectTypeOf<KafkaEventRecord['value']>().toEqualTypeOf<string | undefined>();
    expectTypeOf<{ batchItemFailures: [] }>().toExtend<KafkaBatchResponse>();
    expectTypeOf<{
      batchItemFailures: [{ itemIdentifier: { partition: 'orders-0'; offset: 7 } }];
    }>().toExtend<KafkaBatchResponse>();
    expectTypeOf<{ batchItemFailures: [{ offset: 7 }] }>().not.toExtend<KafkaBatchResponse>();
  });

  it('types the regions options and the replication figures', () => {
    expectTypeOf<TributaryOptions['appends']>().toEqualTypeOf<'forward' | 'refuse' | undefined>();
    expectTypeOf<TributaryOptions['readFrom']>().toEqualTypeOf<'local' | 'home' | undefined>();
    expectTypeOf<TributaryOptions['replicaGaps']>().toEqualTypeOf<'wait' | 'read-home' | undefined>();
    // The local stack's `stack.regions` entries are what `regions` takes (extra fields ignored).
    const local = [{ region: 'us-east-1', endpoint: 'http://127.0.0.1:4566', dynamodbEndpoint: 'http://x' }];
    expectTypeOf(local).toExtend<NonNullable<TributaryOptions['regions']>>();
    expectTypeOf<
      NonNullable<sdk.PartitionOffsets['regions']>[number]
    >().toEqualTypeOf<sdk.RegionReplication>();
    expectTypeOf<sdk.RegionEndpoint>().toHaveProperty('region').toEqualTypeOf<string>();
    expectTypeOf<sdk.NotHomeRegionError['homeRegion']>().toEqualTypeOf<string>();
    expectTypeOf<sdk.UnknownRegionError['regions']>().toEqualTypeOf<readonly string[]>();
    // MRSC: the consistency option, and what a commit or reset without a transaction reports.
    expectTypeOf<TributaryOptions['consistency']>().toEqualTypeOf<sdk.ReplicationConsistency | undefined>();
    expectTypeOf<sdk.ReplicationConsistency>().toEqualTypeOf<'eventual' | 'strong'>();
    expectTypeOf<TributaryOptions['witnessRegion']>().toEqualTypeOf<string | undefined>();
    expectTypeOf<sdk.LeaseLostError['committed']>().toEqualTypeOf<
      readonly sdk.CommittedOffset[] | undefined
    >();
    expectTypeOf<sdk.PartiallyResetError['reset']>().toEqualTypeOf<readonly sdk.CommittedOffset[]>();
  });

  it('exposes code and retriable on every error', () => {
    expectTypeOf<TributaryError['retriable']>().toEqualTypeOf<boolean>();
    expectTypeOf<TributaryError['code']>().toExtend<string>();
  });
});
