/** `tributary consume <topic>`: prints messages, one per line. */
import type { Assignment, ConsumedMessage, StartPosition, Tributary } from '../sdk/src/index.ts';
import { integerOption, parseCommand, UsageError } from './options.ts';

const FORMATS = ['value', 'kv', 'json'] as const;
type Format = (typeof FORMATS)[number];

export async function runConsume(args: string[], client: Tributary): Promise<number> {
  const { values, positionals } = parseCommand(args, {
    partition: { type: 'string' },
    offset: { type: 'string' },
    'from-beginning': { type: 'boolean' },
    'from-timestamp': { type: 'string' },
    'max-messages': { type: 'string' },
    'timeout-ms': { type: 'string' },
    format: { type: 'string' },
    'key-separator': { type: 'string' },
  });
  const topic = positionals[0];
  if (!topic) throw new UsageError('consume needs a topic: tributary consume <topic>');
  const starts = [
    values.offset !== undefined,
    values['from-beginning'] === true,
    values['from-timestamp'] !== undefined,
  ];
  if (starts.filter(Boolean).length > 1)
    throw new UsageError('use only one of --offset, --from-beginning, --from-timestamp');
  const format = (values.format ?? 'value') as Format;
  if (!FORMATS.includes(format)) throw new UsageError(`--format must be one of ${FORMATS.join(', ')}`);
  const partition = integerOption('partition', values.partition);
  const offset = integerOption('offset', values.offset);
  if (offset !== undefined && partition === undefined) throw new UsageError('--offset needs --partition');
  const timestamp = integerOption('from-timestamp', values['from-timestamp']);
  const maxMessages = integerOption('max-messages', values['max-messages'], 1);
  const timeoutMs = integerOption('timeout-ms', values['timeout-ms']);
  const separator = values['key-separator'] ?? '\t';

  const start: StartPosition =
    offset ?? (values['from-beginning'] ? 'earliest' : timestamp !== undefined ? { timestamp } : 'latest');
  const partitions =
    partition === undefined
      ? (await client.admin().describeTopic(topic)).partitions.map((p) => p.partition)
      : [partition];
  const consumer = client.consumer({ maxIdleIntervalMs: 500 });
  await consumer.assign(partitions.map((p): Assignment => ({ topic, partition: p, offset: start })));
  let count = 0;
  let idleTimer: NodeJS.Timeout | undefined;
  const armTimeout = () => {
    if (timeoutMs === undefined) return;
    clearTimeout(idleTimer);
    idleTimer = setTimeout(() => consumer.close(), timeoutMs);
  };
  const stop = () => consumer.close();
  process.once('SIGINT', stop);
  armTimeout();
  try {
    for await (const batch of consumer) {
      for (const message of batch.messages) {
        process.stdout.write(`${render(message, format, separator)}\n`);
        count++;
        if (maxMessages !== undefined && count >= maxMessages) {
          consumer.close();
          break;
        }
      }
      armTimeout();
    }
  } finally {
    clearTimeout(idleTimer);
    process.off('SIGINT', stop);
  }
  process.stderr.write(`Consumed ${count} message(s).\n`);
  return 0;
}

function text(bytes: Buffer | null): string | null {
  if (bytes === null) return null;
  const decoded = bytes.toString('utf8');
  return Buffer.from(decoded, 'utf8').equals(bytes) ? decoded : null;
}

function render(m: ConsumedMessage<Buffer | null>, format: Format, separator: string): string {
  if (format === 'value') return m.value?.toString('utf8') ?? 'null';
  if (format === 'kv')
    return `${m.key?.toString('utf8') ?? 'null'}${separator}${m.value?.toString('utf8') ?? 'null'}`;
  const field = (bytes: Buffer | null) => {
    const asText = text(bytes);
    return bytes === null ? null : asText !== null ? asText : { base64: bytes.toString('base64') };
  };
  return JSON.stringify({
    topic: m.topic,
    partition: m.partition,
    offset: m.offset,
    timestamp: m.timestamp,
    key: field(m.key),
    value: field(m.value),
    headers: m.headers.map((h) => ({ key: h.key, value: field(h.value) })),
  });
}
