/**
 * The scheduled archiver: copies old batches to S3 segments and applies retention for every
 * topic, then reports what it did as metrics. It visits only the partitions whose archive
 * schedule says they may have work (time made some due, the dispatcher's doorbell reported
 * records, configs changed): a run over idle partitions reads the topics table once and little
 * else. Runs do not overlap harmfully: archiving is idempotent and every step is conditional, so a
 * slow run and the next one converge.
 */
import { Tributary } from '../../sdk/src/index.ts';
import { readFunctionConfig } from '../environment.ts';
import { lambdaTelemetry, MetricUnit } from '../telemetry.ts';

const config = readFunctionConfig();
const tributary = new Tributary({ tables: config.tables, bucket: config.bucket });
const { logger, metrics } = lambdaTelemetry();

export async function handler(): Promise<void> {
  // The stack's dispatcher rings the schedule of every partition that gets records.
  const report = await tributary.archiver().run({ visit: 'scheduled' });
  logger.info('Archive run', {
    partitions: report.partitions.length,
    partitionsSkipped: report.partitionsSkipped,
    partitionsProbed: report.partitionsProbed,
    segmentsArchived: report.segmentsArchived,
    bytesArchived: report.bytesArchived,
    segmentsDeleted: report.segmentsDeleted,
    bytesExpired: report.bytesExpired,
    orphansDeleted: report.orphansDeleted,
    purgesFinished: report.purgesFinished,
  });
  if (metrics) {
    metrics.addMetric('partitionsVisited', MetricUnit.Count, report.partitions.length);
    metrics.addMetric('segmentsArchived', MetricUnit.Count, report.segmentsArchived);
    metrics.addMetric('bytesArchived', MetricUnit.Bytes, report.bytesArchived);
    metrics.addMetric('segmentsDeleted', MetricUnit.Count, report.segmentsDeleted);
    metrics.addMetric('bytesExpired', MetricUnit.Bytes, report.bytesExpired);
    metrics.publishStoredMetrics();
  }
}
