/**
 * Consumer groups over HTTP: membership through stateless sessions (`GroupSessions`), fenced
 * commits, describe with lag, and a consume call that fetches the member's partitions.
 */
import { InvalidArgumentError, LeaseLostError } from '../../../sdk/src/index.ts';
import { type Encoding, type Membership, mapLimited } from '../../../sdk/src/internal.ts';
import { encodeRecord, fitResponse, isoOrNull } from '../wire.ts';
import type { Operations } from './types.ts';

/** Partitions a consume call reads at once. */
const FETCH_CONCURRENCY = 8;

function membershipBody(m: Membership) {
  return {
    memberId: m.memberId,
    assignment: m.assignment.map((l) => ({ ...l, committedOffset: l.committedOffset ?? null })),
    lost: [...m.lost],
    session: m.session,
    heartbeatIntervalMs: m.heartbeatIntervalMs,
  };
}

export const groupOperations: Operations<
  | 'listGroups'
  | 'describeGroup'
  | 'deleteGroup'
  | 'joinGroup'
  | 'heartbeat'
  | 'leaveGroup'
  | 'commitOffsets'
  | 'consumeGroup'
> = {
  listGroups: async (_input, { admin }) => ({
    groups: (await admin.listGroups()).map((g) => ({
      groupId: g.groupId,
      createdAt: isoOrNull(g.createdAt),
    })),
  }),

  describeGroup: async ({ params }, { admin }) => {
    const d = await admin.describeGroup(params.group);
    return {
      groupId: d.groupId,
      createdAt: isoOrNull(d.createdAt),
      members: d.members.map((m) => ({
        memberId: m.memberId,
        instanceId: m.instanceId ?? null,
        topics: [...m.topics],
        lastHeartbeatAt: m.lastHeartbeatAt.toISOString(),
        active: m.active,
      })),
      partitions: d.partitions.map((p) => ({
        ...p,
        owner: p.owner ?? null,
        committedOffset: p.committedOffset ?? null,
        metadata: p.metadata ?? null,
        committedAt: isoOrNull(p.committedAt),
      })),
    };
  },

  deleteGroup: async ({ params, query }, { admin }) => {
    await admin.deleteGroup(params.group, { force: query.force === 'true' });
    return undefined;
  },

  joinGroup: async ({ params, body }, { sessions }) =>
    membershipBody(await sessions.join(params.group, body)),

  heartbeat: async ({ params, body }, { sessions }) =>
    membershipBody(await sessions.heartbeat(params.group, params.member, body.session, body.release)),

  leaveGroup: async ({ params, body }, { sessions }) => {
    await sessions.leave(params.group, params.member, body.session);
    return undefined;
  },

  commitOffsets: async ({ params, body }, { sessions }) => {
    await sessions.commit(params.group, body.memberId, body.session, body.offsets);
    return undefined;
  },

  consumeGroup: async ({ params, body }, { sessions, sources, signal }) => {
    const encoding: Encoding = body.encoding ?? 'base64';
    // Only partitions whose lease names this member at the epoch it holds are read.
    const held = await sessions.readable(params.group, params.member, body.session, params.topic);
    const positions = new Map<number, number>();
    for (const p of body.positions ?? []) {
      if (positions.has(p.partition)) {
        throw new InvalidArgumentError(`positions names partition ${p.partition} more than once`);
      }
      if (!held.some((l) => l.partition === p.partition)) {
        throw new LeaseLostError(params.group, params.topic, p.partition);
      }
      positions.set(p.partition, p.offset);
    }
    // Every partition long-polls at once; the first to get records ends the others' waits.
    const firstRecords = new AbortController();
    const wait = signal ? AbortSignal.any([signal, firstRecords.signal]) : firstRecords.signal;
    const batches = await mapLimited(held, FETCH_CONCURRENCY, async (lease) => {
      const source = await sources(lease);
      const start =
        positions.get(lease.partition) ??
        lease.committed ??
        (await source.resolve(body.offsetReset ?? 'latest'));
      const fetched = await source.fetch(
        start,
        {
          maxRecords: body.maxRecords ?? 500,
          maxBytes: body.maxBytes ?? 1024 * 1024,
          maxWaitMs: body.maxWaitMs ?? 0,
        },
        wait,
      );
      if (fetched.records.length > 0) firstRecords.abort();
      return {
        topic: lease.topic,
        partition: lease.partition,
        records: fetched.records.map((r) => encodeRecord(r, encoding)),
        nextOffset: fetched.nextOffset,
        highWatermark: Math.max(fetched.nextOffset, start),
        start,
      };
    });
    return { encoding, batches: fitResponse(batches).map(({ start: _start, ...batch }) => batch) };
  },
};
