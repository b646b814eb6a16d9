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

interface ConfigDef {
  readonly default: string | undefined;
  readonly doc: string;
  /** Returns an error message, or undefined when the value is valid. */
  readonly check: (value: string) => string | undefined;
}

const DAY_MS = 86_400_000;

function longAtLeast(min: number, max = Number.MAX_SAFE_INTEGER): (value: string) => string | undefined {
  return (value) => {
    if (!/^-?\d+$/.test(value)) return `"${value}" is not an integer`;
    const n = Number(value);
    if (!Number.isSafeInteger(n) || n < min || n > max) return `${value} is outside ${min}..${max}`;
    return undefined;
  };
}

function oneOf(...allowed: string[]): (value: string) => string | undefined {
  return (value) => (allowed.includes(value) ? undefined : `"${value}" is not one of ${allowed.join(', ')}`);
}

/** Every config key Tributary accepts, with its default and doc. */
export const TOPIC_CONFIGS: Readonly<Record<string, ConfigDef>> = {
  'retention.ms': {
    default: String(7 * DAY_MS),
    doc: 'ms to keep records; -1 = forever',
    check: longAtLeast(-1),
  },
  'retention.bytes': {
    default: '-1',
    doc: 'max bytes per partition; -1 = unlimited',
    check: longAtLeast(-1),
  },
  'local.retention.ms': {
    default: String(DAY_MS),
    doc: 'ms a batch stays in DynamoDB before it is archived to S3; -1 = never archive by age',
    check: longAtLeast(-1),
  },
  'local.retention.bytes': {
    default: '-1',
    doc: 'bytes per partition kept in DynamoDB before archiving; -1 = no limit',
    check: longAtLeast(-1),
  },
  'remote.storage.enable': {
    default: 'true',
    doc: 'archive old batches to S3',
    check: oneOf('true', 'false'),
  },
  'segment.bytes': {
    default: String(8 * 1024 * 1024),
    doc: 'largest S3 segment in bytes (1024..1073741824)',
    check: longAtLeast(1024, 1024 * 1024 * 1024),
  },
  'segment.ms': {
    default: String(60 * 60 * 1000),
    doc: 'ms of record timestamps after which a segment closes (≥ 1)',
    check: longAtLeast(1),
  },
  'max.message.bytes': {
    default: String(1024 * 1024),
    doc: `largest record batch in bytes (1..${MAX_MESSAGE_BYTES_LIMIT})`,
    check: longAtLeast(1, MAX_MESSAGE_BYTES_LIMIT),
  },
  'large.message.threshold.bytes': {
    default: String(256 * 1024),
    doc: 'batches of at least this many bytes are stored in S3 with a pointer in the log (1024..358400)',
    check: longAtLeast(1024, 350 * 1024),
  },
  'compression.type': {
    default: 'producer',
    doc: 'producer, uncompressed, gzip, snappy, lz4 or zstd',
    check: oneOf('producer', 'uncompressed', 'none', 'gzip', 'snappy', 'lz4', 'zstd'),
  },
  'cleanup.policy': {
    default: 'delete',
    doc: 'delete (log compaction is not supported)',
    check: (v) =>
      v === 'delete' ? undefined : `"${v}" is not supported; only "delete" is (no log compaction)`,
  },
  'message.timestamp.type': {
    default: 'CreateTime',
    doc: 'CreateTime or LogAppendTime',
    check: oneOf('CreateTime', 'LogAppendTime'),
  },
  'home.region': {
    default: undefined,
    doc: 'AWS region that takes appends when tables are replicated',
    check: (v) => (/^[a-z]{2}(-[a-z]+)+-\d$/.test(v) ? undefined : `"${v}" is not an AWS region name`),
  },
};

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
    const def = TOPIC_CONFIGS[key];
    if (!def) {
      throw new InvalidConfigError(
        key,
        `unknown config; supported: ${Object.keys(TOPIC_CONFIGS).join(', ')}`,
      );
    }
    const value = String(raw).trim();
    const problem = def.check(value);
    if (problem) throw new InvalidConfigError(key, `${problem} (${def.doc})`);
    out[key] = value === 'none' && key === 'compression.type' ? 'uncompressed' : value;
  }
  // Only explicit local retentions are checked against the total: the default local retention
  // is capped by a shorter total retention when parsed (see parseTopicConfig).
  const parsed = parseTopicConfig(out);
  if (
    'local.retention.ms' in out &&
    parsed.retentionMs !== -1 &&
    Number(out['local.retention.ms']) > parsed.retentionMs
  ) {
    throw new InvalidConfigError(
      'local.retention.ms',
      `${out['local.retention.ms']} is longer than retention.ms (${parsed.retentionMs}); it must be at most that`,
    );
  }
  if (
    'local.retention.bytes' in out &&
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

function get(configs: Readonly<Record<string, string>>, key: string): string | undefined {
  return configs[key] ?? TOPIC_CONFIGS[key]?.default;
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
