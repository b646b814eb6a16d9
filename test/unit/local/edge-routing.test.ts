import { describe, expect, it } from 'vitest';
import { forwardableHeaders, routeRequest } from '../../../local/edge-proxy.ts';

describe('routeRequest', () => {
  it.each([
    'DynamoDB_20120810.PutItem',
    'DynamoDB_20120810.ListTables',
    'DynamoDBStreams_20120810.DescribeStream',
    'DynamoDBStreams_20120810.GetRecords',
  ])('sends %s to DynamoDB Local', (target) => {
    expect(routeRequest({ 'x-amz-target': target })).toBe('dynamodb');
  });

  it('sends requests without x-amz-target to S3', () => {
    expect(routeRequest({ host: '127.0.0.1:4566', 'content-type': 'application/octet-stream' })).toBe('s3');
  });

  it.each(['AmazonSQS.SendMessage', 'Kinesis_20131202.PutRecord', 'dynamodb_20120810.PutItem', ''])(
    'sends other targets (%j) to S3',
    (target) => {
      expect(routeRequest({ 'x-amz-target': target })).toBe('s3');
    },
  );
});

describe('forwardableHeaders', () => {
  it('keeps end-to-end headers, Host and signing headers included', () => {
    const headers = {
      host: '127.0.0.1:4566',
      authorization: 'AWS4-HMAC-SHA256 Credential=x',
      'x-amz-date': '20250101T000000Z',
      'content-length': '12',
      range: 'bytes=0-9',
    };
    expect(forwardableHeaders(headers)).toEqual(headers);
  });

  it('drops hop-by-hop headers, those named by Connection, and the ones asked for', () => {
    const out = forwardableHeaders(
      {
        host: 'h',
        connection: 'keep-alive, x-hop',
        'keep-alive': 'timeout=5',
        'x-hop': '1',
        upgrade: 'h2c',
        expect: '100-continue',
        'content-type': 'text/plain',
      },
      ['expect'],
    );
    expect(out).toEqual({ host: 'h', 'content-type': 'text/plain' });
  });
});
