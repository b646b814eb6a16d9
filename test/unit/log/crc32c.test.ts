import { describe, expect, it } from 'vitest';
import { crc32c } from '../../../sdk/src/log/crc32c.ts';
import { seededRandom, testSeed } from '../../helpers/random.ts';

const ascii = (s: string): Uint8Array => new TextEncoder().encode(s);
const hex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s.replace(/\s+/g, ''), 'hex'));

/** Bit-at-a-time CRC-32C, straight from the definition, to check the table-driven one against. */
function referenceCrc32c(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (const b of bytes) {
    crc ^= b;
    for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0x82f63b78 : crc >>> 1;
  }
  return (crc ^ 0xffffffff) >>> 0;
}

describe('crc32c', () => {
  it('matches the check value of the CRC-32C catalogue ("123456789")', () => {
    expect(crc32c(ascii('123456789'))).toBe(0xe3069283);
  });

  it('matches the RFC 3720 (iSCSI) appendix B.4 vectors', () => {
    expect(crc32c(new Uint8Array(32))).toBe(0x8a9136aa);
    expect(crc32c(new Uint8Array(32).fill(0xff))).toBe(0x62a8ab43);
    expect(crc32c(Uint8Array.from({ length: 32 }, (_, i) => i))).toBe(0x46dd794e);
    expect(crc32c(Uint8Array.from({ length: 32 }, (_, i) => 31 - i))).toBe(0x113fdb5c);
    const readPdu = hex(`
      01 c0 00 00 00 00 00 00 00 00 00 00 00 00 00 00
      14 00 00 00 00 00 04 00 00 00 00 14 00 00 00 18
      28 00 00 00 00 00 00 00 02 00 00 00 00 00 00 00`);
    expect(crc32c(readPdu)).toBe(0xd9963a56);
  });

  it('is 0 for no bytes and always an unsigned 32-bit number', () => {
    expect(crc32c(new Uint8Array(0))).toBe(0);
    expect(crc32c(new Uint8Array([0x80]))).toBeGreaterThanOrEqual(0);
  });

  it('agrees with the bitwise definition at every length and alignment', () => {
    const random = seededRandom(testSeed('crc32c'));
    const buffer = Uint8Array.from({ length: 300 }, () => Math.floor(random() * 256));
    for (let start = 0; start < 9; start++) {
      for (let length = 0; length <= 280; length += start + 1) {
        const slice = buffer.subarray(start, start + length);
        expect(crc32c(slice)).toBe(referenceCrc32c(slice));
      }
    }
  });

  it('continues a running CRC through `initial`', () => {
    const whole = ascii('the quick brown fox jumps over the lazy dog');
    for (const cut of [0, 1, 7, 8, 20, whole.length]) {
      expect(crc32c(whole.subarray(cut), crc32c(whole.subarray(0, cut)))).toBe(crc32c(whole));
    }
  });
});
