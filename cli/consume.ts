/**
 * `tributary consume <topic>`: prints messages, one per line; from assigned partitions, or as a
 * member of a consumer group with `--group`.
 */
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
    group: { type: 'string' },
  });
  const topic = positionals[0];
  if (!topic) throw new UsageError('consume needs a topic: tributary consume <topic>');
  const group = values.group;
  if (group !== undefined) {
    const conflicting = (['partition', 'offset', 'from-timestamp'] as const).filter(
      (name) => values[name] !== undefined,
    );
    if (conflicting.length > 0) {
      throw new UsageError(
        `--group cannot be combined with ${conflicting.map((n) => `--${n}`).join(', ')}: the group assigns partitions and starts from its committed offsets`,
      );
    }
  }
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
  const print = (message: ConsumedMessage<Buffer | null>) =>
    process.stdout.write(`${render(message, format, separator)}\n`);

  if (group !== undefined) {
    const count = await consumeAsGroupMember(client, {
      group,
      topic,
      fromBeginning: values['from-beginning'] === true,
      maxMessages,
      timeoutMs,
      print,
    });
    process.stderr.write(`Consumed ${count} message(s).\n`);
    return 0;
  }

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
        print(message);
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

interface GroupConsumeRequest {
  readonly group: string;
  readonly topic: string;
  readonly fromBeginning: boolean;
  readonly maxMessages: number | undefined;
  readonly timeoutMs: number | undefined;
  readonly print: (message: ConsumedMessage<Buffer | null>) => void;
}

/**
 * Thrown by the handler for records after the last one wanted, so the group consumer leaves them
 * unprocessed: they are not committed and the group's next member reads them.
 */
class EnoughMessages extends Error {}

/**
 * Consumes as a member of a consumer group until `maxMessages`, `timeoutMs` idle or SIGINT,
 * then leaves the group gracefully (commits what was printed, hands the partitions over).
 */
async function consumeAsGroupMember(client: Tributary, request: GroupConsumeRequest): Promise<number> {
  const consumer = client.consumer({
    groupId: request.group,
    heartbeatIntervalMs: 1_000,
    sessionTimeoutMs: 10_000,
    autoCommitIntervalMs: 1_000,
    maxIdleIntervalMs: 250,
    onError: (error) => {
      if (error instanceof EnoughMessages) return;
      process.stderr.write(`tributary: ${error instanceof Error ? error.message : String(error)}\n`);
    },
  });
  const { promise: stopped, resolve: stop } = Promise.withResolvers<void>();
  let count = 0;
  let idleTimer: NodeJS.Timeout | undefined;
  const armTimeout = () => {
    if (request.timeoutMs === undefined) return;
    clearTimeout(idleTimer);
    idleTimer = setTimeout(stop, request.timeoutMs);
  };
  const enough = () => request.maxMessages !== undefined && count >= request.maxMessages;
  process.once('SIGINT', stop);
  try {
    await consumer.subscribe({ topics: [request.topic], fromBeginning: request.fromBeginning });
    await consumer.run({
      eachMessage: async (message) => {
        if (enough()) throw new EnoughMessages();
        request.print(message);
        count++;
        if (enough()) stop();
        else armTimeout();
      },
    });
    // Idle time counts from having joined the group (joining takes a heartbeat round or two).
    if (!enough()) armTimeout();
    await stopped;
  } finally {
    clearTimeout(idleTimer);
    process.off('SIGINT', stop);
    await consumer.disconnect();
  }
  return count;
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
