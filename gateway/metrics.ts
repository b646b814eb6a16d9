/**
 * The gateway's counters, kept in memory by one process: connections, bytes, and per request type
 * the requests (by API and version), the error codes of the responses and the time taken. Pure:
 * the connections report what happened, `snapshot()` is read by the `/metrics` endpoint
 * (`prometheus.ts`), and `takeInterval()` by the periodic per-API log lines (`emf.ts`).
 *
 * Labels are bounded: API names and versions come only from requests the gateway decoded and
 * serves, and error codes from its own responses, so no client can create series at will.
 */
import { responseErrorCodes } from './response-errors.ts';

/**
 * Upper bounds (seconds, inclusive) of the latency histogram's buckets, one more for the rest.
 * From a millisecond (a cached Metadata) up to past the longest Fetch long-poll (30 s by default).
 */
export const LATENCY_BUCKETS_SECONDS: readonly number[] = Object.freeze([
  0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60,
]);

/** Requests of one API in one version. */
export interface RequestCount {
  readonly api: string;
  readonly version: number;
  readonly count: number;
}

/** Error code fields of one API's responses with one code. */
export interface ErrorCodeCount {
  readonly api: string;
  readonly code: number;
  readonly count: number;
}

/** One API's latency histogram. */
export interface LatencyHistogram {
  readonly api: string;
  /** Requests at or under each bound of {@link LATENCY_BUCKETS_SECONDS} (cumulative). */
  readonly cumulative: readonly number[];
  readonly count: number;
  readonly sumSeconds: number;
}

/** Every counter since the gateway started, series sorted (by API, then version or code). */
export interface MetricsSnapshot {
  readonly connectionsOpen: number;
  readonly connectionsTotal: number;
  /** Connections closed because a frame could not be framed or decoded (or named no served version). */
  readonly connectionsClosedMalformed: number;
  readonly bytesReceived: number;
  readonly bytesSent: number;
  readonly requests: readonly RequestCount[];
  readonly errorCodes: readonly ErrorCodeCount[];
  readonly latency: readonly LatencyHistogram[];
}

/** One API's requests since the previous {@link GatewayMetrics.takeInterval}. */
export interface IntervalStats {
  readonly api: string;
  readonly requests: number;
  /** Requests whose response carried at least one non-zero error code. */
  readonly errorResponses: number;
  readonly latencySumMs: number;
  readonly latencyMaxMs: number;
}

interface ApiCounters {
  readonly versions: Map<number, number>;
  readonly errorCodes: Map<number, number>;
  /** Per bucket, not cumulative; the last one is past every bound. */
  readonly buckets: number[];
  count: number;
  sumSeconds: number;
}

interface IntervalCounters {
  requests: number;
  errorResponses: number;
  latencySumMs: number;
  latencyMaxMs: number;
}

export class GatewayMetrics {
  #connectionsOpen = 0;
  #connectionsTotal = 0;
  #connectionsClosedMalformed = 0;
  #bytesReceived = 0;
  #bytesSent = 0;
  readonly #apis = new Map<string, ApiCounters>();
  #interval = new Map<string, IntervalCounters>();

  connectionOpened(): void {
    this.#connectionsOpen++;
    this.#connectionsTotal++;
  }

  connectionClosed(): void {
    this.#connectionsOpen--;
  }

  /** The connection is being closed because its input could not be framed or decoded. */
  closedForMalformedInput(): void {
    this.#connectionsClosedMalformed++;
  }

  received(bytes: number): void {
    this.#bytesReceived += bytes;
  }

  sent(bytes: number): void {
    this.#bytesSent += bytes;
  }

  /**
   * One request served: its API and version, how long it took (ms) and its response (undefined
   * when none was sent: Produce with acks 0, or the connection closed meanwhile).
   */
  request(api: string, version: number, latencyMs: number, response: unknown): void {
    const counters = this.#countersOf(api);
    counters.versions.set(version, (counters.versions.get(version) ?? 0) + 1);
    const codes = responseErrorCodes(response);
    for (const [code, count] of codes)
      counters.errorCodes.set(code, (counters.errorCodes.get(code) ?? 0) + count);
    const seconds = latencyMs / 1000;
    const bucket = LATENCY_BUCKETS_SECONDS.findIndex((bound) => seconds <= bound);
    const index = bucket < 0 ? LATENCY_BUCKETS_SECONDS.length : bucket;
    counters.buckets[index] = (counters.buckets[index] ?? 0) + 1;
    counters.count++;
    counters.sumSeconds += seconds;

    let interval = this.#interval.get(api);
    if (interval === undefined) {
      interval = { requests: 0, errorResponses: 0, latencySumMs: 0, latencyMaxMs: 0 };
      this.#interval.set(api, interval);
    }
    interval.requests++;
    if (codes.size > 0) interval.errorResponses++;
    interval.latencySumMs += latencyMs;
    interval.latencyMaxMs = Math.max(interval.latencyMaxMs, latencyMs);
  }

  snapshot(): MetricsSnapshot {
    const apis = [...this.#apis.entries()].sort(([a], [b]) => compare(a, b));
    return {
      connectionsOpen: this.#connectionsOpen,
      connectionsTotal: this.#connectionsTotal,
      connectionsClosedMalformed: this.#connectionsClosedMalformed,
      bytesReceived: this.#bytesReceived,
      bytesSent: this.#bytesSent,
      requests: apis.flatMap(([api, c]) =>
        [...c.versions.entries()]
          .sort(([a], [b]) => a - b)
          .map(([version, count]) => ({ api, version, count })),
      ),
      errorCodes: apis.flatMap(([api, c]) =>
        [...c.errorCodes.entries()].sort(([a], [b]) => a - b).map(([code, count]) => ({ api, code, count })),
      ),
      latency: apis.map(([api, c]) => {
        let running = 0;
        const cumulative = LATENCY_BUCKETS_SECONDS.map((_, i) => {
          running += c.buckets[i] ?? 0;
          return running;
        });
        return { api, cumulative, count: c.count, sumSeconds: c.sumSeconds };
      }),
    };
  }

  /** The APIs that had requests since the previous call (sorted by API), and a new interval begins. */
  takeInterval(): IntervalStats[] {
    const interval = this.#interval;
    this.#interval = new Map();
    return [...interval.entries()].sort(([a], [b]) => compare(a, b)).map(([api, c]) => ({ api, ...c }));
  }

  #countersOf(api: string): ApiCounters {
    let counters = this.#apis.get(api);
    if (counters === undefined) {
      counters = {
        versions: new Map(),
        errorCodes: new Map(),
        buckets: new Array<number>(LATENCY_BUCKETS_SECONDS.length + 1).fill(0),
        count: 0,
        sumSeconds: 0,
      };
      this.#apis.set(api, counters);
    }
    return counters;
  }
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
