/**
 * Reading the S3 tier fetches each byte of a segment once: every ranged GET ends at a batch
 * boundary the segment's index names, so no GET cuts a batch whose start the next GET reads again.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { TierMetadata } from '../../../sdk/src/archive/tier-metadata.ts';
import { readAll } from '../../helpers/consume.ts';
import { injectFaults } from '../../helpers/faults.ts';
import { testClient, testContext, testS3, uniqueTopic } from '../../helpers/tributary.ts';

const s3 = testS3();
/** Ranged GETs of `.log` objects: key and first..last byte. */
const logReads: { key: string; first: number; last: number }[] = [];
injectFaults(s3, ({ command, input }) => {
  const range = /^bytes=(\d+)-(\d+)$/.exec(String(input.Range ?? ''));
  if (command === 'GetObjectCommand' && String(input.Key).endsWith('.log') && range) {
    logReads.push({ key: String(input.Key), first: Number(range[1]), last: Number(range[2]) });
  }
  return undefined;
});
const tributary = testClient({ s3Client: s3 });
afterAll(() => tributary.close());

describe('S3 tier reads', () => {
  it('reads every byte of the archived segments once, with fetches smaller than a segment', async () => {
    const topic = uniqueTopic('ranged');
    await tributary
      .admin()
      .createTopic({ topic, configs: { 'segment.bytes': 128 * 1024, 'local.retention.ms': 0 } });
    // Batches of 10 records of 1 KB (random: no codec shrinks them), one per send.
    const values = Array.from({ length: 400 }, () => randomBytes(1024));
    const producer = tributary.producer({ lingerMs: 0 });
    for (let i = 0; i < values.length; i += 10) {
      await producer.send({ topic, messages: values.slice(i, i + 10).map((value) => ({ value })) });
    }
    await producer.close();
    const report = await tributary.archiver().run({ topics: [topic] });
    expect(report.segmentsArchived).toBeGreaterThanOrEqual(2);
    const archived = report.partitions[0]!.localLogStartOffset;

    // 64 KiB fetches: half a segment, and not a whole number of ~10 KB batches.
    const consumer = tributary.consumer({ maxBytes: 64 * 1024, maxRecords: 1000 });
    logReads.length = 0;
    await consumer.assign([{ topic, partition: 0, offset: 0 }]);
    const messages = await readAll(consumer, values.length);
    consumer.close();
    expect(messages.map((m) => m.offset)).toEqual(values.map((_, i) => i));
    messages.forEach((m, i) => {
      expect(Buffer.compare(m.value!, values[i]!), `record ${i}`).toBe(0);
    });

    const { incarnation } = await tributary.admin().describeTopic(topic);
    const segments: { key: string; bytes: number }[] = [];
    for await (const segment of new TierMetadata(testContext(), {
      topic,
      incarnation,
      partition: 0,
    }).segments()) {
      if (segment.baseOffset < archived) segments.push({ key: segment.keys.log, bytes: segment.bytes });
    }
    expect(segments).toHaveLength(report.segmentsArchived);
    for (const { key, bytes } of segments) {
      const reads = logReads.filter((r) => r.key === key).sort((a, b) => a.first - b.first);
      expect(reads.length, key).toBeGreaterThan(1);
      // Back to back from byte 0 to the end: nothing read twice, nothing skipped.
      reads.forEach((r, i) => {
        expect(r.first, `${key} read ${i}`).toBe(i === 0 ? 0 : reads[i - 1]!.last + 1);
      });
      expect(reads[reads.length - 1]!.last, key).toBe(bytes - 1);
    }
  });

  it('reads a segment a little larger than a fetch in one GET, not a second one for its last batches', async () => {
    const topic = uniqueTopic('ranged');
    await tributary
      .admin()
      .createTopic({ topic, configs: { 'segment.bytes': 128 * 1024, 'local.retention.ms': 0 } });
    const values = Array.from({ length: 400 }, () => randomBytes(1024));
    const producer = tributary.producer({ lingerMs: 0 });
    for (let i = 0; i < values.length; i += 10) {
      await producer.send({ topic, messages: values.slice(i, i + 10).map((value) => ({ value })) });
    }
    await producer.close();
    const report = await tributary.archiver().run({ topics: [topic] });
    expect(report.segmentsArchived).toBeGreaterThanOrEqual(2);
    const archived = report.partitions[0]!.localLogStartOffset;

    // A segment holds up to 128 KiB; a fetch wants 112 KiB of it.
    const consumer = tributary.consumer({ maxBytes: 112 * 1024, maxRecords: 1000 });
    logReads.length = 0;
    await consumer.assign([{ topic, partition: 0, offset: 0 }]);
    const messages = await readAll(consumer, archived);
    consumer.close();
    expect(messages.slice(0, archived).map((m) => m.offset)).toEqual(
      values.slice(0, archived).map((_, i) => i),
    );
    const perSegment = new Map<string, number>();
    for (const r of logReads) perSegment.set(r.key, (perSegment.get(r.key) ?? 0) + 1);
    expect(perSegment.size).toBe(report.segmentsArchived);
    expect([...perSegment.values()]).toEqual(Array.from({ length: report.segmentsArchived }, () => 1));
  });
});
