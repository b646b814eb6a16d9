/** `tributary archive run`: runs the archiver once (archiving to S3 and retention) and reports what it did. */
import type { ArchiveReport, Tributary } from '../sdk/src/index.ts';
import { parseCommand, UsageError } from './options.ts';

export async function runArchive(args: string[], client: Tributary): Promise<number> {
  const { values, positionals } = parseCommand(args, {
    topic: { type: 'string', multiple: true },
    all: { type: 'boolean' },
  });
  const [action, ...extra] = positionals;
  if (action !== 'run') throw new UsageError(`archive takes run; got "${action ?? ''}"`);
  if (extra.length > 0)
    throw new UsageError(`archive run takes topics as --topic T, got "${extra.join(' ')}"`);
  const report = await client.archiver().run({
    ...(values.topic ? { topics: values.topic } : {}),
    visit: values.all ? 'all' : 'due',
  });
  writeReport(report);
  return 0;
}

function writeReport(report: ArchiveReport): void {
  process.stdout.write(
    'Topic\tPartition\tSegmentsArchived\tBytesArchived\tSegmentsDeleted\tBytesExpired\tLogStart\tLocalLogStart\n',
  );
  for (const p of report.partitions) {
    const cells = [
      p.topic,
      p.partition,
      p.segmentsArchived,
      p.bytesArchived,
      p.segmentsDeleted,
      p.bytesExpired,
      p.logStartOffset,
      p.localLogStartOffset,
    ];
    process.stdout.write(`${cells.join('\t')}\n`);
  }
  const { puts, gets, lists, deletes } = report.s3Requests;
  process.stdout.write(
    `Total: ${report.segmentsArchived} segment(s) archived (${report.bytesArchived} bytes), ` +
      `${report.segmentsDeleted} segment(s) deleted, ${report.bytesExpired} bytes expired; ` +
      `${report.orphansDeleted} orphaned object(s) deleted; ` +
      (report.purgesFinished > 0 ? `${report.purgesFinished} deleted topic(s) purged; ` : '') +
      `S3 requests: ${puts} PUT, ${gets} GET, ${lists} LIST, ${deletes} DELETE\n`,
  );
  process.stdout.write(
    `Partitions: ${report.partitions.length} visited, ${report.partitionsSkipped} with nothing due ` +
      `(${report.partitionsProbed} read once to find new records)\n`,
  );
}
