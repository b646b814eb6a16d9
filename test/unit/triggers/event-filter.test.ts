import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InvalidTriggerError } from '../../../sdk/src/errors.ts';
import {
  compileEventPattern,
  compileFilterCriteria,
  compileFilterPattern,
  type JsonValue,
  MAX_PATTERN_LENGTH,
} from '../../../sdk/src/triggers/event-filter.ts';
import { testSeed } from '../../helpers/random.ts';

const utf8 = (s: string) => new TextEncoder().encode(s);
const matches = (pattern: unknown, event: JsonValue) =>
  compileEventPattern(JSON.stringify(pattern)).matches(event);

/** The sample event of Event Ruler's README (the engine behind EventBridge patterns). */
const EC2_EVENT: JsonValue = {
  version: '0',
  id: 'ddddd4-aaaa-7777-4444-345dd43cc333',
  'detail-type': 'EC2 Instance State-change Notification',
  source: 'aws.ec2',
  account: '012345679012',
  time: '2017-10-02T16:24:49Z',
  region: 'us-east-1',
  resources: ['arn:aws:ec2:us-east-1:123456789012:instance/i-000000aaaaaa00000'],
  detail: {
    'c-count': 5,
    'd-count': 3,
    'x-limit': 301.8,
    'source-ip': '10.0.0.33',
    'instance-id': 'i-000000aaaaaa00000',
    state: 'running',
  },
};

describe('EventBridge patterns (the examples of Event Ruler and the EventBridge guide)', () => {
  it.each<[string, unknown]>([
    [
      'simple matching',
      {
        'detail-type': ['EC2 Instance State-change Notification'],
        resources: ['arn:aws:ec2:us-east-1:123456789012:instance/i-000000aaaaaa00000'],
        detail: { state: ['initializing', 'running'] },
      },
    ],
    ['prefix', { time: [{ prefix: '2017-10-02' }] }],
    ['prefix equals-ignore-case', { source: [{ prefix: { 'equals-ignore-case': 'AWS.' } }] }],
    ['suffix', { source: [{ suffix: 'ec2' }] }],
    ['suffix equals-ignore-case', { source: [{ suffix: { 'equals-ignore-case': 'EC2' } }] }],
    ['equals-ignore-case', { source: [{ 'equals-ignore-case': 'AWS.EC2' }] }],
    ['wildcard', { 'detail-type': [{ wildcard: 'EC2*State-change*' }] }],
    ['anything-but string', { detail: { state: [{ 'anything-but': 'initializing' }] } }],
    ['anything-but number', { detail: { 'x-limit': [{ 'anything-but': 123 }] } }],
    ['anything-but string list', { detail: { state: [{ 'anything-but': ['stopped', 'overloaded'] }] } }],
    ['anything-but number list', { detail: { 'x-limit': [{ 'anything-but': [100, 200, 300] }] } }],
    ['anything-but prefix', { detail: { state: [{ 'anything-but': { prefix: 'init' } }] } }],
    ['anything-but prefix list', { detail: { state: [{ 'anything-but': { prefix: ['init', 'error'] } }] } }],
    ['anything-but suffix', { detail: { 'instance-id': [{ 'anything-but': { suffix: '1234' } }] } }],
    [
      'anything-but suffix list',
      { detail: { 'instance-id': [{ 'anything-but': { suffix: ['1234', '6789'] } }] } },
    ],
    [
      'anything-but ignore case',
      { detail: { state: [{ 'anything-but': { 'equals-ignore-case': 'Stopped' } }] } },
    ],
    [
      'anything-but ignore case list',
      { detail: { state: [{ 'anything-but': { 'equals-ignore-case': ['Stopped', 'OverLoaded'] } }] } },
    ],
    ['anything-but wildcard', { detail: { state: [{ 'anything-but': { wildcard: '*/bin/*.jar' } }] } }],
    [
      'numeric',
      {
        detail: {
          'c-count': [{ numeric: ['>', 0, '<=', 5] }],
          'd-count': [{ numeric: ['<', 10] }],
          'x-limit': [{ numeric: ['=', 3.018e2] }],
        },
      },
    ],
    ['cidr', { detail: { 'source-ip': [{ cidr: '10.0.0.0/24' }] } }],
    ['exists', { detail: { 'c-count': [{ exists: true }] } }],
    ['exists false', { detail: { 'e-count': [{ exists: false }] } }],
    [
      'the complex example',
      {
        time: [{ prefix: '2017-10-02' }],
        detail: {
          state: [{ 'anything-but': 'initializing' }],
          'c-count': [{ numeric: ['>', 0, '<=', 5] }],
          'd-count': [{ numeric: ['<', 10] }],
          'x-limit': [{ 'anything-but': [100, 200, 300] }],
          'source-ip': [{ cidr: '10.0.0.0/8' }],
        },
      },
    ],
    ['$or', { source: ['aws.ec2'], $or: [{ 'detail-type': ['nope'] }, { region: ['us-east-1'] }] }],
    ['nested $or', { detail: { $or: [{ state: ['stopped'] }, { 'c-count': [{ numeric: ['>=', 5] }] }] } }],
  ])('%s matches the sample event', (_, pattern) => {
    expect(matches(pattern, EC2_EVENT)).toBe(true);
  });

  it.each<[string, unknown]>([
    ['an absent field', { detail: { missing: ['x'] } }],
    ['a different value', { detail: { state: ['stopped'] } }],
    ['case differs without equals-ignore-case', { source: ['AWS.EC2'] }],
    ['anything-but the actual value', { detail: { state: [{ 'anything-but': ['running'] }] } }],
    ['anything-but on an absent field', { detail: { missing: [{ 'anything-but': 'x' }] } }],
    ['numeric out of range', { detail: { 'c-count': [{ numeric: ['>', 5] }] } }],
    ['numeric on a string', { detail: { state: [{ numeric: ['>', 0] }] } }],
    ['a string pattern for a number', { detail: { 'c-count': ['5'] } }],
    ['prefix on a number', { detail: { 'c-count': [{ prefix: '5' }] } }],
    ['cidr outside the block', { detail: { 'source-ip': [{ cidr: '10.0.1.0/24' }] } }],
    ['exists on an absent field', { detail: { 'e-count': [{ exists: true }] } }],
    ['exists false on a present field', { detail: { state: [{ exists: false }] } }],
    ['exists on an intermediate node', { detail: [{ exists: true }] }],
    ['$or where no branch holds', { $or: [{ source: ['x'] }, { region: ['y'] }] }],
    ['AND where one field fails', { source: ['aws.ec2'], region: ['eu-west-1'] }],
    ['wildcard that does not cover the whole value', { source: [{ wildcard: 'aws' }] }],
  ])('%s does not match', (_, pattern) => {
    expect(matches(pattern, EC2_EVENT)).toBe(false);
  });

  it.each<[string, unknown, JsonValue, boolean]>([
    ['null', { UserID: [null] }, { UserID: null }, true],
    ['null is not an absent field', { UserID: [null] }, {}, false],
    ['null is not "null"', { UserID: [null] }, { UserID: 'null' }, false],
    ['empty', { LastName: [''] }, { LastName: '' }, true],
    ['equals', { Name: ['Alice'] }, { Name: 'Alice' }, true],
    ['equals ignore case', { Name: [{ 'equals-ignore-case': 'alice' }] }, { Name: 'ALICE' }, true],
    ['and', { Location: ['New York'], Day: ['Monday'] }, { Location: 'New York', Day: 'Monday' }, true],
    ['or', { PaymentType: ['Credit', 'Debit'] }, { PaymentType: 'Debit' }, true],
    [
      'or (multiple fields)',
      { $or: [{ Location: ['New York'] }, { Day: ['Monday'] }] },
      { Location: 'Paris', Day: 'Monday' },
      true,
    ],
    ['not', { Weather: [{ 'anything-but': ['Raining'] }] }, { Weather: 'Sunny' }, true],
    [
      'not (the excluded value)',
      { Weather: [{ 'anything-but': ['Raining'] }] },
      { Weather: 'Raining' },
      false,
    ],
    ['numeric equals', { Price: [{ numeric: ['=', 100] }] }, { Price: 100 }, true],
    ['numeric range', { Price: [{ numeric: ['>', 10, '<=', 20] }] }, { Price: 20 }, true],
    ['numeric range (bottom is open)', { Price: [{ numeric: ['>', 10, '<=', 20] }] }, { Price: 10 }, false],
    ['exists', { ProductName: [{ exists: true }] }, { ProductName: 'x' }, true],
    ['does not exist', { ProductName: [{ exists: false }] }, { Other: 1 }, true],
    ['begins with', { Region: [{ prefix: 'us-' }] }, { Region: 'us-west-2' }, true],
    ['ends with', { FileName: [{ suffix: '.png' }] }, { FileName: 'cat.png' }, true],
    [
      'exists only on leaves (the Lambda page example)',
      { person: { address: [{ exists: true }] } },
      { person: { name: 'John Doe', age: 30, address: { street: '123 Main St', city: 'Anytown' } } },
      false,
    ],
    ['an exact number equals the same number', { n: [300] }, { n: 3.0e2 }, true],
    ['true is a value', { flag: [true] }, { flag: true }, true],
    ['true is not "true"', { flag: [true] }, { flag: 'true' }, false],
    ['an array element matching is enough', { tags: ['b'] }, { tags: ['a', 'b'] }, true],
    ['nested arrays are searched', { tags: ['c'] }, { tags: [['a'], ['b', ['c']]] }, true],
    [
      'anything-but holds when another array element differs',
      { s: [{ 'anything-but': 'a' }] },
      { s: ['a', 'b'] },
      true,
    ],
    ['anything-but a string on a number holds', { s: [{ 'anything-but': 'a' }] }, { s: 5 }, true],
    ['anything-but numbers on the same number fails', { s: [{ 'anything-but': [5] }] }, { s: 5 }, false],
    ['anything-but numbers on a numeric string holds', { s: [{ 'anything-but': [5] }] }, { s: '5' }, true],
    ['anything-but prefix on a number holds', { s: [{ 'anything-but': { prefix: '5' } }] }, { s: 5 }, true],
    ['an empty array has no leaf', { tags: [{ exists: false }] }, { tags: [] }, true],
    ['an object is not a leaf for exists: false', { c: [{ exists: false }] }, { c: { c1: 100 } }, true],
    ['exists false under a missing parent', { a: { b: [{ exists: false }] } }, {}, true],
    ['exists false under a primitive parent', { a: { b: [{ exists: false }] } }, { a: 5 }, true],
    ['exists and a value ORed in one array', { a: [{ exists: false }, 'x'] }, { a: 'x' }, true],
    [
      'two fields must match in one array element',
      { employees: { firstName: ['Anna'], lastName: ['Jones'] } },
      {
        employees: [
          { firstName: 'John', lastName: 'Doe' },
          { firstName: 'Anna', lastName: 'Smith' },
          { firstName: 'Peter', lastName: 'Jones' },
        ],
      },
      false,
    ],
    [
      'one array element matching every field',
      { employees: { firstName: ['Anna'], lastName: ['Smith'] } },
      {
        employees: [
          [
            { firstName: 'John', lastName: 'Doe' },
            { firstName: 'Anna', lastName: 'Smith' },
          ],
        ],
      },
      true,
    ],
    ['wildcard matches across newlines', { s: [{ wildcard: 'a*z' }] }, { s: 'a\nb\nz' }, true],
    ['wildcard with an escaped star', { s: [{ wildcard: 'a\\*b' }] }, { s: 'a*b' }, true],
    ['wildcard escaped star is literal', { s: [{ wildcard: 'a\\*b' }] }, { s: 'axb' }, false],
    ['wildcard with an escaped backslash', { s: [{ wildcard: 'a\\\\*' }] }, { s: 'a\\bc' }, true],
    [
      'wildcard characters that are special in regexes',
      { s: [{ wildcard: '(a.b)+[c]' }] },
      { s: '(a.b)+[c]' },
      true,
    ],
    ['wildcard regex characters are literal', { s: [{ wildcard: 'a.c' }] }, { s: 'abc' }, false],
    [
      'anything-but wildcard excludes',
      { s: [{ 'anything-but': { wildcard: '*/lib/*' } }] },
      { s: '/usr/lib/x' },
      false,
    ],
    ['cidr IPv6', { ip: [{ cidr: '2001:db8::/32' }] }, { ip: '2001:0db8:85a3::8a2e:0370:7334' }, true],
    ['cidr IPv6 outside', { ip: [{ cidr: '2001:db8::/32' }] }, { ip: '2001:db9::1' }, false],
    ['cidr /0 covers every IPv4 address', { ip: [{ cidr: '0.0.0.0/0' }] }, { ip: '255.255.255.255' }, true],
    ['cidr does not match a non-address', { ip: [{ cidr: '10.0.0.0/8' }] }, { ip: 'ten' }, false],
    ['an exact IP matches another spelling of it', { ip: ['::1'] }, { ip: '0:0:0:0:0:0:0:1' }, true],
    [
      '$or inside an array element',
      { a: { $or: [{ b: [1] }, { c: [2] }] } },
      { a: [{ b: 0 }, { c: 2 }] },
      true,
    ],
    ['inherited names are not fields', { constructor: [{ exists: true }] }, {}, false],
  ])('%s', (_, pattern, event, expected) => {
    expect(matches(pattern, event)).toBe(expected);
  });

  it('treats "__proto__" as a field like any other', () => {
    const pattern = compileEventPattern('{"__proto__": ["x"]}');
    expect(pattern.matches(JSON.parse('{"__proto__": "x"}'))).toBe(true);
    expect(pattern.matches({})).toBe(false);
  });
});

describe('invalid patterns are refused, naming the problem', () => {
  it.each<[string, string, RegExp]>([
    ['not JSON', '{"a": [', /not valid JSON/],
    ['not an object', '["a"]', /Filter is not an object/],
    ['an empty object', '{}', /Empty objects are not allowed/],
    ['an empty nested object', '{"a": {}}', /at a: Empty objects/],
    ['a leaf that is not an array', '{"a": "x"}', /at a: "a" must be an object or an array/],
    ['an empty array', '{"a": []}', /Empty arrays are not allowed/],
    ['a nested array value', '{"a": [["x"]]}', /Match value must be String/],
    ['an unknown operator', '{"a": [{"regex": "x"}]}', /Unrecognized match type regex/],
    ['two operators in one object', '{"a": [{"prefix": "x", "suffix": "y"}]}', /Only one key allowed/],
    ['a prefix that is not a string', '{"a": [{"prefix": 1}]}', /prefix match pattern must be a string/],
    ['prefix with another modifier', '{"a": [{"prefix": {"wildcard": "x"}}]}', /Unsupported prefix pattern/],
    ['equals-ignore-case on a number', '{"a": [{"equals-ignore-case": 1}]}', /must be a string/],
    ['exists that is not a boolean', '{"a": [{"exists": "yes"}]}', /either true or false/],
    ['numeric that is not an array', '{"a": [{"numeric": 5}]}', /must be an array/],
    ['numeric with a bad operator', '{"a": [{"numeric": ["!=", 5]}]}', /Unrecognized numeric range operator/],
    ['numeric with a non-number', '{"a": [{"numeric": [">", "5"]}]}', /Value of > must be numeric/],
    ['numeric with too many terms', '{"a": [{"numeric": ["=", 5, "<", 6]}]}', /Too many elements/],
    ['numeric range upside down', '{"a": [{"numeric": [">", 5, "<", 5]}]}', /Bottom must be less than top/],
    [
      'numeric range with a bad top operator',
      '{"a": [{"numeric": [">", 1, ">", 5]}]}',
      /Bad numeric range operator/,
    ],
    ['anything-but of mixed types', '{"a": [{"anything-but": ["x", 1]}]}', /mixed type is not supported/],
    ['anything-but of null', '{"a": [{"anything-but": [null]}]}', /null\|boolean is not supported/],
    [
      'anything-but of a boolean',
      '{"a": [{"anything-but": true}]}',
      /must be an array or single string\/number/,
    ],
    [
      'anything-but with an empty prefix',
      '{"a": [{"anything-but": {"prefix": ""}}]}',
      /Null prefix\/suffix not allowed/,
    ],
    [
      'anything-but with an unknown modifier',
      '{"a": [{"anything-but": {"numeric": [">", 1]}}]}',
      /Unsupported anything-but pattern/,
    ],
    ['consecutive wildcards', '{"a": [{"wildcard": "a**b"}]}', /Consecutive wildcard characters/],
    ['a bad wildcard escape', '{"a": [{"wildcard": "a\\\\b"}]}', /Invalid escape character/],
    ['a CIDR without a mask', '{"a": [{"cidr": "10.0.0.1"}]}', /one '\/' required/],
    ['a CIDR with a bad mask', '{"a": [{"cidr": "10.0.0.0/x"}]}', /mask bits must be an integer/],
    ['an IPv4 mask of 32', '{"a": [{"cidr": "10.0.0.0/32"}]}', /IPv4 mask bits must be < 32/],
    ['a CIDR that is no address', '{"a": [{"cidr": "300.0.0.0/8"}]}', /Invalid IP address/],
    ['$or that is not an array', '{"$or": {"a": ["x"]}}', /It must be an Array/],
    ['$or with one object', '{"$or": [{"a": ["x"]}]}', /at least 2 Objects/],
    ['$or with a non-object', '{"$or": [{"a": ["x"]}, "b"]}', /Only JSON object is allowed/],
    ['a reserved name inside $or', '{"$or": [{"prefix": ["x"]}, {"b": ["y"]}]}', /reserved field name/],
  ])('%s', (_, pattern, message) => {
    let error: unknown;
    try {
      compileEventPattern(pattern, 'filterCriteria.filters[0].pattern');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(InvalidTriggerError);
    expect((error as InvalidTriggerError).setting).toBe('filterCriteria.filters[0].pattern');
    expect((error as InvalidTriggerError).message).toMatch(message);
  });

  it(`refuses patterns over ${MAX_PATTERN_LENGTH} characters`, () => {
    const longest = `{"value": ["${'x'.repeat(MAX_PATTERN_LENGTH - 15)}"]}`;
    expect(longest.length).toBe(MAX_PATTERN_LENGTH);
    expect(() => compileFilterPattern(longest)).not.toThrow();
    expect(() => compileFilterPattern(longest.replace('["', '[ "'))).toThrow(/at most 4096/);
  });

  it('refuses Kafka patterns on anything but the value', () => {
    expect(() => compileFilterPattern('{"key": ["x"]}')).toThrow(/record value only/);
    expect(() => compileFilterPattern('{"$or": [{"value": ["x"]}, {"topic": ["t"]}]}')).toThrow(
      /record value only/,
    );
    expect(() => compileFilterPattern('{"$or": [{"value": ["x"]}, {"value": {"a": [1]}}]}')).not.toThrow();
  });
});

describe('Kafka record filters (the Lambda Kafka filtering page)', () => {
  const deviceFilter = compileFilterPattern('{ "value" : { "device_ID" : [ { "prefix": "AB" } ] } }');
  const notError = compileFilterPattern('{ "value" : [ { "anything-but": [ "error" ] } ] }');

  it.each<[string, Uint8Array | null, boolean, boolean]>([
    [
      'JSON whose device_ID starts with AB',
      utf8('{"device_ID": "AB1234", "session": {"start_time": "yyyy-mm-ddThh:mm:ss", "duration": 162}}'),
      true,
      false,
    ],
    ['JSON whose device_ID does not', utf8('{"device_ID": "CD1234"}'), false, false],
    ['a JSON array of objects', utf8('[{"device_ID": "XY"}, {"device_ID": "AB9"}]'), true, false],
    ['the plain string "error"', utf8('error'), false, false],
    ['another plain string', utf8('all good'), false, true],
    ['text that only starts like JSON', utf8('{not json'), false, true],
    ['a JSON number, which is a plain string here', utf8('42'), false, true],
    ['an empty value', utf8(''), false, true],
    ['a value that is not UTF-8', new Uint8Array([0xc3, 0x28]), false, false],
    ['a tombstone', null, false, false],
  ])('%s', (_, value, jsonPattern, stringPattern) => {
    expect(deviceFilter.matches(value)).toBe(jsonPattern);
    expect(notError.matches(value)).toBe(stringPattern);
  });

  it('lets a tombstone match only "value does not exist"', () => {
    expect(compileFilterPattern('{"value": [{"exists": false}]}').matches(null)).toBe(true);
    expect(compileFilterPattern('{"value": [{"exists": false}]}').matches(utf8('x'))).toBe(false);
    expect(compileFilterPattern('{"value": {"a": [{"exists": false}]}}').matches(null)).toBe(false);
  });

  it('matches a whole plain string, and an empty one', () => {
    expect(
      compileFilterPattern('{"value": ["Hello, this is a test."]}').matches(utf8('Hello, this is a test.')),
    ).toBe(true);
    expect(compileFilterPattern('{"value": [""]}').matches(utf8(''))).toBe(true);
  });

  it('ORs filters, and delivers everything when there are none', () => {
    const criteria = compileFilterCriteria([
      { pattern: '{"value": {"type": ["a"]}}' },
      { pattern: '{"value": {"type": ["b"]}}' },
    ]);
    expect(criteria.matches(utf8('{"type": "a"}'))).toBe(true);
    expect(criteria.matches(utf8('{"type": "b"}'))).toBe(true);
    expect(criteria.matches(utf8('{"type": "c"}'))).toBe(false);
    expect(compileFilterCriteria([]).matches(new Uint8Array([0xff]))).toBe(true);
  });

  it('names the failing filter', () => {
    expect(() => compileFilterCriteria([{ pattern: '{"value": ["x"]}' }, { pattern: '{}' }])).toThrow(
      expect.objectContaining({ setting: 'filterCriteria.filters[1].pattern' }),
    );
  });
});

describe('operator laws (property)', () => {
  const leaf = fc.oneof(
    fc.string({ maxLength: 6 }),
    fc.integer({ min: -5, max: 5 }),
    fc.boolean(),
    fc.constant(null),
  );

  it('anything-but [v] holds exactly when a leaf exists that is not v; prefix "" holds for every string', () => {
    const seed = testSeed('event-filter laws');
    fc.assert(
      fc.property(
        fc.string({ maxLength: 4 }),
        fc.option(fc.array(leaf, { maxLength: 4 }), { nil: undefined }),
        (v, data) => {
          const event: JsonValue = data === undefined ? {} : { f: data };
          const leaves = data ?? [];
          expect(matches({ f: [{ 'anything-but': [v] }] }, event)).toBe(leaves.some((l) => l !== v));
          expect(matches({ f: [{ exists: true }] }, event)).toBe(leaves.length > 0);
          expect(matches({ f: [{ exists: false }] }, event)).toBe(leaves.length === 0);
          expect(matches({ f: [{ prefix: '' }] }, event)).toBe(leaves.some((l) => typeof l === 'string'));
          expect(matches({ f: [v] }, event)).toBe(leaves.includes(v));
        },
      ),
      { seed, numRuns: 300 },
    );
  });

  it('numeric ranges agree with the comparison they spell', () => {
    const seed = testSeed('event-filter numeric');
    fc.assert(
      fc.property(
        fc.double({ noNaN: true, noDefaultInfinity: true }),
        fc.double({ noNaN: true, noDefaultInfinity: true }),
        fc.double({ noNaN: true, noDefaultInfinity: true }),
        (a, b, n) => {
          const [low, high] = a < b ? [a, b] : [b, a];
          fc.pre(low < high);
          expect(matches({ n: [{ numeric: ['>=', low, '<', high] }] }, { n })).toBe(n >= low && n < high);
          expect(matches({ n: [{ numeric: ['>', low, '<=', high] }] }, { n })).toBe(n > low && n <= high);
          expect(matches({ n: [{ numeric: ['=', low] }] }, { n })).toBe(n === low);
        },
      ),
      { seed, numRuns: 300 },
    );
  });
});
