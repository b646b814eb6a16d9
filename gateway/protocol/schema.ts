/**
 * The format in which Tributary describes Kafka's messages: the same information as Apache
 * Kafka's JSON message specs (`clients/src/main/resources/common/message/*.json`), written as
 * TypeScript so that the types of decoded messages follow from the descriptions.
 *
 * A description is an object of fields in wire order; each field is built by one of the helpers
 * below (`int32()`, `string({ versions: '1+', nullableVersions: '1+' })`, `array({ ... })`, ...).
 * One generic codec (`codec.ts`) reads and writes every version from it:
 *
 * - `versions`: the versions the field is on the wire in (default: all of the message's). In any
 *   other version it is neither written nor read, and decodes as its default.
 * - `nullableVersions`: the versions in which the value may be null (strings, bytes, records,
 *   arrays). A field with `nullableVersions` has `| null` in its type.
 * - `tag`: a tagged field (KIP-482), written in the tagged-field section of its struct only when
 *   it differs from its default. Tagged fields exist only in flexible versions.
 * - `flexibleVersions` (strings and bytes only): overrides the message's flexible versions for
 *   this field's length prefix, as the request header's client id (`"none"`, always int16).
 * - `default`: the value for versions without the field, and the tagged-field baseline. Without
 *   it a field defaults as in Kafka: 0, 0n, false, "", an empty array or byte string, the all-zero
 *   UUID, null for records, or a struct of defaults. `null` is allowed only where the field is
 *   nullable in all of its versions.
 *
 * On encode, fields absent from the version are dropped without a check (every field behaves as
 * Kafka's `ignorable`): a caller whose response changes shape between versions (FindCoordinator
 * v4's batched coordinators, OffsetFetch v8's groups) fills the fields of the version it writes.
 *
 * The message's `flexibleVersions` switch every string, byte string and array of those versions
 * to compact (unsigned varint, length + 1) prefixes and add a tagged-field section to every struct.
 */
import type { Versions } from './versions.ts';

export type { Versions } from './versions.ts';

/** Wire types whose values are JS numbers. */
export type NumberType = 'int8' | 'int16' | 'uint16' | 'int32' | 'varint' | 'float64';
/** Wire types whose values are bigints (64 bits do not fit a JS number). */
export type BigIntType = 'int64' | 'varlong';
/** Wire types that may be null in their `nullableVersions`. */
export type NullableType = 'string' | 'bytes' | 'records';
/** Every wire type that is not an array or a struct. `records` are opaque bytes (record batches). */
export type PrimitiveType = NumberType | BigIntType | NullableType | 'bool' | 'uuid';

/** An array of `items`. */
export interface ArrayType {
  readonly kind: 'array';
  readonly items: FieldType;
}

/** A nested struct (an array's element, or a field of its own). */
export interface StructType {
  readonly kind: 'struct';
  readonly fields: Fields;
}

export type FieldType = PrimitiveType | ArrayType | StructType;

/** One field of a description, as the helpers build it. */
export interface Field {
  readonly type: FieldType;
  readonly versions?: Versions;
  readonly nullableVersions?: Versions;
  readonly tag?: number;
  readonly flexibleVersions?: Versions;
  readonly default?: unknown;
}

/** A struct's fields in wire order (object key order is insertion order for non-numeric keys). */
export interface Fields {
  readonly [name: string]: Field;
}

// ---------------------------------------------------------------------------------------------
// Types of values

/** The value of a field of type `T` as decoded. */
export type ValueOf<T> = T extends NumberType
  ? number
  : T extends BigIntType
    ? bigint
    : T extends 'bool'
      ? boolean
      : T extends 'string' | 'uuid'
        ? string
        : T extends 'bytes' | 'records'
          ? Uint8Array
          : T extends { readonly kind: 'array'; readonly items: infer E }
            ? ValueOf<E>[]
            : T extends { readonly kind: 'struct'; readonly fields: infer F extends Fields }
              ? Message<F>
              : never;

type OrNull<F, V> = F extends { readonly nullableVersions: Versions } ? V | null : V;

/** The decoded value of field `F`, `| null` when the field is nullable in some version. */
export type FieldValue<F> = F extends { readonly type: infer T } ? OrNull<F, ValueOf<T>> : never;

/**
 * A decoded message (or struct) of fields `F`. Every field is present: fields absent from the
 * decoded version hold their defaults, as in Kafka's generated classes.
 */
export type Message<F extends Fields> = { -readonly [K in keyof F]: FieldValue<F[K]> };

type InputOf<T> = T extends { readonly kind: 'array'; readonly items: infer E }
  ? readonly InputOf<E>[]
  : T extends { readonly kind: 'struct'; readonly fields: infer F extends Fields }
    ? MessageInput<F>
    : ValueOf<T>;

type FieldInput<F> = F extends { readonly type: infer T } ? OrNull<F, InputOf<T>> : never;

type OptionalKeys<F extends Fields> = {
  [K in keyof F]: F[K] extends { readonly default: unknown } | { readonly tag: number } ? K : never;
}[keyof F];

type Simplify<T> = { [K in keyof T]: T[K] };

/**
 * What an encoder takes for fields `F`: a field with an explicit default, or a tagged field, may
 * be left out (it takes its default); every other field must be given, also when the version being
 * written lacks it, so that one value serves every version. A decoded {@link Message} is always a
 * valid input.
 */
export type MessageInput<F extends Fields> = Simplify<
  { readonly [K in Exclude<keyof F, OptionalKeys<F>>]: FieldInput<F[K]> } & {
    readonly [K in OptionalKeys<F>]?: FieldInput<F[K]>;
  }
>;

// ---------------------------------------------------------------------------------------------
// Helpers that build fields

/** Options every field takes. */
export interface FieldOptions {
  /** Versions the field is on the wire in. @default all versions of the message */
  readonly versions?: Versions;
  /** Makes the field tagged (KIP-482) with this tag, in all of its versions. */
  readonly tag?: number;
}

interface ScalarOptions<V> extends FieldOptions {
  readonly default?: V;
}

interface NullableOptions<V> extends FieldOptions {
  readonly nullableVersions?: Versions;
  readonly default?: V | null;
}

interface LengthPrefixedOptions<V> extends NullableOptions<V> {
  readonly flexibleVersions?: Versions;
}

interface ArrayOptions extends FieldOptions {
  readonly nullableVersions?: Versions;
  /** Only `null` may be given: a non-null array defaults to empty. */
  readonly default?: null;
}

type NoOptions = Readonly<Record<never, never>>;

/** A field of type `T` with options `O`; the options' literal types drive {@link FieldValue}. */
export type FieldOf<T extends FieldType, O> = { readonly type: T } & O;

// `NoInfer`: without it, a call without options would infer O from the context (the `Field` the
// call is assigned to) instead of taking the default `NoOptions`.
function build<T extends FieldType, O>(type: T, options: O | undefined): FieldOf<T, NoInfer<O>> {
  return { type, ...options } as FieldOf<T, NoInfer<O>>;
}

export const bool = <const O extends ScalarOptions<boolean> = NoOptions>(options?: O) =>
  build('bool', options);
export const int8 = <const O extends ScalarOptions<number> = NoOptions>(options?: O) =>
  build('int8', options);
export const int16 = <const O extends ScalarOptions<number> = NoOptions>(options?: O) =>
  build('int16', options);
export const uint16 = <const O extends ScalarOptions<number> = NoOptions>(options?: O) =>
  build('uint16', options);
export const int32 = <const O extends ScalarOptions<number> = NoOptions>(options?: O) =>
  build('int32', options);
export const int64 = <const O extends ScalarOptions<bigint> = NoOptions>(options?: O) =>
  build('int64', options);
export const varint = <const O extends ScalarOptions<number> = NoOptions>(options?: O) =>
  build('varint', options);
export const varlong = <const O extends ScalarOptions<bigint> = NoOptions>(options?: O) =>
  build('varlong', options);
export const float64 = <const O extends ScalarOptions<number> = NoOptions>(options?: O) =>
  build('float64', options);
/** A UUID, as lowercase `8-4-4-4-12` hex. */
export const uuid = <const O extends ScalarOptions<string> = NoOptions>(options?: O) =>
  build('uuid', options);
/** A UTF-8 string (int16 length, or compact in flexible versions). */
export const string = <const O extends LengthPrefixedOptions<string> = NoOptions>(options?: O) =>
  build('string', options);
/** A byte string (int32 length, or compact in flexible versions). Decoded as a view into the frame. */
export const bytes = <const O extends LengthPrefixedOptions<never> = NoOptions>(options?: O) =>
  build('bytes', options);
/** Record batches, kept opaque: the codec neither parses nor copies them on decode. */
export const records = <const O extends NullableOptions<never> = NoOptions>(options?: O) =>
  build('records', options);

type ItemType<E> = E extends PrimitiveType
  ? E
  : E extends Fields
    ? { readonly kind: 'struct'; readonly fields: E }
    : never;

/** An array of a primitive type (`array('int32')`) or of structs (`array({ name: string(), ... })`). */
export function array<const E extends PrimitiveType | Fields, const O extends ArrayOptions = NoOptions>(
  items: E,
  options?: O,
): FieldOf<{ readonly kind: 'array'; readonly items: ItemType<E> }, NoInfer<O>> {
  const itemType = typeof items === 'string' ? items : { kind: 'struct', fields: items };
  return build(
    { kind: 'array', items: itemType } as { readonly kind: 'array'; readonly items: ItemType<E> },
    options,
  );
}

/** A struct-valued field (Kafka's non-array struct fields, e.g. a tagged `CurrentLeader`). */
export function struct<const F extends Fields, const O extends FieldOptions = NoOptions>(
  fields: F,
  options?: O,
): FieldOf<{ readonly kind: 'struct'; readonly fields: F }, NoInfer<O>> {
  return build({ kind: 'struct', fields } as const, options);
}
