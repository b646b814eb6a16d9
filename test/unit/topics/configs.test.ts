import { describe, expect, it } from 'vitest';
import { InvalidConfigError, InvalidTopicNameError } from '../../../sdk/src/errors.ts';
import {
  effectiveConfigs,
  parseTopicConfig,
  validateConfigKeys,
  validateTopicConfigs,
} from '../../../sdk/src/topics/configs.ts';
import { validateTopicName } from '../../../sdk/src/topics/names.ts';

describe('topic names', () => {
  it.each(['a', 'orders', 'Orders.v2', 'a_b-c.d', 'x'.repeat(249)])('accepts %j', (name) => {
    expect(() => validateTopicName(name)).not.toThrow();
  });
  it.each(['', '.', '..', 'x'.repeat(250), 'a b', 'a/b', 'a:b', 'é', 'a*'])('refuses %j', (name) => {
    expect(() => validateTopicName(name)).toThrow(InvalidTopicNameError);
  });
});

describe('topic configs', () => {
  it('fills in defaults', () => {
    const c = parseTopicConfig({});
    expect(c).toMatchObject({
      retentionMs: 604_800_000,
      retentionBytes: -1,
      localRetentionMs: 86_400_000,
      maxMessageBytes: 1_048_576,
      largeMessageThresholdBytes: 262_144,
      compressionType: 'producer',
      cleanupPolicy: 'delete',
      timestampType: 'CreateTime',
      remoteStorageEnable: true,
    });
  });

  it('normalises values and caps the default local retention by a shorter total', () => {
    const stored = validateTopicConfigs({ 'retention.ms': 3_600_000, 'compression.type': 'none' });
    expect(stored).toEqual({ 'retention.ms': '3600000', 'compression.type': 'uncompressed' });
    expect(parseTopicConfig(stored)).toMatchObject({ localRetentionMs: 3_600_000, compressionType: 'none' });
    expect(effectiveConfigs(stored)['local.retention.ms']).toBe('86400000');
  });

  it.each([
    [{ 'segment.jitter.ms': 1 }, 'segment.jitter.ms'],
    [{ 'segment.ms': 0 }, 'segment.ms'],
    [{ 'segment.bytes': 1023 }, 'segment.bytes'],
    [{ 'retention.ms': '1h' }, 'retention.ms'],
    [{ 'retention.bytes': -2 }, 'retention.bytes'],
    [{ 'max.message.bytes': 10 * 1024 * 1024 + 1 }, 'max.message.bytes'],
    [{ 'cleanup.policy': 'compact' }, 'cleanup.policy'],
    [{ 'message.timestamp.type': 'Now' }, 'message.timestamp.type'],
    [{ 'home.region': 'mars' }, 'home.region'],
    [{ 'retention.ms': 1000, 'local.retention.ms': 5000 }, 'local.retention.ms'],
    [{ 'retention.bytes': 1000, 'local.retention.bytes': 5000 }, 'local.retention.bytes'],
  ])('refuses %j naming %s', (input, key) => {
    expect(() => validateTopicConfigs(input)).toThrow(InvalidConfigError);
    try {
      validateTopicConfigs(input);
    } catch (error) {
      expect((error as InvalidConfigError).key).toBe(key);
    }
  });

  it.each([
    'constructor',
    'toString',
    'hasOwnProperty',
    'valueOf',
    '__proto__',
    '__lookupGetter__',
    'isPrototypeOf',
  ])('refuses the built-in property name %s as an unknown config, set or reset', (key) => {
    // JSON.parse makes "__proto__" an own key, as a request body would.
    const input = JSON.parse(`{${JSON.stringify(key)}:"1"}`);
    expect(() => validateTopicConfigs(input)).toThrow(InvalidConfigError);
    expect(() => validateTopicConfigs(input)).toThrow(/unknown config/);
    expect(() => validateConfigKeys([key])).toThrow(InvalidConfigError);
  });

  it('ignores built-in property names in stored configs', () => {
    const stored = JSON.parse('{"constructor":"1","__proto__":"2","retention.ms":"5000"}');
    expect(parseTopicConfig(stored)).toMatchObject({ retentionMs: 5000, segmentBytes: 8 * 1024 * 1024 });
    expect(effectiveConfigs(stored)).not.toHaveProperty('constructor');
    expect(Object.keys(effectiveConfigs({}))).not.toContain('__proto__');
  });

  it('validates changes against the configs already set', () => {
    const base = validateTopicConfigs({ 'retention.ms': 10_000 });
    expect(() => validateTopicConfigs({ 'local.retention.ms': 20_000 }, base)).toThrow(InvalidConfigError);
    expect(validateTopicConfigs({ 'local.retention.ms': 5_000 }, base)).toEqual({
      'retention.ms': '10000',
      'local.retention.ms': '5000',
    });
  });
});
