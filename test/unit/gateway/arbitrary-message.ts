/**
 * fast-check arbitraries for messages of a description in one version, written independently of
 * the codec's own compilation: fields absent from the version hold their Kafka defaults, nullable
 * fields are sometimes null, strings are any Unicode (within the int16 limit of legacy strings).
 * What the codec decodes from the encoding of such a value must equal it.
 */
import fc from 'fast-check';
import type { Field, Fields, FieldType } from '../../../gateway/protocol/schema.ts';
import { inRange, parseVersions } from '../../../gateway/protocol/versions.ts';

export const ZERO_UUID = '00000000-0000-0000-0000-000000000000';

const INTEGER_RANGES: Readonly<Record<string, readonly [number, number]>> = {
  int8: [-128, 127],
  int16: [-32768, 32767],
  uint16: [0, 65535],
  int32: [-2147483648, 2147483647],
  varint: [-2147483648, 2147483647],
};

/** Kafka's default of a field (its `default`, else the type's). */
export function defaultOf(field: Field): unknown {
  if (field.default !== undefined) return field.default;
  return defaultOfType(field.type);
}

function defaultOfType(type: FieldType): unknown {
  if (typeof type === 'object') {
    if (type.kind === 'array') return [];
    return Object.fromEntries(Object.entries(type.fields).map(([name, f]) => [name, defaultOf(f)]));
  }
  switch (type) {
    case 'int64':
    case 'varlong':
      return 0n;
    case 'bool':
      return false;
    case 'string':
      return '';
    case 'uuid':
      return ZERO_UUID;
    case 'bytes':
      return new Uint8Array(0);
    case 'records':
      return null;
    default:
      return 0;
  }
}

function typeArbitrary(type: FieldType, version: number): fc.Arbitrary<unknown> {
  if (typeof type === 'object') {
    if (type.kind === 'array') return fc.array(typeArbitrary(type.items, version), { maxLength: 3 });
    return messageArbitrary(type.fields, version);
  }
  const range = INTEGER_RANGES[type];
  if (range !== undefined) return fc.integer({ min: range[0], max: range[1] });
  switch (type) {
    case 'int64':
    case 'varlong':
      return fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n });
    case 'float64':
      return fc.double();
    case 'bool':
      return fc.boolean();
    case 'string':
      return fc.string({ unit: 'binary', maxLength: 12 });
    case 'uuid':
      return fc.oneof(fc.constant(ZERO_UUID), fc.uuid());
    case 'bytes':
    case 'records':
      return fc.uint8Array({ maxLength: 24 });
    default:
      throw new Error(`No arbitrary for ${String(type)}`);
  }
}

/** Messages of `fields` as they can be in `version` (nested structs share the version). */
export function messageArbitrary(fields: Fields, version: number): fc.Arbitrary<Record<string, unknown>> {
  const model: Record<string, fc.Arbitrary<unknown>> = {};
  for (const [name, field] of Object.entries(fields)) {
    if (!inRange(parseVersions(field.versions ?? '0+'), version)) {
      model[name] = fc.constant(defaultOf(field));
      continue;
    }
    const value = typeArbitrary(field.type, version);
    const nullable = inRange(parseVersions(field.nullableVersions ?? 'none'), version);
    model[name] = nullable ? fc.option(value, { nil: null, freq: 4 }) : value;
  }
  return fc.record(model);
}
