/**
 * Generated requests for every operation of an OpenAPI document (fast-check arbitraries): a valid
 * request built from the operation's parameters and body schema — with the values only the test's
 * world knows (names, sessions, offsets) supplied by hints — then, usually, one mutation that a
 * hostile caller could send: a wrong JSON type, a number out of range or not written canonically,
 * an unknown, `__proto__`-like or duplicate key, a missing field, a string too long or outside its
 * pattern, bad percent-encoding, a wrong method or content type, a truncated, non-UTF-8 or
 * oversized body. Each case says whether the request is certainly invalid, valid, or either.
 * {@link caseArbitrary} picks a mutation at random; {@link sweepCases} takes every family of
 * mutations (a position and a kind of change) of one complete request, whatever the seed.
 *
 * Values that are only known when the request is sent (the latest session of a member, an epoch,
 * a high watermark) are {@link Ref}s, resolved against the world at send time; mutations address
 * concrete positions of the generated value, so they apply after resolution.
 */
import fc from 'fast-check';
import type { WireRequest } from './signed-http.ts';

/** A JSON value. */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/**
 * What the test may expect of a request: `invalid` must be refused (4xx), `valid` is well-formed
 * and meaningful in the world (read-only routes must answer 2xx), `any` may go either way.
 */
export type Label = 'valid' | 'invalid' | 'any';

/** A subset of JSON Schema (draft 2020-12), as zod writes it into the document. */
export interface JsonSchema {
  readonly type?: string | readonly string[];
  readonly enum?: readonly Json[];
  readonly anyOf?: readonly JsonSchema[];
  readonly properties?: Readonly<Record<string, JsonSchema>>;
  readonly required?: readonly string[];
  readonly additionalProperties?: boolean | JsonSchema;
  readonly items?: JsonSchema;
  readonly minItems?: number;
  readonly maxItems?: number;
  readonly minLength?: number;
  readonly maxLength?: number;
  readonly pattern?: string;
  readonly minimum?: number;
  readonly maximum?: number;
}

/** A leaf whose value the world decides when the request is sent. */
export class Ref<W> {
  /** What it stands for, for failure messages. */
  readonly what: string;
  readonly resolve: (world: W) => Json;
  /** `invalid` or `any` when the value is meant to be refused (a tampered session) or may be. */
  readonly label: Label;

  constructor(what: string, resolve: (world: W) => Json, label: Label = 'valid') {
    this.what = what;
    this.resolve = resolve;
    this.label = label;
  }

  toString(): string {
    return `<${this.what}>`;
  }
}

/** A generated value before the world fills in its {@link Ref}s. */
export type Abstract<W> = Json | Ref<W> | Abstract<W>[] | { [key: string]: Abstract<W> };

/** Returned by a hint for an optional property: leave it out. */
export const OMIT: unique symbol = Symbol('omit');

/** Values for positions the schema cannot fill meaningfully (`path.topic`, `body.offsets[].epoch`). */
export type Hints<W> = (at: string) => fc.Arbitrary<Abstract<W> | typeof OMIT> | undefined;

/** One parameter of an operation. */
export interface DocParameter {
  readonly name: string;
  readonly in: 'path' | 'query';
  readonly required: boolean;
  readonly schema: JsonSchema;
}

/** One operation of the document. */
export interface DocOperation {
  readonly operationId: string;
  readonly method: string;
  /** The path template, e.g. `/v1/topics/{topic}`. */
  readonly path: string;
  readonly access: string;
  readonly parameters: readonly DocParameter[];
  readonly body: JsonSchema | undefined;
  readonly successStatus: number;
  /** Whether the success response has a body. */
  readonly successBody: boolean;
}

/** The operations of an OpenAPI document, with every method the document defines per path. */
export function operationsOf(document: Record<string, unknown>): DocOperation[] {
  const out: DocOperation[] = [];
  const paths = document.paths as Record<string, Record<string, Record<string, unknown>>>;
  for (const [path, methods] of Object.entries(paths)) {
    for (const [method, operation] of Object.entries(methods)) {
      const responses = operation.responses as Record<string, { content?: unknown }>;
      const success = Object.keys(responses).find((status) => /^2\d\d$/.test(status));
      if (!success) throw new Error(`${method.toUpperCase()} ${path} documents no success response`);
      const requestBody = operation.requestBody as
        | { content: { 'application/json': { schema: JsonSchema } } }
        | undefined;
      out.push({
        operationId: String(operation.operationId),
        method: method.toUpperCase(),
        path,
        access: String(operation['x-tributary-access']),
        parameters: (operation.parameters as DocParameter[] | undefined) ?? [],
        body: requestBody?.content['application/json'].schema,
        successStatus: Number(success),
        successBody: responses[success]?.content !== undefined,
      });
    }
  }
  return out;
}

// ---------- valid values ----------

function typesOf(schema: JsonSchema): string[] {
  if (schema.type !== undefined) return typeof schema.type === 'string' ? [schema.type] : [...schema.type];
  if (schema.anyOf) return [...new Set(schema.anyOf.flatMap(typesOf))];
  if (schema.enum) {
    return [
      ...new Set(schema.enum.map((v) => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v))),
    ];
  }
  return [];
}

/** Strings matching `pattern`; lookaheads (which fast-check cannot generate) are checked by filtering. */
function matching(
  pattern: RegExp,
  minLength = 0,
  maxLength = Number.POSITIVE_INFINITY,
): fc.Arbitrary<string> {
  let source: fc.Arbitrary<string>;
  try {
    source = fc.stringMatching(pattern);
  } catch {
    source = fc.stringMatching(new RegExp(pattern.source.replace(/\(\?[!=][^)]*\)/g, ''), pattern.flags));
  }
  return source.filter(
    (s) => pattern.test(s) && s.length >= minLength && s.length <= Math.min(maxLength, 40),
  );
}

function integerArb(min = -(2 ** 31), max = 2 ** 31 - 1): fc.Arbitrary<number> {
  // Small values and the edges of the range are where handling differs.
  return fc.oneof(
    { weight: 3, arbitrary: fc.integer({ min, max: Math.min(max, min + 100) }) },
    { weight: 1, arbitrary: fc.constantFrom(min, max) },
    { weight: 1, arbitrary: fc.integer({ min, max }) },
  );
}

/** Context of {@link valueArb}. */
interface ValueContext<W> {
  readonly hints: Hints<W>;
  readonly names: (at: string) => RegExp | undefined;
  /**
   * Every optional property, parameter, array item and map entry the schema alone generates is
   * present (for the sweep); hinted positions are as their hints decide.
   */
  readonly complete: boolean;
}

/** An optional value: left out a third of the time, never when the context wants every position. */
function optional<W>(
  ctx: ValueContext<W>,
  value: fc.Arbitrary<Abstract<W> | typeof OMIT>,
): fc.Arbitrary<Abstract<W> | typeof OMIT> {
  if (ctx.complete) return value;
  return fc.oneof({ weight: 1, arbitrary: fc.constant(OMIT) }, { weight: 2, arbitrary: value });
}

/** A valid value of `schema` at position `at` (`body.records[].key`). */
function valueArb<W>(schema: JsonSchema, at: string, ctx: ValueContext<W>): fc.Arbitrary<Abstract<W>> {
  const hinted = ctx.hints(at);
  if (hinted) return hinted.filter((v): v is Abstract<W> => v !== OMIT);
  return schemaArb(schema, at, ctx);
}

function schemaArb<W>(schema: JsonSchema, at: string, ctx: ValueContext<W>): fc.Arbitrary<Abstract<W>> {
  if (schema.enum) return fc.constantFrom(...schema.enum);
  if (schema.anyOf) return fc.oneof(...schema.anyOf.map((s) => schemaArb<W>(s, at, ctx)));
  const types = typesOf(schema);
  if (types.length > 1) return fc.oneof(...types.map((type) => schemaArb<W>({ ...schema, type }, at, ctx)));
  switch (types[0]) {
    case 'null':
      return fc.constant(null);
    case 'boolean':
      return fc.boolean();
    case 'integer':
      return integerArb(schema.minimum, schema.maximum);
    case 'number':
      return fc.double({
        noNaN: true,
        noDefaultInfinity: true,
        ...(schema.minimum === undefined ? {} : { min: schema.minimum }),
        ...(schema.maximum === undefined ? {} : { max: schema.maximum }),
      });
    case 'string': {
      const legal = schema.pattern === undefined ? ctx.names(at) : new RegExp(schema.pattern);
      if (legal) return matching(legal, schema.minLength, schema.maxLength);
      return fc.string({ minLength: schema.minLength ?? 0, maxLength: Math.min(schema.maxLength ?? 12, 12) });
    }
    case 'array': {
      const min = Math.max(schema.minItems ?? 0, ctx.complete ? 1 : 0);
      return fc.array(valueArb<W>(schema.items ?? {}, `${at}[]`, ctx), {
        minLength: min,
        maxLength: Math.max(min, Math.min(schema.maxItems ?? 3, 3)),
      });
    }
    case 'object':
      return objectArb(schema, at, ctx);
    default:
      return fc.constant({});
  }
}

function objectArb<W>(schema: JsonSchema, at: string, ctx: ValueContext<W>): fc.Arbitrary<Abstract<W>> {
  const properties = Object.entries(schema.properties ?? {});
  if (properties.length === 0 && typeof schema.additionalProperties === 'object') {
    // A map (record headers): a few entries.
    return fc.dictionary(
      fc.string({ minLength: 1, maxLength: 8 }),
      valueArb<W>(schema.additionalProperties, `${at}{}`, ctx),
      { minKeys: ctx.complete ? 1 : 0, maxKeys: 2 },
    );
  }
  const required = new Set(schema.required ?? []);
  const entries = properties.map(([key, property]) => {
    const where = `${at}.${key}`;
    const hinted = ctx.hints(where);
    // A hint decides for itself whether an optional property is left out.
    const value = hinted
      ? hinted
      : required.has(key)
        ? schemaArb<W>(property, where, ctx)
        : optional(ctx, schemaArb<W>(property, where, ctx));
    return value.map((v) => [key, v] as const);
  });
  return fc.tuple(...entries).map((pairs) => {
    const out: { [key: string]: Abstract<W> } = {};
    for (const [key, value] of pairs) if (value !== OMIT) define(out, key, value);
    return out;
  });
}

/** Sets an own property, also one named `__proto__`. */
function define<T>(target: Record<string, T>, key: string, value: T): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

// ---------- mutations ----------

type Segment = string | number;

/** One change to a valid request. */
export type Mutation =
  /** Replace the value at `at` of the body, a path parameter or a query parameter by raw text. */
  | { readonly kind: 'raw'; readonly where: Where; readonly at: readonly Segment[]; readonly text: string }
  | { readonly kind: 'delete'; readonly where: Where; readonly at: readonly Segment[] }
  /** Add key `key` with raw value `text` to the object at `at` (or a query parameter). */
  | {
      readonly kind: 'add';
      readonly where: Where;
      readonly at: readonly Segment[];
      readonly key: string;
      readonly text: string;
    }
  /** Write the key `key` of the object at `at` twice (or a query parameter twice). */
  | {
      readonly kind: 'duplicate';
      readonly where: Where;
      readonly at: readonly Segment[];
      readonly key: string;
    }
  /** Make the array at `at` `count` long by repeating its first item. */
  | { readonly kind: 'repeat'; readonly at: readonly Segment[]; readonly count: number }
  | { readonly kind: 'method'; readonly method: string }
  | { readonly kind: 'contentType'; readonly contentType: string | undefined }
  | { readonly kind: 'bodyBytes'; readonly how: BodyBytes }
  | { readonly kind: 'unsigned' };

type Where = 'body' | 'path' | 'query';

/** Whole-body byte changes. */
export type BodyBytes =
  | { readonly op: 'replace'; readonly text: string }
  | { readonly op: 'truncate'; readonly fraction: number }
  | { readonly op: 'insert'; readonly fraction: number; readonly bytes: readonly number[] }
  | { readonly op: 'prefix'; readonly bytes: readonly number[] }
  | { readonly op: 'suffix'; readonly text: string }
  | { readonly op: 'pad'; readonly bytes: number };

/** A mutation with what the request becomes. */
export interface LabelledMutation {
  readonly mutation: Mutation;
  readonly label: 'invalid' | 'any';
  readonly why: string;
}

const invalid = (why: string, mutation: Mutation): LabelledMutation => ({ mutation, label: 'invalid', why });
const either = (why: string, mutation: Mutation): LabelledMutation => ({ mutation, label: 'any', why });

/** A raw JSON token of each type, to put where the schema wants another type. */
const TOKENS_BY_TYPE: Readonly<Record<string, readonly string[]>> = {
  string: ['"x"', '"1"', '""', '"true"'],
  integer: ['1', '0', '-1'],
  number: ['1.5', '-0.5'],
  boolean: ['true', 'false'],
  null: ['null'],
  array: ['[]', '[1]', '["x"]'],
  object: ['{}', '{"a":1}'],
};

/** Numbers JSON allows that are not written as plain integers but mean one (`1e3` is 1000). */
const NON_CANONICAL_JSON_INTEGERS = ['1e0', '1.0', '-0', '10E-1', '1E+1', '0.0'];
/** Tokens that are not JSON numbers at all. */
const NOT_JSON_NUMBERS = ['0x1', '+1', '01', '.5', '1.', 'NaN', 'Infinity', '-', '', '1_000', '0b1'];
/** Integers as a query parameter or path segment may not be written (only decimal digits are). */
const NON_CANONICAL_DECIMALS = [
  '0x1',
  '1e3',
  '+1',
  '',
  ' 1',
  '1 ',
  '-0',
  '01',
  '1.0',
  '1.',
  '0b1',
  '١',
  '%31%30',
];
/** Keys that name built-in properties of every JS object. */
const PROTOTYPE_KEYS = ['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf', 'prototype'];
/** Path segments that are not valid percent-encoded UTF-8. */
const BAD_PERCENT = [
  '%',
  '%z',
  '%zz',
  '%G0',
  '%FF',
  '%C0%AF',
  '%E2%82',
  '%ED%A0%80',
  '%F8%88%80%80%80',
  '%%41',
];
/** Methods a route may be called with by mistake (HEAD has no body to check). */
const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'];
/** Content types the API must refuse a body with (415). */
const BAD_CONTENT_TYPES: readonly (string | undefined)[] = [
  undefined,
  'text/plain',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=x',
  'application/jsonx',
  'json',
  'application/json; charset=latin1',
  'application/json; charset=utf-16',
  'text/json',
  '',
];
/** Content types that mean JSON in UTF-8 (accepted). */
const GOOD_CONTENT_TYPES = [
  'Application/JSON',
  'application/json; charset=UTF-8',
  'application/json;charset="utf-8"',
];

/** A value's JSON type as the schema words it. */
function typeOfValue<W>(value: Abstract<W>): string {
  if (value instanceof Ref) return 'ref';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value;
}

/** The branch of `schema` that describes `value` (an `anyOf` member of its type). */
function branchFor<W>(schema: JsonSchema, value: Abstract<W>): JsonSchema {
  if (!schema.anyOf) return schema;
  const type = typeOfValue(value);
  return schema.anyOf.find((s) => typesOf(s).includes(type)) ?? schema;
}

/** Strings the schema (or the legality regex of a name) refuses. */
function illegalStrings(schema: JsonSchema, legal: RegExp | undefined, json = false): string[] {
  const candidates = [
    '',
    ' ',
    'a b',
    'a/b',
    'ü',
    '.',
    '..',
    'bad!name',
    '\u0000',
    '\ud800',
    'x'.repeat(250),
    'x'.repeat((schema.maxLength ?? 4096) + 1),
  ];
  if (schema.enum) {
    const first = String(schema.enum[0]);
    candidates.push(first.toUpperCase(), `${first}x`);
  }
  const pattern = schema.pattern === undefined ? legal : new RegExp(schema.pattern);
  return candidates.filter((s) => {
    // A lone surrogate cannot be percent-encoded (only written as a JSON escape).
    if (!s.isWellFormed() && !json) return false;
    if (schema.enum) return !schema.enum.includes(s);
    if (schema.minLength !== undefined && s.length < schema.minLength) return true;
    if (schema.maxLength !== undefined && s.length > schema.maxLength) return true;
    return pattern !== undefined && !pattern.test(s);
  });
}

/** Raw JSON number tokens outside `schema`'s range or not integers. */
function outOfRange(schema: JsonSchema): string[] {
  const out = ['1.5', '1e400', '-1e400', '1e16', '9007199254740993'];
  if (schema.minimum !== undefined) out.push(String(schema.minimum - 1), String(-(2 ** 53)));
  if (schema.maximum !== undefined) out.push(String(schema.maximum + 1));
  return out.filter((token) => {
    const n = Number(token);
    return !Number.isSafeInteger(n) || n < (schema.minimum ?? -Infinity) || n > (schema.maximum ?? Infinity);
  });
}

/** Tokens of the JSON types `schema` does not take. */
function wrongTypes(schema: JsonSchema): string[] {
  const allowed = new Set(typesOf(schema));
  if (allowed.size === 0) return [];
  if (allowed.has('number')) allowed.add('integer');
  return Object.entries(TOKENS_BY_TYPE)
    .filter(([type]) => !allowed.has(type))
    .flatMap(([, tokens]) => tokens);
}

/** A position of a generated body. */
interface BodyNode<W> {
  readonly at: Segment[];
  /** The schema of the value there (the `anyOf` branch it took). */
  readonly schema: JsonSchema;
  /** The schema of the position, all branches. */
  readonly union: JsonSchema;
  readonly value: Abstract<W>;
  /** The legality of a name the schema leaves open. */
  readonly legal: RegExp | undefined;
}

/** Every position of a generated body with its schema, for mutations to aim at. */
function bodyNodes<W>(
  schema: JsonSchema,
  value: Abstract<W>,
  at: Segment[],
  names: (at: string) => RegExp | undefined,
  out: BodyNode<W>[],
  where: string,
): void {
  const branch = branchFor(schema, value);
  out.push({ at, schema: branch, union: schema, value, legal: names(where) });
  if (Array.isArray(value)) {
    for (const [i, item] of value.entries()) {
      bodyNodes(branch.items ?? {}, item, [...at, i], names, out, `${where}[]`);
    }
  } else if (value !== null && typeof value === 'object' && !(value instanceof Ref)) {
    for (const key of Object.keys(value)) {
      const property =
        branch.properties?.[key] ??
        (typeof branch.additionalProperties === 'object' ? branch.additionalProperties : {});
      const map = branch.properties?.[key] === undefined;
      bodyNodes(property, value[key]!, [...at, key], names, out, map ? `${where}{}` : `${where}.${key}`);
    }
  }
}

/** The mutations that can be aimed at one body position. */
function bodyMutations<W>(node: BodyNode<W>): LabelledMutation[] {
  const { at, schema, union, value, legal } = node;
  const where = at.length === 0 ? 'the body' : `body.${at.join('.')}`;
  const out: LabelledMutation[] = [];
  const raw = (text: string): Mutation => ({ kind: 'raw', where: 'body', at, text });
  if (at.length > 0) {
    // Wrong for every branch of a union, not only the one the value took.
    for (const token of wrongTypes(union))
      out.push(invalid(`${where} = ${token} (wrong JSON type)`, raw(token)));
  }
  const types = typesOf(schema);
  if (types.includes('integer') && !types.includes('number') && at.length > 0) {
    for (const token of outOfRange(schema))
      out.push(invalid(`${where} = ${token} (out of range)`, raw(token)));
    for (const token of NOT_JSON_NUMBERS)
      out.push(invalid(`${where} = ${token} (not a JSON number)`, raw(token)));
    for (const token of NON_CANONICAL_JSON_INTEGERS)
      out.push(either(`${where} = ${token} (a JSON number, not written as an integer)`, raw(token)));
  }
  if (types.includes('string') && at.length > 0) {
    if (schema.enum && typeof schema.enum[0] === 'string') {
      // Topic configs are trimmed before they are checked (as Kafka does), so this may be taken.
      const padded = JSON.stringify(` ${schema.enum[0]}`);
      out.push(either(`${where} = ${padded} (an enum value with a space)`, raw(padded)));
    }
    for (const s of illegalStrings(schema, legal, true)) {
      out.push(
        invalid(`${where} = ${JSON.stringify(s).slice(0, 40)} (not a legal value)`, raw(JSON.stringify(s))),
      );
    }
  }
  if (Array.isArray(value)) {
    if (schema.maxItems !== undefined && value.length > 0) {
      out.push(
        invalid(`${where} has ${schema.maxItems + 1} items (max ${schema.maxItems})`, {
          kind: 'repeat',
          at,
          count: schema.maxItems + 1,
        }),
      );
    }
    if ((schema.minItems ?? 0) > 0) out.push(invalid(`${where} is empty`, raw('[]')));
  }
  if (value !== null && typeof value === 'object' && !Array.isArray(value) && !(value instanceof Ref)) {
    const keys = Object.keys(value);
    const strict = schema.properties !== undefined || schema.additionalProperties === false;
    const map = typeof schema.additionalProperties === 'object' ? schema.additionalProperties : undefined;
    if (strict) {
      for (const key of ['extra', '', 'Topic', ...PROTOTYPE_KEYS]) {
        if (schema.properties?.[key] !== undefined) continue;
        for (const text of ['1', 'null', '{}']) {
          out.push(
            invalid(`${where} gets an unknown key ${JSON.stringify(key)}: ${text}`, {
              kind: 'add',
              where: 'body',
              at,
              key,
              text,
            }),
          );
        }
      }
      for (const key of schema.required ?? []) {
        if (keys.includes(key))
          out.push(
            invalid(`${where} lacks required ${key}`, { kind: 'delete', where: 'body', at: [...at, key] }),
          );
      }
    } else if (map) {
      for (const text of wrongTypes(map)) {
        out.push(
          invalid(`${where} gets an entry of the wrong type: ${text}`, {
            kind: 'add',
            where: 'body',
            at,
            key: 'k',
            text,
          }),
        );
      }
      for (const key of PROTOTYPE_KEYS) {
        out.push(
          either(`${where} gets an entry ${JSON.stringify(key)}`, {
            kind: 'add',
            where: 'body',
            at,
            key,
            text: '"x"',
          }),
        );
      }
    }
    for (const key of keys) {
      out.push(
        invalid(`${where} has the key ${JSON.stringify(key)} twice`, {
          kind: 'duplicate',
          where: 'body',
          at,
          key,
        }),
      );
    }
  }
  return out;
}

/** The mutations of one path parameter. */
function pathMutations(parameter: DocParameter, legal: RegExp | undefined): LabelledMutation[] {
  const at = [parameter.name];
  const where = `path parameter ${parameter.name}`;
  const raw = (text: string): Mutation => ({ kind: 'raw', where: 'path', at, text });
  const out: LabelledMutation[] = [];
  for (const text of BAD_PERCENT) out.push(invalid(`${where} = ${text} (bad percent-encoding)`, raw(text)));
  out.push(
    invalid(`${where} is 20000 characters (headers over the server's limit)`, raw('a'.repeat(20_000))),
  );
  for (const text of ['.', '..', '%2e', '%2E%2e', '']) {
    out.push(either(`${where} = ${JSON.stringify(text)} (dot or empty segment: another path)`, raw(text)));
  }
  const schema = parameter.schema;
  if (typesOf(schema).includes('integer')) {
    for (const text of NON_CANONICAL_DECIMALS) {
      if (text === '') continue;
      out.push(
        invalid(
          `${where} = ${JSON.stringify(text)} (not canonical decimal digits)`,
          raw(encodeSegment(text)),
        ),
      );
    }
    for (const text of ['-1', '1000001', '99999999999999999999', '9007199254740993']) {
      if (Number(text) >= (schema.minimum ?? -Infinity) && Number(text) <= (schema.maximum ?? Infinity))
        continue;
      out.push(invalid(`${where} = ${text} (out of range)`, raw(text)));
    }
    for (const text of ['2', '7', '1000000'])
      out.push(either(`${where} = ${text} (may not exist)`, raw(text)));
  } else {
    for (const text of illegalStrings(schema, legal)) {
      // '.' and '..' are dot segments in a path (handled above); the rest are names the route refuses.
      if (text === '.' || text === '..' || text === '') continue;
      out.push(
        invalid(
          `${where} = ${JSON.stringify(text).slice(0, 40)} (not a legal name)`,
          raw(encodeSegment(text)),
        ),
      );
    }
    for (const text of ['a%2Fb', 'x%00', '%20']) {
      out.push(invalid(`${where} = ${text} (encodes an illegal character)`, raw(text)));
    }
  }
  return out;
}

/** The mutations of an operation's query. */
function queryMutations(parameters: readonly DocParameter[]): LabelledMutation[] {
  const out: LabelledMutation[] = [];
  const query = parameters.filter((p) => p.in === 'query');
  const add = (key: string, text: string): Mutation => ({ kind: 'add', where: 'query', at: [], key, text });
  const declared = new Set(query.map((p) => p.name));
  for (const key of ['extra', 'Offset', 'offset[]', ...PROTOTYPE_KEYS]) {
    if (declared.has(key)) continue;
    out.push(invalid(`query gets an unknown parameter ${key}`, add(key, '1')));
  }
  for (const parameter of query) {
    const at = [parameter.name];
    const raw = (text: string): Mutation => ({ kind: 'raw', where: 'query', at, text });
    const where = `query ${parameter.name}`;
    if (parameter.required) out.push(invalid(`${where} missing`, { kind: 'delete', where: 'query', at }));
    out.push(
      invalid(`${where} given twice`, { kind: 'duplicate', where: 'query', at: [], key: parameter.name }),
    );
    out.push(invalid(`${where} = %zz (bad percent-encoding, kept literally)`, raw('%zz')));
    const schema = parameter.schema;
    if (typesOf(schema).includes('integer')) {
      for (const text of NON_CANONICAL_DECIMALS) {
        out.push(
          invalid(
            `${where} = ${JSON.stringify(text)} (not canonical decimal digits)`,
            raw(encodeSegment(text)),
          ),
        );
      }
      for (const text of [
        '-1',
        String((schema.maximum ?? 0) + 1),
        '99999999999999999999',
        '9007199254740993',
      ]) {
        if (Number(text) <= (schema.maximum ?? Infinity) && Number(text) >= (schema.minimum ?? -Infinity))
          continue;
        out.push(invalid(`${where} = ${text} (out of range)`, raw(text)));
      }
    }
    for (const text of illegalStrings(schema, undefined)) {
      if (typesOf(schema).includes('integer') || (!schema.enum && !schema.pattern)) continue;
      out.push(
        invalid(
          `${where} = ${JSON.stringify(text).slice(0, 40)} (not a legal value)`,
          raw(encodeSegment(text)),
        ),
      );
    }
  }
  return out;
}

/** Changes to the whole request. */
function requestMutations(operation: DocOperation, methodsOfPath: readonly string[]): LabelledMutation[] {
  const out: LabelledMutation[] = [];
  for (const method of METHODS) {
    if (methodsOfPath.includes(method)) continue;
    out.push(
      invalid(`method ${method} (the path has ${methodsOfPath.join(', ')})`, { kind: 'method', method }),
    );
  }
  out.push(invalid('unsigned', { kind: 'unsigned' }));
  const bytes = (how: BodyBytes): Mutation => ({ kind: 'bodyBytes', how });
  if (!operation.body) {
    out.push(invalid('a body on a route that takes none', bytes({ op: 'replace', text: '{}' })));
    out.push(invalid('a non-JSON body on a route that takes none', bytes({ op: 'replace', text: 'x' })));
    return out;
  }
  for (const contentType of BAD_CONTENT_TYPES) {
    out.push(
      invalid(`content-type ${JSON.stringify(contentType ?? null)}`, { kind: 'contentType', contentType }),
    );
  }
  for (const contentType of GOOD_CONTENT_TYPES) {
    out.push(either(`content-type ${contentType} (means JSON)`, { kind: 'contentType', contentType }));
  }
  for (const text of ['', '[]', '"x"', '1', 'null', 'true', '{}{}', '{"a":1', '[{}]', '{,}', "{'a':1}"]) {
    out.push(invalid(`the body is ${JSON.stringify(text)}`, bytes({ op: 'replace', text })));
  }
  out.push(
    invalid(
      'a body nested 100000 arrays deep',
      bytes({ op: 'replace', text: `{"x":${'['.repeat(100_000)}${']'.repeat(100_000)}}` }),
    ),
  );
  for (const fraction of [0.1, 0.5, 0.9, 0.999]) {
    out.push(invalid(`the body truncated at ${fraction}`, bytes({ op: 'truncate', fraction })));
  }
  for (const sequence of [
    [0xff],
    [0xc0, 0xaf],
    [0xed, 0xa0, 0x80],
    [0xe2, 0x82],
    [0x80],
    [0xf8, 0x88, 0x80, 0x80, 0x80],
  ]) {
    for (const fraction of [0.2, 0.6]) {
      out.push(
        invalid(
          `bytes ${sequence.map((b) => b.toString(16)).join(' ')} (not UTF-8) in the body`,
          bytes({ op: 'insert', fraction, bytes: sequence }),
        ),
      );
    }
  }
  out.push(invalid('a byte order mark before the body', bytes({ op: 'prefix', bytes: [0xef, 0xbb, 0xbf] })));
  out.push(invalid('trailing garbage after the body', bytes({ op: 'suffix', text: 'x' })));
  out.push(invalid('a second object after the body', bytes({ op: 'suffix', text: '{}' })));
  out.push(either('whitespace after the body', bytes({ op: 'suffix', text: ' \n\t' })));
  out.push(
    invalid('a body over 6 MB (Lambda payload limit)', bytes({ op: 'pad', bytes: 6 * 1024 * 1024 + 1 })),
  );
  return out;
}

/** Percent-encodes a path segment or query value the way a client would. */
function encodeSegment(text: string): string {
  return encodeURIComponent(text);
}

// ---------- cases ----------

/** What a case is, and how it becomes a request once the world is known. */
export interface GeneratedCase<W> {
  readonly operation: DocOperation;
  readonly mutation: LabelledMutation | undefined;
  /** The request for the world as it is now, and what it should be. */
  build(world: W): { readonly request: WireRequest; readonly label: Label };
  toString(): string;
}

/** Options of {@link caseArbitrary}. */
export interface CaseOptions<W> {
  readonly hints: Hints<W>;
  /** Legality of strings the schema leaves open but the API checks (group and topic names), by position. */
  readonly names: (at: string) => RegExp | undefined;
  /** Every method the document defines for the operation's path. */
  readonly methodsOfPath: readonly string[];
  /**
   * Only certainly invalid requests: for operations whose valid requests would change the world
   * beyond what the test can model (deleting its topics).
   */
  readonly invalidOnly: boolean;
}

/** The abstract request: parameters and body before the world and the mutation are applied. */
interface AbstractRequest<W> {
  readonly path: Readonly<Record<string, Abstract<W>>>;
  readonly query: Readonly<Record<string, Abstract<W>>>;
  readonly body: Abstract<W> | undefined;
}

/** Generated requests of `operation`. */
export function caseArbitrary<W>(
  operation: DocOperation,
  options: CaseOptions<W>,
): fc.Arbitrary<GeneratedCase<W>> {
  return baseArbitrary(operation, options, false).chain((request) => {
    const families = familiesOf(operation, request, options);
    // One family (a position and a kind of change) is picked first, so a position with many
    // possible tokens is not chosen more often than one with few.
    const mutated = fc.constantFrom(...families).chain((family) => fc.constantFrom(...family));
    const choice: fc.Arbitrary<LabelledMutation | undefined> = options.invalidOnly
      ? mutated
      : fc.oneof({ weight: 1, arbitrary: fc.constant(undefined) }, { weight: 3, arbitrary: mutated });
    return choice.map((mutation) => makeCase(operation, request, mutation));
  });
}

/**
 * One request of `operation` with every optional position present, then `perFamily` cases per
 * mutation family of it (distinct members picked with `seed`), plus the request unchanged unless
 * only invalid requests may be sent: every position and kind of change, whatever the seed.
 */
export function sweepCases<W>(
  operation: DocOperation,
  options: CaseOptions<W>,
  seed: number,
  perFamily = 2,
): GeneratedCase<W>[] {
  const [request] = fc.sample(baseArbitrary(operation, options, true), { seed, numRuns: 1 });
  const families = familiesOf(operation, request!, options);
  const picks = fc.sample(fc.nat(), { seed: seed + 1, numRuns: families.length });
  const cases = families.flatMap((family, i) =>
    Array.from({ length: Math.min(perFamily, family.length) }, (_, k) =>
      makeCase(operation, request!, family[(picks[i]! + k) % family.length]),
    ),
  );
  return options.invalidOnly ? cases : [makeCase(operation, request!, undefined), ...cases];
}

/** One request of `operation` with every optional position present, unchanged. */
export function completeCase<W>(
  operation: DocOperation,
  options: CaseOptions<W>,
  seed: number,
): GeneratedCase<W> {
  const [request] = fc.sample(baseArbitrary(operation, options, true), { seed, numRuns: 1 });
  return makeCase(operation, request!, undefined);
}

function baseArbitrary<W>(
  operation: DocOperation,
  options: CaseOptions<W>,
  complete: boolean,
): fc.Arbitrary<AbstractRequest<W>> {
  const ctx: ValueContext<W> = { hints: options.hints, names: options.names, complete };
  const param = (p: DocParameter) => {
    const at = `${p.in}.${p.name}`;
    const hinted = options.hints(at);
    const value = hinted
      ? hinted
      : p.required
        ? schemaArb<W>(p.schema, at, ctx)
        : optional(ctx, schemaArb<W>(p.schema, at, ctx));
    return value.map((v) => [p.name, v] as const);
  };
  const collect = (pairs: readonly (readonly [string, Abstract<W> | typeof OMIT])[]) => {
    const out: Record<string, Abstract<W>> = {};
    for (const [name, value] of pairs) if (value !== OMIT) out[name] = value;
    return out;
  };
  return fc.record({
    path: fc.tuple(...operation.parameters.filter((p) => p.in === 'path').map(param)).map(collect),
    query: fc.tuple(...operation.parameters.filter((p) => p.in === 'query').map(param)).map(collect),
    body: operation.body ? valueArb<W>(operation.body, 'body', ctx) : fc.constant(undefined),
  });
}

/** The mutations of a request, grouped by family, only invalid ones when that is all that may be sent. */
function familiesOf<W>(
  operation: DocOperation,
  request: AbstractRequest<W>,
  options: CaseOptions<W>,
): LabelledMutation[][] {
  const families = new Map<string, LabelledMutation[]>();
  for (const m of mutationsOf(operation, request, options)) {
    if (options.invalidOnly && m.label !== 'invalid') continue;
    const family = familyOf(m);
    families.set(family, [...(families.get(family) ?? []), m]);
  }
  return [...families.values()];
}

/** The family of a mutation: the position it changes, how, and why (its description's closing reason). */
function familyOf({ mutation, why }: LabelledMutation): string {
  const reason = /\(([^()]*)\)$/.exec(why)?.[1] ?? '';
  return `${positionOf(mutation)} ${reason}`;
}

function positionOf(mutation: Mutation): string {
  switch (mutation.kind) {
    case 'raw':
    case 'delete':
    case 'add':
    case 'duplicate':
      return `${mutation.kind} ${mutation.where} ${mutation.at.join('.')}`;
    case 'repeat':
      return `repeat ${mutation.at.join('.')}`;
    default:
      return mutation.kind;
  }
}

function mutationsOf<W>(
  operation: DocOperation,
  request: AbstractRequest<W>,
  options: CaseOptions<W>,
): LabelledMutation[] {
  const out = [
    ...requestMutations(operation, options.methodsOfPath),
    ...queryMutations(operation.parameters),
  ];
  for (const parameter of operation.parameters) {
    if (parameter.in === 'path')
      out.push(...pathMutations(parameter, options.names(`path.${parameter.name}`)));
  }
  if (operation.body && request.body !== undefined) {
    const nodes: BodyNode<W>[] = [];
    bodyNodes(operation.body, request.body, [], options.names, nodes, 'body');
    for (const node of nodes) out.push(...bodyMutations(node));
  }
  return out;
}

function makeCase<W>(
  operation: DocOperation,
  request: AbstractRequest<W>,
  mutation: LabelledMutation | undefined,
): GeneratedCase<W> {
  const describe = () =>
    `${operation.operationId} ${JSON.stringify(request, (_key, value) => (value instanceof Ref ? String(value) : value))}` +
    (mutation ? ` + ${mutation.why}` : ' (unchanged)');
  return {
    operation,
    mutation,
    toString: describe,
    build(world: W) {
      const labels: Label[] = [];
      const resolve = (value: Abstract<W>): Json => {
        if (value instanceof Ref) {
          labels.push(value.label);
          return value.resolve(world);
        }
        if (Array.isArray(value)) return value.map(resolve);
        if (value !== null && typeof value === 'object') {
          const out: { [key: string]: Json } = {};
          for (const key of Object.keys(value)) define(out, key, resolve(value[key]!));
          return out;
        }
        return value;
      };
      const path = Object.fromEntries(Object.entries(request.path).map(([k, v]) => [k, resolve(v)]));
      const query = Object.fromEntries(Object.entries(request.query).map(([k, v]) => [k, resolve(v)]));
      const body = request.body === undefined ? undefined : resolve(request.body);
      const m = mutation?.mutation;
      const wire = toWire(operation, path, query, body, m);
      // A mutation decides (an invalid one makes the request invalid, one that may be valid leaves
      // it open); otherwise a value meant to be refused (a tampered session) does, then one that may be.
      const label: Label = mutation
        ? mutation.label === 'any'
          ? 'any'
          : 'invalid'
        : labels.includes('invalid')
          ? 'invalid'
          : labels.includes('any')
            ? 'any'
            : 'valid';
      return { request: wire, label };
    },
  };
}

function same(a: readonly Segment[], b: readonly Segment[]): boolean {
  return a.length === b.length && a.every((s, i) => s === b[i]);
}

/** JSON text of `value` with the body mutation applied at its position (raw text goes in as is). */
export function serialize(value: Json, mutation: Mutation | undefined, at: Segment[] = []): string {
  if (mutation?.kind === 'raw' && mutation.where === 'body' && same(mutation.at, at)) return mutation.text;
  if (Array.isArray(value)) {
    let items = value.map((item, i) => serialize(item, mutation, [...at, i]));
    if (mutation?.kind === 'repeat' && same(mutation.at, at) && items.length > 0) {
      items = Array.from({ length: mutation.count }, () => items[0]!);
    }
    return `[${items.join(',')}]`;
  }
  if (value !== null && typeof value === 'object') {
    const parts: string[] = [];
    for (const key of Object.keys(value)) {
      const child = [...at, key];
      if (mutation?.kind === 'delete' && mutation.where === 'body' && same(mutation.at, child)) continue;
      const entry = `${JSON.stringify(key)}:${serialize(value[key]!, mutation, child)}`;
      parts.push(entry);
      if (
        mutation?.kind === 'duplicate' &&
        mutation.where === 'body' &&
        same(mutation.at, at) &&
        mutation.key === key
      ) {
        parts.push(entry);
      }
    }
    if (mutation?.kind === 'add' && mutation.where === 'body' && same(mutation.at, at)) {
      parts.push(`${JSON.stringify(mutation.key)}:${mutation.text}`);
    }
    return `{${parts.join(',')}}`;
  }
  return JSON.stringify(value);
}

function text(value: Json): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}

function toWire(
  operation: DocOperation,
  path: Record<string, Json>,
  query: Record<string, Json>,
  body: Json | undefined,
  mutation: Mutation | undefined,
): WireRequest {
  const wirePath = operation.path.replace(/\{(\w+)\}/g, (_match, name: string) => {
    if (mutation?.kind === 'raw' && mutation.where === 'path' && mutation.at[0] === name)
      return mutation.text;
    return encodeSegment(text(path[name] ?? ''));
  });
  const pairs: string[] = [];
  for (const [name, value] of Object.entries(query)) {
    if (mutation?.kind === 'delete' && mutation.where === 'query' && mutation.at[0] === name) continue;
    const written =
      mutation?.kind === 'raw' && mutation.where === 'query' && mutation.at[0] === name
        ? mutation.text
        : encodeSegment(text(value));
    pairs.push(`${encodeSegment(name)}=${written}`);
    if (mutation?.kind === 'duplicate' && mutation.where === 'query' && mutation.key === name) {
      pairs.push(`${encodeSegment(name)}=${written}`);
    }
  }
  if (mutation?.kind === 'add' && mutation.where === 'query') {
    pairs.push(`${encodeSegment(mutation.key)}=${encodeSegment(mutation.text)}`);
  }
  // A mutation of an optional parameter the valid request left out adds it.
  const absent = (name: Segment | undefined) => typeof name === 'string' && !Object.hasOwn(query, name);
  if (mutation?.kind === 'raw' && mutation.where === 'query' && absent(mutation.at[0])) {
    pairs.push(`${encodeSegment(String(mutation.at[0]))}=${mutation.text}`);
  }
  if (mutation?.kind === 'duplicate' && mutation.where === 'query' && absent(mutation.key)) {
    pairs.push(`${encodeSegment(mutation.key)}=1`, `${encodeSegment(mutation.key)}=1`);
  }
  let bytes: Buffer | undefined =
    body === undefined ? undefined : Buffer.from(serialize(body, mutation), 'utf8');
  if (mutation?.kind === 'bodyBytes') bytes = applyBytes(bytes ?? Buffer.alloc(0), mutation.how);
  return {
    method: mutation?.kind === 'method' ? mutation.method : operation.method,
    path: wirePath,
    query: pairs.join('&'),
    contentType:
      mutation?.kind === 'contentType'
        ? mutation.contentType
        : bytes !== undefined
          ? 'application/json'
          : undefined,
    body: bytes,
    signed: mutation?.kind !== 'unsigned',
  };
}

function applyBytes(body: Buffer, how: BodyBytes): Buffer {
  switch (how.op) {
    case 'replace':
      return Buffer.from(how.text, 'utf8');
    case 'truncate':
      return body.subarray(0, Math.min(body.length - 1, Math.floor(body.length * how.fraction)));
    case 'insert': {
      const at = Math.floor(body.length * how.fraction);
      return Buffer.concat([body.subarray(0, at), Buffer.from(how.bytes), body.subarray(at)]);
    }
    case 'prefix':
      return Buffer.concat([Buffer.from(how.bytes), body]);
    case 'suffix':
      return Buffer.concat([body, Buffer.from(how.text, 'utf8')]);
    case 'pad': {
      // Valid JSON all the same: the size alone must be refused.
      const padding = Buffer.alloc(Math.max(0, how.bytes - body.length), 0x20);
      return Buffer.concat([body, padding]);
    }
  }
}
