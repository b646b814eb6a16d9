/**
 * Request bodies: UTF-8 JSON objects without a byte order mark or duplicate keys. The duplicate
 * scanner is checked on hand-picked texts (escapes, nesting, strings that look like structure),
 * against randomly generated documents with and without an injected duplicate, and its cost on a
 * 6 MB produce body is printed beside JSON.parse's.
 */
import { describe, expect, it } from 'vitest';
import { findDuplicateKey, parseJsonBody } from '../../../functions/api/json-body.ts';
import { InvalidArgumentError } from '../../../sdk/src/errors.ts';
import { seededRandom, testSeed } from '../../helpers/random.ts';

describe('findDuplicateKey', () => {
  it.each([
    ['{"a":1,"a":2}', 'a', ''],
    ['{"a":1,"\\u0061":2}', 'a', ''],
    ['{"\\u00e9":1,"é":2}', 'é', ''],
    ['{"\\ud83d\\ude00":1,"😀":2}', '😀', ''],
    ['{"a\\"b":1,"a\\u0022b":2}', 'a"b', ''],
    ['{"a\\\\":1,"a\\u005c":2}', 'a\\', ''],
    ['{"x":{"y":[1,{"k":1,"k":2}]}}', 'k', 'x.y[1]'],
    ['{"records":[{"value":"a"},{"value":"b","headers":{"h":"1","h":"2"}}]}', 'h', 'records[1].headers'],
    ['{ "a" : 1 , "b" : { } , "a" : 3 }', 'a', ''],
    ['{"":1,"":2}', '', ''],
    ['{"a":[],"b":{},"c":"}{][,:\\"","a":0}', 'a', ''],
  ])('finds the duplicate in %s', (text, key, path) => {
    JSON.parse(text);
    expect(findDuplicateKey(text)).toEqual({ key, path });
  });

  it.each([
    '{}',
    '{"a":1,"b":2}',
    '{"a":"a","b":"a"}',
    '{"a":{"a":{"a":1}}}',
    '{"a":[{"k":1},{"k":2}]}',
    '{"a":"\\"a\\":1,\\"a\\":2","b":1}',
    '{"a\\\\":1,"a":2}',
    '{"a\\"":1,"a":2}',
    '{"\\\\\\"":1,"\\"":2}',
    '{"A":1,"a":2}',
    '[{"a":1},{"a":1}]',
    '"{\\"a\\":1,\\"a\\":2}"',
    '{"a":1e3,"b":true,"c":null,"d":-0.5}',
  ])('finds none in %s', (text) => {
    JSON.parse(text);
    expect(findDuplicateKey(text)).toBeUndefined();
  });

  it('agrees with generated documents, with and without an injected duplicate', () => {
    const seed = testSeed('json-duplicates');
    const random = seededRandom(seed);
    const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
    const alphabet = ['a', 'b', 'k', '"', '\\', '/', '{', '}', '[', ']', ',', ':', 'é', '😀', '\n', ' '];
    const randomKey = () => Array.from({ length: Math.floor(random() * 4) }, () => pick(alphabet)).join('');
    // A key written with every character escaped or not, at random: equal keys, different texts.
    const spell = (key: string) =>
      `"${[...key]
        .map((ch) => {
          if (random() < 0.4) {
            // Every UTF-16 unit as \uXXXX (a character outside the BMP as its surrogate pair).
            return Array.from(
              { length: ch.length },
              (_, i) => `\\u${ch.charCodeAt(i).toString(16).padStart(4, '0')}`,
            ).join('');
          }
          return JSON.stringify(ch).slice(1, -1);
        })
        .join('')}"`;
    type Node =
      | { kind: 'object'; members: [string, Node][] }
      | { kind: 'array'; items: Node[] }
      | { kind: 'leaf' };
    const objects: { node: Extract<Node, { kind: 'object' }>; path: string }[] = [];
    const build = (depth: number, path: string): Node => {
      const roll = random();
      if (depth > 3 || roll < 0.3) return { kind: 'leaf' };
      if (roll < 0.5) {
        const items = Array.from({ length: Math.floor(random() * 4) }, (_, i) =>
          build(depth + 1, `${path}[${i}]`),
        );
        return { kind: 'array', items };
      }
      const keys = [...new Set(Array.from({ length: Math.floor(random() * 5) }, randomKey))];
      const node: Extract<Node, { kind: 'object' }> = { kind: 'object', members: [] };
      for (const key of keys)
        node.members.push([key, build(depth + 1, path === '' ? key : `${path}.${key}`)]);
      objects.push({ node, path });
      return node;
    };
    const leaf = () =>
      pick(['1', '-2.5e3', 'true', 'null', '"v"', '"\\"}"', '"{\\"a\\":1,\\"a\\":2}"', '[]', '{}']);
    const write = (node: Node): string => {
      if (node.kind === 'leaf') return leaf();
      if (node.kind === 'array') return `[${node.items.map(write).join(',')}]`;
      return `{${node.members.map(([k, v]) => `${spell(k)}:${write(v)}`).join(',')}}`;
    };
    for (let round = 0; round < 500; round++) {
      objects.length = 0;
      const root: Node = { kind: 'object', members: [] };
      objects.push({ node: root, path: '' });
      for (const key of [...new Set([randomKey(), randomKey(), randomKey()])]) {
        root.members.push([key, build(1, key)]);
      }
      const clean = write(root);
      expect(() => JSON.parse(clean), clean).not.toThrow();
      expect(findDuplicateKey(clean), clean).toBeUndefined();

      const withMembers = objects.filter((o) => o.node.members.length > 0);
      if (withMembers.length === 0) continue;
      // A copy of an existing key (spelled anew) in one random object: the only duplicate.
      const target = pick(withMembers);
      const [key] = pick(target.node.members);
      target.node.members.push([key, { kind: 'leaf' }]);
      const dirty = write(root);
      expect(() => JSON.parse(dirty), dirty).not.toThrow();
      const found = findDuplicateKey(dirty);
      expect(found, dirty).toBeDefined();
      expect(found, dirty).toEqual({ key, path: target.path });
    }
  });

  it('scans a 6 MB produce body in a fraction of its parse (printed, not asserted)', () => {
    const records = Array.from({ length: 10_000 }, (_, i) => ({
      key: `key-${i}`,
      value: Buffer.alloc(440, i).toString('base64'),
      headers: { trace: `t-${i}`, 'content-type': 'application/json' },
      partition: i % 8,
    }));
    const text = JSON.stringify({ records, encoding: 'base64' });
    expect(text.length).toBeGreaterThan(6_000_000);
    const time = (fn: () => unknown) => {
      const started = performance.now();
      for (let i = 0; i < 5; i++) fn();
      return (performance.now() - started) / 5;
    };
    const parse = time(() => JSON.parse(text));
    const scan = time(() => findDuplicateKey(text));
    expect(findDuplicateKey(text)).toBeUndefined();
    console.info(
      `[json-body] ${(text.length / 1e6).toFixed(1)} MB produce body: JSON.parse ${parse.toFixed(1)} ms, duplicate scan ${scan.toFixed(1)} ms`,
    );
  });
});

describe('parseJsonBody', () => {
  it('parses a JSON object from text or UTF-8 bytes', () => {
    expect(parseJsonBody('{"a":"é"}')).toEqual({ a: 'é' });
    expect(parseJsonBody(Buffer.from('{"a":"😀"}', 'utf8'))).toEqual({ a: '😀' });
  });

  it('keeps a __proto__ key as an own property', () => {
    const body = parseJsonBody('{"__proto__":{"polluted":true}}');
    expect(Object.keys(body)).toEqual(['__proto__']);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it.each<[string, string | Buffer, RegExp]>([
    [
      'invalid UTF-8 bytes',
      Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0x22, 0x7d]),
      /not valid UTF-8/,
    ],
    [
      'an overlong UTF-8 form',
      Buffer.from([0x7b, 0x22, 0xc0, 0xaf, 0x22, 0x3a, 0x31, 0x7d]),
      /not valid UTF-8/,
    ],
    [
      'a UTF-16 surrogate encoded in UTF-8',
      Buffer.from([0x7b, 0x22, 0xed, 0xa0, 0x80, 0x22, 0x3a, 0x31, 0x7d]),
      /not valid UTF-8/,
    ],
    ['a lone surrogate in text', '{"a":"\ud800"}', /not valid UTF-8/],
    ['a byte order mark (bytes)', Buffer.from([0xef, 0xbb, 0xbf, 0x7b, 0x7d]), /byte order mark/],
    ['a byte order mark (text)', '\ufeff{}', /byte order mark/],
    ['invalid JSON', '{"a":', /not valid JSON/],
    ['two JSON values', '{} {}', /not valid JSON/],
    ['a top-level array', '[{"a":1}]', /must be a JSON object, not an array/],
    ['a top-level string', '"x"', /must be a JSON object, not a string/],
    ['a top-level number', '1', /must be a JSON object, not a number/],
    ['top-level null', 'null', /must be a JSON object, not null/],
    ['a duplicate key', '{"records":[{"value":"a","value":"b"}]}', /"value" twice in body\.records\[0\]/],
    ['a duplicate top-level key', '{"topic":"a","topic":"b"}', /"topic" twice in its top-level object/],
  ])('refuses %s with INVALID_ARGUMENT', (_, body, message) => {
    expect(() => parseJsonBody(body)).toThrow(InvalidArgumentError);
    expect(() => parseJsonBody(body)).toThrow(message);
  });
});
