/**
 * CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), the checksum of Kafka's RecordBatch v2.
 * Table-driven, slicing-by-8: eight 256-entry tables let the loop consume 8 bytes per iteration.
 */

const POLYNOMIAL = 0x82f63b78;

/** `TABLES[k * 256 + b]`: the CRC of byte `b` followed by `k` zero bytes. */
const TABLES = buildTables();

function buildTables(): Uint32Array {
  const tables = new Uint32Array(8 * 256);
  for (let b = 0; b < 256; b++) {
    let crc = b;
    for (let bit = 0; bit < 8; bit++) crc = crc & 1 ? (crc >>> 1) ^ POLYNOMIAL : crc >>> 1;
    tables[b] = crc;
  }
  for (let b = 0; b < 256; b++) {
    let crc = tables[b]!;
    for (let k = 1; k < 8; k++) {
      crc = (crc >>> 8) ^ tables[crc & 0xff]!;
      tables[k * 256 + b] = crc;
    }
  }
  return tables;
}

/**
 * CRC-32C of `bytes`, as an unsigned 32-bit number.
 *
 * @param initial - the CRC of the bytes before these ones, to checksum data given in pieces:
 *   `crc32c(b, crc32c(a))` equals `crc32c(a ++ b)`. @default 0 (nothing before)
 */
export function crc32c(bytes: Uint8Array, initial = 0): number {
  const t = TABLES;
  let crc = ~initial;
  let i = 0;
  const length = bytes.length;
  const whole = length - (length & 7);
  while (i < whole) {
    const lo = crc ^ (bytes[i]! | (bytes[i + 1]! << 8) | (bytes[i + 2]! << 16) | (bytes[i + 3]! << 24));
    const hi = bytes[i + 4]! | (bytes[i + 5]! << 8) | (bytes[i + 6]! << 16) | (bytes[i + 7]! << 24);
    crc =
      t[1792 + (lo & 0xff)]! ^
      t[1536 + ((lo >>> 8) & 0xff)]! ^
      t[1280 + ((lo >>> 16) & 0xff)]! ^
      t[1024 + (lo >>> 24)]! ^
      t[768 + (hi & 0xff)]! ^
      t[512 + ((hi >>> 8) & 0xff)]! ^
      t[256 + ((hi >>> 16) & 0xff)]! ^
      t[hi >>> 24]!;
    i += 8;
  }
  while (i < length) {
    crc = (crc >>> 8) ^ t[(crc ^ bytes[i]!) & 0xff]!;
    i++;
  }
  return ~crc >>> 0;
}
