/**
 * The local stack listens on loopback only, and the test setup refuses to run against anything
 * else, so a test run can never reach a real AWS account or another machine.
 */
import { isIPv4 } from 'node:net';

/** True for `localhost`, `::1` (bracketed or not) and any address in 127.0.0.0/8. */
export function isLoopbackHost(host: string): boolean {
  const h = host.toLowerCase();
  if (h === 'localhost' || h === '::1' || h === '[::1]') return true;
  return isIPv4(h) && h.startsWith('127.');
}

/**
 * True when `endpoint` is an http(s) URL whose host is loopback.
 * Anything unparsable is not loopback.
 */
export function isLoopbackEndpoint(endpoint: string): boolean {
  const url = URL.parse(endpoint);
  if (url === null) return false;
  return (url.protocol === 'http:' || url.protocol === 'https:') && isLoopbackHost(url.hostname);
}
