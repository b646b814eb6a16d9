/**
 * Every API in every implemented version (so its minimum, its maximum and its first flexible
 * version among them), requests and responses: generated messages survive encode → decode
 * unchanged, and re-encoding the decoded message gives the same bytes.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isFlexibleVersion } from '../../../gateway/protocol/api-description.ts';
import { APIS, type ApiName, SUPPORTED_APIS } from '../../../gateway/protocol/apis.ts';
import {
  decodeRequest,
  decodeResponse,
  encodeRequest,
  encodeResponse,
} from '../../../gateway/protocol/frame-codec.ts';
import { parseVersions } from '../../../gateway/protocol/versions.ts';
import { messageArbitrary } from './arbitrary-message.ts';

const RUNS = 40;

function versionsOf(name: ApiName): number[] {
  const api = APIS[name];
  return Array.from({ length: api.maxVersion - api.minVersion + 1 }, (_, i) => api.minVersion + i);
}

const header = fc.record({
  correlationId: fc.integer({ min: -2147483648, max: 2147483647 }),
  clientId: fc.option(fc.string({ unit: 'binary', maxLength: 10 }), { nil: null }),
});

describe.each(SUPPORTED_APIS.map((api) => api.name))('%s', (name) => {
  const api = APIS[name];

  it.each(versionsOf(name))('round-trips requests of v%i', (version) => {
    fc.assert(
      fc.property(header, messageArbitrary(api.request, version), (h, body) => {
        // A value of the description's shape, generated rather than typed: the codec is what is tested.
        const frame = encodeRequest(name, { apiVersion: version, ...h }, body as never);
        expect(new DataView(frame.buffer, frame.byteOffset).getInt32(0)).toBe(frame.length - 4);
        const decoded = decodeRequest(frame.subarray(4));
        expect(decoded.api).toBe(name);
        expect(decoded.header).toEqual({ apiKey: api.apiKey, apiVersion: version, ...h });
        expect(decoded.body).toEqual(body);
        const again = encodeRequest(name, { apiVersion: version, ...h }, decoded.body as never);
        expect(Buffer.from(again).equals(Buffer.from(frame))).toBe(true);
      }),
      { numRuns: RUNS },
    );
  });

  it.each(versionsOf(name))('round-trips responses of v%i', (version) => {
    fc.assert(
      fc.property(header, messageArbitrary(api.response, version), ({ correlationId }, body) => {
        const frame = encodeResponse(name, version, correlationId, body as never);
        const decoded = decodeResponse(name, version, frame.subarray(4));
        expect(decoded.correlationId).toBe(correlationId);
        expect(decoded.body).toEqual(body);
        const again = encodeResponse(name, version, correlationId, decoded.body as never);
        expect(Buffer.from(again).equals(Buffer.from(frame))).toBe(true);
      }),
      { numRuns: RUNS },
    );
  });

  it('has its first flexible version inside the implemented range, or none at all', () => {
    const flexible = parseVersions(api.flexibleVersions);
    if (flexible.min > flexible.max) {
      expect(versionsOf(name).some((v) => isFlexibleVersion(api, v))).toBe(false);
    } else {
      expect(api.maxVersion).toBeGreaterThanOrEqual(flexible.min);
      expect(isFlexibleVersion(api, flexible.min)).toBe(true);
      expect(flexible.min === api.minVersion || !isFlexibleVersion(api, flexible.min - 1)).toBe(true);
    }
  });
});
