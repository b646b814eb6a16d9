/**
 * Request and response bodies of the HTTP API, defined once. The Lambda handlers validate with
 * them, the SDK's HTTP transport takes its types from them (`z.infer`), and `openapi.ts` turns
 * them into the OpenAPI document. Bytes travel as base64 or UTF-8 text (the request's `encoding`);
 * dates as ISO-8601 strings; offsets as JSON numbers (safe integers).
 */
import { z } from 'zod';

const offset = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
const partition = z.number().int().min(0).max(1_000_000);
// Names are checked by the SDK (Kafka's rules), which answers with its typed errors
// (INVALID_TOPIC_NAME, INVALID_GROUP_ID) before anything is written.
const name = z.string();

/** How keys, values and header values are written in a body. */
export const Encoding = z
  .enum(['utf8', 'base64'])
  .describe('How keys, values and header values are written: UTF-8 text or base64 bytes.');
export type Encoding = z.infer<typeof Encoding>;

/** Path parameters. */
export const TopicParams = z.object({ topic: name });
export const PartitionParams = z.object({ topic: name, partition: z.coerce.number().pipe(partition) });
export const GroupParams = z.object({ group: name });
export const MemberParams = z.object({ group: name, member: z.string().min(1).max(200) });

// ---------- topics ----------

const configValue = z.union([z.string(), z.number(), z.boolean()]);

export const CreateTopicBody = z.object({
  topic: name,
  partitions: z.number().optional().describe('Default 1; at most 4096.'),
  configs: z.record(z.string(), configValue).optional().describe('Kafka-style configs; see docs/configs.md.'),
});
export type CreateTopicBody = z.infer<typeof CreateTopicBody>;

export const TopicSummary = z.object({ name: z.string(), partitions: z.number().int() });
export const TopicList = z.object({ topics: z.array(TopicSummary) });
export type TopicList = z.infer<typeof TopicList>;

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

export const AlterConfigsBody = z.object({
  configs: z
    .record(z.string(), z.union([configValue, z.null()]))
    .describe('Configs to set; null resets a key to its default.'),
});
export type AlterConfigsBody = z.infer<typeof AlterConfigsBody>;

export const CreatePartitionsBody = z.object({ totalPartitions: z.number() });
export type CreatePartitionsBody = z.infer<typeof CreatePartitionsBody>;

// ---------- produce ----------

const headerValues = z.union([z.string(), z.array(z.string())]);

export const ProduceRecordBody = z.object({
  key: z.string().nullable().optional().describe('Records with equal keys go to the same partition.'),
  value: z.string().nullable().describe('The value (null: a tombstone).'),
  headers: z.record(z.string(), headerValues).optional(),
  partition: partition.optional().describe('Send to this partition, overriding the key.'),
  timestamp: z.number().int().min(0).optional().describe('Epoch milliseconds. Default: now.'),
});
export type ProduceRecordBody = z.infer<typeof ProduceRecordBody>;

export const ProduceBody = z
  .object({
    records: z.array(ProduceRecordBody).min(1).max(10_000),
    encoding: Encoding.optional().describe('Default utf8.'),
    expectedOffset: offset
      .optional()
      .describe(
        'Append all records as one batch only if the partition (every record must name the same one) ' +
          'is at exactly this offset; otherwise CONCURRENT_APPEND and nothing is written.',
      ),
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

const MAX_WAIT_MS = 20_000;

const fetchLimits = {
  maxRecords: z.coerce.number().int().min(1).max(10_000).optional().describe('Default 500.'),
  maxBytes: z.coerce
    .number()
    .int()
    .min(1)
    .max(4 * 1024 * 1024)
    .optional()
    .describe('Default 1 MiB (at least one batch is always returned).'),
  maxWaitMs: z.coerce
    .number()
    .int()
    .min(0)
    .max(MAX_WAIT_MS)
    .optional()
    .describe('Long-poll: wait up to this long for records when there are none. Default 0.'),
  encoding: Encoding.optional().describe('Default base64.'),
};

export const FetchQuery = z.object({ offset: z.coerce.number().pipe(offset), ...fetchLimits }).strict();
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
    timestamp: z.coerce
      .number()
      .int()
      .min(0)
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
      .regex(/^[a-zA-Z0-9._-]{1,200}$/)
      .optional()
      .describe('The member id to use (default: a generated one; with instanceId, the instanceId).'),
    instanceId: z
      .string()
      .min(1)
      .max(200)
      .optional()
      .describe('Static membership: a stable id that gets its partitions back after a restart.'),
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

const partitionRef = z.object({ topic: name, partition });

export const MembershipResult = z.object({
  memberId: z.string(),
  assignment: z.array(LeaseBody),
  lost: z.array(z.object({ topic: z.string(), partition: z.number().int() })),
  session: z.string().describe('Opaque; send it back with the next heartbeat, commit, consume or leave.'),
  heartbeatIntervalMs: z.number().int(),
});
export type MembershipResult = z.infer<typeof MembershipResult>;

export const HeartbeatBody = z
  .object({
    session: z.string().min(1),
    release: z
      .array(partitionRef)
      .optional()
      .describe('Revoking partitions this member has finished and committed: hand them over now.'),
  })
  .strict();
export type HeartbeatBody = z.infer<typeof HeartbeatBody>;

export const LeaveBody = z.object({ session: z.string().min(1) }).strict();
export type LeaveBody = z.infer<typeof LeaveBody>;

export const CommitBody = z
  .object({
    memberId: z.string().min(1),
    offsets: z
      .array(
        partitionRef.extend({
          offset,
          epoch: z.number().int().min(0),
          metadata: z.string().max(4096).optional(),
        }),
      )
      .min(1)
      .max(1000),
  })
  .strict();
export type CommitBody = z.infer<typeof CommitBody>;

export const ConsumeGroupBody = z
  .object({
    session: z.string().min(1),
    positions: z
      .array(partitionRef.extend({ offset }))
      .optional()
      .describe('Where to read assigned partitions; others start at their committed offset.'),
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

/** Lambda's synchronous payload limit: no request body larger than this reaches the API's handler. */
export const MAX_REQUEST_BYTES = 6 * 1024 * 1024;

/** Lambda's response payload limit: the API keeps every response body below it. */
export const MAX_RESPONSE_BYTES = 6 * 1024 * 1024;

/** Longest long-poll wait a fetch may ask for (API Gateway's 30 s integration timeout, with margin). */
export const MAX_FETCH_WAIT_MS = MAX_WAIT_MS;
