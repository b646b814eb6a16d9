/**
 * The one place that knows how log and topic items are keyed and which attribute names they use.
 * Domain code never builds a key string or names an attribute inline.
 */
import { InvalidArgumentError } from './errors.ts';
import type { PartitionEpochs } from './regions/leader-epochs.ts';

/** Identifies one partition of one incarnation of a topic. */
export interface PartitionRef {
  readonly topic: string;
  /** Short id chosen when the topic was created; a recreated topic gets a new one. */
  readonly incarnation: string;
  readonly partition: number;
  /**
   * The partition's leader epochs, once a failover moved its home: each epoch's batches have their
   * own key space ({@link batchKey}), and the log store reads and writes each offset in the key
   * space of the epoch holding it. Absent: one key space, epoch 0's (every topic that never failed
   * over). A ref whose epochs are stale reads on past its last epoch's end to the fence a planned
   * failover left there (see `log/log-item.ts`).
   */
  readonly epochs?: PartitionEpochs | undefined;
}

/** Sort key of the per-partition metadata item: before every batch (offsets start at 0). */
export const PARTITION_META_OFFSET = -1;

/** Attribute names of log items (short: they are stored on every batch). */
export const LogAttr = {
  partitionKey: 'pk',
  offset: 'off',
  count: 'n',
  /** Max timestamp of the records in this batch (ms). */
  maxTimestamp: 'ts',
  /** Running max timestamp of the partition up to and including this batch: monotonic in offset. */
  runningMaxTimestamp: 'mts',
  body: 'b',
  producerId: 'pid',
  sequence: 'seq',
  /** Present (value `p`) while a two-phase append has claimed the slot but not written the body. */
  state: 'st',
  /** Writer's deadline (epoch ms) for a pending slot; after it any reader may void the slot. */
  deadline: 'dl',
  /** 1 on a batch that replaced an abandoned pending slot. */
  voided: 'v',
  /**
   * Running total of batch bytes of the partition through this batch (inline or claimed), so the
   * bytes of any offset range are a subtraction: retention by bytes and describe need no scans.
   */
  runningBytes: 'rb',
  /** 1 on an archived batch's stub: its bytes live in an S3 segment (see `archive/`). */
  archived: 'a',
  /** Stubs: epoch seconds after which DynamoDB's TTL may delete the stub (free of charge). */
  expiresAt: 'exp',
  /** Metadata item: first offset still readable (moved by retention). Kafka's log start offset. */
  logStartOffset: 'lso',
  /** Metadata item: running bytes before `lso`. */
  logStartBytes: 'lsb',
  /** Metadata item: first offset held in DynamoDB (moved by the archiver). Kafka's local log start. */
  localLogStartOffset: 'llso',
  /** Metadata item: running bytes before `llso`. */
  localLogStartBytes: 'llsb',
  /** Metadata item: every batch below this offset has been replaced by a stub. */
  stubbedThrough: 'sto',
  /** Metadata item: when the archiver last checked for orphaned large-batch objects (its clock, ms). */
  claimSweepTime: 'cst',
  /** Metadata item: the partition's end offset at that check. */
  claimSweepEnd: 'cse',
  /** Present instead of `body` on a batch stored in S3 (claim check): the object key. */
  claimKey: 's3',
  /** Size in bytes of a batch stored in S3. */
  claimSize: 'sz',
  /**
   * The region whose table took the batch's write (with the deployment's regions known): after a
   * failover it tells which home wrote a batch, so a report of batches lost to it can be exact.
   */
  writerRegion: 'rg',
  /**
   * The partition's leader epoch the batch was written in (absent: 0). A writer carries the epoch of
   * the batch it appends after, so the epoch travels along the chain with no extra read; a
   * failover raises it in the new home.
   */
  leaderEpoch: 'le',
  /** When the batch was written (the writer's clock, epoch ms): how old a batch a replica lacks is. */
  appendTime: 'at',
  /**
   * Present on a fence (a planned failover's marker at the old home's chain end, not a batch): the
   * leader epoch that continues the log from its offset.
   */
  fenceEpoch: 'fe',
  /** A fence's new home region: where the log continues. */
  fenceRegion: 'fr',
} as const;

/**
 * Attribute names of the items recording re-appended divergent batches (under
 * {@link reappendedKey}, sort key `off` = the divergent batch's offset in its old epoch).
 */
export const ReappendAttr = {
  /** Where the batch's records were appended again: the first offset of the new batch. */
  finalOffset: 'to',
  /** The region whose table took the re-append. */
  region: 'rg',
  /** When (the re-appending client's clock, epoch ms). */
  at: 'at',
} as const;

/** Attribute names of a topic's epoch item in the topics table (beside `name`, `kind`, `inc`). */
export const EpochAttr = {
  /** Bumped by every failover; the next one writes conditional on it. */
  version: 'ver',
  /** The epoch changes, oldest first: a list of maps (`e`, `r`, `o`, `at`, `s`). */
  changes: 'ep',
} as const;

/**
 * Attribute names of segment manifest items. They live in the log table under the partition's
 * manifest key ({@link segmentManifestKey}), sorted by `off` = the segment's base offset.
 */
export const SegmentAttr = {
  /** First offset after the segment. */
  endOffset: 'end',
  /** Bytes of the `.log` object. */
  bytes: 'sz',
  /** Batches in the segment. */
  batches: 'nb',
  /** Running max timestamp of the partition through the segment's last batch. */
  runningMaxTimestamp: 'mts',
  /** Running bytes of the partition through the segment's last batch. */
  runningBytes: 'rb',
  /** When the archiver wrote the manifest item (its clock, epoch ms; informational). */
  createdAt: 'created',
} as const;

/** Value of {@link LogAttr.state} on a claimed-but-unwritten slot. */
export const PENDING_STATE = 'p';

/** Attribute names of topic registry items. */
export const TopicAttr = {
  name: 'name',
  kind: 'kind',
  incarnation: 'inc',
  partitions: 'parts',
  configs: 'cfg',
  createdAt: 'created',
} as const;

/** The log table partition key of a partition: `<topic>:<incarnation>:<partition>`. */
export function partitionKey(ref: PartitionRef): string {
  return `${ref.topic}:${ref.incarnation}:${ref.partition}`;
}

/** Separates a partition key from the leader epoch of a later epoch's key space. */
const EPOCH_KEY_SEPARATOR = '~e';

/**
 * The log table partition key of one leader epoch's batches of a partition: the
 * {@link partitionKey} for epoch 0 (every topic that never failed over), `<partition key>~e<epoch>`
 * after. `~` occurs in no topic name or incarnation, and the key starts with the topic's key prefix,
 * so `dynamodb:LeadingKeys` grants on `<topic>:*` cover it.
 */
export function batchKey(ref: PartitionRef, epoch: number): string {
  return epoch === 0 ? partitionKey(ref) : `${partitionKey(ref)}${EPOCH_KEY_SEPARATOR}${epoch}`;
}

/**
 * Parses a {@link batchKey}: the partition and the epoch whose batches it holds; undefined for any
 * other key (a manifest's, producer state's, a re-append record's).
 */
export function parseBatchKey(key: string):
  | {
      readonly topic: string;
      readonly incarnation: string;
      readonly partition: number;
      readonly epoch: number;
    }
  | undefined {
  const match = /^([a-zA-Z0-9._-]+):([A-Za-z0-9_-]+):(\d+)(?:~e([1-9]\d*))?$/.exec(key);
  if (!match) return undefined;
  return {
    topic: match[1]!,
    incarnation: match[2]!,
    partition: Number(match[3]),
    epoch: match[4] === undefined ? 0 : Number(match[4]),
  };
}

/**
 * The log table partition key of the records of re-appended divergent batches of one epoch:
 * `<batch key of the epoch>#reappended`, sort key `off` = the divergent batch's offset.
 */
export function reappendedKey(ref: PartitionRef, epoch: number): string {
  return `${batchKey(ref, epoch)}#reappended`;
}

/**
 * Topics-table key of a topic incarnation's epoch item: `epochs#<topic>#<incarnation>`. Written
 * only by failovers; `#` occurs in neither a topic name nor an incarnation.
 */
export function epochsKey(topic: string, incarnation: string): string {
  return `epochs#${topic}#${incarnation}`;
}

/**
 * The log table partition key of a partition's segment manifest: `<topic>:<incarnation>:<partition>#segments`.
 * It starts with the topic's key prefix, so `dynamodb:LeadingKeys` grants on `<topic>:*` cover it.
 */
export function segmentManifestKey(ref: PartitionRef): string {
  return `${partitionKey(ref)}#segments`;
}

/**
 * The log table partition key of a partition's idempotent-producer state:
 * `<topic>:<incarnation>:<partition>#producers`, one item per producer id (sort key `off` = the
 * id, a 63-bit number). It starts with the topic's key prefix, so `dynamodb:LeadingKeys` grants on
 * `<topic>:*` cover it.
 */
export function producerStateKey(ref: PartitionRef): string {
  return `${partitionKey(ref)}#producers`;
}

/**
 * Attribute names of producer state items (see `log/producer-state.ts`), under
 * {@link producerStateKey}, sorted by `off` = the producer id.
 */
export const ProducerAttr = {
  /** The producer epoch the state belongs to (a higher epoch starts over at sequence 0). */
  epoch: 'ep',
  /** The next sequence number the partition expects from this producer. */
  nextSequence: 'ns',
  /** The latest claim: base sequence of the batch it covers. */
  claimSequence: 'cs',
  /** The latest claim: records in the batch. */
  claimCount: 'cn',
  /** The latest claim: digest of the batch's records (a retry must carry the same records). */
  claimDigest: 'cd',
  /** The latest claim: the partition's tail offset known when it was made (where its batch can land). */
  claimFrom: 'cf',
  /** The latest claim: its deadline (the claimer's clock, epoch ms); after it the claimer writes nothing. */
  claimUntil: 'cu',
  /** The latest claim: a random token of the attempt that made it. */
  claimToken: 'ct',
  /** Epoch seconds after which DynamoDB's TTL deletes the state (the log table's TTL attribute). */
  expiresAt: LogAttr.expiresAt,
} as const;

/**
 * Registry key of a deletion tombstone. `:` cannot occur in a topic name, so a tombstone
 * can never collide with a live topic's item.
 */
export function tombstoneKey(topic: string, incarnation: string): string {
  return `${topic}:${incarnation}`;
}

/** Parses a {@link tombstoneKey}; undefined for a key that is not one (a live topic's name). */
export function parseTombstoneKey(key: string): { topic: string; incarnation: string } | undefined {
  const at = key.indexOf(':');
  return at < 0 ? undefined : { topic: key.slice(0, at), incarnation: key.slice(at + 1) };
}

/**
 * Topics-table key of a trigger: `trigger#<name>`. `#` cannot occur in a topic name, so a trigger
 * never collides with a topic or a tombstone.
 */
export function triggerKey(name: string): string {
  return `trigger#${name}`;
}

const ARCHIVE_SCHEDULE_PREFIX = 'schedule#';

/**
 * Topics-table key of a partition's archive schedule (see `archive/archive-schedule.ts`):
 * `schedule#<topic>#<incarnation>#<partition>`. `#` occurs in neither a topic name nor an
 * incarnation, so the key never collides with a topic, a tombstone or a trigger, and parses back.
 */
export function archiveScheduleKey(ref: PartitionRef): string {
  return `${ARCHIVE_SCHEDULE_PREFIX}${ref.topic}#${ref.incarnation}#${ref.partition}`;
}

/** Parses an {@link archiveScheduleKey}; undefined for any other key. */
export function parseArchiveScheduleKey(key: string): PartitionRef | undefined {
  if (!key.startsWith(ARCHIVE_SCHEDULE_PREFIX)) return undefined;
  const [topic, incarnation, partition, ...rest] = key.slice(ARCHIVE_SCHEDULE_PREFIX.length).split('#');
  if (!topic || !incarnation || partition === undefined || rest.length > 0 || !/^\d+$/.test(partition)) {
    return undefined;
  }
  return { topic, incarnation, partition: Number(partition) };
}

/**
 * Attribute names of archive schedule items in the topics table (beside `name` and `kind`). Short:
 * every archiver run scans them.
 */
export const ScheduleAttr = {
  /** When archiving or retention may next have work without new records (epoch ms); absent: never. */
  due: 'd',
  /** When the archiver's last visit started (its clock, epoch ms): it saw the log as of then. */
  seen: 's',
  /** The partition's end offset that visit saw: the next batch appended lands exactly there. */
  end: 'e',
  /** Fingerprint of the configs and settings the due time was computed from. */
  basis: 'b',
  /** When the archiver last found no batch at `end` (its clock, epoch ms). */
  probed: 'p',
  /** When a doorbell last reported records for the partition (the dispatcher's clock, epoch ms). */
  rung: 'r',
} as const;

/**
 * Topics-table key of the producer id counter: the next producer id the Kafka gateway's
 * InitProducerId hands out (`topics/producer-ids.ts`). `#` cannot occur in a topic name, so it
 * never collides with a topic, a tombstone, a trigger or a schedule.
 */
export const PRODUCER_ID_COUNTER_KEY = 'counter#producer-ids';

/** Attribute names of counter items in the topics table (beside `name` and `kind`). */
export const CounterAttr = {
  /** The next value the counter hands out. */
  next: 'nx',
} as const;

/** Attribute names of trigger items in the topics table (beside `name` and `kind`). */
export const TriggerAttr = {
  /** The trigger's settings (`TriggerSettings`) as JSON. */
  settings: 'cfg',
  /** Bumped on every update: updates are conditional on the version read. */
  version: 'ver',
  createdAt: 'created',
  updatedAt: 'updated',
  /** The last error a dispatcher met delivering this trigger (JSON `{ message, code, at }`), if any. */
  lastError: 'err',
} as const;

/** Human-readable partition label for messages: `orders[3]`. */
export function partitionLabel(ref: { readonly topic: string; readonly partition: number }): string {
  return `${ref.topic}[${ref.partition}]`;
}

/** Attribute names of consumer group items. */
export const GroupAttr = {
  group: 'g',
  key: 'k',
  /** Member items: heartbeat counter, bumped on every heartbeat (judged by observers, not clocks). */
  heartbeat: 'hb',
  /** Member items: the writer's clock at the last heartbeat (informational: describe, admin checks). */
  seenAt: 'seen',
  /** Member items: static membership id, if any. */
  instanceId: 'iid',
  /** Member items of members that joined through the HTTP API: the id of that join (sessions carry it). */
  joinId: 'jid',
  /** Member items: subscribed topics. */
  topics: 'tp',
  /** Member items: the member's session timeout (ms). */
  sessionTimeoutMs: 'sto',
  /**
   * Member items: the member's change counter, moved whenever it changed a lease's owner; the others
   * re-read the group's leases only when a counter moved (see `groups/group-view.ts`).
   */
  changes: 'chg',
  /** Lease items: member id of the owner (absent when free). */
  owner: 'o',
  /** Lease items: bumped on every change of owner; commits are fenced on it. */
  epoch: 'ep',
  /** Lease items: incarnation of the topic the offsets refer to. */
  incarnation: 'inc',
  /** Lease items: committed offset (the next offset to process). */
  offset: 'co',
  /** Lease items: commit metadata. */
  metadata: 'md',
  /** Lease items: when the offset was committed (committer's clock, ms). */
  committedAt: 'cat',
  /** Metadata item: when the group was first seen. */
  createdAt: 'created',
  /** Lease items of a trigger's group: bumped by the doorbell each time new records land. */
  ring: 'ring',
  /** Lease items of a trigger's group: when the partition needs a dispatcher (epoch ms); absent when idle. */
  due: 'due',
  /** Lease items of a trigger's group: the holding dispatcher's lease ends then (epoch ms). */
  leaseUntil: 'lu',
  /** Lease items of a trigger's group: the failure policy's retry state, carried to the next dispatcher (JSON). */
  policyState: 'ps',
} as const;

/** Sort key of a group's metadata item. */
export const GROUP_META_KEY = 'meta';

/** Sort-key prefix of every member item of a group. */
export const MEMBER_KEY_PREFIX = 'member#';

/** Sort-key prefix of every lease item of a group. */
export const LEASE_KEY_PREFIX = 'lease#';

/**
 * Sort key of a classic (Kafka protocol) group's state item: generation, members and their
 * protocols, assignments (see `groups/classic-store.ts`).
 */
export const CLASSIC_GROUP_KEY = 'classic';

/** Sort-key prefix of a classic group's liveness items, one per member (`classic#beat#<member id>`). */
export const CLASSIC_BEAT_PREFIX = 'classic#beat#';

/** Sort key of a member item. */
export function memberKey(memberId: string): string {
  return `${MEMBER_KEY_PREFIX}${memberId}`;
}

/** Sort key of a lease item. */
export function leaseItemKey(topic: string, partition: number): string {
  return `${leaseKeyPrefix(topic)}${partition}`;
}

/** Sort-key prefix of every lease item of one topic in a group (`#` cannot occur in topic names). */
export function leaseKeyPrefix(topic: string): string {
  return `${LEASE_KEY_PREFIX}${topic}#`;
}

/** Parses a lease item's sort key. */
export function parseLeaseItemKey(key: string): { topic: string; partition: number } | undefined {
  const match = /^lease#([a-zA-Z0-9._-]+)#(\d+)$/.exec(key);
  return match ? { topic: match[1]!, partition: Number(match[2]) } : undefined;
}

/** Parses a member item's sort key. */
export function parseMemberKey(key: string): string | undefined {
  return key.startsWith(MEMBER_KEY_PREFIX) ? key.slice(MEMBER_KEY_PREFIX.length) : undefined;
}

/** S3 prefix of everything a partition incarnation stores (segments and claim-check objects). */
export function partitionObjectPrefix(ref: PartitionRef): string {
  return `${ref.topic}/${ref.incarnation}/${ref.partition}/`;
}

/** S3 prefix of everything a topic incarnation stores. */
export function topicObjectPrefix(topic: string, incarnation: string): string {
  return `${topic}/${incarnation}/`;
}

/** S3 prefix of a partition's large-batch (claim check) objects. */
export function claimObjectPrefix(ref: PartitionRef): string {
  return `${partitionObjectPrefix(ref)}claims/`;
}

/** S3 key of a large batch stored by claim check; unique per producer attempt. */
export function claimObjectKey(
  ref: PartitionRef,
  producerId: string,
  sequence: number,
  nonce: string,
): string {
  return `${claimObjectPrefix(ref)}${producerId}-${sequence}-${nonce}.batch`;
}

/** The S3 keys of a segment's three objects. */
export interface SegmentObjectKeys {
  readonly log: string;
  readonly index: string;
  readonly timeIndex: string;
}

/** Digits of the base offset in segment object names (Kafka's). */
const OFFSET_DIGITS = 20;

/**
 * The S3 keys of the segment of `ref` starting at `baseOffset`:
 * `<topic>/<incarnation>/<partition>/<20-digit base offset>.log` (and `.index`, `.timeindex`).
 *
 * @throws InvalidArgumentError when `baseOffset` is not a safe integer ≥ 0.
 */
export function segmentObjectKeys(ref: PartitionRef, baseOffset: number): SegmentObjectKeys {
  if (!Number.isSafeInteger(baseOffset) || baseOffset < 0) {
    throw new InvalidArgumentError(`A segment's baseOffset must be a safe integer ≥ 0, got ${baseOffset}`);
  }
  const stem = `${partitionObjectPrefix(ref)}${String(baseOffset).padStart(OFFSET_DIGITS, '0')}`;
  return { log: `${stem}.log`, index: `${stem}.index`, timeIndex: `${stem}.timeindex` };
}
