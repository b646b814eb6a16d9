/**
 * What a group member's client sends to the groups table, request by request, as DynamoDB
 * reports it: AWS SDK middleware asks for `ReturnConsumedCapacity: TOTAL` and records each
 * request with what it is (a heartbeat, an announcement, a lease-owner change, a commit, a query of
 * the member items, of the leases or of the whole group), whether its condition held, and the read
 * units it consumed. Tests count ticks by heartbeats, so bounds are in heartbeats, not in ms.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';

/** What a groups-table request was. */
export type GroupRequestKind =
  | 'heartbeat'
  | 'announce'
  | 'owner'
  | 'commit'
  | 'members-query'
  | 'leases-query'
  | 'group-query'
  | 'other';

export interface GroupRequest {
  readonly kind: GroupRequestKind;
  /** False when its condition failed (or it threw). */
  readonly ok: boolean;
  readonly readUnits: number;
  /** The lease's sort key, for lease writes. */
  readonly key: string | undefined;
  /** For lease-owner changes: the owner written (undefined: freed). */
  readonly to: string | undefined;
  /** Heartbeats this client had sent when it sent this request, itself included: its tick. */
  readonly tick: number;
  /** When the answer came (epoch ms): orders requests of different clients, never a threshold. */
  readonly at: number;
}

export interface GroupTraffic {
  readonly requests: GroupRequest[];
  /** Heartbeats sent so far. */
  ticks(): number;
  /** Heartbeats answered by `at` (epoch ms). */
  ticksAt(at: number): number;
  /** Requests of a kind since the last {@link reset}. */
  count(kind: GroupRequestKind, ok?: boolean): number;
  /** Read units since the last {@link reset}, of one kind of query or all. */
  readUnits(kind?: GroupRequestKind): number;
  reset(): void;
  remove(): void;
}

let nextId = 0;

function kindOf(command: string, input: Record<string, unknown>): GroupRequestKind {
  const key = (input.Key as { k?: { S?: string } } | undefined)?.k?.S ?? '';
  const update = String(input.UpdateExpression ?? '');
  if (command === 'QueryCommand') {
    const prefix = (input.ExpressionAttributeValues as Record<string, { S?: string }> | undefined)?.[
      ':prefix'
    ]?.S;
    if (prefix === undefined) return 'group-query';
    return prefix.startsWith('member#') ? 'members-query' : 'leases-query';
  }
  if (command === 'UpdateItemCommand' && key.startsWith('member#')) {
    return update.includes('#hb') ? 'heartbeat' : 'announce';
  }
  if (command === 'UpdateItemCommand' && key.startsWith('lease#')) {
    return update.includes('#co = :co') ? 'commit' : 'owner';
  }
  return 'other';
}

/** Records `client`'s requests to `groupsTable` from now on. */
export function traceGroupTraffic(client: DynamoDBClient, groupsTable: string): GroupTraffic {
  const name = `tributary-test-group-traffic-${nextId++}`;
  const requests: GroupRequest[] = [];
  let ticks = 0;
  let since = 0;
  type Args = { input: Record<string, unknown> };
  type Next = (args: Args) => Promise<{ output: Record<string, unknown> }>;
  const middleware = (next: Next, context: { commandName?: string }) => async (args: Args) => {
    if (args.input.TableName !== groupsTable) return next(args);
    const kind = kindOf(context.commandName ?? '', args.input);
    if (kind === 'heartbeat') ticks++;
    const tick = ticks;
    const key =
      kind === 'owner' || kind === 'commit' ? (args.input.Key as { k: { S: string } }).k.S : undefined;
    const to = (args.input.ExpressionAttributeValues as Record<string, { S?: string }> | undefined)?.[':to']
      ?.S;
    try {
      const result = await next({ ...args, input: { ...args.input, ReturnConsumedCapacity: 'TOTAL' } });
      const consumed = result.output.ConsumedCapacity as { CapacityUnits?: number } | undefined;
      const readUnits = context.commandName === 'QueryCommand' ? (consumed?.CapacityUnits ?? 0) : 0;
      requests.push({ kind, ok: true, readUnits, key, to, tick, at: Date.now() });
      return result;
    } catch (error) {
      requests.push({ kind, ok: false, readUnits: 0, key, to, tick, at: Date.now() });
      throw error;
    }
  };
  client.middlewareStack.add(middleware as never, { step: 'initialize', name });
  const recent = () => requests.slice(since);
  return {
    requests,
    ticks: () => ticks,
    ticksAt: (at) => requests.filter((r) => r.kind === 'heartbeat' && r.at <= at).length,
    count: (kind, ok) => recent().filter((r) => r.kind === kind && (ok === undefined || r.ok === ok)).length,
    readUnits: (kind) =>
      recent()
        .filter((r) => kind === undefined || r.kind === kind)
        .reduce((n, r) => n + r.readUnits, 0),
    reset: () => {
      since = requests.length;
    },
    remove: () => void client.middlewareStack.remove(name),
  };
}
