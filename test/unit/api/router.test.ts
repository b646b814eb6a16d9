/** The router decodes path parameters strictly: bad percent-encoding is a typed 400, never a URIError. */
import { describe, expect, it } from 'vitest';
import { checkPathEncoding, findRoute, matchRoute } from '../../../functions/api/router.ts';
import { InvalidArgumentError } from '../../../sdk/src/errors.ts';

const MALFORMED = [
  '%zz',
  '%',
  'a%',
  '%2',
  '%FF',
  '%C0%AF',
  '%E0%80%AF',
  '%ED%A0%80',
  '%F8%88%80%80%80',
  '%C3',
];

describe('matchRoute', () => {
  it('decodes parameters', () => {
    expect(matchRoute('GET', '/v1/topics/a%2Eb')).toMatchObject({
      route: { operationId: 'describeTopic' },
      params: { topic: 'a.b' },
    });
    expect(matchRoute('GET', '/v1/topics/%C3%A9/partitions/0/records')?.params).toEqual({
      topic: 'é',
      partition: '0',
    });
  });

  it.each(MALFORMED)('refuses the malformed topic segment %s with InvalidArgumentError', (segment) => {
    expect(() => matchRoute('GET', `/v1/topics/${segment}`)).toThrow(InvalidArgumentError);
    expect(() => matchRoute('GET', `/v1/topics/${segment}`)).toThrow(/path parameter topic/);
  });

  it.each(MALFORMED)('refuses the malformed partition segment %s', (segment) => {
    expect(() => matchRoute('GET', `/v1/topics/t/partitions/${segment}/records`)).toThrow(
      /path parameter partition/,
    );
  });

  it('finds the route of a malformed path without decoding it', () => {
    expect(findRoute('POST', '/v1/topics/%zz/records')?.operationId).toBe('produce');
    expect(findRoute('GET', '/v1/nothing')).toBeUndefined();
  });
});

describe('checkPathEncoding', () => {
  it('passes well-formed paths', () => {
    expect(() => checkPathEncoding('/v1/topics/a%2Eb%20c')).not.toThrow();
    expect(() => checkPathEncoding('/v1/topics/plain')).not.toThrow();
  });

  it.each(MALFORMED)('refuses %s in any segment', (segment) => {
    expect(() => checkPathEncoding(`/v1/topics/t/${segment}`)).toThrow(InvalidArgumentError);
    expect(() => checkPathEncoding(`/v1/${segment}/t`)).toThrow(InvalidArgumentError);
  });
});
