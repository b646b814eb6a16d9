/** `tributary topics ...` */
import type { Tributary } from '../sdk/src/index.ts';
import { integerOption, keyValues, parseCommand, UsageError } from './options.ts';

export async function runTopics(args: string[], client: Tributary): Promise<number> {
  const { values, positionals } = parseCommand(args, {
    partitions: { type: 'string' },
    config: { type: 'string', multiple: true },
    'delete-config': { type: 'string', multiple: true },
  });
  const [action, topic] = positionals;
  const admin = client.admin();
  const needTopic = () => {
    if (!topic) throw new UsageError(`topics ${action} needs a topic name`);
    return topic;
  };
  switch (action) {
    case 'create': {
      const name = needTopic();
      const partitions = integerOption('partitions', values.partitions, 1) ?? 1;
      await admin.createTopic({ topic: name, partitions, configs: keyValues('config', values.config) });
      process.stdout.write(`Created topic "${name}" with ${partitions} partition(s).\n`);
      return 0;
    }
    case 'list': {
      for (const t of await admin.listTopics()) process.stdout.write(`${t.name}\t${t.partitions}\n`);
      return 0;
    }
    case 'describe': {
      const d = await admin.describeTopic(needTopic());
      process.stdout.write(
        `Topic: ${d.name}\tPartitions: ${d.partitions.length}\tCreated: ${d.createdAt.toISOString()}\n`,
      );
      // New columns go after Records, so scripts reading the first four keep working.
      process.stdout.write(
        'Partition\tLogStart\tHighWatermark\tRecords\tLocalLogStart\tS3Segments\tS3Bytes\tDynamoDBBytes\n',
      );
      for (const p of d.partitions) {
        const cells = [
          p.partition,
          p.logStartOffset,
          p.highWatermark,
          p.highWatermark - p.logStartOffset,
          p.localLogStartOffset,
          p.s3.segments,
          p.s3.bytes,
          p.dynamodb.bytes,
        ];
        process.stdout.write(`${cells.join('\t')}\n`);
      }
      process.stdout.write('Configs:\n');
      for (const [k, v] of Object.entries(d.configs)) process.stdout.write(`  ${k}=${v}\n`);
      return 0;
    }
    case 'alter': {
      const name = needTopic();
      // fromEntries makes own properties, so a key like "__proto__" reaches the SDK (which refuses it).
      const changes: Record<string, string | null> = Object.fromEntries([
        ...Object.entries(keyValues('config', values.config)),
        ...(values['delete-config'] ?? []).map((key) => [key, null] as const),
      ]);
      if (Object.keys(changes).length === 0)
        throw new UsageError('topics alter needs --config key=value or --delete-config key');
      await admin.alterTopicConfigs(name, changes);
      process.stdout.write(`Updated configs of "${name}".\n`);
      return 0;
    }
    case 'add-partitions': {
      const name = needTopic();
      const partitions = integerOption('partitions', values.partitions, 1);
      if (partitions === undefined)
        throw new UsageError('topics add-partitions needs --partitions N (the new total)');
      await admin.createPartitions(name, partitions);
      process.stdout.write(`Topic "${name}" now has ${partitions} partitions.\n`);
      return 0;
    }
    case 'delete': {
      const name = needTopic();
      await admin.deleteTopic(name, {
        onProgress: (p) => {
          if (process.stderr.isTTY)
            process.stderr.write(
              `\rPurging partition ${p.partition + 1}/${p.partitions}: ${p.itemsDeleted} items`,
            );
        },
      });
      if (process.stderr.isTTY) process.stderr.write('\n');
      process.stdout.write(`Deleted topic "${name}".\n`);
      return 0;
    }
    default:
      throw new UsageError(
        `topics takes create, list, describe, alter, add-partitions or delete; got "${action ?? ''}"`,
      );
  }
}
