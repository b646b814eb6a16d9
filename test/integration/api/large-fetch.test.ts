/**
 * Fetches whose records would exceed Lambda's 6 MB response limit once base64-encoded are cut to
 * fit, and the next fetch continues after the last record returned: an HTTP consumer reads every
 * record of a partition holding far more than one response.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { api } from '../../helpers/api.ts';
import { readAll } from '../../helpers/consume.ts';
import { testClient, uniqueTopic } from '../../helpers/tributary.ts';

describe('large fetches over HTTP', () => {
  const direct = testClient();
  const http = testClient({ transport: 'http' });
  afterAll(() => {
    direct.close();
    http.close();
  });

  it('stay under 6 MB per response and lose nothing', async () => {
    const topic = uniqueTopic('large-fetch');
    await direct.admin().createTopic({ topic });
    const producer = direct.producer();
    const values = Array.from({ length: 12 }, (_, i) => Buffer.alloc(500_000, 65 + i));
    for (const value of values) await producer.send({ topic, messages: [{ value }] });
    await producer.close();

    const response = await fetchRaw(topic);
    expect(response.length).toBeLessThan(6 * 1024 * 1024);
    const body = JSON.parse(response) as { records: { offset: number }[]; nextOffset: number };
    expect(body.records.length).toBeGreaterThan(0);
    expect(body.records.length).toBeLessThan(12);
    expect(body.nextOffset).toBe(body.records.length);

    const consumer = http.consumer({ maxBytes: 4 * 1024 * 1024, maxWaitMs: 0 });
    await consumer.assign([{ topic, partition: 0, offset: 0 }]);
    const read = await readAll(consumer, 12);
    expect(read.map((m) => m.offset)).toEqual([...Array(12).keys()]);
    expect(read.every((m, i) => m.value?.equals(values[i]!))).toBe(true);
    consumer.close();
  });
});

async function fetchRaw(topic: string): Promise<string> {
  const response = await api('GET', `/v1/topics/${topic}/partitions/0/records?offset=0&maxBytes=4194304`);
  expect(response.status).toBe(200);
  return JSON.stringify(response.body);
}
