/** Splitting a byte stream into frames: any chunking, size limits, bad prefixes. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ProtocolError } from '../../../gateway/protocol/errors.ts';
import { DEFAULT_MAX_FRAME_BYTES, FrameReader } from '../../../gateway/protocol/frame-reader.ts';

function framed(payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(4 + payload.length);
  new DataView(out.buffer).setInt32(0, payload.length);
  out.set(payload, 4);
  return out;
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  return Uint8Array.from(Buffer.concat(parts));
}

describe('FrameReader', () => {
  it('yields the same frames however the stream is cut into chunks', () => {
    fc.assert(
      fc.property(
        fc.array(fc.uint8Array({ maxLength: 40 }), { maxLength: 6 }),
        fc.array(fc.nat(), { maxLength: 12 }),
        (payloads, cuts) => {
          const stream = concat(payloads.map(framed));
          const points = [...new Set(cuts.map((c) => c % (stream.length + 1)))].sort((a, b) => a - b);
          const reader = new FrameReader();
          const frames: Uint8Array[] = [];
          let from = 0;
          for (const to of [...points, stream.length]) {
            frames.push(...reader.push(stream.subarray(from, to)));
            from = to;
          }
          expect(frames.map((f) => Buffer.from(f).toString('hex'))).toEqual(
            payloads.map((p) => Buffer.from(p).toString('hex')),
          );
          expect(reader.buffered).toBe(0);
        },
      ),
    );
  });

  it('yields a frame at every byte boundary only once it is complete', () => {
    const stream = concat([
      framed(Uint8Array.of(1, 2, 3)),
      framed(new Uint8Array(0)),
      framed(Uint8Array.of(4)),
    ]);
    const reader = new FrameReader();
    const seen: number[][] = [];
    for (let i = 0; i < stream.length; i++) {
      for (const frame of reader.push(stream.subarray(i, i + 1))) seen.push([i, ...frame]);
    }
    // Frame 1 ends at byte 6, the empty frame at byte 10, frame 3 at byte 15.
    expect(seen).toEqual([[6, 1, 2, 3], [10], [15, 4]]);
  });

  it('refuses a frame over the maximum as soon as its size is read, and stays failed', () => {
    const reader = new FrameReader({ maxFrameBytes: 16 });
    expect(reader.push(framed(new Uint8Array(16)))).toHaveLength(1);
    const prefix = new Uint8Array(4);
    new DataView(prefix.buffer).setInt32(0, 17);
    let error: unknown;
    try {
      reader.push(prefix);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ProtocolError);
    expect(error).toMatchObject({ code: 'FRAME_TOO_LARGE', position: 20, retriable: false });
    expect(reader.buffered).toBe(0);
    expect(() => reader.push(new Uint8Array(17))).toThrow(error as Error);
  });

  it('refuses what a TLS or HTTP client sends to a plaintext port', () => {
    expect(() => new FrameReader().push(Buffer.from('GET / HTTP/1.1\r\n'))).toThrow(
      `A frame declares 1195725856 bytes, more than the maximum of ${DEFAULT_MAX_FRAME_BYTES}`,
    );
    // A TLS ClientHello record header: 16 03 01 ...
    expect(() => new FrameReader().push(Uint8Array.of(0x16, 0x03, 0x01, 0x02, 0x00))).toThrow(ProtocolError);
  });

  it('refuses a negative size', () => {
    expect(() => new FrameReader().push(Uint8Array.of(0xff, 0xff, 0xff, 0xfe))).toThrow(
      expect.objectContaining({ code: 'INVALID_LENGTH' }),
    );
  });

  it('does not copy a frame that lies inside one chunk', () => {
    const stream = framed(Uint8Array.of(7, 8));
    const [frame] = new FrameReader().push(stream);
    expect(frame?.buffer).toBe(stream.buffer);
  });

  it('rejects a maximum that is not a non-negative int32', () => {
    expect(() => new FrameReader({ maxFrameBytes: -1 })).toThrow(RangeError);
    expect(() => new FrameReader({ maxFrameBytes: 2 ** 31 })).toThrow(RangeError);
  });
});
