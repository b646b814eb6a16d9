/** What the fixture functions (`test/fixtures/functions/recorder.ts`) received, read back by tests. */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { KafkaEventRecord, SelfManagedKafkaEvent } from '../../sdk/src/lambda/index.ts';
import { testStackConfig } from './stack.ts';

/** One invocation as the recorder saw it. */
export interface RecordedInvocation {
  readonly functionName: string;
  readonly requestId: string;
  readonly event: SelfManagedKafkaEvent;
}

/** Every invocation recorded for `topic` so far, in the order they happened. */
export function recordedInvocations(topic: string): RecordedInvocation[] {
  const path = join(testStackConfig().recordDir, `${topic}.jsonl`);
  if (!existsSync(path)) return [];
  // Only complete lines: a function may be appending a large event while it is read.
  return readFileSync(path, 'utf8')
    .split('\n')
    .slice(0, -1)
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as RecordedInvocation);
}

/** Every record delivered for `topic`, in delivery order. */
export function recordedRecords(topic: string): KafkaEventRecord[] {
  return recordedInvocations(topic).flatMap((i) => Object.values(i.event.records).flat());
}

/** A record's value as text. */
export function valueText(record: KafkaEventRecord): string | undefined {
  return record.value === undefined ? undefined : Buffer.from(record.value, 'base64').toString('utf8');
}
