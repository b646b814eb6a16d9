/**
 * Request and response bodies of the HTTP API, defined once. The Lambda handlers validate with
 * them, the SDK's HTTP transport takes its types from them (`z.infer`), and `openapi.ts` turns
 * them into the OpenAPI document. Bytes travel as base64 or UTF-8 text (the request's `encoding`);
 * dates as ISO-8601 strings; offsets as JSON numbers (safe integers).
 */
import { z } from 'zod';
import {
  InvalidConfigError,
  InvalidTopicNameError,
  InvalidTriggerError,
  TributaryError,
  TriggerNotFoundError,
} from '../errors.ts';
import {
  type ConfigDef,
  type ConfigValueType,
  TOPIC_CONFIGS,
  topicConfigDef,
  unknownConfigError,
} from '../topics/configs.ts';
import { LEGAL_TOPIC_NAME, MAX_TOPIC_NAME_LENGTH, validateTopicName } from '../topics/names.ts';
import { MAX_PARTITIONS } from '../topics/registry.ts';
import { TRIGGER_LIMITS } from '../triggers/trigger-settings.ts';
import { MAX_FETCH_WAIT_MS } from './limits.ts';

// ---------- typed refusals ----------

const REFUSAL = 'tributaryRefusal';

/**
 * Refuses a value with a typed error of the SDK. Most invalid input is one INVALID_ARGUMENT listing
 * every issue; where the SDK answers a value with a more specific code (a topic name, a config),
 * the schema raises that very error, carried in a custom issue, so a caller sees one code for one
 * mistake whether the schema or the SDK caught it.
 */
function refuse(ctx: z.RefinementCtx, error: TributaryError): void {
  ctx.addIssue({ code: 'custom', message: error.message, params: { [REFUSAL]: error } });
}

/** The typed error an issue carries (see {@link refuse}), or undefined for a plain issue. */
export function refusalOf(issue: z.core.$ZodIssue): TributaryError | undefined {
  if (issue.code !== 'custom') return undefined;
  const refusal: unknown = issue.params?.[REFUSAL];
  return refusal instanceof TributaryError ? refusal : undefined;
}

// ---------- primitives ----------

const offset = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
/** Highest partition number a request may name (any partition past the topic's is UNKNOWN_PARTITION). */
const MAX_PARTITION_NUMBER = 1_000_000;
const partition = z.number().int().min(0).max(MAX_PARTITION_NUMBER);
// Group ids are checked by the SDK, which answers with its typed error (INVALID_GROUP_ID) before
// anything is written.
const name = z.string();

/** Characters of a caller's name or key quoted in an error, when it is too long to be valid anyway. */
const QUOTED_CHARS = 64;

function clip(text: string): string {
  return text.length > QUOTED_CHARS ? `${text.slice(0, QUOTED_CHARS)}…` : text;
}

/**
 * A legal topic name: Kafka's rules, as `topics/names.ts` checks them (1-249 characters of
 * `[a-zA-Z0-9._-]`, not `.` or `..`). An illegal name is refused with INVALID_TOPIC_NAME, the
 * code the SDK answers it with; a value that is not a string with INVALID_ARGUMENT. For every
 * topic name in a path, a query or a body.
 */
export const topicName = z
  .string()
  .min(1)
  .max(MAX_TOPIC_NAME_LENGTH)
  .regex(LEGAL_TOPIC_NAME)
  .superRefine((value, ctx) => {
    try {
      validateTopicName(value);
    } catch (error) {
      if (!(error instanceof InvalidTopicNameError)) throw error;
      // The SDK's error names the topic; one far past the limit is named by its start.
      const long = value.length > MAX_TOPIC_NAME_LENGTH;
      refuse(
        ctx,
        long ? new InvalidTopicNameError(clip(value), `it is ${value.length} characters long`) : error,
      );
    }
  });

/** `0`, or a non-zero digit and more digits: the one way an integer is written in a query or path. */
const DECIMAL = /^(0|[1-9][0-9]*)$/;

/**
 * An integer in `min..max` written in a query parameter or a path segment (where every value is a
 * string). Only canonical decimal digits are taken — no sign, spaces, exponent, hex, leading
 * zeros, fraction or empty value, all of which `Number()` would accept — and the range never goes
 * past the safe integers. A refusal is an INVALID_ARGUMENT naming the field. The OpenAPI document
 * shows it as an integer with its range (a parameter is serialised as its decimal text).
 *
 * The input type also takes a number because the SDK's HTTP transport passes numbers, which it
 * writes with `String(value)`: exactly this form for a safe integer. On the wire it is a string.
 */
export function integerString(min: number, max: number): z.ZodType<number, string | number> {
  const top = Math.min(max, Number.MAX_SAFE_INTEGER);
  const schema = z
    .string()
    .regex(DECIMAL, {
      error: 'must be a decimal integer: digits only, no sign, spaces, exponent or leading zeros',
    })
    .transform(Number)
    .pipe(z.number().int().min(min).max(top))
    .meta({ type: 'integer', minimum: min, maximum: top, pattern: undefined });
  return schema as unknown as z.ZodType<number, string | number>;
}

function isJsonObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The JSON Schema of a zod schema, for documenting schemas zod cannot describe itself. */
function jsonSchemaOf(schema: z.ZodType): Record<string, unknown> {
  const { $schema: _, ...json } = z.toJSONSchema(schema, { io: 'input', target: 'draft-2020-12' });
  return json;
}

/**
 * A JSON object whose values match `value`, keeping every own key. `z.record` skips a key named
 * `__proto__` without a word — neither validated nor passed on — so that the key cannot replace
 * the prototype of the object zod builds; a record header or map entry named `__proto__` would
 * vanish. This schema validates every own key and defines (never assigns) each property of its
 * output, so `__proto__` is kept as an ordinary key.
 */
export function ownRecord<V extends z.ZodType>(value: V) {
  return z
    .custom<Record<string, z.input<V>>>(isJsonObject, { error: 'expected an object' })
    .transform((input, ctx) => {
      const out: Record<string, z.output<V>> = {};
      for (const key of Object.keys(input)) {
        const parsed = value.safeParse(input[key]);
        if (parsed.success) {
          Object.defineProperty(out, key, {
            value: parsed.data,
            enumerable: true,
            writable: true,
            configurable: true,
          });
          continue;
        }
        for (const issue of parsed.error.issues) {
          ctx.addIssue({
            code: 'custom',
            message: issue.message,
            path: [key, ...issue.path],
            ...(issue.code === 'custom' && issue.params ? { params: issue.params } : {}),
          });
        }
      }
      return out;
    })
    .meta(jsonSchemaOf(z.record(z.string(), value)));
}

/** How keys, values and header values are written in a body. */
export const Encoding = z
  .enum(['utf8', 'base64'])
  .describe('How keys, values and header values are written: UTF-8 text or base64 bytes.');
export type Encoding = z.infer<typeof Encoding>;

/** Path parameters. */
export const TopicParams = z.object({ topic: topicName });
export const PartitionParams = z.object({
  topic: topicName,
  partition: integerString(0, MAX_PARTITION_NUMBER),
});
export const GroupParams = z.object({ group: name });
export const MemberParams = z.object({ group: name, member: z.string().regex(/^[a-zA-Z0-9._-]{1,249}$/) });
export const MemberTopicParams = MemberParams.extend({ topic: name });

// ---------- topics ----------

/** A config value as the SDK takes it (`Admin.createTopic`, `Admin.alterTopicConfigs`). */
type ConfigValue = string | number | boolean;

/** Longer than any config key Tributary knows. */
const MAX_CONFIG_KEY_LENGTH = 256;

/** An integer config written as a string: decimal digits with an optional minus sign. */
const SIGNED_DECIMAL = /^(0|-?[1-9][0-9]*)$/;

/** Whether `value` has the JSON type config type `type` takes (its range is the SDK's to check). */
function hasConfigType(type: ConfigValueType, value: unknown): boolean {
  switch (type.type) {
    case 'integer':
      return Number.isSafeInteger(value) || (typeof value === 'string' && SIGNED_DECIMAL.test(value));
    case 'boolean':
      return typeof value === 'boolean' || value === 'true' || value === 'false';
    case 'enum':
    case 'string':
      return typeof value === 'string';
  }
}

/**
 * A caller's value in an error message: short, and never the whole of a large or deeply nested
 * value (which JSON.stringify could not even write: it recurses).
 */
function describeValue(value: unknown): string {
  if (typeof value === 'string') {
    return value.length > 64 ? `a string of ${value.length} characters` : JSON.stringify(value);
  }
  if (Array.isArray(value)) return 'an array';
  if (value === null) return 'null';
  return typeof value === 'object' ? 'an object' : String(value);
}

/** What a config of type `type` takes, for error messages. */
function configTypeName(type: ConfigValueType): string {
  switch (type.type) {
    case 'integer':
      return 'an integer (a JSON integer or a decimal string)';
    case 'boolean':
      return 'a boolean (true, false, "true" or "false")';
    case 'enum':
      return `a string, one of ${type.values.join(', ')}`;
    case 'string':
      return `a string, ${type.what}`;
  }
}

/** The JSON Schema of one config's value. */
function configJsonSchema(def: ConfigDef, resettable: boolean): Record<string, unknown> {
  const type = def.value;
  const forms: Record<string, unknown>[] =
    type.type === 'integer'
      ? [
          { type: 'integer', minimum: type.min, maximum: type.max },
          { type: 'string', pattern: SIGNED_DECIMAL.source },
        ]
      : type.type === 'boolean'
        ? [{ type: 'boolean' }, { type: 'string', enum: ['true', 'false'] }]
        : type.type === 'enum'
          ? [{ type: 'string', enum: [...type.values] }]
          : [{ type: 'string', pattern: type.pattern.source }];
  if (resettable) forms.push({ type: 'null' });
  const defaults = def.default === undefined ? 'no default' : `default ${def.default}`;
  return {
    description: `${def.doc} (${defaults})`,
    ...(forms.length === 1 ? forms[0] : { anyOf: forms }),
  };
}

/**
 * A map of topic configs, generated from `TOPIC_CONFIGS` (the one definition of what each key
 * takes). The schema checks each value's JSON type; the SDK checks ranges, enumerations and
 * contradictions. Any refusal — an unknown key (including built-in names such as `constructor` or
 * `__proto__`), a value of the wrong type — is INVALID_CONFIG naming the key, the code the SDK
 * answers with. With `resettable`, `null` resets a known key to its default.
 */
function topicConfigMap<R extends boolean>(resettable: R) {
  const properties = Object.fromEntries(
    Object.entries(TOPIC_CONFIGS).map(([key, def]) => [key, configJsonSchema(def, resettable)]),
  );
  type Map = Readonly<Record<string, R extends true ? ConfigValue | null : ConfigValue>>;
  return z
    .custom<Map>(isJsonObject, { error: 'expected an object of config names to values' })
    .superRefine((configs, ctx) => {
      // Own keys only: `Object.keys` lists a `__proto__` key that JSON.parse made an own property.
      for (const key of Object.keys(configs)) {
        const def = topicConfigDef(key);
        if (!def) {
          // No known key is long: a long one is named by its start.
          refuse(ctx, unknownConfigError(key.length > MAX_CONFIG_KEY_LENGTH ? clip(key) : key));
          continue;
        }
        const value: unknown = configs[key];
        if (value === null && resettable) continue;
        if (!hasConfigType(def.value, value)) {
          refuse(
            ctx,
            new InvalidConfigError(
              key,
              `${describeValue(value)} is not ${configTypeName(def.value)} (${def.doc})`,
            ),
          );
        }
      }
    })
    .meta({ type: 'object', properties, additionalProperties: false });
}

export const CreateTopicBody = z
  .object({
    topic: topicName,
    partitions: z
      .int()
      .optional()
      .meta({ minimum: 1, maximum: MAX_PARTITIONS })
      .describe(`Default 1; 1..${MAX_PARTITIONS} (INVALID_PARTITIONS outside that range).`),
    configs: topicConfigMap(false)
      .optional()
      .describe('Kafka-style configs; see docs/configs.md. An unknown key or a bad value is INVALID_CONFIG.'),
  })
  .strict();
export type CreateTopicBody = z.infer<typeof CreateTopicBody>;

export const TopicSummary = z.object({ name: z.string(), partitions: z.number().int() });
export const TopicList = z.object({ topics: z.array(TopicSummary) });
export type TopicList = z.infer<typeof TopicList>;

export const RegionReplicationBody = z.object({
  region: z.string(),
  home: z.boolean().describe("True for the topic's home region (the copy that takes appends)."),
  highWatermark: offset.describe("End of this region's newest batch."),
  leaderEpoch: z.number().int().describe("Leader epoch of this region's newest batch."),
  lagRecords: z.number().int().describe("Offsets below the home's high watermark this region lacks."),
  lagMs: z.number().int().describe('Age of the oldest batch this region lacks, from its append time (ms).'),
});
export type RegionReplicationBody = z.infer<typeof RegionReplicationBody>;

export const PartitionOffsetsBody = z.object({
  partition: z.number().int(),
  logStartOffset: offset,
  localLogStartOffset: offset,
  highWatermark: offset,
  dynamodb: z.object({ startOffset: offset, endOffset: offset, bytes: z.number().int() }),
  s3: z.object({
    startOffset: offset,
    endOffset: offset,
    segments: z.number().int(),
    bytes: z.number().int(),
  }),
  regions: z
    .array(RegionReplicationBody)
    .readonly()
    .optional()
    .describe("describeTopic, when the API knows the deployment's regions: each region's copy."),
});
export type PartitionOffsetsBody = z.infer<typeof PartitionOffsetsBody>;

export const DescribeTopicQuery = z
  .object({
    offsets: z
      .enum(['true', 'false'])
      .optional()
      .describe('false: configs and partition count only (one read, not three per partition). Default true.'),
  })
  .strict();
export type DescribeTopicQuery = z.infer<typeof DescribeTopicQuery>;

export const TopicDescriptionBody = z.object({
  name: z.string(),
  incarnation: z.string(),
  createdAt: z.iso.datetime(),
  partitionCount: z.number().int(),
  partitions: z.array(PartitionOffsetsBody).describe('Per partition; empty with ?offsets=false.'),
  configs: z.record(z.string(), z.string()),
});
export type TopicDescriptionBody = z.infer<typeof TopicDescriptionBody>;

export const DeleteTopicResult = z.object({
  topic: z.string(),
  purged: z
    .boolean()
    .describe(
      'false: the topic is gone, its records are still being purged (the scheduled archiver finishes the purge).',
    ),
});
export type DeleteTopicResult = z.infer<typeof DeleteTopicResult>;

export const AlterConfigsBody = z
  .object({
    configs: topicConfigMap(true).describe(
      'Configs to set; null resets a key to its default. An unknown key (also one being reset) or a bad value is INVALID_CONFIG.',
    ),
  })
  .strict();
export type AlterConfigsBody = z.infer<typeof AlterConfigsBody>;

export const CreatePartitionsBody = z
  .object({
    totalPartitions: z
      .int()
      .meta({ minimum: 1, maximum: MAX_PARTITIONS })
      .describe(
        `The new partition count: more than the topic has, at most ${MAX_PARTITIONS} (INVALID_PARTITIONS otherwise).`,
      ),
  })
  .strict();
export type CreatePartitionsBody = z.infer<typeof CreatePartitionsBody>;

// ---------- produce ----------

const headerValues = z.union([z.string(), z.array(z.string())]);

export const ProduceRecordBody = z
  .object({
    key: z.string().nullable().optional().describe('Records with equal keys go to the same partition.'),
    value: z.string().nullable().describe('The value (null: a tombstone).'),
    // ownRecord, not z.record: a header named __proto__ is a header (z.record drops it).
    headers: ownRecord(headerValues).optional(),
    partition: partition.optional().describe('Send to this partition, overriding the key.'),
    timestamp: z.number().int().min(0).optional().describe('Epoch milliseconds. Default: now.'),
  })
  .strict();
export type ProduceRecordBody = z.infer<typeof ProduceRecordBody>;

/** An idempotent producer's identity and sequences: what makes a produce request safe to retry. */
export const ProduceProducerBody = z
  .object({
    id: z
      .string()
      .regex(/^(0|[1-9][0-9]{0,18})$/)
      // zod runs refinements after a failed regex too: check the shape again before BigInt().
      .refine((id) => /^(0|[1-9][0-9]{0,18})$/.test(id) && BigInt(id) < 2n ** 63n, 'must be below 2^63')
      .describe(
        'Producer id: a decimal integer 0..2^63-1 (a string: it does not fit a JSON number), random per producer ' +
          'session. Its sequence state is kept per partition for a day after its last request.',
      ),
    epoch: z
      .number()
      .int()
      .min(0)
      .max(32_767)
      .optional()
      .describe('Default 0. A higher epoch starts over at sequence 0 and fences the lower ones.'),
    sequences: z
      .array(
        z
          .object({
            partition,
            sequence: z
              .number()
              .int()
              .min(0)
              .max(2 ** 31 - 1)
              .describe(
                "Sequence of the partition's first record in this request: 0 for a new id, then the previous " +
                  "request's sequence plus its record count on that partition (wrapping after 2^31-1).",
              ),
          })
          .strict(),
      )
      .min(1)
      .describe("One per partition of the request's records, exactly those partitions."),
  })
  .strict()
  .describe(
    "Makes the request idempotent: every record names its partition, each partition's records are appended " +
      'as one batch, and a retry of the same request (same id, sequences and records) is answered with the ' +
      'offsets of what landed instead of appending again. Retry on any retriable error (also ' +
      'PRODUCE_IN_PROGRESS); OUT_OF_ORDER_SEQUENCE means nothing was written (start a new id).',
  );
export type ProduceProducerBody = z.infer<typeof ProduceProducerBody>;

export const ProduceBody = z
  .object({
    records: z.array(ProduceRecordBody).min(1).max(10_000),
    encoding: Encoding.optional().describe('Default utf8.'),
    compression: z
      .enum(['none', 'gzip', 'snappy', 'lz4', 'zstd'])
      .optional()
      .describe(
        "Codec of the stored batches, when the topic's compression.type is producer (a topic codec overrides it). Default zstd.",
      ),
    expectedOffset: offset
      .optional()
      .describe(
        'Append all records as one batch only if the partition (every record must name the same one) ' +
          'is at exactly this offset; otherwise CONCURRENT_APPEND and nothing is written.',
      ),
    producer: ProduceProducerBody.optional(),
  })
  .strict();
export type ProduceBody = z.infer<typeof ProduceBody>;

export const RecordMetadataBody = z.object({
  partition: z.number().int(),
  offset,
  timestamp: z.number().int(),
});
export const ProduceResult = z.object({
  topic: z.string(),
  records: z.array(RecordMetadataBody).describe('Where each record landed, in request order.'),
});
export type ProduceResult = z.infer<typeof ProduceResult>;

// ---------- fetch ----------

const MAX_WAIT_MS = MAX_FETCH_WAIT_MS;

/** Limits of a fetch, with their ranges: a query of `fetch`, a body of `consumeGroup`. */
const FETCH_LIMITS = {
  maxRecords: { min: 1, max: 10_000, doc: 'Default 500.' },
  maxBytes: { min: 1, max: 4 * 1024 * 1024, doc: 'Default 1 MiB (at least one batch is always returned).' },
  maxWaitMs: {
    min: 0,
    max: MAX_WAIT_MS,
    doc: 'Long-poll: wait up to this long for records when there are none. Default 0.',
  },
} as const;

/** The fetch limits in a JSON body: JSON integers. */
const fetchLimits = {
  maxRecords: z
    .int()
    .min(FETCH_LIMITS.maxRecords.min)
    .max(FETCH_LIMITS.maxRecords.max)
    .optional()
    .describe(FETCH_LIMITS.maxRecords.doc),
  maxBytes: z
    .int()
    .min(FETCH_LIMITS.maxBytes.min)
    .max(FETCH_LIMITS.maxBytes.max)
    .optional()
    .describe(FETCH_LIMITS.maxBytes.doc),
  maxWaitMs: z
    .int()
    .min(FETCH_LIMITS.maxWaitMs.min)
    .max(FETCH_LIMITS.maxWaitMs.max)
    .optional()
    .describe(FETCH_LIMITS.maxWaitMs.doc),
  encoding: Encoding.optional().describe('Default base64.'),
};

/** The fetch limits in a query: decimal strings ({@link integerString}). */
const fetchLimitsQuery = {
  maxRecords: integerString(FETCH_LIMITS.maxRecords.min, FETCH_LIMITS.maxRecords.max)
    .optional()
    .describe(FETCH_LIMITS.maxRecords.doc),
  maxBytes: integerString(FETCH_LIMITS.maxBytes.min, FETCH_LIMITS.maxBytes.max)
    .optional()
    .describe(FETCH_LIMITS.maxBytes.doc),
  maxWaitMs: integerString(FETCH_LIMITS.maxWaitMs.min, FETCH_LIMITS.maxWaitMs.max)
    .optional()
    .describe(FETCH_LIMITS.maxWaitMs.doc),
  encoding: fetchLimits.encoding,
};

export const FetchQuery = z
  .object({
    offset: integerString(0, Number.MAX_SAFE_INTEGER).describe('The first offset to read.'),
    ...fetchLimitsQuery,
  })
  .strict();
export type FetchQuery = z.infer<typeof FetchQuery>;

export const ConsumedRecordBody = z.object({
  offset,
  timestamp: z.number().int(),
  key: z.string().nullable(),
  value: z.string().nullable(),
  headers: z.array(z.object({ key: z.string(), value: z.string().nullable() })),
});
export type ConsumedRecordBody = z.infer<typeof ConsumedRecordBody>;

export const FetchResult = z.object({
  topic: z.string(),
  partition: z.number().int(),
  encoding: Encoding,
  records: z.array(ConsumedRecordBody),
  nextOffset: offset.describe('Where this partition continues: pass it as the next offset.'),
  highWatermark: offset,
});
export type FetchResult = z.infer<typeof FetchResult>;

export const OffsetsQuery = z
  .object({
    timestamp: integerString(0, Number.MAX_SAFE_INTEGER)
      .optional()
      .describe('Also return the first offset whose record timestamp is at or after this (epoch ms).'),
  })
  .strict();
export type OffsetsQuery = z.infer<typeof OffsetsQuery>;

export const PartitionOffsetsResult = PartitionOffsetsBody.extend({
  timestampOffset: offset
    .nullable()
    .optional()
    .describe('With ?timestamp: the first offset at or after it, null when no record is that recent.'),
});
export type PartitionOffsetsResult = z.infer<typeof PartitionOffsetsResult>;

// ---------- groups ----------

export const GroupList = z.object({
  groups: z.array(z.object({ groupId: z.string(), createdAt: z.iso.datetime().nullable() })),
});
export type GroupList = z.infer<typeof GroupList>;

export const GroupDescriptionBody = z.object({
  groupId: z.string(),
  createdAt: z.iso.datetime().nullable(),
  members: z.array(
    z.object({
      memberId: z.string(),
      instanceId: z.string().nullable(),
      topics: z.array(z.string()),
      lastHeartbeatAt: z.iso.datetime(),
      active: z.boolean(),
    }),
  ),
  partitions: z.array(
    z.object({
      topic: z.string(),
      partition: z.number().int(),
      owner: z.string().nullable(),
      epoch: z.number().int(),
      committedOffset: offset.nullable(),
      metadata: z.string().nullable(),
      committedAt: z.iso.datetime().nullable(),
      logStartOffset: offset,
      highWatermark: offset,
      lag: z.number().int(),
      lagMs: z.number().int(),
    }),
  ),
});
export type GroupDescriptionBody = z.infer<typeof GroupDescriptionBody>;

export const DeleteGroupQuery = z.object({ force: z.enum(['true', 'false']).optional() }).strict();

export const JoinGroupBody = z
  .object({
    topics: z.array(name).min(1).max(100),
    memberId: z
      .string()
      .regex(/^[a-zA-Z0-9._-]{1,249}$/)
      .optional()
      .describe(
        'The member id to use (default: a generated one; with instanceId, the instanceId). A dynamic member id ' +
          'already in the group is refused (MEMBER_ID_IN_USE).',
      ),
    instanceId: z
      .string()
      .regex(/^[a-zA-Z0-9._-]{1,249}$/)
      .optional()
      .describe(
        'Static membership: a stable id that gets its partitions back after a restart. Joining with it fences the ' +
          "previous instance's session (INVALID_SESSION).",
      ),
    sessionTimeoutMs: z.number().int().min(100).max(300_000).optional().describe('Default 10000.'),
  })
  .strict();
export type JoinGroupBody = z.infer<typeof JoinGroupBody>;

export const LeaseBody = z.object({
  topic: z.string(),
  partition: z.number().int(),
  epoch: z.number().int().describe('Commits are fenced by this epoch.'),
  committedOffset: offset.nullable().describe('Committed offset when the lease was taken; null if none.'),
  state: z
    .enum(['owned', 'revoking'])
    .describe('revoking: finish the in-flight batch, commit, and release it on the next heartbeat.'),
});
export type LeaseBody = z.infer<typeof LeaseBody>;

const partitionRef = z.object({ topic: topicName, partition }).strict();

export const MembershipResult = z.object({
  memberId: z.string(),
  assignment: z.array(LeaseBody),
  lost: z.array(z.object({ topic: z.string(), partition: z.number().int() })),
  session: z
    .string()
    .describe(
      'Opaque and signed by the API; send the latest one back with the next heartbeat, commit, consume or leave. ' +
        'An altered, expired or superseded session is refused (INVALID_SESSION): join again.',
    ),
  heartbeatIntervalMs: z.number().int(),
});
export type MembershipResult = z.infer<typeof MembershipResult>;

export const HeartbeatBody = z
  .object({
    session: z.string().min(1),
    release: z
      .array(partitionRef)
      .max(10_000)
      .optional()
      .describe('Revoking partitions this member has finished and committed: hand them over now.'),
  })
  .strict();
export type HeartbeatBody = z.infer<typeof HeartbeatBody>;

export const LeaveBody = z.object({ session: z.string().min(1) }).strict();
export type LeaveBody = z.infer<typeof LeaveBody>;

export const CommitBody = z
  .object({
    memberId: z.string().regex(/^[a-zA-Z0-9._-]{1,249}$/),
    session: z
      .string()
      .min(1)
      .describe("The member's latest session: only partitions it holds are committed."),
    offsets: z
      .array(
        partitionRef
          .extend({
            offset,
            epoch: z.number().int().min(0),
            metadata: z.string().max(4096).optional(),
          })
          .strict(),
      )
      .min(1)
      .max(100)
      .describe('All or nothing: every offset is committed, or (on any fence failure) none.'),
  })
  .strict();
export type CommitBody = z.infer<typeof CommitBody>;

export const ConsumeGroupBody = z
  .object({
    session: z.string().min(1),
    positions: z
      .array(z.object({ partition, offset }).strict())
      .max(10_000)
      .optional()
      .describe("Where to read the topic's assigned partitions; others start at their committed offset."),
    offsetReset: z
      .enum(['earliest', 'latest'])
      .optional()
      .describe('Partitions with no commit. Default latest.'),
    maxRecords: fetchLimits.maxRecords,
    maxBytes: fetchLimits.maxBytes,
    maxWaitMs: fetchLimits.maxWaitMs,
    encoding: fetchLimits.encoding,
  })
  .strict();
export type ConsumeGroupBody = z.infer<typeof ConsumeGroupBody>;

export const ConsumeGroupResult = z.object({
  encoding: Encoding,
  batches: z.array(FetchResult.omit({ encoding: true })),
});
export type ConsumeGroupResult = z.infer<typeof ConsumeGroupResult>;

// ---------- triggers ----------

// Trigger settings carry Lambda's event source mapping names and nesting (`TriggerConfig`,
// `TriggerUpdate`). The schemas check JSON types and refuse unknown keys; patterns, lengths and
// ranges (stated in the document) are checked by `validateTriggerConfig` and
// `updateTriggerSettings`. The SDK answers every mistake in a setting with INVALID_TRIGGER naming
// the setting, so the schemas' refusals are that error too (see `triggerBody`).

const TRIGGER_NAME_RULE = '1-249 characters of [a-zA-Z0-9._-], not "." or ".."';
const STARTING_POSITIONS = ['TRIM_HORIZON', 'LATEST', 'AT_TIMESTAMP'] as const;
const CREATE_ONLY = 'Create-only: an update may repeat the current value, any other is INVALID_TRIGGER.';
const L = TRIGGER_LIMITS;

/** What a value of zod's expected type is, for a refusal's `allowed`. */
const JSON_TYPE_NAMES: Readonly<Record<string, string>> = {
  int: 'an integer',
  number: 'a number',
  string: 'a string',
  boolean: 'true or false',
  array: 'an array',
  object: 'an object',
};

/** A setting's path as the SDK writes it: `filterCriteria.filters[0].pattern`. */
function settingPath(path: readonly PropertyKey[]): string {
  return path.reduce<string>(
    (text, part) =>
      typeof part === 'number' ? `${text}[${part}]` : text === '' ? String(part) : `${text}.${String(part)}`,
    '',
  );
}

/** The value at `path` of a parsed JSON body (own properties only). */
function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let value = input;
  for (const part of path) {
    if (typeof value !== 'object' || value === null || !Object.hasOwn(value, part)) return undefined;
    value = (value as Record<PropertyKey, unknown>)[part];
  }
  return value;
}

/** The schema at `path` of `schema`, optional wrappers removed; undefined where it has none. */
function schemaAt(schema: z.ZodType, path: readonly PropertyKey[]): z.ZodType | undefined {
  const bare = (s: z.ZodType): z.ZodType =>
    s instanceof z.ZodExactOptional ? bare(s.unwrap() as z.ZodType) : s;
  let at = bare(schema);
  for (const part of path) {
    if (at instanceof z.ZodArray && typeof part === 'number') at = bare(at.element as z.ZodType);
    else if (at instanceof z.ZodObject && typeof part === 'string' && Object.hasOwn(at.shape, part)) {
      at = bare(at.shape[part] as z.ZodType);
    } else return undefined;
  }
  return at;
}

/** The INVALID_TRIGGER errors an issue of a trigger body's schema stands for. */
function triggerRefusals(schema: z.ZodType, issue: z.core.$ZodIssue, input: unknown): InvalidTriggerError[] {
  const at = schemaAt(schema, issue.path);
  if (issue.code === 'unrecognized_keys') {
    const known = at instanceof z.ZodObject ? Object.keys(at.shape) : [];
    return issue.keys.map(
      (key) =>
        new InvalidTriggerError(
          settingPath([...issue.path, key]),
          valueAt(input, [...issue.path, key]),
          `it is not a trigger setting; known here: ${known.join(', ')}`,
        ),
    );
  }
  const value = valueAt(input, issue.path);
  const expected =
    issue.code === 'invalid_type'
      ? at instanceof z.ZodNumber && at.isInt
        ? 'an integer'
        : (JSON_TYPE_NAMES[issue.expected] ?? issue.expected)
      : issue.code === 'invalid_value'
        ? `one of ${issue.values.map((v) => String(v)).join(', ')}`
        : issue.message;
  return [
    new InvalidTriggerError(
      settingPath(issue.path),
      value,
      value === undefined ? `it is required: ${expected}` : `allowed: ${expected}`,
    ),
  ];
}

/**
 * A trigger request body: `schema` (strict objects, JSON types) is its document and its check, and
 * each of its issues is refused as the INVALID_TRIGGER the SDK would answer (the setting's path,
 * the value sent, what is allowed), so a caller sees one code for one mistake whether the API's
 * schema or the SDK caught it.
 */
function triggerBody<S extends z.ZodType>(schema: S) {
  return z
    .custom<z.input<S>>(isJsonObject, { error: 'expected an object of trigger settings' })
    .transform((input, ctx) => {
      const parsed = schema.safeParse(input);
      if (parsed.success) return parsed.data as z.output<S>;
      for (const issue of parsed.error.issues) {
        const refusals = triggerRefusals(schema, issue, input);
        for (const error of refusals) refuse(ctx, error);
        // Every issue refuses the body, also one that named no setting.
        if (refusals.length === 0) ctx.addIssue({ code: 'custom', message: issue.message, path: issue.path });
      }
      return z.NEVER;
    })
    .meta(jsonSchemaOf(schema));
}

/** The settings an update may change (every one of them also a create setting). */
function mutableTriggerSettings() {
  return {
    functionName: z
      .string()
      .meta({ minLength: 1, maxLength: L.functionNameLength })
      .describe(
        'The Lambda function: a name (1-64 characters of [a-zA-Z0-9_-]) with an optional :alias or :version, ' +
          `a partial ARN (123456789012:function:name) or a function ARN; at most ${L.functionNameLength} characters. ` +
          'It must exist (FUNCTION_NOT_FOUND otherwise).',
      ),
    enabled: z
      .boolean()
      .describe('Default true. A disabled trigger delivers nothing and keeps its position.'),
    batchSize: z
      .int()
      .meta({ minimum: L.batchSize.min, maximum: L.batchSize.max })
      .describe(
        `Most records per invocation: ${L.batchSize.min}-${L.batchSize.max}. Default ${L.batchSize.default}.`,
      ),
    maximumBatchingWindowInSeconds: z
      .int()
      .meta({ minimum: L.maximumBatchingWindowInSeconds.min, maximum: L.maximumBatchingWindowInSeconds.max })
      .describe(
        `Longest wait for a fuller batch, whole seconds ${L.maximumBatchingWindowInSeconds.min}-` +
          `${L.maximumBatchingWindowInSeconds.max}. Default 0.5 (500 ms), which cannot be set explicitly.`,
      ),
    maximumRetryAttempts: z
      .int()
      .meta({ minimum: L.maximumRetryAttempts.min, maximum: L.maximumRetryAttempts.max })
      .describe(
        `Retries after the first attempt: -1 (forever) or 0-${L.maximumRetryAttempts.max}. Default -1; with -1 and ` +
          `a destination, at most ${L.retryCapWithDestination} retries apply.`,
      ),
    maximumRecordAgeInSeconds: z
      .int()
      .meta({
        minimum: -1,
        maximum: L.maximumRecordAgeInSeconds.max,
        anyOf: [
          { const: -1 },
          { minimum: L.maximumRecordAgeInSeconds.min, maximum: L.maximumRecordAgeInSeconds.max },
        ],
      })
      .describe(
        `Oldest record delivered: -1 (no limit) or ${L.maximumRecordAgeInSeconds.min}-` +
          `${L.maximumRecordAgeInSeconds.max} seconds. Default -1.`,
      ),
    bisectBatchOnFunctionError: z
      .boolean()
      .describe('Split a failed batch in two and retry each half. Default false.'),
    functionResponseTypes: z
      .array(z.enum(['ReportBatchItemFailures']))
      .meta({ maxItems: 1 })
      .describe('["ReportBatchItemFailures"] honours partial batch responses; [] (the default) does not.'),
    destinationConfig: z
      .strictObject({
        onFailure: z
          .strictObject({
            destination: z
              .string()
              .meta({ maxLength: L.destinationLength })
              .exactOptional()
              .describe(
                "Where given-up records go: kafka://<topic> or tributary://<topic> (an existing topic, not the trigger's " +
                  'own), an SQS standard queue ARN or an S3 bucket ARN; "" for none (the default).',
              ),
          })
          .exactOptional(),
      })
      .describe('{} or { onFailure: { destination: "" } } removes the destination.'),
    filterCriteria: z
      .strictObject({
        filters: z
          .array(
            z
              .strictObject({
                pattern: z
                  .string()
                  .describe(
                    'The JSON text of an EventBridge pattern on the record value, e.g. {"value":{"kind":["order"]}}.',
                  ),
              })
              .describe('One filter.'),
          )
          .meta({ maxItems: L.filters })
          .exactOptional()
          .describe(`At most ${L.filters}, ORed; a record no filter matches is skipped (and committed).`),
      })
      .describe('{} removes every filter (the default: every record is delivered).'),
    scalingConfig: z
      .strictObject({
        maximumConcurrency: z
          .int()
          .meta({ minimum: L.maximumConcurrency.min, maximum: L.maximumConcurrency.max })
          .exactOptional()
          .describe(
            `Most concurrent invocations across the topic's partitions: ${L.maximumConcurrency.min}-` +
              `${L.maximumConcurrency.max}. Omitted: no limit.`,
          ),
      })
      .describe('{} removes the limit (the default).'),
  };
}

/** The create-only settings, as a create states them (`optional` for an update, which may repeat them). */
function createOnlyTriggerSettings(note: string) {
  return {
    name: z
      .string()
      .meta({ minLength: 1, maxLength: MAX_TOPIC_NAME_LENGTH, pattern: LEGAL_TOPIC_NAME.source })
      .describe(`The trigger's name: ${TRIGGER_NAME_RULE}.${note}`),
    topic: z
      .string()
      .meta({ minLength: 1, maxLength: MAX_TOPIC_NAME_LENGTH, pattern: LEGAL_TOPIC_NAME.source })
      .describe(`The source topic; it must exist (TOPIC_NOT_FOUND otherwise).${note}`),
    groupId: z
      .string()
      .meta({ minLength: 1, maxLength: 249, pattern: '^[a-zA-Z0-9._-]{1,249}$' })
      .describe(`The consumer group the trigger commits in. Default trigger-<name>.${note}`),
    startingPosition: z
      .enum(STARTING_POSITIONS)
      .describe(
        'Where to start when the group has no committed offset: the log start, the end, or the first record at ' +
          `startingPositionTimestamp.${note}`,
      ),
    startingPositionTimestamp: z
      .number()
      .meta({ minimum: 0 })
      .describe(`Unix time in seconds; required with AT_TIMESTAMP, refused with the others.${note}`),
  };
}

function createTriggerSchema() {
  const createOnly = createOnlyTriggerSettings('');
  const mutable = mutableTriggerSettings();
  return z.strictObject({
    name: createOnly.name,
    topic: createOnly.topic,
    functionName: mutable.functionName,
    groupId: createOnly.groupId.exactOptional(),
    enabled: mutable.enabled.exactOptional(),
    startingPosition: createOnly.startingPosition,
    startingPositionTimestamp: createOnly.startingPositionTimestamp.exactOptional(),
    batchSize: mutable.batchSize.exactOptional(),
    maximumBatchingWindowInSeconds: mutable.maximumBatchingWindowInSeconds.exactOptional(),
    maximumRetryAttempts: mutable.maximumRetryAttempts.exactOptional(),
    maximumRecordAgeInSeconds: mutable.maximumRecordAgeInSeconds.exactOptional(),
    bisectBatchOnFunctionError: mutable.bisectBatchOnFunctionError.exactOptional(),
    functionResponseTypes: mutable.functionResponseTypes.exactOptional(),
    destinationConfig: mutable.destinationConfig.exactOptional(),
    filterCriteria: mutable.filterCriteria.exactOptional(),
    scalingConfig: mutable.scalingConfig.exactOptional(),
  });
}

function updateTriggerSchema() {
  const createOnly = createOnlyTriggerSettings(` ${CREATE_ONLY}`);
  const mutable = mutableTriggerSettings();
  const optional = <T extends Record<string, z.ZodType>>(shape: T) =>
    Object.fromEntries(Object.entries(shape).map(([key, schema]) => [key, schema.exactOptional()])) as {
      [K in keyof T]: z.ZodExactOptional<T[K]>;
    };
  return z.strictObject({ ...optional(createOnly), ...optional(mutable) });
}

export const TriggerParams = z.object({
  trigger: z
    .string()
    .meta({ minLength: 1, maxLength: MAX_TOPIC_NAME_LENGTH, pattern: LEGAL_TOPIC_NAME.source })
    .superRefine((name, ctx) => {
      // No trigger has an illegal name: answered as the SDK answers any name it does not know
      // (and one far past the limit is named by its start, never sent to DynamoDB as a key).
      if (!LEGAL_TOPIC_NAME.test(name)) refuse(ctx, new TriggerNotFoundError(clip(name)));
    }),
});

export const CreateTriggerBody = triggerBody(createTriggerSchema()).describe(
  "A trigger: Lambda's event source mapping settings for a Kafka topic, with Lambda's names. Omitted settings " +
    'take their defaults. Any bad setting is INVALID_TRIGGER naming it; nothing is written for a refused request.',
);
export type CreateTriggerBody = z.infer<typeof CreateTriggerBody>;

export const UpdateTriggerBody = triggerBody(updateTriggerSchema()).describe(
  'The settings to change; omitted ones stay. Reset a setting with its empty form: destinationConfig {}, ' +
    'filterCriteria {}, scalingConfig {}, functionResponseTypes []. enabled false disables the trigger.',
);
export type UpdateTriggerBody = z.infer<typeof UpdateTriggerBody>;

export const TriggerSummaryBody = z.object({
  name: z.string(),
  topic: z.string(),
  functionName: z.string(),
  groupId: z.string(),
  state: z.enum(['Enabled', 'Disabled']),
});
export type TriggerSummaryBody = z.infer<typeof TriggerSummaryBody>;

export const TriggerList = z.object({ triggers: z.array(TriggerSummaryBody).describe('Sorted by name.') });
export type TriggerList = z.infer<typeof TriggerList>;

/** Stored settings with every default resolved (`TriggerSettings`; its undefineds are nulls). */
export const TriggerSettingsBody = z.object({
  name: z.string(),
  topic: z.string(),
  functionName: z.string(),
  groupId: z.string(),
  enabled: z.boolean(),
  startingPosition: z.enum(STARTING_POSITIONS),
  startingPositionTimestamp: z.number().nullable().describe('null unless AT_TIMESTAMP.'),
  batchSize: z.number().int(),
  maximumBatchingWindowInSeconds: z.number().describe('0.5 is the default window (500 ms).'),
  maximumRetryAttempts: z.number().int(),
  maximumRecordAgeInSeconds: z.number().int(),
  bisectBatchOnFunctionError: z.boolean(),
  functionResponseTypes: z.array(z.enum(['ReportBatchItemFailures'])),
  destinationConfig: z.object({
    onFailure: z.object({ destination: z.string().describe('"" when there is none.') }),
  }),
  filterCriteria: z.object({ filters: z.array(z.object({ pattern: z.string() })) }),
  scalingConfig: z.object({
    maximumConcurrency: z.number().int().nullable().describe('null: no limit.'),
  }),
});
export type TriggerSettingsBody = z.infer<typeof TriggerSettingsBody>;

export const TriggerDescriptionBody = TriggerSummaryBody.extend({
  settings: TriggerSettingsBody,
  createdAt: z.iso.datetime(),
  updatedAt: z.iso.datetime(),
  lastError: z
    .object({ message: z.string(), code: z.string(), at: z.iso.datetime() })
    .nullable()
    .describe('The last error a dispatcher met delivering this trigger; null when none.'),
  inFlightBatches: z.number().int().describe('Partitions with a batch in flight now.'),
  partitions: z.array(
    z.object({
      partition: z.number().int(),
      committedOffset: offset
        .nullable()
        .describe('The next offset to deliver; null before the first delivery from the log start.'),
      highWatermark: offset,
      lag: z.number().int().describe('Records not yet delivered (or given up on).'),
      lagMs: z.number().int().describe('Age of the oldest undelivered record (ms); 0 when caught up.'),
      inFlight: z
        .boolean()
        .describe('A dispatcher holds the partition now (a batch is, or may be, in flight).'),
      dueAt: z.iso
        .datetime()
        .nullable()
        .describe('When the partition needs a dispatcher next; null when idle.'),
    }),
  ),
});
export type TriggerDescriptionBody = z.infer<typeof TriggerDescriptionBody>;

// ---------- errors ----------

export const ErrorBody = z.object({
  error: z.object({
    code: z.string(),
    message: z.string(),
    retriable: z.boolean(),
    details: z
      .record(z.string(), z.unknown())
      .optional()
      .describe("The error's context (topic, offsets...)."),
  }),
});
export type ErrorBody = z.infer<typeof ErrorBody>;
