import { describe, expect, it } from 'vitest';
import {
  functionArn,
  isValidFunctionName,
  parseFunctionName,
} from '../../../../local/lambda/function-name.ts';

describe('parseFunctionName', () => {
  it.each([
    ['billing', undefined, { name: 'billing', qualifier: undefined, region: undefined, account: undefined }],
    [
      'billing:$LATEST',
      undefined,
      { name: 'billing', qualifier: '$LATEST', region: undefined, account: undefined },
    ],
    [
      'billing:live',
      undefined,
      { name: 'billing', qualifier: 'live', region: undefined, account: undefined },
    ],
    ['billing', '7', { name: 'billing', qualifier: '7', region: undefined, account: undefined }],
    ['billing:7', '7', { name: 'billing', qualifier: '7', region: undefined, account: undefined }],
    [
      'arn:aws:lambda:eu-west-1:123456789012:function:billing',
      undefined,
      { name: 'billing', qualifier: undefined, region: 'eu-west-1', account: '123456789012' },
    ],
    [
      'arn:aws:lambda:us-gov-west-1:123456789012:function:billing:$LATEST',
      undefined,
      { name: 'billing', qualifier: '$LATEST', region: 'us-gov-west-1', account: '123456789012' },
    ],
    [
      '123456789012:function:billing:live',
      undefined,
      { name: 'billing', qualifier: 'live', region: undefined, account: '123456789012' },
    ],
  ])('reads %j (Qualifier %j)', (raw, qualifier, expected) => {
    expect(parseFunctionName(raw, qualifier)).toEqual(expected);
  });

  it.each([
    'with space',
    'a'.repeat(65),
    '',
    'billing:',
    'billing:live:extra',
    'arn:aws:lambda:us-east-1:123:function:billing',
    'arn:aws:s3:::bucket',
  ])('refuses %j as malformed', (raw) => {
    expect(parseFunctionName(raw, undefined)).toMatchObject({ kind: 'malformed' });
  });

  it('refuses a Qualifier that differs from the one in the name', () => {
    expect(parseFunctionName('billing:1', '2')).toEqual({
      kind: 'qualifier-mismatch',
      message: 'The derived qualifier from the function name does not match the specified qualifier.',
    });
  });

  it('refuses a malformed Qualifier parameter', () => {
    expect(parseFunctionName('billing', 'has space')).toMatchObject({ kind: 'malformed' });
  });
});

describe('names and ARNs', () => {
  it('accepts Lambda function names only', () => {
    expect(isValidFunctionName('billing-v2_EU')).toBe(true);
    expect(isValidFunctionName('a'.repeat(64))).toBe(true);
    expect(isValidFunctionName('a'.repeat(65))).toBe(false);
    expect(isValidFunctionName('billing.v2')).toBe(false);
  });

  it('builds the local account ARN, qualified or not', () => {
    expect(functionArn('us-east-1', 'billing')).toBe(
      'arn:aws:lambda:us-east-1:000000000000:function:billing',
    );
    expect(functionArn('us-east-1', 'billing', '$LATEST')).toBe(
      'arn:aws:lambda:us-east-1:000000000000:function:billing:$LATEST',
    );
  });
});
