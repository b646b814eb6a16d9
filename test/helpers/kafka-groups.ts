/**
 * A Kafka consumer group member on the raw protocol, for gateway tests of the classic group
 * protocol: its JoinGroup (with KIP-394's MEMBER_ID_REQUIRED round trip, as clients do it),
 * SyncGroup, Heartbeat and OffsetCommit, each sent over a connection the test picks (a JoinGroup
 * holds its connection until the round completes, as in Kafka, so concurrent members need their
 * own). And the consumer protocol's subscription and assignment bytes, encoded as Kafka's
 * `ConsumerProtocol` does (version 0; non-flexible encoding).
 */
import { KafkaError } from '../../gateway/kafka-errors.ts';
import type { ResponseBody } from '../../gateway/protocol/index.ts';
import type { WireClient } from './kafka-wire.ts';

/** Big-endian writer of the consumer protocol's types. */
class ConsumerProtocolWriter {
  readonly #parts: Buffer[] = [];

  int16(v: number): this {
    const b = Buffer.alloc(2);
    b.writeInt16BE(v);
    this.#parts.push(b);
    return this;
  }

  int32(v: number): this {
    const b = Buffer.alloc(4);
    b.writeInt32BE(v);
    this.#parts.push(b);
    return this;
  }

  string(s: string): this {
    const b = Buffer.from(s, 'utf8');
    this.int16(b.length);
    this.#parts.push(b);
    return this;
  }

  /** Nullable bytes: int32 length, −1 for null. */
  bytes(b: Uint8Array | null): this {
    if (b === null) return this.int32(-1);
    this.int32(b.byteLength);
    this.#parts.push(Buffer.from(b));
    return this;
  }

  done(): Uint8Array {
    return new Uint8Array(Buffer.concat(this.#parts));
  }
}

/** A consumer's subscription (protocol metadata): version 0, topics, user data. */
export function subscription(topics: readonly string[], userData: Uint8Array | null = null): Uint8Array {
  const w = new ConsumerProtocolWriter().int16(0).int32(topics.length);
  for (const t of topics) w.string(t);
  return w.bytes(userData).done();
}

/** A consumer's assignment: version 0, partitions by topic, user data. */
export function assignment(
  partitions: Readonly<Record<string, readonly number[]>>,
  userData: Uint8Array | null = null,
): Uint8Array {
  const entries = Object.entries(partitions);
  const w = new ConsumerProtocolWriter().int16(0).int32(entries.length);
  for (const [topic, ps] of entries) {
    w.string(topic).int32(ps.length);
    for (const p of ps) w.int32(p);
  }
  return w.bytes(userData).done();
}

/** One protocol a member offers. */
export interface OfferedProtocol {
  readonly name: string;
  readonly metadata: Uint8Array;
}

/** How a {@link GroupMember} joins. */
export interface GroupMemberOptions {
  /** @default 30000 */
  readonly sessionTimeoutMs?: number;
  /** @default 10000 */
  readonly rebalanceTimeoutMs?: number;
  /** A static member's group instance id (KIP-345). @default none */
  readonly instanceId?: string;
  /** @default "range" with a subscription to no topics */
  readonly protocols?: readonly OfferedProtocol[];
}

/** One partition of an OffsetCommit. */
export interface CommitEntry {
  readonly topic: string;
  readonly partition: number;
  readonly offset: bigint;
  readonly metadata?: string | null;
}

/** A member's state as the coordinator last told it, and its requests. */
export class GroupMember {
  readonly groupId: string;
  memberId = '';
  generation = -1;
  protocols: readonly OfferedProtocol[];
  readonly sessionTimeoutMs: number;
  readonly rebalanceTimeoutMs: number;
  readonly instanceId: string | null;

  constructor(groupId: string, options: GroupMemberOptions = {}) {
    this.groupId = groupId;
    this.sessionTimeoutMs = options.sessionTimeoutMs ?? 30_000;
    this.rebalanceTimeoutMs = options.rebalanceTimeoutMs ?? 10_000;
    this.instanceId = options.instanceId ?? null;
    this.protocols = options.protocols ?? [{ name: 'range', metadata: subscription([]) }];
  }

  /**
   * JoinGroup (v5 unless told), answered once the round completes. A MEMBER_ID_REQUIRED answer is
   * followed by a join with the id it gave, as clients do; the final answer's id and generation
   * become the member's when it is NONE.
   */
  async join(wire: WireClient, version = 5): Promise<ResponseBody<'JoinGroup'>> {
    const send = () =>
      wire.request('JoinGroup', version, {
        groupId: this.groupId,
        sessionTimeoutMs: this.sessionTimeoutMs,
        rebalanceTimeoutMs: this.rebalanceTimeoutMs,
        memberId: this.memberId,
        groupInstanceId: this.instanceId,
        protocolType: 'consumer',
        protocols: this.protocols,
      });
    let answer = await send();
    if (answer.errorCode === KafkaError.MEMBER_ID_REQUIRED) {
      this.memberId = answer.memberId;
      answer = await send();
    }
    if (answer.errorCode === KafkaError.NONE) {
      this.memberId = answer.memberId;
      this.generation = answer.generationId;
    }
    return answer;
  }

  /** SyncGroup (v3) in the member's generation; the leader passes everyone's assignment. */
  sync(
    wire: WireClient,
    assignments: ReadonlyMap<string, Uint8Array> = new Map(),
  ): Promise<ResponseBody<'SyncGroup'>> {
    return wire.request('SyncGroup', 3, {
      groupId: this.groupId,
      generationId: this.generation,
      memberId: this.memberId,
      groupInstanceId: this.instanceId,
      assignments: [...assignments].map(([memberId, a]) => ({ memberId, assignment: a })),
    });
  }

  /** Heartbeat (v3) in the member's generation; returns its error code. */
  async heartbeat(wire: WireClient): Promise<number> {
    const answer = await wire.request('Heartbeat', 3, {
      groupId: this.groupId,
      generationId: this.generation,
      memberId: this.memberId,
      groupInstanceId: this.instanceId,
    });
    return answer.errorCode;
  }

  /** OffsetCommit (v8 unless told) in `generation` (default: the member's); returns each partition's code. */
  async commit(
    wire: WireClient,
    entries: readonly CommitEntry[],
    options: { readonly version?: number; readonly generation?: number } = {},
  ): Promise<Map<string, number>> {
    return commitOffsets(wire, this.groupId, entries, {
      version: options.version ?? 8,
      generation: options.generation ?? this.generation,
      memberId: this.memberId,
      instanceId: this.instanceId,
    });
  }
}

/** OffsetCommit of `entries`; returns each partition's error code by `topic#partition`. */
export async function commitOffsets(
  wire: WireClient,
  groupId: string,
  entries: readonly CommitEntry[],
  options: { version: number; generation: number; memberId: string; instanceId?: string | null },
): Promise<Map<string, number>> {
  const topics = [...new Set(entries.map((e) => e.topic))].map((name) => ({
    name,
    partitions: entries
      .filter((e) => e.topic === name)
      .map((e) => ({
        partitionIndex: e.partition,
        committedOffset: e.offset,
        committedMetadata: e.metadata === undefined ? '' : e.metadata,
      })),
  }));
  const answer = await wire.request('OffsetCommit', options.version, {
    groupId,
    generationIdOrMemberEpoch: options.generation,
    memberId: options.memberId,
    groupInstanceId: options.instanceId ?? null,
    topics,
  });
  return new Map(
    answer.topics.flatMap((t) => t.partitions.map((p) => [`${t.name}#${p.partitionIndex}`, p.errorCode])),
  );
}
