import { describe, expect, it } from 'vitest';
import { isLoopbackEndpoint, isLoopbackHost } from '../../sdk/src/loopback.ts';

describe('isLoopbackHost', () => {
  it.each(['127.0.0.1', '127.1.2.3', 'localhost', 'LOCALHOST', '::1', '[::1]'])('accepts %s', (host) => {
    expect(isLoopbackHost(host)).toBe(true);
  });

  it.each([
    '0.0.0.0',
    '10.0.0.1',
    '128.0.0.1',
    '127.example.com',
    'dynamodb.us-east-1.amazonaws.com',
    '::',
    '',
  ])('refuses %j', (host) => {
    expect(isLoopbackHost(host)).toBe(false);
  });
});

describe('isLoopbackEndpoint', () => {
  it.each(['http://127.0.0.1:4566', 'http://localhost:8000/', 'https://[::1]:4566'])(
    'accepts %s',
    (endpoint) => {
      expect(isLoopbackEndpoint(endpoint)).toBe(true);
    },
  );

  it.each([
    'https://dynamodb.us-east-1.amazonaws.com',
    'http://192.168.1.10:4566',
    'ftp://127.0.0.1/',
    'not a url',
    'http://127.0.0.1.nip.io:4566',
  ])('refuses %s', (endpoint) => {
    expect(isLoopbackEndpoint(endpoint)).toBe(false);
  });
});
