/** `tributary topics ...` */
import type { DivergentBatch, FailoverReport, ReappendResult, Tributary } from '../sdk/src/index.ts';
import { integerOption, keyValues, parseCommand, UsageError } from './options.ts';

export async function runTopics(args: string[], client: Tributary): Promise<number> {
  const { values, positionals } = parseCommand(args, {
    partitions: { type: 'string' },
    config: { type: 'string', multiple: true },
    'delete-config': { type: 'string', multiple: true },
    to: { type: 'string' },
    forced: { type: 'boolean' },
    'timeout-ms': { type: 'string' },
    reappend: { type: 'boolean' },
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
      // With the deployment's regions known (--regions), each region's copy of each partition.
      if (d.partitions.some((p) => p.regions !== undefined)) {
        process.stdout.write(
          'Regions:\nPartition\tRegion\tHome\tHighWatermark\tLeaderEpoch\tLagRecords\tLagMs\n',
        );
        for (const p of d.partitions) {
          for (const r of p.regions ?? []) {
            const cells = [
              p.partition,
              r.region,
              r.home ? 'yes' : 'no',
              r.highWatermark,
              r.leaderEpoch,
              r.lagRecords,
              r.lagMs,
            ];
            process.stdout.write(`${cells.join('\t')}\n`);
          }
        }
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
    case 'failover': {
      const name = needTopic();
      if (!values.to) throw new UsageError('topics failover needs --to REGION (the new home region)');
      const timeoutMs = integerOption('timeout-ms', values['timeout-ms'], 1);
      const report = await admin.failoverTopic(name, {
        to: values.to,
        mode: values.forced ? 'forced' : 'planned',
        ...(timeoutMs === undefined ? {} : { timeoutMs }),
      });
      process.stdout.write(failoverText(report));
      return 0;
    }
    case 'divergence': {
      const name = needTopic();
      if (values.reappend) {
        const results = await admin.reappendDivergent(name);
        process.stdout.write(reappendText(name, results));
        return 0;
      }
      const report = await admin.divergence(name);
      process.stdout.write(divergenceText(name, report.batches, report.pendingClaims));
      return 0;
    }
    default:
      throw new UsageError(
        'topics takes create, list, describe, alter, add-partitions, delete, failover or divergence; ' +
          `got "${action ?? ''}"`,
      );
  }
}

function failoverText(report: FailoverReport): string {
  const lines = [
    `Failed topic "${report.topic}" over from ${report.from} to ${report.to} (${report.mode}): leader epoch ` +
      `${report.previousEpoch} -> ${report.epoch}, in ${report.tookMs} ms.`,
    'Partition\tPreviousEpoch\tEpoch\tStartOffset\tWaitedMs',
    ...report.partitions.map((p) =>
      [p.partition, p.previousEpoch, p.epoch, p.startOffset, p.waitedMs].join('\t'),
    ),
  ];
  return `${lines.join('\n')}\n`;
}

function divergenceText(topic: string, batches: readonly DivergentBatch[], pendingClaims: number): string {
  const pending = pendingClaims > 0 ? ` (${pendingClaims} claim(s) still pending past an epoch's end)` : '';
  if (batches.length === 0) return `No batches outside the log of "${topic}"${pending}.\n`;
  const lines = [
    `${batches.length} batch(es) outside the log of "${topic}"${pending}:`,
    'Partition\tEpoch\tOffset\tRecords\tProducerId\tSequence\tRegion\tLeaderEpoch\tAppendTime\tStatus\tFinalOffset',
    ...batches.map((b) =>
      [
        b.partition,
        b.epoch,
        b.offset,
        b.count,
        b.producerId,
        b.sequence,
        b.region ?? '-',
        b.leaderEpoch,
        b.appendTime === undefined ? '-' : new Date(b.appendTime).toISOString(),
        b.status,
        b.finalOffset ?? '-',
      ].join('\t'),
    ),
  ];
  return `${lines.join('\n')}\n`;
}

function reappendText(topic: string, results: readonly ReappendResult[]): string {
  if (results.length === 0) return `Nothing to re-append for "${topic}".\n`;
  const lines = [
    `Re-appended ${results.filter((r) => r.outcome === 'reappended').length} of ${results.length} batch(es) of "${topic}":`,
    'Partition\tEpoch\tOffset\tFinalOffset\tOutcome',
    ...results.map((r) => [r.partition, r.epoch, r.offset, r.finalOffset, r.outcome].join('\t')),
  ];
  return `${lines.join('\n')}\n`;
}
