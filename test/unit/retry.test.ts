import {
  ConditionalCheckFailedException,
  ProvisionedThroughputExceededException,
} from '@aws-sdk/client-dynamodb';
import { describe, expect, it } from 'vitest';
import { translateAwsError } from '../../sdk/src/aws-errors.ts';
import { ServiceUnavailableError, StackNotReadyError, ThrottledError } from '../../sdk/src/errors.ts';
import { backoffDelay, withRetry } from '../../sdk/src/retry.ts';

const policy = { baseDelayMs: 1, maxDelayMs: 4, deadlineMs: 1_000 };

describe('retry', () => {
  it('backs off with full jitter under a ceiling', () => {
    expect(backoffDelay(0, { baseDelayMs: 20, maxDelayMs: 2000, deadlineMs: 0 }, () => 0.999)).toBe(19);
    expect(backoffDelay(20, { baseDelayMs: 20, maxDelayMs: 2000, deadlineMs: 0 }, () => 0.5)).toBe(1000);
  });

  it('retries throttling until it succeeds', async () => {
    let calls = 0;
    const result = await withRetry(
      'op',
      async () => {
        if (++calls < 4)
          throw new ProvisionedThroughputExceededException({ message: 'slow down', $metadata: {} });
        return 'ok';
      },
      policy,
    );
    expect(result).toBe('ok');
    expect(calls).toBe(4);
  });

  it('never retries a non-retriable error and passes it through untouched', async () => {
    let calls = 0;
    const failure = new ConditionalCheckFailedException({ message: 'taken', $metadata: {} });
    await expect(
      withRetry(
        'op',
        async () => {
          calls++;
          throw failure;
        },
        policy,
      ),
    ).rejects.toBe(failure);
    expect(calls).toBe(1);
  });

  it('gives up at the deadline with the typed error', async () => {
    await expect(
      withRetry(
        'op',
        async () => {
          throw Object.assign(new Error('reset'), { code: 'ECONNRESET' });
        },
        { baseDelayMs: 5, maxDelayMs: 5, deadlineMs: 30 },
      ),
    ).rejects.toBeInstanceOf(ServiceUnavailableError);
  });

  it('translates AWS failures into typed errors', () => {
    expect(
      translateAwsError(new ProvisionedThroughputExceededException({ message: 'x', $metadata: {} }), 'op'),
    ).toBeInstanceOf(ThrottledError);
    expect(
      translateAwsError({ name: 'InternalServerError', $metadata: { httpStatusCode: 500 } }, 'op')?.retriable,
    ).toBe(true);
    expect(
      translateAwsError({ name: 'ResourceNotFoundException', message: 'no table' }, 'op'),
    ).toBeInstanceOf(StackNotReadyError);
    expect(translateAwsError({ name: 'ValidationException' }, 'op')).toBeUndefined();
  });
});
