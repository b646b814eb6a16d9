/**
 * The scheduled archiver: copies old batches to S3 segments and applies retention for every
 * topic, then reports what it did as metrics. A run that finds nothing due costs a few reads
 * per partition. Runs do not overlap harmfully: archiving is idempotent and every step is
 * conditional, so a slow run and the next one converge.
 */
import { Tributary } from '../../sdk/src/index.ts';
import { readFunctionConfig } from '../environment.ts';
import { lambdaTelemetry, MetricUnit } from '../telemetry.ts';

const config = readFunctionConfig();
const tributary = new Tributary({ tables: config.tables, bucket: config.bucket });
const { logger, metrics } = lambdaTelemetry();

export async function handler(): Promise<void> {
  const report = await tributary.archiver().run();
  logger.info('Archive run', {
    partitions: report.partitions.length,
    segmentsArchived: report.segmentsArchived,
    bytesArchived: report.bytesArchived,
    segmentsDeleted: report.segmentsDeleted,
    bytesExpired: report.bytesExpired,
    orphansDeleted: report.orphansDeleted,
    purgesFinished: report.purgesFinished,
  });
  if (metrics) {
    metrics.addMetric('segmentsArchived', MetricUnit.Count, report.segmentsArchived);
    metrics.addMetric('bytesArchived', MetricUnit.Bytes, report.bytesArchived);
    metrics.addMetric('segmentsDeleted', MetricUnit.Count, report.segmentsDeleted);
    metrics.addMetric('bytesExpired', MetricUnit.Bytes, report.bytesExpired);
    metrics.publishStoredMetrics();
  }
}
