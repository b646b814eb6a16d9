/**
 * Per-API log lines in CloudWatch's Embedded Metric Format: a JSON object per line whose `_aws`
 * block tells CloudWatch Logs which of its fields are metrics. On ECS with the `awslogs` driver
 * each stdout line is a log event, so these become CloudWatch metrics without an agent; anywhere
 * else they are plain JSON logs. Pure.
 *
 * Written by hand rather than with Powertools' Metrics, which is built around a Lambda
 * invocation (cold start, flush per handler call) and writes to the console itself: the gateway
 * flushes on its own interval, to the sink it was given.
 */
import type { IntervalStats } from './metrics.ts';

/** The CloudWatch namespace of the gateway's metrics. */
export const EMF_NAMESPACE = 'Tributary/Gateway';

/**
 * The metrics of each line, per API and interval. Latency is the sum and the maximum over the
 * interval's requests, not percentiles: the average is `LatencySum / RequestCount` (CloudWatch
 * metric math), and the distribution is the `/metrics` histogram's.
 */
const METRICS = [
  { Name: 'RequestCount', Unit: 'Count' },
  /** Requests whose response carried at least one non-zero error code. */
  { Name: 'ErrorCount', Unit: 'Count' },
  { Name: 'LatencySum', Unit: 'Milliseconds' },
  { Name: 'LatencyMax', Unit: 'Milliseconds' },
] as const;

/** One line (a JSON object, no line feed) per API in `stats`, stamped `timestamp` (ms since the epoch). */
export function emfLines(stats: readonly IntervalStats[], timestamp: number, intervalMs: number): string[] {
  return stats.map((s) =>
    JSON.stringify({
      _aws: {
        Timestamp: timestamp,
        CloudWatchMetrics: [{ Namespace: EMF_NAMESPACE, Dimensions: [['Api']], Metrics: METRICS }],
      },
      Api: s.api,
      RequestCount: s.requests,
      ErrorCount: s.errorResponses,
      LatencySum: roundMs(s.latencySumMs),
      LatencyMax: roundMs(s.latencyMaxMs),
      // Not a metric (not listed in `_aws`): the length of the period the counts cover.
      IntervalMs: intervalMs,
    }),
  );
}

/** Microsecond precision: the clock's noise below it is not information. */
function roundMs(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}
