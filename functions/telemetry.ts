/**
 * Logs, metrics and traces of the functions. Logs and metrics go through Powertools for Lambda
 * (structured JSON logs; CloudWatch embedded-metric-format metrics). Traces go through the
 * OpenTelemetry API: spans are no-ops until an OpenTelemetry SDK is registered (e.g. the ADOT
 * Lambda layer), so the functions carry no tracing vendor of their own.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { type Tracer, trace } from '@opentelemetry/api';

/** Where a function reports. Metrics are optional (the local stack runs without). */
export interface Telemetry {
  readonly logger: Logger;
  readonly metrics: Metrics | undefined;
  readonly tracer: Tracer;
}

/**
 * Telemetry of a deployed function: service and namespace from the POWERTOOLS_SERVICE_NAME and
 * POWERTOOLS_METRICS_NAMESPACE variables the stack sets per function, else Tributary's defaults.
 */
export function lambdaTelemetry(env: NodeJS.ProcessEnv = process.env): Telemetry {
  const serviceName = env.POWERTOOLS_SERVICE_NAME || 'tributary';
  const namespace = env.POWERTOOLS_METRICS_NAMESPACE || 'Tributary';
  return {
    logger: new Logger({ serviceName }),
    metrics: new Metrics({ namespace, serviceName }),
    tracer: trace.getTracer('tributary'),
  };
}

/** Telemetry for the local stack: warnings and errors only, no metrics. */
export function localTelemetry(logLevel: 'WARN' | 'ERROR' | 'SILENT' = 'WARN'): Telemetry {
  return {
    logger: new Logger({ serviceName: 'tributary-local', logLevel }),
    metrics: undefined,
    tracer: trace.getTracer('tributary'),
  };
}

export { MetricUnit };
