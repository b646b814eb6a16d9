/** Failed exchanges with the API turned into Tributary errors: our bodies, API Gateway's, the network's. */
import { describe, expect, it } from 'vitest';
import { errorToResponse } from '../../../sdk/src/api/error-codec.ts';
import { MAX_REQUEST_BODY_BYTES } from '../../../sdk/src/api/limits.ts';
import {
  AccessDeniedError,
  ConcurrentAppendError,
  InternalError,
  OffsetOutOfRangeError,
  RequestTooLargeError,
  RouteNotFoundError,
  ServiceUnavailableError,
  ThrottledError,
  TimeoutError,
  TopicNotFoundError,
} from '../../../sdk/src/errors.ts';
import {
  errorFromNetwork,
  errorFromResponse,
  statusMeansNotApplied,
} from '../../../sdk/src/transport/http-response.ts';

const context = { method: 'POST', path: '/v1/topics/orders/records', requestBytes: 1234, requestId: 'r-9' };
const MAYBE = 'The records may have been appended.';

/** The body and status the API sends for `error`. */
function wire(error: Parameters<typeof errorToResponse>[0]) {
  const { status, body } = errorToResponse(error);
  return { status, text: JSON.stringify(body) };
}

describe('errors from our error bodies', () => {
  it('rebuilds OffsetOutOfRangeError with its class, message and every field', () => {
    const original = new OffsetOutOfRangeError('orders', 2, 5, 10, 42);
    const { status, text } = wire(original);
    expect(status).toBe(416);
    const error = errorFromResponse(status, text, context);
    expect(error).toBeInstanceOf(OffsetOutOfRangeError);
    expect(error).toMatchObject({
      name: 'OffsetOutOfRangeError',
      code: 'OFFSET_OUT_OF_RANGE',
      retriable: false,
      message: original.message,
      topic: 'orders',
      partition: 2,
      offset: 5,
      logStartOffset: 10,
      highWatermark: 42,
    });
  });

  it('keeps the class whatever the status (our body wins over the gateway mapping)', () => {
    const { text } = wire(new ConcurrentAppendError('orders', 0, 3, 7));
    const error = errorFromResponse(409, text, context);
    expect(error).toBeInstanceOf(ConcurrentAppendError);
    expect(error).toMatchObject({ expectedOffset: 3, actualOffset: 7 });
    expect(errorFromResponse(404, wire(new TopicNotFoundError('orders')).text, context)).toBeInstanceOf(
      TopicNotFoundError,
    );
  });

  it('turns an unknown code into InternalError carrying the request id and the retriable flag', () => {
    const text = JSON.stringify({ error: { code: 'NEW_CODE', message: 'later', retriable: true } });
    const error = errorFromResponse(500, text, context);
    expect(error).toBeInstanceOf(InternalError);
    expect(error).toMatchObject({ retriable: true, requestId: 'r-9' });
    expect(error.message).toContain('NEW_CODE: later');
  });
});

describe("errors from API Gateway's own bodies", () => {
  it('maps 403 Forbidden to AccessDeniedError', () => {
    const error = errorFromResponse(403, '{"message":"Forbidden"}', context);
    expect(error).toBeInstanceOf(AccessDeniedError);
    expect(error.message).toContain('POST /v1/topics/orders/records');
    expect(error.message).toContain('Forbidden');
    expect(error.retriable).toBe(false);
  });

  it('maps 404 to RouteNotFoundError and 413 to RequestTooLargeError with the sizes', () => {
    expect(errorFromResponse(404, '{"message":"Not Found"}', context)).toBeInstanceOf(RouteNotFoundError);
    const tooLarge = errorFromResponse(413, '{"message":"Request Entity Too Large"}', context);
    expect(tooLarge).toBeInstanceOf(RequestTooLargeError);
    expect(tooLarge).toMatchObject({ sizeBytes: 1234, limitBytes: MAX_REQUEST_BODY_BYTES });
  });

  it('maps 429 to ThrottledError, 502 and 503 to ServiceUnavailableError, 504 to TimeoutError (all retriable)', () => {
    const throttled = errorFromResponse(429, '{"message":"Too Many Requests"}', context);
    expect(throttled).toBeInstanceOf(ThrottledError);
    for (const status of [502, 503]) {
      const error = errorFromResponse(status, '{"message":"Service Unavailable"}', context);
      expect(error).toBeInstanceOf(ServiceUnavailableError);
      expect(error.message).toContain(`HTTP ${status}`);
    }
    expect(errorFromResponse(504, '{"message":"Gateway Timeout"}', context)).toBeInstanceOf(TimeoutError);
    for (const status of [429, 502, 503, 504]) {
      expect(errorFromResponse(status, '', context).retriable).toBe(true);
    }
  });

  it('says a request may have taken effect only where it may have (500, 502, 503, 504; not 429)', () => {
    const maybe = { ...context, mayHaveTakenEffect: MAYBE };
    // 503: API Gateway answers an integration timeout with it, after the function may have written.
    for (const status of [500, 502, 503, 504])
      expect(errorFromResponse(status, '', maybe).message).toContain(MAYBE);
    expect(errorFromResponse(429, '', maybe).message).not.toContain(MAYBE);
    expect(statusMeansNotApplied(429)).toBe(true);
    for (const status of [400, 500, 502, 503, 504]) expect(statusMeansNotApplied(status)).toBe(false);
  });

  it('maps anything else, JSON or not, to a non-retriable InternalError with the status', () => {
    const error = errorFromResponse(500, '<html>Internal Server Error</html>', context);
    expect(error).toBeInstanceOf(InternalError);
    expect(error.retriable).toBe(false);
    expect(error.message).toContain('HTTP 500');
    expect(error.message).toContain('<html>Internal Server Error</html>');
    expect(error).toMatchObject({ requestId: 'r-9' });
    expect(errorFromResponse(418, '{"message":"teapot"}', context).message).toContain('HTTP 418: teapot');
  });
});

describe('errors from the network', () => {
  it('maps an aborted request (the per-request timeout) to TimeoutError, maybe applied', () => {
    const abort = new DOMException('The operation was aborted due to timeout', 'TimeoutError');
    const failure = errorFromNetwork(abort, 30_000, { ...context, mayHaveTakenEffect: MAYBE });
    expect(failure.error).toBeInstanceOf(TimeoutError);
    expect(failure.error.message).toContain('30000 ms');
    expect(failure.error.message).toContain(MAYBE);
    expect(failure.notSent).toBe(false);
  });

  it('maps a refused connection to ServiceUnavailableError that was certainly not sent', () => {
    const refused = new TypeError('fetch failed', {
      cause: Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' }),
    });
    const failure = errorFromNetwork(refused, 30_000, { ...context, mayHaveTakenEffect: MAYBE });
    expect(failure.error).toBeInstanceOf(ServiceUnavailableError);
    expect(failure.error.retriable).toBe(true);
    expect(failure.error.cause).toBe(refused);
    expect(failure.error.message).toContain('ECONNREFUSED');
    expect(failure.error.message).not.toContain(MAYBE);
    expect(failure.notSent).toBe(true);
  });

  it('treats a reset connection as possibly applied', () => {
    const reset = new TypeError('fetch failed', {
      cause: Object.assign(new Error('other side closed'), { code: 'UND_ERR_SOCKET' }),
    });
    const failure = errorFromNetwork(reset, 30_000, { ...context, mayHaveTakenEffect: MAYBE });
    expect(failure.error).toBeInstanceOf(ServiceUnavailableError);
    expect(failure.error.message).toContain(MAYBE);
    expect(failure.notSent).toBe(false);
  });
});
