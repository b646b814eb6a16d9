/**
 * Lambda event filtering for Kafka triggers: EventBridge pattern syntax, applied to the record
 * **value** only (`shared/reference/lambda-kafka-esm.md` §5). No maintained JavaScript matcher for
 * EventBridge patterns exists, so this is one, modelled on AWS's own engine (`aws/event-ruler`,
 * `JsonRuleCompiler`): the same operators, the same refusals and, where the docs are silent, the
 * same behaviour.
 *
 * A pattern is parsed once into a matcher. Semantics:
 * - fields of a pattern object are ANDed; the values in a leaf array are ORed; `$or` ORs objects;
 * - an array in the data matches when one element matches; objects inside arrays are matched
 *   element by element, so two fields never match in different elements of one array (Event
 *   Ruler's `rulesForJSONEvent`);
 * - matchers other than `exists: false` and `anything-but` need a leaf value (string, number,
 *   boolean or null) at the path; `exists: false` matches when there is none (an object is not a
 *   leaf); `anything-but` matches any leaf that is not excluded, whatever its type;
 * - exact numbers compare numerically (Event Ruler compiles them to numeric equality as well as
 *   text; JSON.parse keeps no number text, so 300, 300.0 and 3.0e2 are equal here);
 * - filters (up to 5) are ORed; no filters means every record is delivered.
 *
 * Kafka specifics (reference §5, decision A7): the value is decoded as UTF-8; JSON (an object or
 * an array) is matched by object patterns (`{"value": {"field": [...]}}`), anything else as one
 * plain string by leaf patterns (`{"value": [...]}`). A format mismatch or a value that is not
 * UTF-8 does not match. A tombstone (null value) has no value field: only a leaf pattern such as
 * `{"value": [{"exists": false}]}` can match it.
 */
import { InvalidTriggerError } from '../errors.ts';

/** Longest pattern text Lambda accepts (`Filter.Pattern`, 4,096 characters). */
export const MAX_PATTERN_LENGTH = 4096;

/** A JSON value as `JSON.parse` returns it. */
export type JsonValue =
  | null
  | boolean
  | number
  | string
  | readonly JsonValue[]
  | { readonly [key: string]: JsonValue };

/** A compiled EventBridge pattern, matched against a whole JSON document. */
export interface EventPatternMatcher {
  /** True when `event` matches the pattern. */
  matches(event: JsonValue): boolean;
}

/** A compiled Kafka record filter (one pattern, on the record value). */
export interface RecordFilter {
  /** True when the record with this value (`null` for a tombstone) matches. */
  matches(value: Uint8Array | null): boolean;
}

/** Field name that introduces an OR of objects. */
const OR = '$or';

/** Field names Event Ruler refuses inside `$or` objects (its operators and reserved words). */
const RESERVED_IN_OR = new Set([
  'exactly',
  'equals-ignore-case',
  'prefix',
  'suffix',
  'anything-but',
  'exists',
  'wildcard',
  'numeric',
  'cidr',
  '=',
  '<',
  '<=',
  '>',
  '>=',
  'regex',
  'not-wildcard',
  'not-equals-ignore-case',
  'date-after',
  'date-on-or-after',
  'date-before',
  'date-on-or-before',
  'in-date-range',
  'ip-address-in-range',
  'ip-address-not-in-range',
]);

type Leaf = null | boolean | number | string;

/** One value of a leaf array: a predicate over one leaf, or `exists`. */
type ValueMatcher =
  | { readonly kind: 'exists'; readonly exists: boolean }
  | { readonly kind: 'test'; readonly test: (leaf: Leaf) => boolean };

interface LeafNode {
  readonly type: 'leaf';
  readonly matchers: readonly ValueMatcher[];
}

interface ObjectNode {
  readonly type: 'object';
  readonly fields: readonly (readonly [string, PatternNode])[];
  /** Each group is one `$or`: one of its alternatives must match. */
  readonly ors: readonly (readonly ObjectNode[])[];
}

type PatternNode = LeafNode | ObjectNode;

/** Compiles an EventBridge pattern for matching whole JSON documents (any field names). */
export function compileEventPattern(pattern: unknown, setting = 'pattern'): EventPatternMatcher {
  const root = parseRoot(pattern, setting);
  return { matches: (event) => matchObject(root, event) };
}

/**
 * Compiles one Kafka trigger filter. Only the `value` field may be addressed (Kafka ESMs filter on
 * nothing else); anything else is refused rather than silently never matching.
 */
export function compileFilterPattern(pattern: unknown, setting = 'pattern'): RecordFilter {
  const root = parseRoot(pattern, setting);
  checkKafkaRoot(root, setting);
  return {
    matches: (value) => matchKafkaRoot(root, decodeValue(value)),
  };
}

/**
 * Compiles a trigger's filter criteria: a record is delivered when it matches any filter, and
 * every record is delivered when there are none.
 */
export function compileFilterCriteria(filters: readonly { readonly pattern: string }[]): RecordFilter {
  const compiled = filters.map((filter, i) =>
    compileFilterPattern(filter.pattern, `filterCriteria.filters[${i}].pattern`),
  );
  if (compiled.length === 0) return { matches: () => true };
  return { matches: (value) => compiled.some((filter) => filter.matches(value)) };
}

// ---------------------------------------------------------------------------------------------
// Kafka record view

type DecodedValue =
  | { readonly kind: 'json'; readonly data: JsonValue }
  | { readonly kind: 'string'; readonly text: string }
  | { readonly kind: 'absent' }
  | { readonly kind: 'invalid' };

const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

function decodeValue(value: Uint8Array | null): DecodedValue {
  if (value === null) return { kind: 'absent' };
  let text: string;
  try {
    text = UTF8.decode(value);
  } catch {
    return { kind: 'invalid' };
  }
  const first = text.trimStart()[0];
  // Only objects and arrays count as JSON data: `42` or `"x"` are plain strings whose text happens to parse.
  if (first === '{' || first === '[') {
    try {
      return { kind: 'json', data: JSON.parse(text) as JsonValue };
    } catch {
      // Not JSON after all: a plain string that starts with a bracket.
    }
  }
  return { kind: 'string', text };
}

function checkKafkaRoot(root: ObjectNode, setting: string): void {
  for (const [key] of root.fields) {
    if (key !== 'value') {
      throw new InvalidTriggerError(
        setting,
        key,
        `Kafka triggers filter on the record value only: the top-level field must be "value", ` +
          `as in {"value": {"field": [...]}} (JSON values) or {"value": [...]} (plain strings)`,
      );
    }
  }
  for (const group of root.ors) for (const alternative of group) checkKafkaRoot(alternative, setting);
}

function matchKafkaRoot(root: ObjectNode, value: DecodedValue): boolean {
  for (const [, node] of root.fields) {
    if (!matchKafkaValue(node, value)) return false;
  }
  return root.ors.every((group) => group.some((alternative) => matchKafkaRoot(alternative, value)));
}

function matchKafkaValue(node: PatternNode, value: DecodedValue): boolean {
  if (node.type === 'object') return value.kind === 'json' && matchObject(node, value.data);
  if (value.kind === 'string') return matchLeaf(node, value.text);
  if (value.kind === 'absent') return matchLeaf(node, undefined);
  return false;
}

// ---------------------------------------------------------------------------------------------
// Matching

function isObject(value: unknown): value is { readonly [key: string]: JsonValue } {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function matchObject(node: ObjectNode, value: JsonValue | undefined): boolean {
  if (Array.isArray(value)) {
    // An empty array holds no fields: match as if absent, so `exists: false` holds.
    if (value.length === 0) return matchObject(node, undefined);
    return value.some((element: JsonValue) => matchObject(node, element));
  }
  for (const [key, child] of node.fields) {
    const field = isObject(value) && Object.hasOwn(value, key) ? value[key] : undefined;
    if (!(child.type === 'leaf' ? matchLeaf(child, field) : matchObject(child, field))) return false;
  }
  return node.ors.every((group) => group.some((alternative) => matchObject(alternative, value)));
}

function leavesOf(value: JsonValue | undefined, out: Leaf[]): Leaf[] {
  if (value === undefined) return out;
  if (Array.isArray(value)) {
    for (const element of value as readonly JsonValue[]) leavesOf(element, out);
  } else if (!isObject(value)) {
    out.push(value as Leaf);
  }
  return out;
}

function matchLeaf(node: LeafNode, value: JsonValue | undefined): boolean {
  const leaves = leavesOf(value, []);
  return node.matchers.some((matcher) =>
    matcher.kind === 'exists' ? matcher.exists === leaves.length > 0 : leaves.some(matcher.test),
  );
}

// ---------------------------------------------------------------------------------------------
// Parsing (the validation rules are Event Ruler's)

/** A pattern rule broken at `path` (a dotted path into the pattern). */
class Problem {
  readonly path: string;
  readonly message: string;

  constructor(path: string, message: string) {
    this.path = path;
    this.message = message;
  }
}

function parseRoot(pattern: unknown, setting: string): ObjectNode {
  if (typeof pattern !== 'string') {
    throw new InvalidTriggerError(setting, pattern, 'allowed: the JSON text of an EventBridge pattern');
  }
  if (pattern.length > MAX_PATTERN_LENGTH) {
    throw new InvalidTriggerError(
      setting,
      pattern,
      `the pattern is ${pattern.length} characters long; at most ${MAX_PATTERN_LENGTH} are allowed`,
    );
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(pattern);
  } catch (error) {
    throw new InvalidTriggerError(
      setting,
      pattern,
      `the pattern is not valid JSON (${(error as Error).message})`,
      {
        cause: error,
      },
    );
  }
  try {
    if (!isObject(parsed)) throw new Problem('', 'Filter is not an object');
    return parseObject(parsed, '', false);
  } catch (error) {
    if (!(error instanceof Problem)) throw error;
    const where = error.path === '' ? '' : ` at ${error.path}`;
    throw new InvalidTriggerError(setting, pattern, `invalid EventBridge pattern${where}: ${error.message}`);
  }
}

function join(path: string, key: string): string {
  return path === '' ? key : `${path}.${key}`;
}

function parseObject(
  object: { readonly [key: string]: unknown },
  path: string,
  insideOr: boolean,
): ObjectNode {
  const keys = Object.keys(object);
  if (keys.length === 0) throw new Problem(path, 'Empty objects are not allowed');
  const fields: [string, PatternNode][] = [];
  const ors: ObjectNode[][] = [];
  for (const key of keys) {
    const value = object[key];
    if (key === OR) {
      ors.push(parseOr(value, path));
      continue;
    }
    if (insideOr && RESERVED_IN_OR.has(key)) {
      throw new Problem(join(path, key), `${key} is a reserved field name which cannot be used inside $or`);
    }
    if (Array.isArray(value)) fields.push([key, parseLeaf(value, join(path, key))]);
    else if (isObject(value)) fields.push([key, parseObject(value, join(path, key), insideOr)]);
    else throw new Problem(join(path, key), `"${key}" must be an object or an array`);
  }
  return { type: 'object', fields, ors };
}

function parseOr(value: unknown, path: string): ObjectNode[] {
  const here = join(path, OR);
  if (!Array.isArray(value)) throw new Problem(here, 'It must be an Array followed with $or');
  const alternatives = value.map((alternative: unknown, i) => {
    if (!isObject(alternative))
      throw new Problem(`${here}[${i}]`, 'Only JSON object is allowed in array of $or relationship');
    return parseObject(alternative, path, true);
  });
  if (alternatives.length < 2)
    throw new Problem(here, 'There must have at least 2 Objects in $or relationship');
  return alternatives;
}

function parseLeaf(values: readonly unknown[], path: string): LeafNode {
  if (values.length === 0) throw new Problem(path, 'Empty arrays are not allowed');
  const matchers = values.map((value): ValueMatcher => {
    if (isObject(value)) return parseOperator(value, path);
    if (typeof value === 'string') return { kind: 'test', test: exactString(value) };
    if (typeof value === 'number') return { kind: 'test', test: (leaf) => leaf === value };
    if (value === null || typeof value === 'boolean') return { kind: 'test', test: (leaf) => leaf === value };
    throw new Problem(path, 'Match value must be String, number, true, false, or null');
  });
  return { type: 'leaf', matchers };
}

function parseOperator(expression: { readonly [key: string]: unknown }, path: string): ValueMatcher {
  const keys = Object.keys(expression);
  if (keys.length === 0) throw new Problem(path, 'Match expression name not found');
  if (keys.length > 1) throw new Problem(path, 'Only one key allowed in match expression');
  const operator = keys[0]!;
  const operand = expression[operator];
  switch (operator) {
    case 'prefix':
      return stringOperator(
        operand,
        path,
        'prefix',
        (s, p) => s.startsWith(p),
        (s, p) => fold(s).startsWith(fold(p)),
      );
    case 'suffix':
      return stringOperator(
        operand,
        path,
        'suffix',
        (s, p) => s.endsWith(p),
        (s, p) => fold(s).endsWith(fold(p)),
      );
    case 'equals-ignore-case': {
      if (typeof operand !== 'string')
        throw new Problem(path, 'equals-ignore-case match pattern must be a string');
      const folded = fold(operand);
      return { kind: 'test', test: (leaf) => typeof leaf === 'string' && fold(leaf) === folded };
    }
    case 'wildcard': {
      if (typeof operand !== 'string') throw new Problem(path, 'wildcard match pattern must be a string');
      const regex = wildcardRegex(operand, path);
      return { kind: 'test', test: (leaf) => typeof leaf === 'string' && regex.test(leaf) };
    }
    case 'anything-but':
      return anythingBut(operand, path);
    case 'numeric':
      return numeric(operand, path);
    case 'exists':
      if (typeof operand !== 'boolean')
        throw new Problem(path, 'exists match pattern must be either true or false');
      return { kind: 'exists', exists: operand };
    case 'cidr': {
      if (typeof operand !== 'string') throw new Problem(path, 'cidr match pattern must be a string');
      const range = parseCidr(operand, path);
      return {
        kind: 'test',
        test: (leaf) => {
          if (typeof leaf !== 'string') return false;
          const ip = parseIp(leaf);
          return ip !== undefined && inRange(ip, range);
        },
      };
    }
    default:
      throw new Problem(path, `Unrecognized match type ${operator}`);
  }
}

/** `prefix` / `suffix`, plain or with `equals-ignore-case`. */
function stringOperator(
  operand: unknown,
  path: string,
  name: string,
  exact: (leaf: string, operand: string) => boolean,
  ignoringCase: (leaf: string, operand: string) => boolean,
): ValueMatcher {
  if (typeof operand === 'string') {
    return { kind: 'test', test: (leaf) => typeof leaf === 'string' && exact(leaf, operand) };
  }
  if (isObject(operand)) {
    const keys = Object.keys(operand);
    if (keys.length !== 1 || keys[0] !== 'equals-ignore-case') {
      throw new Problem(path, `Unsupported ${name} pattern: ${keys.join(', ') || '(empty)'}`);
    }
    const inner = operand['equals-ignore-case'];
    if (typeof inner !== 'string')
      throw new Problem(path, 'equals-ignore-case match pattern must be a string');
    return { kind: 'test', test: (leaf) => typeof leaf === 'string' && ignoringCase(leaf, inner) };
  }
  throw new Problem(path, `${name} match pattern must be a string`);
}

/** An exact string; one that is an IP address also matches other spellings of that address (as Event Ruler). */
function exactString(value: string): (leaf: Leaf) => boolean {
  const ip = parseIp(value);
  if (ip === undefined) return (leaf) => leaf === value;
  return (leaf) => {
    if (typeof leaf !== 'string') return false;
    if (leaf === value) return true;
    const other = parseIp(leaf);
    return other !== undefined && other.length === ip.length && other.every((b, i) => b === ip[i]);
  };
}

function anythingBut(operand: unknown, path: string): ValueMatcher {
  if (typeof operand === 'string') return { kind: 'test', test: (leaf) => leaf !== operand };
  if (typeof operand === 'number') return { kind: 'test', test: (leaf) => leaf !== operand };
  if (Array.isArray(operand)) {
    const strings = operand.every((v) => typeof v === 'string');
    const numbers = operand.every((v) => typeof v === 'number');
    if (operand.length === 0 || (!strings && !numbers)) {
      if (operand.some((v) => v === null || typeof v === 'boolean' || typeof v === 'object')) {
        throw new Problem(path, 'Inside anything but list, start|null|boolean is not supported');
      }
      throw new Problem(
        path,
        'Inside anything but list, either all values are number or string, mixed type is not supported',
      );
    }
    const excluded = new Set<Leaf>(operand as Leaf[]);
    return { kind: 'test', test: (leaf) => !excluded.has(leaf) };
  }
  if (isObject(operand)) {
    const keys = Object.keys(operand);
    if (keys.length === 0) throw new Problem(path, 'Anything-But expression name not found');
    if (keys.length > 1) throw new Problem(path, 'Too many elements in anything-but expression');
    const kind = keys[0]!;
    const values = operand[kind];
    const list = typeof values === 'string' ? [values] : values;
    if (!['prefix', 'suffix', 'equals-ignore-case', 'wildcard'].includes(kind)) {
      throw new Problem(path, `Unsupported anything-but pattern: ${kind}`);
    }
    if (!Array.isArray(list) || list.length === 0 || !list.every((v) => typeof v === 'string')) {
      throw new Problem(path, `anything-but ${kind} must be a string or a non-empty array of strings`);
    }
    const strings = list as string[];
    let hit: (leaf: string) => boolean;
    switch (kind) {
      case 'prefix':
      case 'suffix':
        if (strings.some((s) => s === '')) throw new Problem(path, 'Null prefix/suffix not allowed');
        hit =
          kind === 'prefix'
            ? (leaf) => strings.some((p) => leaf.startsWith(p))
            : (leaf) => strings.some((p) => leaf.endsWith(p));
        break;
      case 'equals-ignore-case': {
        const folded = new Set(strings.map(fold));
        hit = (leaf) => folded.has(fold(leaf));
        break;
      }
      default: {
        const regexes = strings.map((s) => wildcardRegex(s, path));
        hit = (leaf) => regexes.some((r) => r.test(leaf));
      }
    }
    // Only strings can be excluded by string operators: any other leaf is "anything but" them.
    return { kind: 'test', test: (leaf) => typeof leaf !== 'string' || !hit(leaf) };
  }
  throw new Problem(path, 'Value of anything-but must be an array or single string/number value');
}

function numeric(operand: unknown, path: string): ValueMatcher {
  if (!Array.isArray(operand)) throw new Problem(path, 'Value of numeric must be an array');
  const terms = operand as unknown[];
  const number = (i: number, op: string): number => {
    const v = terms[i];
    if (typeof v !== 'number' || !Number.isFinite(v))
      throw new Problem(path, `Value of ${op} must be numeric`);
    return v;
  };
  const op = terms[0];
  if (typeof op !== 'string')
    throw new Problem(path, `Invalid member in numeric match: ${JSON.stringify(op)}`);
  let test: (n: number) => boolean;
  if (op === '=' || op === '<' || op === '<=') {
    const v = number(1, op);
    if (terms.length > 2) throw new Problem(path, 'Too many elements in numeric expression');
    test = op === '=' ? (n) => n === v : op === '<' ? (n) => n < v : (n) => n <= v;
  } else if (op === '>' || op === '>=') {
    const bottom = number(1, op);
    const lower = op === '>' ? (n: number) => n > bottom : (n: number) => n >= bottom;
    if (terms.length === 2) {
      test = lower;
    } else {
      const topOp = terms[2];
      if (topOp !== '<' && topOp !== '<=') {
        throw new Problem(path, `Bad numeric range operator: ${JSON.stringify(topOp)}`);
      }
      const top = number(3, topOp);
      if (terms.length > 4) throw new Problem(path, 'Too many terms in numeric range expression');
      if (!(bottom < top)) throw new Problem(path, 'Bottom must be less than top');
      test = topOp === '<' ? (n) => lower(n) && n < top : (n) => lower(n) && n <= top;
    }
  } else {
    throw new Problem(path, `Unrecognized numeric range operator: ${op}`);
  }
  return { kind: 'test', test: (leaf) => typeof leaf === 'number' && test(leaf) };
}

/** Case folding for the `equals-ignore-case` family (per code point, as Event Ruler folds bytes). */
function fold(s: string): string {
  return s.toLowerCase();
}

/**
 * `*` matches any run of characters; `\*` is a literal star and `\\` a literal backslash; any other
 * escape, and two consecutive stars, are refused (Event Ruler's WildcardParser).
 */
function wildcardRegex(pattern: string, path: string): RegExp {
  let source = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '*') {
      if (pattern[i + 1] === '*') throw new Problem(path, `Consecutive wildcard characters at pos ${i + 1}`);
      source += '[\\s\\S]*';
    } else if (c === '\\') {
      const next = pattern[i + 1];
      if (next !== '*' && next !== '\\') throw new Problem(path, `Invalid escape character at pos ${i + 1}`);
      source += `\\${next}`;
      i++;
    } else {
      source += c.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
    }
  }
  return new RegExp(`^${source}$`, 'u');
}

// ---------------------------------------------------------------------------------------------
// IP addresses (IPv4 and IPv6, as Event Ruler recognises them)

const IPV4 = /^[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+$/;
const IPV6 = /^[0-9a-fA-F:]*:[0-9a-fA-F:]*$/;

/** The address bytes (4 or 16), or `undefined` when `text` is not an IP address literal. */
function parseIp(text: string): number[] | undefined {
  if (IPV4.test(text)) {
    const parts = text.split('.').map(Number);
    return parts.every((p) => p <= 255) ? parts : undefined;
  }
  if (!IPV6.test(text)) return undefined;
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const groups = (part: string): number[] | undefined => {
    if (part === '') return [];
    const out: number[] = [];
    for (const g of part.split(':')) {
      if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return undefined;
      out.push(Number.parseInt(g, 16));
    }
    return out;
  };
  const head = groups(halves[0]!);
  const tail = halves.length === 2 ? groups(halves[1]!) : [];
  if (!head || !tail) return undefined;
  const missing = 8 - head.length - tail.length;
  if (halves.length === 2 ? missing < 1 : missing !== 0) return undefined;
  const words = [...head, ...new Array<number>(missing).fill(0), ...tail];
  return words.flatMap((w) => [w >> 8, w & 0xff]);
}

interface IpRange {
  readonly low: readonly number[];
  readonly high: readonly number[];
}

function parseCidr(text: string, path: string): IpRange {
  const parts = text.split('/');
  if (parts.length !== 2) throw new Problem(path, "Malformed CIDR, one '/' required");
  if (!/^\d+$/.test(parts[1]!)) throw new Problem(path, 'Malformed CIDR, mask bits must be an integer');
  const bits = Number(parts[1]);
  const ip = parseIp(parts[0]!);
  if (ip === undefined) throw new Problem(path, `Invalid IP address: ${parts[0]}`);
  // Event Ruler's limits: a /32 (or /128) is an exact address, written without a mask.
  if (ip.length === 4 && bits > 31) throw new Problem(path, 'IPv4 mask bits must be < 32');
  if (ip.length === 16 && bits > 127) throw new Problem(path, 'IPv6 mask bits must be < 128');
  const low = ip.map((byte, i) => byte & maskByte(bits - i * 8));
  const high = ip.map((byte, i) => byte | (~maskByte(bits - i * 8) & 0xff));
  return { low, high };
}

/** The mask of one byte whose leading `bits` (clamped to 0..8) are set. */
function maskByte(bits: number): number {
  const n = Math.max(0, Math.min(8, bits));
  return (0xff << (8 - n)) & 0xff;
}

function inRange(ip: readonly number[], range: IpRange): boolean {
  if (ip.length !== range.low.length) return false;
  return compareBytes(ip, range.low) >= 0 && compareBytes(ip, range.high) <= 0;
}

function compareBytes(a: readonly number[], b: readonly number[]): number {
  for (let i = 0; i < a.length; i++) {
    if (a[i] !== b[i]) return a[i]! - b[i]!;
  }
  return 0;
}
