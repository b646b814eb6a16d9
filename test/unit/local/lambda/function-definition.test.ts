import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_CONCURRENCY,
  DEFAULT_TIMEOUT_MS,
  parseFunctionFlag,
  resolveFunction,
} from '../../../../local/lambda/function-definition.ts';
import { InvalidArgumentError } from '../../../../sdk/src/errors.ts';

/** Any existing file serves as a module: resolving never imports it. */
const moduleUrl = new URL('./function-definition.test.ts', import.meta.url);
const modulePath = fileURLToPath(moduleUrl);
const here = fileURLToPath(new URL('.', import.meta.url));

describe('resolveFunction', () => {
  it("applies Lambda's defaults", () => {
    expect(resolveFunction({ name: 'billing', module: modulePath })).toEqual({
      name: 'billing',
      modulePath,
      exportName: 'handler',
      timeoutMs: DEFAULT_TIMEOUT_MS,
      concurrency: DEFAULT_CONCURRENCY,
      environment: {},
      handler: 'function-definition.test.handler',
    });
    expect(DEFAULT_TIMEOUT_MS).toBe(3_000);
  });

  it('resolves relative paths against cwd and reads #export', () => {
    const fn = resolveFunction({ name: 'billing', module: './function-definition.test.ts#onInvoice' }, here);
    expect(fn).toMatchObject({
      modulePath,
      exportName: 'onInvoice',
      handler: 'function-definition.test.onInvoice',
    });
  });

  it('takes file: URLs, the hash naming the export', () => {
    expect(resolveFunction({ name: 'b', module: moduleUrl })).toMatchObject({
      modulePath,
      exportName: 'handler',
    });
    expect(resolveFunction({ name: 'b', module: new URL('#nested.fn', moduleUrl) })).toMatchObject({
      modulePath,
      exportName: 'nested.fn',
    });
  });

  it('does not keep a reference to the caller’s environment object', () => {
    const environment: Record<string, string> = { A: '1' };
    const fn = resolveFunction({ name: 'b', module: modulePath, environment });
    environment.A = '2';
    expect(fn.environment).toEqual({ A: '1' });
  });

  it.each([
    [{ name: 'has space', module: modulePath }, /Function name is "has space"/],
    [{ name: 'b', module: modulePath, timeoutMs: 0 }, /timeoutMs of function "b" is 0/],
    [{ name: 'b', module: modulePath, timeoutMs: 900_001 }, /timeoutMs .* 900000/],
    [{ name: 'b', module: modulePath, timeoutMs: 1.5 }, /timeoutMs/],
    [{ name: 'b', module: modulePath, concurrency: 0 }, /concurrency of function "b" is 0/],
    [{ name: 'b', module: `${modulePath}#not-an-identifier` }, /export of function "b"/],
    [{ name: 'b', module: `${here}/missing.ts` }, /not a file/],
    [{ name: 'b', module: here }, /not a file/],
    [{ name: 'b', module: new URL('https://example.com/h.js') }, /file: URL/],
    [
      { name: 'b', module: modulePath, environment: { AWS_REGION: 'x', _HANDLER: 'y' } },
      /AWS_REGION, _HANDLER/,
    ],
    [{ name: 'b', module: modulePath, environment: { BIG: 'x'.repeat(5_000) } }, /4096/],
  ])('refuses %j', (definition, message) => {
    expect(() => resolveFunction(definition)).toThrow(InvalidArgumentError);
    expect(() => resolveFunction(definition)).toThrow(message);
  });
});

describe('parseFunctionFlag', () => {
  it.each([
    ['billing=./handlers/billing.ts', { name: 'billing', module: './handlers/billing.ts' }],
    ['billing=./billing.ts#onInvoice', { name: 'billing', module: './billing.ts#onInvoice' }],
    ['billing=./billing.ts:10000', { name: 'billing', module: './billing.ts', timeoutMs: 10_000 }],
    [
      'billing=./billing.ts#onInvoice:250',
      { name: 'billing', module: './billing.ts#onInvoice', timeoutMs: 250 },
    ],
    ['b=/abs/dir:with:colons/h.ts', { name: 'b', module: '/abs/dir:with:colons/h.ts' }],
  ])('reads %j', (flag, expected) => {
    expect(parseFunctionFlag(flag)).toEqual(expected);
  });

  it.each(['billing', '=./billing.ts', 'billing=', 'billing=:100', 'billing=#handler'])(
    'refuses %j',
    (flag) => {
      expect(() => parseFunctionFlag(flag)).toThrow(InvalidArgumentError);
    },
  );
});
