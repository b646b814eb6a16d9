/** The SDK's public types: what users write must type-check, and what they must not, must not. */
import { describe, expectTypeOf, it } from 'vitest';
import {
  type ConsumedMessage,
  type Consumer,
  type HttpTributaryOptions,
  jsonDeserializer,
  jsonSerializer,
  type Producer,
  type RecordMetadata,
  type StartPosition,
  Tributary,
  type TributaryError,
} from '../../sdk/src/index.ts';

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

  it('exposes code and retriable on every error', () => {
    expectTypeOf<TributaryError['retriable']>().toEqualTypeOf<boolean>();
    expectTypeOf<TributaryError['code']>().toExtend<string>();
  });
});
