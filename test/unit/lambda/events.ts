/** Events and a Lambda context for the `tributary/lambda` unit tests. */
import type { Context } from 'aws-lambda';
import type { MskKafkaEvent } from '../../../sdk/src/lambda/index.ts';
import {
  buildKafkaEvent,
  type SelfManagedKafkaEvent,
  type TriggerRecord,
} from '../../../sdk/src/triggers/esm-event.ts';

/** A context as Lambda's Node.js runtime passes it. */
export function lambdaContext(requestId = 'req-1'): Context {
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName: 'orders',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:eu-west-1:111122223333:function:orders',
    memoryLimitInMB: '128',
    awsRequestId: requestId,
    logGroupName: '/aws/lambda/orders',
    logStreamName: '2026/01/01/[$LATEST]0123456789abcdef',
    getRemainingTimeInMillis: () => 60_000,
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

/** A record with UTF-8 text value (or `null`), no key and no headers unless given. */
export function triggerRecord(
  partition: number,
  offset: number,
  value: string | null,
  extra: Partial<TriggerRecord> = {},
): TriggerRecord {
  return {
    topic: 'orders',
    partition,
    offset,
    timestamp: 1_767_225_600_000 + offset,
    timestampType: 'CREATE_TIME',
    key: null,
    value: value === null ? null : Buffer.from(value, 'utf8'),
    headers: [],
    ...extra,
  };
}

/** An event as a Tributary trigger sends it: the values of each partition at offsets from 0. */
export function eventOf(
  partitions: Readonly<Record<number, readonly (string | null)[]>>,
): SelfManagedKafkaEvent {
  const records = Object.entries(partitions).flatMap(([partition, values]) =>
    values.map((value, offset) => triggerRecord(Number(partition), offset, value)),
  );
  return buildKafkaEvent(records, '127.0.0.1:4566');
}

/** The MSK event of `shared/reference/lambda-kafka-esm.md` §1.5, verbatim. */
export function mskEvent(): MskKafkaEvent {
  return JSON.parse(`{
  "eventSource": "aws:kafka",
  "eventSourceArn": "arn:aws:kafka:eu-west-1:111122223333:cluster/demo/0a1b2c3d-1111-2222-3333-444455556666-7",
  "bootstrapServers": "b-1.demo.x1y2z3.c2.kafka.eu-west-1.amazonaws.com:9098,b-2.demo.x1y2z3.c2.kafka.eu-west-1.amazonaws.com:9098",
  "records": {
    "orders-3": [
      {
        "topic": "orders", "partition": 3, "offset": 1207,
        "timestamp": 1767225600123, "timestampType": "CREATE_TIME",
        "key": "b3JkZXItNDI=",
        "value": "eyJpZCI6NDIsInRvdGFsIjo5LjV9",
        "headers": [ { "trace-id": [118, 49] }, { "origin": [99, 97, 102, -61, -87] } ]
      },
      {
        "topic": "orders", "partition": 3, "offset": 1208,
        "timestamp": 1767225600200, "timestampType": "CREATE_TIME",
        "value": "cGluZw==",
        "headers": []
      }
    ],
    "orders-5": [
      {
        "topic": "orders", "partition": 5, "offset": 88,
        "timestamp": 1767225600150, "timestampType": "LOG_APPEND_TIME",
        "key": "b3JkZXItNDM=",
        "headers": []
      }
    ]
  }
}`) as MskKafkaEvent;
}

/** Keys as UTF-8 text (`null` stays `null`). */
export const textDeserializer = (bytes: Buffer | null): string | null =>
  bytes === null ? null : bytes.toString('utf8');
