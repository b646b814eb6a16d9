/**
 * Topic configs: the Kafka names Tributary honours, their defaults, and validation. Configs are
 * stored as strings (like Kafka's) and parsed into {@link TopicConfig} when read.
 */
import { InvalidConfigError } from '../errors.ts';
import type { Compression } from '../log/compression.ts';

/** Largest record batch Tributary accepts (the claim-check path stores it in S3). */
export const MAX_MESSAGE_BYTES_LIMIT = 10 * 1024 * 1024;

/** Parsed, typed view of a topic's configs (defaults applied). */
export interface TopicConfig {
  /** How long records are kept (ms); -1 keeps them forever. Kafka: `retention.ms`. */
  readonly retentionMs: number;
  /** Max bytes per partition before old segments are deleted; -1 = no limit. Kafka: `retention.bytes`. */
  readonly retentionBytes: number;
  /** How long batches stay in DynamoDB before the archiver moves them to S3; -1 = never. Kafka (KIP-405): `local.retention.ms`. */
  readonly localRetentionMs: number;
  /** Bytes per partition kept in DynamoDB before archiving; -1 = no limit. Kafka (KIP-405): `local.retention.bytes`. */
  readonly localRetentionBytes: number;
  /** Whether old batches are archived to S3 at all. Kafka (KIP-405): `remote.storage.enable`. */
  readonly remoteStorageEnable: boolean;
  /** Largest S3 segment (bytes of batches); a segment closes before it would exceed this. Kafka: `segment.bytes`. */
  readonly segmentBytes: number;
  /** A segment closes once its batches span this many ms of (running max) timestamps. Kafka: `segment.ms`. */
  readonly segmentMs: number;
  /** Largest record batch (after compression) accepted. Kafka: `max.message.bytes`. */
  readonly maxMessageBytes: number;
  /** Batches at least this large are stored in S3 with a pointer in the log (claim check). */
  readonly largeMessageThresholdBytes: number;
  /** `producer` keeps the producer's codec; anything else recompresses with that codec. Kafka: `compression.type`. */
  readonly compressionType: 'producer' | Compression;
  /** Only `delete` is supported: old data is removed by retention. Kafka: `cleanup.policy`. */
  readonly cleanupPolicy: 'delete';
  /** Whether record timestamps are the producer's (`CreateTime`) or the append time. Kafka: `message.timestamp.type`. */
  readonly timestampType: 'CreateTime' | 'LogAppendTime';
  /** Region that takes appends when the tables are replicated; unset = the only region. */
  readonly homeRegion: string | undefined;
}

/**
 * The JSON type and allowed values of a config. The HTTP API's schemas are generated from it
 * (`api/schemas.ts`), and {@link validateTopicConfigs} checks values with it, so the two cannot
 * disagree on what a key takes.
 */
export type ConfigValueType =
  /** A whole number in `min..max`: a JSON integer or its decimal string. */
  | { readonly type: 'integer'; readonly min: number; readonly max: number }
  /** `true` or `false`: a JSON boolean or its string. */
  | { readonly type: 'boolean' }
  /** One of `values`, as a string. */
  | { readonly type: 'enum'; readonly values: readonly string[] }
  /** A string matching `pattern` (`what` names the form in errors). */
  | { readonly type: 'string'; readonly pattern: RegExp; readonly what: string };

/** One config key Tributary honours. */
export interface ConfigDef {
  /** Value when the key is not set (as stored: a string); undefined when unset means "none". */
  readonly default: string | undefined;
  readonly doc: string;
  readonly value: ConfigValueType;
}

const DAY_MS = 86_400_000;

const long = (min: number, max = Number.MAX_SAFE_INTEGER): ConfigValueType => ({ type: 'integer', min, max });
const oneOf = (...values: string[]): ConfigValueType => ({ type: 'enum', values });

/** Every config key Tributary accepts, with its default, doc and type. Look keys up with {@link topicConfigDef}. */
export const TOPIC_CONFIGS: Readonly<Record<string, ConfigDef>> = {
  'retention.ms': {
    default: String(7 * DAY_MS),
    doc: 'ms to keep records; -1 = forever',
    value: long(-1),
  },
  'retention.bytes': {
    default: '-1',
    doc: 'max bytes per partition; -1 = unlimited',
    value: long(-1),
  },
  'local.retention.ms': {
    default: String(DAY_MS),
    doc: 'ms a batch stays in DynamoDB before it is archived to S3; -1 = never archive by age',
    value: long(-1),
  },
  'local.retention.bytes': {
    default: '-1',
    doc: 'bytes per partition kept in DynamoDB before archiving; -1 = no limit',
    value: long(-1),
  },
  'remote.storage.enable': {
    default: 'true',
    doc: 'archive old batches to S3',
    value: { type: 'boolean' },
  },
  'segment.bytes': {
    default: String(8 * 1024 * 1024),
    doc: 'largest S3 segment in bytes (1024..1073741824)',
    value: long(1024, 1024 * 1024 * 1024),
  },
  'segment.ms': {
    default: String(60 * 60 * 1000),
    doc: 'ms of record timestamps after which a segment closes (≥ 1)',
    value: long(1),
  },
  'max.message.bytes': {
    default: String(1024 * 1024),
    doc: `largest record batch in bytes (1..${MAX_MESSAGE_BYTES_LIMIT})`,
    value: long(1, MAX_MESSAGE_BYTES_LIMIT),
  },
  'large.message.threshold.bytes': {
    default: String(256 * 1024),
    doc: 'batches of at least this many bytes are stored in S3 with a pointer in the log (1024..358400)',
    value: long(1024, 350 * 1024),
  },
  'compression.type': {
    default: 'producer',
    doc: 'producer, uncompressed (or none), gzip, snappy, lz4 or zstd',
    value: oneOf('producer', 'uncompressed', 'none', 'gzip', 'snappy', 'lz4', 'zstd'),
  },
  'cleanup.policy': {
    default: 'delete',
    doc: 'delete (log compaction is not supported)',
    value: oneOf('delete'),
  },
  'message.timestamp.type': {
    default: 'CreateTime',
    doc: 'CreateTime or LogAppendTime',
    value: oneOf('CreateTime', 'LogAppendTime'),
  },
  'home.region': {
    default: undefined,
    doc: 'AWS region that takes appends when tables are replicated',
    value: { type: 'string', pattern: /^[a-z]{2}(-[a-z]+)+-\d$/, what: 'an AWS region name' },
  },
};

/**
 * The definition of config `key`, or undefined for a key Tributary does not know. An own-property
 * lookup: caller-supplied keys such as `constructor` or `__proto__` are unknown configs, not
 * members of `Object.prototype`.
 */
export function topicConfigDef(key: string): ConfigDef | undefined {
  return Object.hasOwn(TOPIC_CONFIGS, key) ? TOPIC_CONFIGS[key] : undefined;
}

/** The error for a config key Tributary does not know. */
export function unknownConfigError(key: string): InvalidConfigError {
  return new InvalidConfigError(key, `unknown config; supported: ${Object.keys(TOPIC_CONFIGS).join(', ')}`);
}

/** Refuses, with {@link InvalidConfigError}, the first key that is not a known config (set or reset). */
export function validateConfigKeys(keys: Iterable<string>): void {
  for (const key of keys) if (!topicConfigDef(key)) throw unknownConfigError(key);
}

/** What is wrong with a (trimmed, stringified) value of a config of type `type`, or undefined if it is valid. */
function problemOf(type: ConfigValueType, value: string): string | undefined {
  switch (type.type) {
    case 'integer': {
      if (!/^-?\d+$/.test(value)) return `"${value}" is not an integer`;
      const n = Number(value);
      if (!Number.isSafeInteger(n) || n < type.min || n > type.max) {
        return `${value} is outside ${type.min}..${type.max}`;
      }
      return undefined;
    }
    case 'boolean':
      return value === 'true' || value === 'false' ? undefined : `"${value}" is not true or false`;
    case 'enum':
      return type.values.includes(value) ? undefined : `"${value}" is not one of ${type.values.join(', ')}`;
    case 'string':
      return type.pattern.test(value) ? undefined : `"${value}" is not ${type.what}`;
  }
}

/**
 * Validates configs given by a user (create or alter) and returns them normalised as strings.
 * Unknown keys, bad values and contradictions (local retention longer than total) are refused
 * with {@link InvalidConfigError} naming the key and what is allowed.
 */
export function validateTopicConfigs(
  input: Readonly<Record<string, string | number | boolean>>,
  base: Readonly<Record<string, string>> = {},
): Record<string, string> {
  const out: Record<string, string> = { ...base };
  for (const [key, raw] of Object.entries(input)) {
    const def = topicConfigDef(key);
    if (!def) throw unknownConfigError(key);
    const value = String(raw).trim();
    const problem = problemOf(def.value, value);
    if (problem) throw new InvalidConfigError(key, `${problem} (${def.doc})`);
    out[key] = value === 'none' && key === 'compression.type' ? 'uncompressed' : value;
  }
  // Only explicit local retentions are checked against the total: the default local retention
  // is capped by a shorter total retention when parsed (see parseTopicConfig).
  const parsed = parseTopicConfig(out);
  if (
    Object.hasOwn(out, 'local.retention.ms') &&
    parsed.retentionMs !== -1 &&
    Number(out['local.retention.ms']) > parsed.retentionMs
  ) {
    throw new InvalidConfigError(
      'local.retention.ms',
      `${out['local.retention.ms']} is longer than retention.ms (${parsed.retentionMs}); it must be at most that`,
    );
  }
  if (
    Object.hasOwn(out, 'local.retention.bytes') &&
    parsed.retentionBytes !== -1 &&
    Number(out['local.retention.bytes']) > parsed.retentionBytes
  ) {
    throw new InvalidConfigError(
      'local.retention.bytes',
      `${out['local.retention.bytes']} is more than retention.bytes (${parsed.retentionBytes}); it must be at most that`,
    );
  }
  return out;
}

/** A stored config's value, or its default: own-property lookups only (stored maps come from callers). */
function get(configs: Readonly<Record<string, string>>, key: string): string | undefined {
  return (Object.hasOwn(configs, key) ? configs[key] : undefined) ?? topicConfigDef(key)?.default;
}

/** Parses stored configs into typed values, applying defaults. */
export function parseTopicConfig(configs: Readonly<Record<string, string>>): TopicConfig {
  const num = (key: string) => Number(get(configs, key));
  const compression = get(configs, 'compression.type');
  const retentionMs = num('retention.ms');
  const retentionBytes = num('retention.bytes');
  const capped = (local: number, total: number) =>
    total === -1 || (local !== -1 && local <= total) ? local : total;
  return {
    retentionMs,
    retentionBytes,
    localRetentionMs: capped(num('local.retention.ms'), retentionMs),
    localRetentionBytes: capped(num('local.retention.bytes'), retentionBytes),
    remoteStorageEnable: get(configs, 'remote.storage.enable') === 'true',
    segmentBytes: num('segment.bytes'),
    segmentMs: num('segment.ms'),
    maxMessageBytes: num('max.message.bytes'),
    largeMessageThresholdBytes: num('large.message.threshold.bytes'),
    compressionType:
      compression === 'uncompressed' ? 'none' : (compression as TopicConfig['compressionType']),
    cleanupPolicy: 'delete',
    timestampType:
      get(configs, 'message.timestamp.type') === 'LogAppendTime' ? 'LogAppendTime' : 'CreateTime',
    homeRegion: get(configs, 'home.region'),
  };
}

/** All configs with defaults filled in, as strings (what `describe` shows). */
export function effectiveConfigs(configs: Readonly<Record<string, string>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const key of Object.keys(TOPIC_CONFIGS)) {
    const value = get(configs, key);
    if (value !== undefined) out[key] = value;
  }
  return out;
}
