/**
 * Request bodies as the API takes them: UTF-8 JSON text without a byte order mark, whose top level
 * is an object and in which no object has the same key twice.
 *
 * `JSON.parse` keeps the last of two equal keys, so `{"a":1,"a":2}` would mean one thing to this
 * API and possibly another to a proxy, a log processor or a signature check that read the first.
 * `JSON.parse` cannot report duplicates, so {@link findDuplicateKey} scans the text once more after
 * it parsed: the text is then known to be valid JSON, which keeps the scan small — it only tracks
 * nesting and object keys, and skips over string contents with `indexOf`, so a 6 MB produce body
 * of long values costs a fraction of its parse.
 */
import { isUtf8 } from 'node:buffer';
import { InvalidArgumentError } from '../../sdk/src/index.ts';

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
const COMMA = 0x2c;
const BOM = 0xfeff;

/** An object or array being scanned. */
interface Frame {
  /** Keys seen so far; null for an array. */
  readonly keys: Set<string> | null;
  /** The member being read: its key (objects) or index (arrays). */
  member: string | number;
}

/** Where a duplicate key is: the key (decoded) and the path of its object (`records[2].headers`). */
export interface DuplicateKey {
  readonly key: string;
  readonly path: string;
}

/** Whether the quote at `at` is escaped: preceded by an odd run of backslashes. */
function escapedQuote(text: string, at: number): boolean {
  let run = 0;
  while (text.charCodeAt(at - 1 - run) === BACKSLASH) run++;
  return run % 2 === 1;
}

function pathOf(stack: readonly Frame[]): string {
  let path = '';
  // Every frame but the innermost (the object holding the duplicate) is a step on the way there.
  for (let depth = 0; depth < stack.length - 1; depth++) {
    const member = stack[depth]!.member;
    path += typeof member === 'number' ? `[${member}]` : path === '' ? member : `.${member}`;
  }
  return path;
}

/**
 * The first key that appears twice in one object of `text`, compared by decoded value (`"a"` and
 * `"\u0061"` are the same key), or undefined. `text` must be valid JSON (parse it first): the
 * scan relies on that and does not check the grammar.
 */
export function findDuplicateKey(text: string): DuplicateKey | undefined {
  const n = text.length;
  const stack: Frame[] = [];
  let top: Frame | undefined;
  let expectKey = false;
  // Backslashes only occur inside strings; knowing where the next one is tells whether a string
  // has escapes (and whether its closing quote might be escaped) without reading its characters.
  let nextBackslash = -1;
  let i = 0;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      if (nextBackslash < i) {
        nextBackslash = text.indexOf('\\', i);
        if (nextBackslash < 0) nextBackslash = n;
      }
      let end = text.indexOf('"', i + 1);
      while (nextBackslash < end && escapedQuote(text, end)) end = text.indexOf('"', end + 1);
      if (expectKey && top?.keys) {
        const key =
          nextBackslash < end ? (JSON.parse(text.slice(i, end + 1)) as string) : text.slice(i + 1, end);
        if (top.keys.has(key)) return { key, path: pathOf(stack) };
        top.keys.add(key);
        top.member = key;
        expectKey = false;
      }
      i = end + 1;
      continue;
    }
    if (c === OPEN_OBJECT) {
      top = { keys: new Set(), member: '' };
      stack.push(top);
      expectKey = true;
    } else if (c === OPEN_ARRAY) {
      top = { keys: null, member: 0 };
      stack.push(top);
      expectKey = false;
    } else if (c === CLOSE_OBJECT || c === CLOSE_ARRAY) {
      stack.pop();
      top = stack[stack.length - 1];
      expectKey = false;
    } else if (c === COMMA && top) {
      if (top.keys) expectKey = true;
      else top.member = (top.member as number) + 1;
    }
    i++;
  }
  return undefined;
}

/**
 * A request body parsed as the API takes JSON: `body` is the body as API Gateway delivers it
 * (text, or the bytes of a base64-encoded body). Refuses with `InvalidArgumentError` a body that
 * is not UTF-8, starts with a byte order mark, is not valid JSON, is not a JSON object at the top
 * level, or has a key twice in one object.
 */
export function parseJsonBody(body: string | Buffer): Record<string, unknown> {
  let text: string;
  if (typeof body === 'string') {
    // Lone surrogates cannot have come from UTF-8 bytes.
    if (!body.isWellFormed()) throw new InvalidArgumentError('The request body is not valid UTF-8');
    text = body;
  } else {
    if (!isUtf8(body)) throw new InvalidArgumentError('The request body is not valid UTF-8');
    text = body.toString('utf8');
  }
  if (text.charCodeAt(0) === BOM) {
    throw new InvalidArgumentError(
      'The request body starts with a byte order mark; send UTF-8 JSON without one',
    );
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new InvalidArgumentError(`The request body is not valid JSON: ${(error as Error).message}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InvalidArgumentError(
      `The request body must be a JSON object, not ${value === null ? 'null' : Array.isArray(value) ? 'an array' : `a ${typeof value}`}`,
    );
  }
  const duplicate = findDuplicateKey(text);
  if (duplicate) {
    throw new InvalidArgumentError(
      `The request body has the key ${JSON.stringify(duplicate.key)} twice in ${duplicate.path === '' ? 'its top-level object' : `body.${duplicate.path}`}; each key may appear once per object`,
    );
  }
  return value as Record<string, unknown>;
}
