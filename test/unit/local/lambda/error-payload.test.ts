import { describe, expect, it } from 'vitest';
import { errorPayload, runtimeErrorPayload } from '../../../../local/lambda/error-payload.ts';

describe('errorPayload', () => {
  it("gives an error's name, message and stack lines, as Lambda's Node.js runtime does", () => {
    const error = new RangeError('card declined');
    const payload = errorPayload(error);
    expect(payload.errorType).toBe('RangeError');
    expect(payload.errorMessage).toBe('card declined');
    expect(payload.trace).toEqual(error.stack?.split('\n'));
    expect(payload.trace?.[0]).toBe('RangeError: card declined');
  });

  it('uses a custom error class name', () => {
    class InvoiceError extends Error {
      override name = 'InvoiceError';
    }
    expect(errorPayload(new InvoiceError('late'))).toMatchObject({
      errorType: 'InvoiceError',
      errorMessage: 'late',
    });
  });

  it('gives typeof and the string form of a thrown non-error', () => {
    expect(errorPayload('boom')).toEqual({ errorType: 'string', errorMessage: 'boom', trace: [] });
    expect(errorPayload(42)).toEqual({ errorType: 'number', errorMessage: '42', trace: [] });
  });

  it('survives a value whose string form throws', () => {
    const hostile = {
      toString() {
        throw new Error('no');
      },
    };
    expect(errorPayload(hostile).errorType).toBe('handled');
  });
});

describe('runtimeErrorPayload', () => {
  it("prefixes the runtime's error types", () => {
    expect(runtimeErrorPayload('HandlerNotFound', 'index.handler is undefined or not exported')).toEqual({
      errorType: 'Runtime.HandlerNotFound',
      errorMessage: 'index.handler is undefined or not exported',
      trace: [],
    });
  });
});
