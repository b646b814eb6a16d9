/** `tributary produce <topic>`: one message per stdin line. */
import { createInterface } from 'node:readline';
import type { Compression, ProducerMessage, RawValue, RecordMetadata, Tributary } from '../sdk/src/index.ts';
import { integerOption, keyValues, parseCommand, UsageError } from './options.ts';

const COMPRESSIONS: readonly string[] = ['none', 'gzip', 'snappy', 'lz4', 'zstd'];

export async function runProduce(args: string[], client: Tributary): Promise<number> {
  const { values, positionals } = parseCommand(args, {
    'key-separator': { type: 'string' },
    partition: { type: 'string' },
    compression: { type: 'string' },
    header: { type: 'string', multiple: true },
  });
  const topic = positionals[0];
  if (!topic) throw new UsageError('produce needs a topic: tributary produce <topic>');
  const separator = values['key-separator'];
  if (separator === '') throw new UsageError('--key-separator must not be empty');
  const partition = integerOption('partition', values.partition);
  const compression = values.compression;
  if (compression !== undefined && !COMPRESSIONS.includes(compression))
    throw new UsageError(`--compression must be one of ${COMPRESSIONS.join(', ')}`);
  const headers = keyValues('header', values.header);
  // Without --compression, the producer's default codec.
  const producer = client.producer(
    compression === undefined ? {} : { compression: compression as Compression },
  );
  const pending: Promise<RecordMetadata[]>[] = [];
  let lines = 0;
  let acked = 0;
  const progress = setInterval(() => {
    if (process.stderr.isTTY) process.stderr.write(`\rProduced ${acked}/${lines} messages`);
  }, 500);
  try {
    for await (const line of createInterface({ input: process.stdin, crlfDelay: Number.POSITIVE_INFINITY })) {
      lines++;
      let message: ProducerMessage<RawValue> = { value: line, headers };
      if (separator !== undefined) {
        const at = line.indexOf(separator);
        if (at < 0) throw new UsageError(`line ${lines} has no key separator "${separator}"`);
        message = { key: line.slice(0, at), value: line.slice(at + separator.length), headers };
      }
      if (partition !== undefined) message = { ...message, partition };
      const sent = producer.send({ topic, messages: [message] });
      sent.then(
        () => acked++,
        () => undefined,
      );
      pending.push(sent);
      // Surface a failure (unknown topic, ...) promptly rather than after reading all of stdin.
      if (pending.length === 1) await sent;
    }
    await Promise.all(pending);
    await producer.close();
  } finally {
    clearInterval(progress);
    if (process.stderr.isTTY) process.stderr.write('\r');
  }
  process.stderr.write(`Produced ${lines} message(s) to "${topic}".\n`);
  return 0;
}
