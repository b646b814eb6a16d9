/** The per-API metric lines: CloudWatch Embedded Metric Format, one JSON object a line. */
import { describe, expect, it } from 'vitest';
import { EMF_NAMESPACE, emfLines } from '../../../gateway/emf.ts';
import { GatewayMetrics } from '../../../gateway/metrics.ts';

interface EmfLine {
  _aws: {
    Timestamp: number;
    CloudWatchMetrics: {
      Namespace: string;
      Dimensions: string[][];
      Metrics: { Name: string; Unit: string }[];
    }[];
  };
  [field: string]: unknown;
}

describe('emfLines', () => {
  it('writes one line per API with requests, each a CloudWatch EMF object whose metrics and dimension are fields of it', () => {
    const metrics = new GatewayMetrics();
    metrics.request('Produce', 9, 4.25, { responses: [{ partitionResponses: [{ errorCode: 3 }] }] });
    metrics.request('Produce', 9, 1.0004, { responses: [{ partitionResponses: [{ errorCode: 0 }] }] });
    metrics.request('Metadata', 12, 2, { topics: [] });
    const lines = emfLines(metrics.takeInterval(), 1_700_000_000_000, 60_000);
    expect(lines).toHaveLength(2);
    for (const line of lines) expect(line).not.toContain('\n');
    const [metadata, produce] = lines.map((l) => JSON.parse(l) as EmfLine);
    expect(produce?._aws).toEqual({
      Timestamp: 1_700_000_000_000,
      CloudWatchMetrics: [
        {
          Namespace: EMF_NAMESPACE,
          Dimensions: [['Api']],
          Metrics: [
            { Name: 'RequestCount', Unit: 'Count' },
            { Name: 'ErrorCount', Unit: 'Count' },
            { Name: 'LatencySum', Unit: 'Milliseconds' },
            { Name: 'LatencyMax', Unit: 'Milliseconds' },
          ],
        },
      ],
    });
    expect(EMF_NAMESPACE).toBe('Tributary/Gateway');
    expect(produce).toMatchObject({
      Api: 'Produce',
      RequestCount: 2,
      ErrorCount: 1,
      LatencySum: 5.25,
      LatencyMax: 4.25,
      IntervalMs: 60_000,
    });
    expect(metadata).toMatchObject({ Api: 'Metadata', RequestCount: 1, ErrorCount: 0, LatencyMax: 2 });
    // CloudWatch's rules: each dimension and each listed metric is a top-level field (a string, a number).
    for (const line of [metadata, produce]) {
      const directive = line?._aws.CloudWatchMetrics[0];
      for (const dimension of directive?.Dimensions.flat() ?? [])
        expect(typeof line?.[dimension]).toBe('string');
      for (const metric of directive?.Metrics ?? []) expect(typeof line?.[metric.Name]).toBe('number');
    }
  });

  it('writes nothing for an interval without requests', () => {
    expect(emfLines(new GatewayMetrics().takeInterval(), Date.now(), 60_000)).toEqual([]);
  });
});
