/**
 * OffsetCommit: a Kafka group's committed offsets are Tributary group offsets (the group's lease
 * items), so `tributary groups describe` shows their lag and `groups reset-offsets` moves them.
 * A member's commit is fenced on the group's state — the member, in that generation, not waiting
 * for an assignment — in the same transaction as the offsets; a commit with generation −1 (an
 * admin tool, a consumer without a group generation) only while the group has no members.
 *
 * Each partition is checked before anything is written: the topic and partition exist, the
 * offset lies within the log (never beyond the high watermark: a group would skip records not yet
 * written; −2 and −1, ListOffsets' earliest and latest, mean the log's start and end), the
 * metadata fits Kafka's 4096 characters. Offsets may go backwards, as in Kafka.
 */
import {
  type ClassicCommitEntry,
  type ClassicFence,
  EMPTY_CLASSIC_GROUP,
  mapLimited,
} from '../../sdk/src/internal.ts';
import { memberProblem } from '../classic-group.ts';
import type { Handler } from '../context.ts';
import { groupErrorOf, KafkaError, type KafkaErrorCode } from '../kafka-errors.ts';
import { isFailure, TopicLookup } from '../topic-lookup.ts';
import { openGroup } from './group-request.ts';

/** ListOffsets' "earliest" and "latest" timestamps, which admin tools also commit as offsets. */
const EARLIEST = -2;
const LATEST = -1;

/** Kafka's `offset.metadata.max.bytes` default (counted in characters, as Kafka counts it). */
const MAX_METADATA_LENGTH = 4_096;

interface Target {
  readonly topic: string;
  readonly partition: number;
  readonly entry: ClassicCommitEntry | undefined;
  readonly code: KafkaErrorCode;
}

export const handleOffsetCommit: Handler<'OffsetCommit'> = async (request, { gateway }) => {
  const { body } = request;
  const respond = (codeOf: (topic: string, partition: number) => KafkaErrorCode) => ({
    throttleTimeMs: 0,
    topics: body.topics.map((t) => ({
      name: t.name,
      partitions: t.partitions.map((p) => ({
        partitionIndex: p.partitionIndex,
        errorCode: codeOf(t.name, p.partitionIndex),
      })),
    })),
  });
  const store = openGroup(gateway.groups, body.groupId);
  if ('code' in store) return respond(() => store.code);
  const lookup = new TopicLookup(gateway);
  const asked = body.topics.flatMap((t) => t.partitions.map((p) => ({ topic: t.name, p })));
  const targets = await mapLimited(asked, gateway.readConcurrency, async ({ topic, p }): Promise<Target> => {
    const refuse = (code: KafkaErrorCode): Target => ({
      topic,
      partition: p.partitionIndex,
      entry: undefined,
      code,
    });
    const meta = await lookup.partition(topic, p.partitionIndex);
    if (isFailure(meta)) return refuse(meta.code);
    if ((p.committedMetadata ?? '').length > MAX_METADATA_LENGTH)
      return refuse(KafkaError.OFFSET_METADATA_TOO_LARGE);
    const asked = Number(p.committedOffset);
    if (!Number.isSafeInteger(asked) || asked < EARLIEST)
      return refuse(KafkaError.INVALID_COMMIT_OFFSET_SIZE);
    let offset: number;
    try {
      // ListOffsets' sentinels, as admin tools commit them (kafkajs's resetOffsets): a Tributary
      // offset is always a position in the log, so they are resolved to the log's start or end.
      if (asked === EARLIEST) offset = await gateway.reader.logStartOffset(meta, p.partitionIndex);
      else if (asked === LATEST) offset = await gateway.reader.highWatermark(meta, p.partitionIndex);
      else offset = asked;
      // The high watermark the reader knows usually covers a consumer's commit (it read there).
      const end = await gateway.reader.highWatermarkAtLeast(meta, p.partitionIndex, offset);
      if (offset > end) return refuse(KafkaError.OFFSET_OUT_OF_RANGE);
    } catch (error) {
      return refuse(groupErrorOf(error).code);
    }
    const entry = {
      topic,
      partition: p.partitionIndex,
      incarnation: meta.incarnation,
      offset,
      metadata: p.committedMetadata ?? undefined,
    };
    return { topic, partition: p.partitionIndex, entry, code: KafkaError.NONE };
  });
  const codes = new Map(targets.map((t) => [`${t.topic}#${t.partition}`, t.code]));
  const codeOf = (topic: string, partition: number) =>
    codes.get(`${topic}#${partition}`) ?? KafkaError.UNKNOWN_SERVER_ERROR;
  // A partition named twice is written once, with its last offset (Kafka applies them in order).
  const entries = [
    ...new Map(
      targets.flatMap((t) => (t.entry ? [[`${t.topic}#${t.partition}`, t.entry] as const] : [])),
    ).values(),
  ];
  const standalone = body.generationIdOrMemberEpoch < 0;
  const fence: ClassicFence | 'standalone' = standalone
    ? 'standalone'
    : { memberId: body.memberId, generation: body.generationIdOrMemberEpoch };
  try {
    let written = await store.commit(fence, entries);
    if (!written) {
      const problem = await fenceProblem();
      if (problem === undefined) written = await store.commit(fence, entries);
      if (!written) {
        const code = problem ?? KafkaError.REBALANCE_IN_PROGRESS;
        return respond((topic, partition) =>
          codeOf(topic, partition) === KafkaError.NONE ? code : codeOf(topic, partition),
        );
      }
    }
    // A member's commit shows it alive, as in Kafka.
    if (!standalone) await store.beat(body.memberId);
    return respond(codeOf);
  } catch (error) {
    const code = groupErrorOf(error).code;
    return respond((topic, partition) =>
      codeOf(topic, partition) === KafkaError.NONE ? code : codeOf(topic, partition),
    );
  }

  /** Why the fence failed, read from the group now; undefined when it holds now (a race: try again). */
  async function fenceProblem(): Promise<KafkaErrorCode | undefined> {
    if ('code' in store) return store.code;
    const group = (await gateway.groups.read(store)).group ?? EMPTY_CLASSIC_GROUP;
    if (standalone) return group.state === 'Empty' ? undefined : KafkaError.UNKNOWN_MEMBER_ID;
    const problem = memberProblem(group, body.memberId, body.groupInstanceId, body.generationIdOrMemberEpoch);
    if (problem) return problem.code;
    return group.state === 'CompletingRebalance' ? KafkaError.REBALANCE_IN_PROGRESS : undefined;
  }
};
