import { describe, expect, it } from 'vitest';
import { routeRequest } from '../../../../local/edge-proxy.ts';

const signed = (service: string) => ({
  authorization: `AWS4-HMAC-SHA256 Credential=test/20250101/us-east-1/${service}/aws4_request, SignedHeaders=host, Signature=0`,
});

describe('routeRequest for Lambda', () => {
  it.each([
    '/2015-03-31/functions/billing/invocations',
    '/2015-03-31/functions/arn%3Aaws%3Alambda%3Aus-east-1%3A000000000000%3Afunction%3Abilling/invocations?Qualifier=%24LATEST',
    '/2015-03-31/functions/',
  ])('sends %s signed for lambda to the Lambda service', (url) => {
    expect(routeRequest(signed('lambda'), url)).toBe('lambda');
    expect(routeRequest({}, url)).toBe('lambda');
  });

  it('leaves a path-style S3 request to a bucket named 2015-03-31 with S3', () => {
    expect(routeRequest(signed('s3'), '/2015-03-31/functions/key')).toBe('s3');
    expect(
      routeRequest(
        {},
        '/2015-03-31/functions/key?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=test%2F20250101%2Fus-east-1%2Fs3%2Faws4_request',
      ),
    ).toBe('s3');
  });

  it('keeps DynamoDB and other S3 paths where they were', () => {
    expect(
      routeRequest({ 'x-amz-target': 'DynamoDB_20120810.PutItem' }, '/2015-03-31/functions/x/invocations'),
    ).toBe('dynamodb');
    expect(routeRequest(signed('s3'), '/tributary-archive/segments/0001')).toBe('s3');
    expect(routeRequest({}, '/2015-03-31/other')).toBe('s3');
    expect(routeRequest({})).toBe('s3');
  });
});
