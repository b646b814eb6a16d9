/**
 * Codec tests. Interoperability fixtures were made offline with reference implementations and
 * are embedded as hex (the tests need no binaries):
 * - LZ4: the `lz4` CLI v1.9.4 (reference C library), default flags (independent 4 MiB blocks,
 *   content checksum) and `-BX -BD --content-size` (block checksums, dependent blocks, size).
 * - zstd: the `zstd` CLI v1.5.4 (content checksum on).
 * - snappy: org.iq80.snappy 0.4 (pure Java) `Snappy.compress`, a raw block.
 * All decode from the same 290-byte text, FIXTURE_TEXT.
 */
import { compress as lz4jsCompress, decompress as lz4jsDecompress } from 'lz4js';
import { hash as xxh32 } from 'lz4js/xxh32.js';
import { compress as snappyjsCompress } from 'snappyjs';
import { describe, expect, it } from 'vitest';
import { CorruptRecordError, InvalidArgumentError } from '../../../sdk/src/errors.ts';
import {
  type Compression,
  compress,
  compressionCode,
  compressionFromCode,
  DEFAULT_COMPRESSION_LEVELS,
  decompress,
} from '../../../sdk/src/log/compression.ts';
import { seededRandom, testSeed } from '../../helpers/random.ts';

const CODECS: readonly Compression[] = ['none', 'gzip', 'snappy', 'lz4', 'zstd'];
const hex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s.replace(/\s+/g, ''), 'hex'));
const bytesOf = (s: string): Uint8Array => new TextEncoder().encode(s);
const FIXTURE_TEXT = bytesOf(`${'Kafka-style streaming on DynamoDB. '.repeat(8)}0123456789`);

const LZ4_CLI_DEFAULT = hex(
  '04224d186440a733000000ff144b61666b612d7374796c652073747265616d696e67206f6e2044796e616d6f44422e20' +
    '2300e2a030313233343536373839000000006025d94d',
);
const LZ4_CLI_CHECKSUMS_DEPENDENT_SIZED = hex(
  '04224d187c4022010000000000009d33000000ff144b61666b612d7374796c652073747265616d696e67206f6e204479' +
    '6e616d6f44422e202300e2a030313233343536373839eb968ac3000000006025d94d',
);
const ZSTD_CLI = hex(
  '28b52ffd642200b50100d4024b61666b612d7374796c652073747265616d696e67206f6e2044796e616d6f44422e2030' +
    '3132333435363738390100931b4a3d0150278837',
);
const SNAPPY_JAVA_RAW = hex(
  'a202884b61666b612d7374796c652073747265616d696e67206f6e2044796e616d6f44422e20fe2300fe2300fe2300' +
    'd223002430313233343536373839',
);
const XERIAL_HEADER = '82534e41505059000000000100000001'; // magic, version 1, compatible version 1

/** Test data of several shapes: incompressible, text-like, and repetitive with random edits. */
function sample(random: () => number, length: number, shape: 'random' | 'text' | 'mixed'): Uint8Array {
  const out = new Uint8Array(length);
  const alphabet = bytesOf('abcdefgh {"key":"value"} 0123');
  for (let i = 0; i < length; i++) {
    if (shape === 'random') out[i] = Math.floor(random() * 256);
    else if (shape === 'text') out[i] = alphabet[Math.floor(random() * alphabet.length)]!;
    else
      out[i] =
        random() < 0.9 && i > 0
          ? out[Math.max(0, i - 1 - Math.floor(random() * 400))]!
          : Math.floor(random() * 256);
  }
  return out;
}

describe('codec ids', () => {
  it('follow Kafka attributes bits 0-2', () => {
    expect(CODECS.map(compressionCode)).toEqual([0, 1, 2, 3, 4]);
    expect([0, 1, 2, 3, 4].map(compressionFromCode)).toEqual(CODECS);
    expect(compressionFromCode(5)).toBeUndefined();
    expect(compressionFromCode(7)).toBeUndefined();
  });

  it('reject an unknown codec name', async () => {
    expect(() => compressionCode('brotli' as Compression)).toThrow(InvalidArgumentError);
    await expect(compress('brotli' as Compression, new Uint8Array(1))).rejects.toThrow(InvalidArgumentError);
  });
});

describe('every codec', () => {
  it.each(CODECS)(
    '%s round-trips empty, small, block-sized and large inputs of every shape',
    async (codec) => {
      const random = seededRandom(testSeed(`compression ${codec}`));
      for (const length of [0, 1, 13, 100, 32 * 1024 + 1, 64 * 1024, 64 * 1024 + 17, 300_000]) {
        for (const shape of ['random', 'text', 'mixed'] as const) {
          const input = sample(random, length, shape);
          const back = await decompress(codec, await compress(codec, input));
          expect(Buffer.from(back).equals(Buffer.from(input)), `${codec} ${shape} ${length}`).toBe(true);
        }
      }
    },
  );

  it.each(CODECS.filter((c) => c !== 'none'))('%s rejects truncated and garbage input', async (codec) => {
    const compressed = await compress(codec, FIXTURE_TEXT);
    for (const cut of [1, 7, compressed.length - 1]) {
      await expect(decompress(codec, compressed.subarray(0, cut)), `cut at ${cut}`).rejects.toThrow(
        CorruptRecordError,
      );
    }
    await expect(decompress(codec, bytesOf('definitely not compressed data'))).rejects.toThrow(
      CorruptRecordError,
    );
  });
});

describe('lz4', () => {
  it('writes the frame Kafka’s Java client writes: independent blocks, 64 KiB maximum, no checksums', async () => {
    const frame = await compress('lz4', new Uint8Array(200_000).fill(7));
    const descriptorChecksum = (xxh32(0, Uint8Array.of(0x60, 0x40), 0, 2) >>> 8) & 0xff;
    expect(Buffer.from(frame.subarray(0, 7)).toString('hex')).toBe(
      `04224d186040${descriptorChecksum.toString(16).padStart(2, '0')}`,
    );
    expect(Buffer.from(frame.subarray(frame.length - 4)).toString('hex')).toBe('00000000');
  });

  it('writes blocks that each decode alone, within the end-of-block rules of the format', async () => {
    const random = seededRandom(testSeed('lz4 blocks'));
    const input = sample(random, 200_000, 'mixed');
    const frame = await compress('lz4', input);
    const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
    const parts: Uint8Array[] = [];
    for (let pos = 7; ; ) {
      const word = view.getUint32(pos, true);
      if (word === 0) break;
      const size = word & 0x7fffffff;
      const block = frame.subarray(pos + 4, pos + 4 + size);
      if ((word & 0x80000000) === 0) checkEndOfBlockRules(block);
      // Re-frame the block alone (same header, then the end mark) and decode it by itself.
      const alone = new Uint8Array(7 + 4 + size + 4);
      alone.set(frame.subarray(0, 7 + 4));
      alone.set(block, 11);
      new DataView(alone.buffer).setUint32(7, word, true);
      parts.push(await decompress('lz4', alone));
      pos += 4 + size;
    }
    expect(parts.length).toBe(4);
    expect(Buffer.concat(parts).equals(Buffer.from(input))).toBe(true);
  });

  it('decodes frames of the reference lz4 CLI, verifying their block and content checksums', async () => {
    for (const frame of [LZ4_CLI_DEFAULT, LZ4_CLI_CHECKSUMS_DEPENDENT_SIZED]) {
      expect(Buffer.from(await decompress('lz4', frame)).equals(Buffer.from(FIXTURE_TEXT))).toBe(true);
    }
    const badContentChecksum = LZ4_CLI_DEFAULT.slice();
    badContentChecksum[badContentChecksum.length - 1]! ^= 1;
    await expect(decompress('lz4', badContentChecksum)).rejects.toThrow(/content checksum/);
    const badBlockChecksum = LZ4_CLI_CHECKSUMS_DEPENDENT_SIZED.slice();
    badBlockChecksum[badBlockChecksum.length - 9]! ^= 1;
    await expect(decompress('lz4', badBlockChecksum)).rejects.toThrow(/block checksum/);
    const badDescriptor = LZ4_CLI_DEFAULT.slice();
    badDescriptor[6]! ^= 1;
    await expect(decompress('lz4', badDescriptor)).rejects.toThrow(/descriptor checksum/);
  });

  it('interoperates with lz4js frames both ways', async () => {
    const random = seededRandom(testSeed('lz4js'));
    for (const length of [0, 20, 5000, 70_000]) {
      const input = sample(random, length, 'mixed');
      expect(Buffer.from(await decompress('lz4', lz4jsCompress(input))).equals(Buffer.from(input))).toBe(
        true,
      );
      expect(Buffer.from(lz4jsDecompress(await compress('lz4', input))).equals(Buffer.from(input))).toBe(
        true,
      );
    }
  });

  it('rejects a match that reaches before the output, and trailing bytes', async () => {
    // One block: token 0x10 (1 literal, match length 4) "a", then offset 2 (only 1 byte decoded).
    const block = Uint8Array.of(0x10, 0x61, 0x02, 0x00, 0x50, 0x61, 0x62, 0x63, 0x64, 0x65);
    const frame = new Uint8Array([
      ...LZ4_CLI_DEFAULT.subarray(0, 7),
      block.length,
      0,
      0,
      0,
      ...block,
      0,
      0,
      0,
      0,
    ]);
    frame[4] = 0x60; // no content checksum
    frame[6] = (xxh32(0, frame, 4, 2) >>> 8) & 0xff;
    await expect(decompress('lz4', frame)).rejects.toThrow(/match offset/);
    const valid = await compress('lz4', FIXTURE_TEXT);
    await expect(decompress('lz4', Uint8Array.of(...valid, 0))).rejects.toThrow(/unexpected bytes/);
  });

  it('refuses a frame that declares more content than it may decode to', async () => {
    const frame = hex('04224d18684000000000010000000000'); // content size 2^32
    await expect(decompress('lz4', frame)).rejects.toThrow(CorruptRecordError);
  });
});

/** Walks an LZ4 block: the last match starts ≥ 12 bytes before the end; the last 5 bytes are literals. */
function checkEndOfBlockRules(block: Uint8Array): void {
  let ip = 0;
  let op = 0;
  let lastMatchStart = -1;
  let lastMatchEnd = 0;
  for (;;) {
    const token = block[ip++]!;
    let literals = token >>> 4;
    if (literals === 15) for (let b = 255; b === 255; literals += b) b = block[ip++]!;
    ip += literals;
    op += literals;
    if (ip >= block.length) break;
    ip += 2;
    let length = token & 15;
    if (length === 15) for (let b = 255; b === 255; length += b) b = block[ip++]!;
    lastMatchStart = op;
    op += length + 4;
    lastMatchEnd = op;
  }
  if (lastMatchStart >= 0) expect(lastMatchStart).toBeLessThanOrEqual(op - 12);
  expect(lastMatchEnd).toBeLessThanOrEqual(op - 5);
}

describe('snappy', () => {
  it('writes the xerial framing of snappy-java: header, then length-prefixed blocks of ≤ 32 KiB', async () => {
    const input = new Uint8Array(70_000).fill(0x41);
    const framed = await compress('snappy', input);
    expect(Buffer.from(framed.subarray(0, 16)).toString('hex')).toBe(XERIAL_HEADER);
    const view = new DataView(framed.buffer, framed.byteOffset, framed.byteLength);
    const blocks: number[] = [];
    for (let pos = 16; pos < framed.length; pos += 4 + view.getInt32(pos)) blocks.push(view.getInt32(pos));
    expect(blocks.length).toBe(3); // 32 KiB + 32 KiB + 4464 bytes
    expect(Buffer.from(await compress('snappy', new Uint8Array(0))).toString('hex')).toBe(XERIAL_HEADER);
  });

  it('reads one raw block, as kafkajs-snappy and other non-Java clients write', async () => {
    expect(Buffer.from(await decompress('snappy', SNAPPY_JAVA_RAW)).equals(Buffer.from(FIXTURE_TEXT))).toBe(
      true,
    );
    const raw = snappyjsCompress(FIXTURE_TEXT);
    expect(Buffer.from(await decompress('snappy', raw)).equals(Buffer.from(FIXTURE_TEXT))).toBe(true);
  });

  it('reads xerial framing around blocks of another implementation, and empty input', async () => {
    const block = SNAPPY_JAVA_RAW;
    const framed = hex(
      XERIAL_HEADER + block.length.toString(16).padStart(8, '0') + Buffer.from(block).toString('hex'),
    );
    const twice = Buffer.concat([framed, framed.subarray(16)]);
    const expected = Buffer.concat([FIXTURE_TEXT, FIXTURE_TEXT]);
    expect(Buffer.from(await decompress('snappy', twice)).equals(expected)).toBe(true);
    // snappy-java writes nothing at all for no input.
    expect((await decompress('snappy', new Uint8Array(0))).length).toBe(0);
  });

  it('rejects a block whose content does not fill its declared length, or overflows it', async () => {
    const short = SNAPPY_JAVA_RAW.slice();
    short[0] = 0xa3; // declares 291 bytes, decodes 290
    await expect(decompress('snappy', short)).rejects.toThrow(/decoded to 290 of 291/);
    const long = SNAPPY_JAVA_RAW.slice();
    long[0] = 0xa1; // declares 289 bytes
    await expect(decompress('snappy', long)).rejects.toThrow(CorruptRecordError);
    await expect(decompress('snappy', hex('ffffffff0f00'))).rejects.toThrow(/more than/); // 4 GiB declared
    const badBlockLength = hex(`${XERIAL_HEADER}0000100000`); // a 4096-byte block in 1 byte
    await expect(decompress('snappy', badBlockLength)).rejects.toThrow(/block length/);
  });
});

describe('zstd', () => {
  it('decodes a frame of the reference zstd CLI', async () => {
    expect(Buffer.from(await decompress('zstd', ZSTD_CLI)).equals(Buffer.from(FIXTURE_TEXT))).toBe(true);
  });

  it('rejects truncated or padded frames, which node:zlib alone would decode partially', async () => {
    const big = await compress('zstd', sample(seededRandom(1), 500_000, 'random'));
    await expect(decompress('zstd', big.subarray(0, big.length - 3))).rejects.toThrow(/truncated/);
    await expect(decompress('zstd', new Uint8Array(0))).rejects.toThrow(/no frame/);
    await expect(decompress('zstd', Uint8Array.of(...ZSTD_CLI, 1, 2, 3))).rejects.toThrow(CorruptRecordError);
  });
});

describe('gzip', () => {
  it('rejects trailing garbage and a corrupted stream', async () => {
    const gz = await compress('gzip', FIXTURE_TEXT);
    await expect(decompress('gzip', Uint8Array.of(...gz, 0x42, 0x42))).rejects.toThrow(CorruptRecordError);
    const flipped = gz.slice();
    flipped[gz.length - 5]! ^= 0xff; // inside the CRC-32 trailer
    await expect(decompress('gzip', flipped)).rejects.toThrow(CorruptRecordError);
  });
});

describe('levels', () => {
  const random = seededRandom(7);
  const text = bytesOf(
    Array.from(
      { length: 3000 },
      (_, i) =>
        `{"id":${i},"customer":"c-${Math.floor(random() * 500)}","total":${(random() * 300).toFixed(2)},"city":"${['Lyon', 'Osaka', 'Austin'][i % 3]}"}`,
    ).join('\n'),
  );

  it.each([
    ['gzip', 1],
    ['gzip', 9],
    ['zstd', 1],
    ['zstd', 19],
  ] as const)('round-trips %s at level %i', async (codec, level) => {
    const packed = await compress(codec, text, level);
    expect(Buffer.from(await decompress(codec, packed)).equals(Buffer.from(text))).toBe(true);
  });

  it('compresses smaller at higher levels, and the default level is the codec default', async () => {
    for (const codec of ['gzip', 'zstd'] as const) {
      const [low, high] = [await compress(codec, text, 1), await compress(codec, text, 9)];
      expect(high.byteLength).toBeLessThan(low.byteLength);
      expect(
        Buffer.from(await compress(codec, text)).equals(
          Buffer.from(await compress(codec, text, DEFAULT_COMPRESSION_LEVELS[codec])),
        ),
      ).toBe(true);
    }
  });

  it('refuses a level for codecs without levels, and levels out of range', async () => {
    await expect(compress('lz4', text, 3)).rejects.toThrow(InvalidArgumentError);
    await expect(compress('snappy', text, 1)).rejects.toThrow(InvalidArgumentError);
    await expect(compress('gzip', text, 0)).rejects.toThrow(InvalidArgumentError);
    await expect(compress('zstd', text, 23)).rejects.toThrow(InvalidArgumentError);
    await expect(compress('zstd', text, 2.5)).rejects.toThrow(InvalidArgumentError);
  });

  it('writes zstd frames that record their content size (the input size is told to the encoder)', async () => {
    const frame = await compress('zstd', text);
    // Frame header descriptor (RFC 8878 3.1.1.1.1): a content size field is present when its flag
    // is set or the frame is a single segment.
    const descriptor = frame[4]!;
    expect(descriptor >>> 6 !== 0 || (descriptor & 0x20) !== 0).toBe(true);
  });
});
