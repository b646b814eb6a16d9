/**
 * Identities and digests of DynamoDB items as the replicator compares them. A stream record's
 * image and an item returned by a write (`ReturnValues: ALL_OLD`) are the same item when their
 * canonical forms are equal: map keys and set members in a fixed order (DynamoDB returns neither in
 * a guaranteed one), numbers as the service normalised them, binary as base64. Pure.
 */
import { createHash } from 'node:crypto';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { InvalidArgumentError } from '../../sdk/src/index.ts';

/** An item's attributes (a stream record's `NewImage`, or what a write returned). */
export type ItemImage = Record<string, AttributeValue>;

/** The digest of "no item": a delete, or an item never written. */
export const ABSENT = 'absent';

const base64 = (bytes: Uint8Array): string => Buffer.from(bytes).toString('base64');

/** Canonical text of one attribute value. */
function canonicalValue(value: AttributeValue): string {
  if (value.S !== undefined) return `S${JSON.stringify(value.S)}`;
  if (value.N !== undefined) return `N${value.N}`;
  if (value.B !== undefined) return `B${base64(value.B)}`;
  if (value.BOOL !== undefined) return `BOOL${value.BOOL}`;
  if (value.NULL !== undefined) return 'NULL';
  if (value.SS !== undefined)
    return `SS[${value.SS.map((s) => JSON.stringify(s))
      .sort()
      .join(',')}]`;
  if (value.NS !== undefined) return `NS[${[...value.NS].sort().join(',')}]`;
  if (value.BS !== undefined) return `BS[${value.BS.map(base64).sort().join(',')}]`;
  if (value.L !== undefined) return `L[${value.L.map(canonicalValue).join(',')}]`;
  if (value.M !== undefined) return `M${canonicalImage(value.M)}`;
  throw new InvalidArgumentError(
    `Cannot compare an attribute value of an unknown type (${Object.keys(value).join(', ')}).`,
  );
}

/** Canonical text of an item or a key: attributes in name order. */
export function canonicalImage(image: ItemImage): string {
  const names = Object.keys(image).sort();
  const parts: string[] = [];
  for (const name of names) {
    const value = image[name];
    if (value !== undefined) parts.push(`${JSON.stringify(name)}:${canonicalValue(value)}`);
  }
  return `{${parts.join(',')}}`;
}

/**
 * Equal for equal items, {@link ABSENT} for no item: the SHA-256 of the canonical form, so the
 * replicator keeps 43 characters per item and region rather than the item.
 */
export function imageDigest(image: ItemImage | undefined): string {
  return image === undefined
    ? ABSENT
    : createHash('sha256').update(canonicalImage(image)).digest('base64url');
}

/**
 * A stream record's image as DynamoDB wrote it: DynamoDB Local's streams write an empty map as `{}`
 * (no type at all), which neither compares nor writes back; it becomes `{ M: {} }` again, at any
 * depth. Anything else is returned as it is (the same object when nothing needed repair).
 */
export function repairStreamImage(image: ItemImage): ItemImage {
  let repaired: ItemImage | undefined;
  for (const [name, value] of Object.entries(image)) {
    const fixed = repairValue(value);
    if (fixed !== value) {
      repaired ??= { ...image };
      repaired[name] = fixed;
    }
  }
  return repaired ?? image;
}

function repairValue(value: AttributeValue): AttributeValue {
  if (Object.keys(value).length === 0) return { M: {} };
  if (value.M !== undefined) {
    const map = repairStreamImage(value.M);
    return map === value.M ? value : { M: map };
  }
  if (value.L !== undefined) {
    const list = value.L.map(repairValue);
    return list.every((element, index) => element === value.L?.[index]) ? value : { L: list };
  }
  return value;
}

/** One item of one table, the same in every region: the table's name and the item's key. */
export function itemIdentity(table: string, keys: ItemImage): string {
  return `${table}\u0000${canonicalImage(keys)}`;
}
