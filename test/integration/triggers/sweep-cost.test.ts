/**
 * What the dispatcher's sweep reads when nothing is due, on a table set of the test's own: one
 * scan of the topics table (the triggers and their topics) and one query of each enabled
 * trigger's leases — no topic item, nothing of the log, no worker.
 */
import { SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, describe, expect, it } from 'vitest';
import { DirectTransport, Dispatcher } from '../../../sdk/src/internal.ts';
import { tableNames } from '../../../sdk/src/schema.ts';
import { meterCapacity } from '../../helpers/capacity.ts';
import { freshTablePrefix, testStackConfig } from '../../helpers/stack.ts';
import { testDynamoDB } from '../../helpers/tributary.ts';
import { connectionFor } from '../../helpers/triggers.ts';

const closers: (() => void)[] = [];
afterAll(() => {
  for (const close of closers) close();
});

describe('the sweep of an idle deployment', () => {
  it('reads one scan of the topics table and one lease query per enabled trigger', async () => {
    const prefix = await freshTablePrefix('sweep');
    const tables = tableNames(prefix);
    const ddb = testDynamoDB();
    const meter = meterCapacity(ddb);
    // Sweeps come a minute apart in AWS, past any topic metadata cache: none here either.
    const transport = new DirectTransport(
      connectionFor(prefix, { dynamoDBClient: ddb, metadataMaxAgeMs: -1 }),
    );
    const sqs = new SQSClient({ region: testStackConfig().region });
    closers.push(() => {
      sqs.destroy();
      transport.close();
    });
    const admin = transport.admin();
    for (const topic of ['orders', 'payments', 'audit']) {
      await admin.createTopic({ topic, partitions: 3 });
      // From LATEST: every partition gets a committed offset, nothing is due.
      await admin.createTrigger({
        name: `${topic}-trigger`,
        topic,
        functionName: 'recorder',
        startingPosition: 'LATEST',
        enabled: topic !== 'audit',
      });
    }
    const started: string[] = [];
    const dispatcher = new Dispatcher({
      ctx: transport.ctx,
      topics: transport.topics,
      triggers: transport.triggers(),
      lambda: transport.lambda,
      sqs: () => sqs,
      region: testStackConfig().region,
      bootstrapServers: 'tributary.local:9092',
      appendToTopic: async () => undefined,
      startWorker: async (job) => {
        started.push(`${job.trigger}[${job.partition}]`);
      },
    });

    meter.reset();
    await dispatcher.sweep();
    expect(started).toEqual([]);
    expect(meter.table(tables.topics).requests).toBe(1);
    expect(meter.requests(tables.topics, 'ScanCommand')).toBe(1);
    expect(meter.requests(tables.groups, 'QueryCommand')).toBe(2);
    expect(meter.table(tables.groups).requests).toBe(2);
    expect(meter.table(tables.log).requests).toBe(0);
    // Half a unit per lease query (eventually consistent, a few small items), the scan a unit.
    expect(meter.table(tables.groups).readUnits).toBe(1);
    expect(meter.table(tables.topics).readUnits).toBeLessThanOrEqual(2);
    expect(meter.table(tables.topics).writeUnits + meter.table(tables.groups).writeUnits).toBe(0);
  });
});
