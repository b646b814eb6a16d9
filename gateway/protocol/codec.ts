/**
 * The one generic codec: it reads and writes any message of any version from its description
 * (`schema.ts`), with no per-message or per-version code. A description is compiled once per
 * (version, flexible) into a plan — which fields are on the wire, which are tagged, which are
 * nullable or compact — and the plans are cached, so encoding and decoding only walk them.
 *
 * Compiling also checks the description (a tagged field outside the flexible versions, a default
 * of the wrong type, an array whose elements could be empty on the wire, ...), so
 * {@link compileMessage} over every version, which the API registry does when it loads, turns a
 * wrong description into an error at start-up.
 */
import type { ByteReader } from './byte-reader.ts';
import { ByteWriter, utf8Bytes } from './byte-writer.ts';
import { ProtocolError, SchemaDefinitionError } from './errors.ts';
import type { Field, Fields, FieldType, Message, MessageInput } from './schema.ts';
import { inRange, parseVersions, type VersionRange } from './versions.ts';

/** How one type is read and written in one version. */
interface TypeCodec {
  /** The fewest bytes a value can take on the wire; a declared count is checked against it. */
  readonly minBytes: number;
  write(writer: ByteWriter, value: unknown): void;
  read(reader: ByteReader): unknown;
}

interface FieldPlan {
  readonly name: string;
  /** `wire`: in the struct's body; `tagged`: in its tagged-field section; `absent`: not in this version. */
  readonly mode: 'wire' | 'tagged' | 'absent';
  readonly tag: number;
  readonly codec: TypeCodec;
  readonly makeDefault: () => unknown;
  /** True when `value` equals the default (`undefined` stands for the default). */
  readonly isDefault: (value: unknown) => boolean;
}

interface StructPlan {
  readonly fields: readonly FieldPlan[];
  readonly wire: readonly FieldPlan[];
  /** Tagged fields in ascending tag order, as they must be written. */
  readonly tagged: readonly FieldPlan[];
  readonly byTag: ReadonlyMap<number, FieldPlan>;
  readonly flexible: boolean;
  readonly minBytes: number;
}

const ZERO_UUID = '00000000-0000-0000-0000-000000000000';
const INT_RANGES: Readonly<Record<string, readonly [number, number]>> = {
  int8: [-0x80, 0x7f],
  int16: [-0x8000, 0x7fff],
  uint16: [0, 0xffff],
  int32: [-0x80000000, 0x7fffffff],
  varint: [-0x80000000, 0x7fffffff],
};
/** A legacy (int16-prefixed) string holds at most this many bytes. */
const MAX_LEGACY_STRING = 0x7fff;
/** Byte strings, arrays and compact strings hold at most this many bytes or items (an int32 length). */
const MAX_LENGTH = 0x7fffffff;

const planCache = new WeakMap<Fields, Map<number, StructPlan>>();
const rangeCache = new WeakMap<
  Field,
  { versions: VersionRange; nullable: VersionRange; flexible: VersionRange }
>();

// ---------------------------------------------------------------------------------------------
// Public entry points

/**
 * Checks the description `fields` and compiles its plan for `version`, caching it. `label`
 * names the message in errors (e.g. `Metadata v3 request`).
 *
 * @throws SchemaDefinitionError when the description is inconsistent in this version.
 */
export function compileMessage(fields: Fields, version: number, flexible: boolean, label: string): void {
  structPlan(fields, version, flexible, label);
}

/** Writes `value` as the message `fields` in `version`. */
export function encodeMessage<F extends Fields>(
  fields: F,
  version: number,
  flexible: boolean,
  value: MessageInput<F>,
  writer: ByteWriter,
): void {
  writeStruct(structPlan(fields, version, flexible, 'message'), value, writer);
}

/**
 * Reads the message `fields` in `version` from `reader`; byte strings and records in the result
 * are views into the reader's array.
 *
 * @throws ProtocolError when the input is truncated or malformed.
 */
export function decodeMessage<F extends Fields>(
  fields: F,
  version: number,
  flexible: boolean,
  reader: ByteReader,
): Message<F> {
  return readStruct(structPlan(fields, version, flexible, 'message'), reader) as Message<F>;
}

// ---------------------------------------------------------------------------------------------
// Compiling

function ranges(field: Field, path: string) {
  let cached = rangeCache.get(field);
  if (cached === undefined) {
    try {
      cached = {
        versions: parseVersions(field.versions ?? '0+'),
        nullable: parseVersions(field.nullableVersions ?? 'none'),
        flexible: parseVersions(field.flexibleVersions ?? '0+'),
      };
    } catch (error) {
      throw new SchemaDefinitionError(`${path}: ${(error as Error).message}`);
    }
    rangeCache.set(field, cached);
  }
  return cached;
}

function structPlan(fields: Fields, version: number, flexible: boolean, path: string): StructPlan {
  let byVersion = planCache.get(fields);
  if (byVersion === undefined) {
    byVersion = new Map();
    planCache.set(fields, byVersion);
  }
  const key = version * 2 + (flexible ? 1 : 0);
  let plan = byVersion.get(key);
  if (plan === undefined) {
    plan = compileStruct(fields, version, flexible, path);
    byVersion.set(key, plan);
  }
  return plan;
}

function compileStruct(fields: Fields, version: number, flexible: boolean, path: string): StructPlan {
  const plans: FieldPlan[] = [];
  const byTag = new Map<number, FieldPlan>();
  for (const [name, field] of Object.entries(fields)) {
    const fieldPath = `${path}.${name}`;
    if (/^\d+$/.test(name) || name === '__proto__') {
      throw new SchemaDefinitionError(`${fieldPath}: field names must not be numeric or __proto__`);
    }
    const plan = compileField(name, field, version, flexible, fieldPath);
    if (plan.mode === 'tagged') {
      if (byTag.has(plan.tag)) throw new SchemaDefinitionError(`${fieldPath}: tag ${plan.tag} is used twice`);
      byTag.set(plan.tag, plan);
    }
    plans.push(plan);
  }
  const wire = plans.filter((p) => p.mode === 'wire');
  return {
    fields: plans,
    wire,
    tagged: [...byTag.values()].sort((a, b) => a.tag - b.tag),
    byTag,
    flexible,
    minBytes: wire.reduce((sum, p) => sum + p.codec.minBytes, flexible ? 1 : 0),
  };
}

function compileField(
  name: string,
  field: Field,
  version: number,
  flexible: boolean,
  path: string,
): FieldPlan {
  const { versions, nullable: nullableRange, flexible: flexibleRange } = ranges(field, path);
  const present = inRange(versions, version);
  const nullable = present && inRange(nullableRange, version);
  const isLengthPrefixed = field.type === 'string' || field.type === 'bytes';
  if (field.flexibleVersions !== undefined && !isLengthPrefixed) {
    throw new SchemaDefinitionError(`${path}: flexibleVersions applies to strings and byte strings only`);
  }
  const nullableType =
    field.type === 'string' || field.type === 'bytes' || field.type === 'records' || isArray(field.type);
  if (field.nullableVersions !== undefined && !nullableType) {
    throw new SchemaDefinitionError(`${path}: a ${typeName(field.type)} cannot be nullable`);
  }
  if (field.tag !== undefined) {
    if (!Number.isInteger(field.tag) || field.tag < 0 || field.tag > MAX_LENGTH) {
      throw new SchemaDefinitionError(`${path}: tag ${field.tag} is not a non-negative int32`);
    }
    if (present && !flexible) {
      throw new SchemaDefinitionError(
        `${path}: tagged fields exist only in flexible versions, not in v${version}`,
      );
    }
  }
  const makeDefault = defaultFactory(field, path);
  if (present && makeDefault() === null && !nullable) {
    throw new SchemaDefinitionError(`${path}: default null, but the field is not nullable in v${version}`);
  }
  if (!present) {
    // Not compiled further: in this version the field's type may not even be well-formed (a
    // struct whose fields all start later would take no bytes).
    return { name, mode: 'absent', tag: -1, codec: ABSENT, makeDefault, isDefault: () => true };
  }
  const compact = flexible && inRange(flexibleRange, version);
  return {
    name,
    mode: field.tag !== undefined ? 'tagged' : 'wire',
    tag: field.tag ?? -1,
    codec: typeCodec(field.type, nullable, compact, version, flexible, path),
    makeDefault,
    isDefault: defaultTest(field, makeDefault, version, flexible, path),
  };
}

/** The codec of a field that is not in the version; plans never call it. */
const ABSENT: TypeCodec = {
  minBytes: 0,
  write() {
    throw new SchemaDefinitionError('A field absent from this version was written');
  },
  read() {
    throw new SchemaDefinitionError('A field absent from this version was read');
  },
};

function isArray(type: FieldType): type is Extract<FieldType, { kind: 'array' }> {
  return typeof type === 'object' && type.kind === 'array';
}

function typeName(type: FieldType): string {
  return typeof type === 'string' ? type : type.kind;
}

function defaultFactory(field: Field, path: string): () => unknown {
  const type = field.type;
  if (field.default !== undefined) {
    const value = field.default;
    if (value !== null) checkDefault(type, value, path);
    return () => value;
  }
  if (typeof type === 'object') {
    if (type.kind === 'array') return () => [];
    const fields = Object.entries(type.fields).map(
      ([name, f]) => [name, defaultFactory(f, `${path}.${name}`)] as const,
    );
    return () => Object.fromEntries(fields.map(([name, make]) => [name, make()]));
  }
  switch (type) {
    case 'int64':
    case 'varlong':
      return () => 0n;
    case 'bool':
      return () => false;
    case 'string':
      return () => '';
    case 'uuid':
      return () => ZERO_UUID;
    case 'bytes':
      return () => new Uint8Array(0);
    case 'records':
      return () => null;
    default:
      return () => 0;
  }
}

function checkDefault(type: FieldType, value: unknown, path: string): void {
  const fail = () =>
    new SchemaDefinitionError(`${path}: default ${String(value)} is not a ${typeName(type)}`);
  if (typeof type === 'object') throw fail();
  const range = INT_RANGES[type];
  if (range !== undefined) {
    if (typeof value !== 'number' || !Number.isInteger(value) || value < range[0] || value > range[1])
      throw fail();
    return;
  }
  switch (type) {
    case 'int64':
    case 'varlong':
      if (typeof value !== 'bigint') throw fail();
      return;
    case 'float64':
      if (typeof value !== 'number') throw fail();
      return;
    case 'bool':
      if (typeof value !== 'boolean') throw fail();
      return;
    case 'string':
    case 'uuid':
      if (typeof value !== 'string') throw fail();
      return;
    default:
      throw fail();
  }
}

function defaultTest(
  field: Field,
  makeDefault: () => unknown,
  version: number,
  flexible: boolean,
  path: string,
): (value: unknown) => boolean {
  const type = field.type;
  const fallback = makeDefault();
  if (fallback === null) return (value) => value === undefined || value === null;
  if (typeof type === 'object') {
    if (type.kind === 'array')
      return (value) => value === undefined || (Array.isArray(value) && value.length === 0);
    const plan = structPlan(type.fields, version, flexible, path);
    return (value) =>
      value === undefined ||
      (typeof value === 'object' &&
        value !== null &&
        plan.fields.every(
          (p) => p.mode === 'absent' || p.isDefault((value as Record<string, unknown>)[p.name]),
        ));
  }
  if (type === 'bytes' || type === 'records') {
    return (value) => value === undefined || (value instanceof Uint8Array && value.length === 0);
  }
  return (value) => value === undefined || Object.is(value, fallback);
}

function typeCodec(
  type: FieldType,
  nullable: boolean,
  compact: boolean,
  version: number,
  flexible: boolean,
  path: string,
): TypeCodec {
  if (typeof type === 'object') {
    if (type.kind === 'struct') {
      // Nested structs share the message's version and flexibility.
      const plan = structPlan(type.fields, version, flexible, path);
      return {
        minBytes: plan.minBytes,
        write: (writer, value) => writeStruct(plan, value, writer),
        read: (reader) => readStruct(plan, reader),
      };
    }
    const items = typeCodec(type.items, false, compact, version, flexible, `${path}[]`);
    if (items.minBytes < 1) {
      throw new SchemaDefinitionError(
        `${path}: array elements take no bytes in v${version}; a count could not be bounded`,
      );
    }
    return arrayCodec(items, nullable, compact);
  }
  switch (type) {
    case 'bool':
      return { minBytes: 1, write: (w, v) => w.bool(v as boolean), read: (r) => r.bool() };
    case 'int8':
      return { minBytes: 1, write: (w, v) => w.int8(v as number), read: (r) => r.int8() };
    case 'int16':
      return { minBytes: 2, write: (w, v) => w.int16(v as number), read: (r) => r.int16() };
    case 'uint16':
      return { minBytes: 2, write: (w, v) => w.uint16(v as number), read: (r) => r.uint16() };
    case 'int32':
      return { minBytes: 4, write: (w, v) => w.int32(v as number), read: (r) => r.int32() };
    case 'int64':
      return { minBytes: 8, write: (w, v) => w.int64(v as bigint), read: (r) => r.int64() };
    case 'varint':
      return { minBytes: 1, write: (w, v) => w.varint(v as number), read: (r) => r.varint() };
    case 'varlong':
      return { minBytes: 1, write: (w, v) => w.varlong(v as bigint), read: (r) => r.varlong() };
    case 'float64':
      return { minBytes: 8, write: (w, v) => w.float64(v as number), read: (r) => r.float64() };
    case 'uuid':
      return { minBytes: 16, write: (w, v) => w.uuid(v as string), read: (r) => r.uuid() };
    case 'string':
      return stringCodec(nullable, compact);
    case 'bytes':
    case 'records':
      return bytesCodec(nullable, compact);
  }
}

// ---------------------------------------------------------------------------------------------
// Length prefixes. Legacy: int16 (strings) or int32 (bytes, arrays), -1 for null. Compact:
// unsigned varint of length + 1, 0 for null.

function nullNotAllowed(reader: ByteReader): ProtocolError {
  return new ProtocolError('INVALID_VALUE', 'Null where the field is not nullable', {
    position: reader.position,
  });
}

/** Reads a length prefix; null for the null marker. */
function readLength(
  reader: ByteReader,
  nullable: boolean,
  compact: boolean,
  legacy: 'int16' | 'int32',
): number | null {
  const at = reader.position;
  const length = compact ? reader.uvarint() - 1 : legacy === 'int16' ? reader.int16() : reader.int32();
  if (length === -1) {
    if (!nullable) throw nullNotAllowed(reader);
    return null;
  }
  if (length < 0 || length > MAX_LENGTH) {
    throw new ProtocolError('INVALID_LENGTH', `Length ${length} is negative or too large`, { position: at });
  }
  return length;
}

function writeLength(
  writer: ByteWriter,
  length: number | null,
  nullable: boolean,
  compact: boolean,
  legacy: 'int16' | 'int32',
): void {
  if (length === null) {
    if (!nullable)
      throw new ProtocolError('NOT_ENCODABLE', 'Null where the field is not nullable in this version');
    if (compact) writer.uvarint(0);
    else if (legacy === 'int16') writer.int16(-1);
    else writer.int32(-1);
    return;
  }
  const max = !compact && legacy === 'int16' ? MAX_LEGACY_STRING : MAX_LENGTH;
  if (length > max)
    throw new ProtocolError('NOT_ENCODABLE', `Length ${length} exceeds the maximum of ${max}`);
  if (compact) writer.uvarint(length + 1);
  else if (legacy === 'int16') writer.int16(length);
  else writer.int32(length);
}

function stringCodec(nullable: boolean, compact: boolean): TypeCodec {
  return {
    minBytes: compact ? 1 : 2,
    write(writer, value) {
      if (value === null) return writeLength(writer, null, nullable, compact, 'int16');
      const encoded = utf8Bytes(value as string);
      writeLength(writer, encoded.length, nullable, compact, 'int16');
      writer.bytes(encoded);
    },
    read(reader) {
      const length = readLength(reader, nullable, compact, 'int16');
      return length === null ? null : reader.utf8(length);
    },
  };
}

function bytesCodec(nullable: boolean, compact: boolean): TypeCodec {
  return {
    minBytes: compact ? 1 : 4,
    write(writer, value) {
      if (value === null) return writeLength(writer, null, nullable, compact, 'int32');
      if (!(value instanceof Uint8Array)) throw new ProtocolError('NOT_ENCODABLE', 'Expected a Uint8Array');
      writeLength(writer, value.length, nullable, compact, 'int32');
      writer.bytes(value);
    },
    read(reader) {
      const length = readLength(reader, nullable, compact, 'int32');
      return length === null ? null : reader.bytes(length);
    },
  };
}

function arrayCodec(items: TypeCodec, nullable: boolean, compact: boolean): TypeCodec {
  return {
    minBytes: compact ? 1 : 4,
    write(writer, value) {
      if (value === null) return writeLength(writer, null, nullable, compact, 'int32');
      if (!Array.isArray(value)) throw new ProtocolError('NOT_ENCODABLE', 'Expected an array');
      writeLength(writer, value.length, nullable, compact, 'int32');
      for (let i = 0; i < value.length; i++) {
        try {
          items.write(writer, value[i]);
        } catch (error) {
          throw within(error, `[${i}]`);
        }
      }
    },
    read(reader) {
      const count = readLength(reader, nullable, compact, 'int32');
      if (count === null) return null;
      reader.expect(count, items.minBytes, 'An array');
      const out: unknown[] = new Array(count);
      for (let i = 0; i < count; i++) {
        try {
          out[i] = items.read(reader);
        } catch (error) {
          throw within(error, `[${i}]`);
        }
      }
      return out;
    },
  };
}

/** Adds a path segment to a {@link ProtocolError}; anything else is rethrown untouched. */
function within(error: unknown, segment: string): unknown {
  return error instanceof ProtocolError ? error.within(segment) : error;
}

// ---------------------------------------------------------------------------------------------
// Structs and tagged fields

function writeStruct(plan: StructPlan, value: unknown, writer: ByteWriter): void {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ProtocolError('NOT_ENCODABLE', 'Expected an object');
  }
  const record = value as Record<string, unknown>;
  for (const field of plan.wire) {
    const given = record[field.name];
    try {
      field.codec.write(writer, given === undefined ? field.makeDefault() : given);
    } catch (error) {
      throw within(error, field.name);
    }
  }
  if (!plan.flexible) return;
  const tagged = plan.tagged.filter((field) => !field.isDefault(record[field.name]));
  writer.uvarint(tagged.length);
  for (const field of tagged) {
    const body = new ByteWriter();
    try {
      field.codec.write(body, record[field.name]);
    } catch (error) {
      throw within(error, field.name);
    }
    const encoded = body.finish();
    writer.uvarint(field.tag);
    writer.uvarint(encoded.length);
    writer.bytes(encoded);
  }
}

function readStruct(plan: StructPlan, reader: ByteReader): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const field of plan.fields) {
    if (field.mode !== 'wire') {
      out[field.name] = field.makeDefault();
      continue;
    }
    try {
      out[field.name] = field.codec.read(reader);
    } catch (error) {
      throw within(error, field.name);
    }
  }
  if (plan.flexible) readTaggedFields(plan, reader, out);
  return out;
}

/**
 * The tagged-field section: a count, then (tag, size, value) per field. Tags we do not know in
 * this version are skipped by their size, as KIP-482 requires, so newer clients can add fields.
 */
function readTaggedFields(plan: StructPlan, reader: ByteReader, out: Record<string, unknown>): void {
  const count = reader.uvarint();
  // Each tagged field takes at least two bytes (its tag and its size).
  reader.expect(count, 2, 'A tagged-field section');
  for (let i = 0; i < count; i++) {
    const tag = reader.uvarint();
    const size = reader.uvarint();
    const body = reader.sub(size);
    const field = plan.byTag.get(tag);
    if (field === undefined) continue;
    try {
      out[field.name] = field.codec.read(body);
    } catch (error) {
      throw within(error, field.name);
    }
    if (body.remaining !== 0) {
      throw new ProtocolError(
        'INVALID_VALUE',
        `Tagged field ${tag} declares ${size} bytes but its value takes fewer`,
        {
          field: field.name,
          position: body.position,
        },
      );
    }
  }
}
