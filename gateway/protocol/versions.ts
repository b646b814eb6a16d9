/**
 * Version ranges in the notation of Kafka's message specs: `"3+"` (3 and later), `"0-7"`
 * (inclusive), `"5"` (only 5) and `"none"` (no version). Message descriptions use them for the
 * versions a field exists in, is nullable in, or is encoded compactly in.
 */
import { SchemaDefinitionError } from './errors.ts';

/** A version range as written in a message description. */
export type Versions = 'none' | `${number}+` | `${number}-${number}` | `${number}`;

/** A parsed, inclusive version range; `max` is `Infinity` for an open range, and `min > max` when empty. */
export interface VersionRange {
  readonly min: number;
  readonly max: number;
}

const NONE: VersionRange = { min: 1, max: 0 };

/**
 * Parses a {@link Versions} string.
 *
 * @throws SchemaDefinitionError when the string is not in the notation.
 */
export function parseVersions(versions: Versions): VersionRange {
  if (versions === 'none') return NONE;
  const match = /^(\d+)(?:(\+)|-(\d+))?$/.exec(versions);
  if (match === null)
    throw new SchemaDefinitionError(`"${versions}" is not a version range (e.g. "3+", "0-7", "none")`);
  const min = Number(match[1]);
  if (match[2] === '+') return { min, max: Number.POSITIVE_INFINITY };
  const max = match[3] === undefined ? min : Number(match[3]);
  if (max < min) throw new SchemaDefinitionError(`Version range "${versions}" ends before it starts`);
  return { min, max };
}

/** True when `version` lies in `range`. */
export function inRange(range: VersionRange, version: number): boolean {
  return version >= range.min && version <= range.max;
}
