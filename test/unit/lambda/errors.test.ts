/** The errors of `tributary/lambda`: typed, coded, and mapped like every other Tributary error. */
import { describe, expect, it } from 'vitest';
import { errorFromBody, errorToResponse } from '../../../sdk/src/api/error-codec.ts';
import { TributaryError } from '../../../sdk/src/index.ts';
import {
  FullBatchFailureError,
  InvalidKafkaEventError,
  RecordDeserializationError,
} from '../../../sdk/src/lambda/index.ts';

describe('tributary/lambda errors', () => {
  it.each([
    [new InvalidKafkaEventError('eventSource', 'is "aws:sqs"'), 400, { path: 'eventSource' }],
    [
      new RecordDeserializationError('orders', 3, 1207, 'value', 'Unexpected token', {
        cause: new SyntaxError('x'),
      }),
      400,
      { topic: 'orders', partition: 3, offset: 1207, field: 'value' },
    ],
    [
      new FullBatchFailureError([{ topic: 'orders', partition: 0, offset: 4, error: 'down' }], 2),
      500,
      { recordCount: 2 },
    ],
  ])('%s keeps its class, code and context through the error codec', (error, status, context) => {
    expect(error).toBeInstanceOf(TributaryError);
    const { status: mapped, body } = errorToResponse(error);
    expect(mapped).toBe(status);
    const back = errorFromBody(body.error);
    expect(back).toBeInstanceOf(error.constructor);
    expect(back).toMatchObject({
      code: error.code,
      message: error.message,
      retriable: error.retriable,
      ...context,
    });
  });

  it('say what went wrong and where', () => {
    expect(new InvalidKafkaEventError('records["orders-0"][1].offset', 'is missing').message).toBe(
      'Not a Kafka event source mapping event: records["orders-0"][1].offset is missing. A kafkaHandler() ' +
        'takes the event of a Tributary trigger or of an MSK / self-managed Kafka event source mapping.',
    );
    expect(new RecordDeserializationError('orders', 3, 1207, 'key', 'it is not valid base64').message).toBe(
      'Cannot deserialize the key of orders-3@1207: it is not valid base64',
    );
    const full = new FullBatchFailureError(
      [{ topic: 'orders', partition: 0, offset: 4, error: new Error('down') }],
      3,
    );
    expect(full.message).toBe(
      'All 3 record(s) of the batch failed, or were not processed after a failure in their partition; ' +
        '1 error(s). The first, orders-0@4: Error: down',
    );
    expect(full.retriable).toBe(true);
  });
});
