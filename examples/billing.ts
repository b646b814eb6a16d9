/**
 * A function for a Tributary trigger, written as for Lambda's Kafka triggers, with the handler
 * helper of `tributary/lambda`: it logs each order and fails on a record whose value says "poison"
 * (which the trigger then retries and, with a destination, sends to the dead-letter topic).
 *
 *   npm start -- --function billing=./examples/billing.ts
 */
import { kafkaHandler } from 'tributary/lambda';

export const handler = kafkaHandler({
  eachRecord: async (record) => {
    const text = record.value === null ? '(tombstone)' : record.value.toString('utf8');
    if (text.includes('poison')) throw new Error(`cannot bill ${text}`);
    console.log(`billing ${record.topic}[${record.partition}]@${record.offset}: ${text}`);
  },
});
