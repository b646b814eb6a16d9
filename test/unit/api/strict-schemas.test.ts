/**
 * The API's schemas parse exactly what the OpenAPI document says: integers in queries and paths
 * only as canonical decimal strings, JSON integers where a body documents an integer, strict
 * objects, topic configs typed per key from TOPIC_CONFIGS, and maps that keep a `__proto__` key.
 */
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  AlterConfigsBody,
  CreatePartitionsBody,
  CreateTopicBody,
  FetchQuery,
  integerString,
  OffsetsQuery,
  ownRecord,
  PartitionParams,
  refusalOf,
  TopicParams,
  topicName,
} from '../../../sdk/src/api/schemas.ts';
import { InvalidConfigError, InvalidTopicNameError } from '../../../sdk/src/errors.ts';
import { TOPIC_CONFIGS } from '../../../sdk/src/topics/configs.ts';

/** The typed errors (if any) and the paths of the other issues of a failed parse. */
function refusals(schema: z.ZodType, value: unknown) {
  const parsed = schema.safeParse(value);
  expect(parsed.success, JSON.stringify(value)).toBe(false);
  const issues = parsed.error!.issues;
  return {
    typed: issues.map(refusalOf).filter((e) => e !== undefined),
    paths: issues.map((i) => i.path.join('.')),
  };
}

describe('integerString', () => {
  const schema = integerString(0, 20_000);

  it.each([
    ['0', 0],
    ['1', 1],
    ['20000', 20_000],
    ['19999', 19_999],
  ])('takes %j as %d', (text, value) => {
    expect(schema.parse(text)).toBe(value);
  });

  it.each([
    '',
    ' ',
    ' 1',
    '1 ',
    '+1',
    '-1',
    '-0',
    '01',
    '00',
    '0x1',
    '0X1',
    '0b1',
    '0o1',
    '1e3',
    '1E3',
    '1.0',
    '1.',
    '.5',
    '1_000',
    'Infinity',
    'NaN',
    '١',
    '1\n',
    '20001',
    '99999999999999999999999',
    '1,2',
  ])('refuses %j', (text) => {
    expect(schema.safeParse(text).success).toBe(false);
  });

  it('refuses non-strings at run time (every query and path value is one)', () => {
    for (const value of [1, true, null, undefined, [], {}])
      expect(schema.safeParse(value).success).toBe(false);
  });

  it('never goes past the safe integers', () => {
    const wide = integerString(0, Number.MAX_SAFE_INTEGER);
    expect(wide.parse(String(Number.MAX_SAFE_INTEGER))).toBe(Number.MAX_SAFE_INTEGER);
    expect(wide.safeParse('9007199254740992').success).toBe(false);
    expect(wide.safeParse('9007199254740993').success).toBe(false);
  });

  it('is what every integer in a query or path uses, named in the issue', () => {
    expect(FetchQuery.safeParse({ offset: '0x1' }).error?.issues[0]?.path).toEqual(['offset']);
    expect(FetchQuery.safeParse({ offset: '1', maxWaitMs: '1e3' }).error?.issues[0]?.path).toEqual([
      'maxWaitMs',
    ]);
    expect(FetchQuery.safeParse({ offset: '1', maxBytes: '+1' }).error?.issues[0]?.path).toEqual([
      'maxBytes',
    ]);
    expect(FetchQuery.safeParse({ offset: '1', maxRecords: '' }).error?.issues[0]?.path).toEqual([
      'maxRecords',
    ]);
    expect(OffsetsQuery.safeParse({ timestamp: ' 1' }).error?.issues[0]?.path).toEqual(['timestamp']);
    expect(PartitionParams.safeParse({ topic: 't', partition: '0x0' }).error?.issues[0]?.path).toEqual([
      'partition',
    ]);
    expect(PartitionParams.safeParse({ topic: 't', partition: ' ' }).success).toBe(false);
    expect(FetchQuery.parse({ offset: '12', maxWaitMs: '0', encoding: 'utf8' })).toEqual({
      offset: 12,
      maxWaitMs: 0,
      encoding: 'utf8',
    });
  });

  it('takes what the SDK sends: String(value) of a safe integer', () => {
    for (const n of [0, 7, 4_194_304, Number.MAX_SAFE_INTEGER]) {
      expect(FetchQuery.parse({ offset: String(n) }).offset).toBe(n);
    }
  });
});

describe('strict objects', () => {
  it.each([
    ['FetchQuery', FetchQuery, { offset: '0', extra: '1' }],
    ['FetchQuery', FetchQuery, JSON.parse('{"offset":"0","__proto__":"1"}')],
    ['OffsetsQuery', OffsetsQuery, { time: '1' }],
    ['CreateTopicBody', CreateTopicBody, { topic: 't', partition: 1 }],
    ['AlterConfigsBody', AlterConfigsBody, { configs: {}, topic: 't' }],
    ['CreatePartitionsBody', CreatePartitionsBody, { totalPartitions: 2, partitions: 2 }],
  ])('%s refuses an unknown key', (_, schema, value) => {
    expect(schema.safeParse(value).success).toBe(false);
  });
});

describe('integers in JSON bodies', () => {
  it.each([true, '2', null, [2], 2.5, { n: 2 }])('totalPartitions refuses %j', (value) => {
    expect(CreatePartitionsBody.safeParse({ totalPartitions: value }).success).toBe(false);
  });

  it.each([false, '1', 1.5, [1]])('partitions refuses %j', (value) => {
    expect(CreateTopicBody.safeParse({ topic: 't', partitions: value }).success).toBe(false);
  });

  it('leaves the range to the SDK (INVALID_PARTITIONS): 0 and 5000 are integers', () => {
    expect(CreateTopicBody.safeParse({ topic: 't', partitions: 0 }).success).toBe(true);
    expect(CreatePartitionsBody.safeParse({ totalPartitions: 5000 }).success).toBe(true);
  });
});

describe('topicName', () => {
  it.each(['a', 'orders.v2', 'A_b-c', 'x'.repeat(249)])('takes %j', (name) => {
    expect(topicName.parse(name)).toBe(name);
    expect(TopicParams.parse({ topic: name })).toEqual({ topic: name });
  });

  it.each(['', '.', '..', 'x'.repeat(250), 'a b', 'a/b', 'é', 'a\u0000'])(
    'refuses %j with INVALID_TOPIC_NAME',
    (name) => {
      const { typed } = refusals(topicName, name);
      expect(typed[0]).toBeInstanceOf(InvalidTopicNameError);
    },
  );

  it('refuses a value that is not a string as a plain issue', () => {
    expect(refusals(topicName, 5).typed).toEqual([]);
  });
});

describe('topic configs', () => {
  it('takes each key in its documented JSON type', () => {
    const body = {
      topic: 't',
      configs: {
        'retention.ms': 3_600_000,
        'retention.bytes': '-1',
        'remote.storage.enable': false,
        'segment.bytes': '1048576',
        'compression.type': 'zstd',
        'home.region': 'eu-west-1',
      },
    };
    expect(CreateTopicBody.parse(body)).toEqual(body);
    expect(
      AlterConfigsBody.parse({ configs: { 'retention.ms': null, 'remote.storage.enable': 'true' } }),
    ).toEqual({
      configs: { 'retention.ms': null, 'remote.storage.enable': 'true' },
    });
  });

  it.each<[string, unknown]>([
    ['retention.ms', true],
    ['retention.ms', '1h'],
    ['retention.ms', ' 1000'],
    ['retention.ms', '1e3'],
    ['retention.ms', '0x10'],
    ['retention.ms', '+5'],
    ['retention.ms', 1.5],
    ['retention.ms', null],
    ['retention.ms', [1]],
    ['segment.bytes', { n: 1 }],
    ['remote.storage.enable', 1],
    ['remote.storage.enable', 'yes'],
    ['remote.storage.enable', 'TRUE'],
    ['compression.type', 1],
    ['compression.type', true],
    ['home.region', 5],
    ['constructor', 1],
    ['toString', 'x'],
    ['hasOwnProperty', true],
    ['valueOf', 1],
    ['__proto__', 'x'],
    ['__defineGetter__', 1],
    ['no.such.config', 1],
  ])('refuses %s = %j on create with INVALID_CONFIG naming the key', (key, value) => {
    const configs = JSON.parse(`{${JSON.stringify(key)}:${JSON.stringify(value)}}`);
    const { typed } = refusals(CreateTopicBody, { topic: 't', configs });
    expect(typed[0]).toBeInstanceOf(InvalidConfigError);
    expect((typed[0] as InvalidConfigError).key).toBe(key);
  });

  it.each(['constructor', '__proto__', 'no.such.config', 'toString'])(
    'refuses resetting the unknown key %s with INVALID_CONFIG',
    (key) => {
      const { typed } = refusals(AlterConfigsBody, JSON.parse(`{"configs":{${JSON.stringify(key)}:null}}`));
      expect(typed[0]).toBeInstanceOf(InvalidConfigError);
      expect((typed[0] as InvalidConfigError).key).toBe(key);
    },
  );

  it.each([null, 'x', 1, [], [['retention.ms', 1]]])('refuses a config map that is %j', (configs) => {
    expect(CreateTopicBody.safeParse({ topic: 't', configs }).success).toBe(false);
    expect(AlterConfigsBody.safeParse({ configs }).success).toBe(false);
  });

  it('documents every key of TOPIC_CONFIGS with its type, and no other key', () => {
    const json = z.toJSONSchema(CreateTopicBody, { io: 'input', unrepresentable: 'any' }) as unknown as {
      properties: { configs: { properties: Record<string, { anyOf?: { type: string }[]; type?: string }> } };
    };
    const documented = json.properties.configs;
    expect(documented).toMatchObject({ type: 'object', additionalProperties: false });
    expect(Object.keys(documented.properties).sort()).toEqual(Object.keys(TOPIC_CONFIGS).sort());
    expect(documented.properties['retention.ms']!.anyOf!.map((f) => f.type)).toEqual(['integer', 'string']);
    expect(documented.properties['remote.storage.enable']!.anyOf!.map((f) => f.type)).toEqual([
      'boolean',
      'string',
    ]);
    expect(documented.properties['compression.type']).toMatchObject({
      type: 'string',
      enum: expect.any(Array),
    });
  });
});

describe('ownRecord', () => {
  it('keeps a __proto__ key, which z.record drops without validating it', () => {
    const input = JSON.parse('{"__proto__":"x","a":"y"}');
    // Why ownRecord exists: zod's record skips the key (and would not even check its value).
    expect(Object.keys(z.record(z.string(), z.string()).parse(input))).toEqual(['a']);
    expect(
      z.record(z.string(), z.number()).safeParse(JSON.parse('{"__proto__":"not a number"}')).success,
    ).toBe(true);

    const parsed = ownRecord(z.string()).parse(input);
    expect(Object.keys(parsed)).toEqual(['__proto__', 'a']);
    expect(Object.getOwnPropertyDescriptor(parsed, '__proto__')?.value).toBe('x');
    expect(Object.getPrototypeOf(parsed)).toBe(Object.prototype);
  });

  it('validates every value, naming the key', () => {
    const parsed = ownRecord(z.string()).safeParse(JSON.parse('{"__proto__":1,"b":"ok","c":[]}'));
    expect(parsed.error?.issues.map((i) => i.path)).toEqual([['__proto__'], ['c']]);
    expect(ownRecord(z.string()).safeParse([]).success).toBe(false);
    expect(ownRecord(z.string()).safeParse(null).success).toBe(false);
  });

  it('is documented as the record it replaces', () => {
    expect(z.toJSONSchema(ownRecord(z.string()), { io: 'input', unrepresentable: 'any' })).toMatchObject({
      type: 'object',
      additionalProperties: { type: 'string' },
    });
  });
});
