/**
 * DynamoDB capacity as DynamoDB reports it, for tests that hold code to what it reads and writes:
 * AWS SDK middleware asks every request for `ReturnConsumedCapacity: TOTAL` and sums the answers
 * per table and command (a Scan's units are read units: it reads every item it passes).
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';

/** Units and requests of one table, or one command on one table. */
export interface Consumed {
  readUnits: number;
  writeUnits: number;
  requests: number;
}

/** What a client consumed since the meter was (re)set. */
export interface CapacityMeter {
  /** Per table name. */
  readonly byTable: Map<string, Consumed>;
  /** Per `<table> <command>` (e.g. `prefix-log GetItemCommand`). */
  readonly byCommand: Map<string, Consumed>;
  /** Totals of one table (zeros when it saw no request). */
  table(name: string): Consumed;
  /** Requests of one command on one table. */
  requests(table: string, command: string): number;
  reset(): void;
  remove(): void;
}

const READS = new Set([
  'GetItemCommand',
  'QueryCommand',
  'ScanCommand',
  'BatchGetItemCommand',
  'TransactGetItemsCommand',
]);

interface Reported {
  TableName?: string;
  CapacityUnits?: number;
  ReadCapacityUnits?: number;
  WriteCapacityUnits?: number;
}

let nextId = 0;

/** Meters `client` from now on. */
export function meterCapacity(client: DynamoDBClient): CapacityMeter {
  const name = `tributary-test-capacity-${nextId++}`;
  const byTable = new Map<string, Consumed>();
  const byCommand = new Map<string, Consumed>();
  const entry = (map: Map<string, Consumed>, key: string) => {
    let e = map.get(key);
    if (!e) {
      e = { readUnits: 0, writeUnits: 0, requests: 0 };
      map.set(key, e);
    }
    return e;
  };
  type Args = { input: Record<string, unknown> };
  type Next = (args: Args) => Promise<{ output: Record<string, unknown> }>;
  const middleware = (next: Next, context: { commandName?: string }) => async (args: Args) => {
    const command = context.commandName ?? '?';
    const tables =
      typeof args.input.TableName === 'string'
        ? [args.input.TableName]
        : Object.keys((args.input.RequestItems as Record<string, unknown> | undefined) ?? {});
    for (const table of tables) {
      entry(byTable, table).requests++;
      entry(byCommand, `${table} ${command}`).requests++;
    }
    const result = await next({ ...args, input: { ...args.input, ReturnConsumedCapacity: 'TOTAL' } });
    const reported = result.output.ConsumedCapacity as Reported | Reported[] | undefined;
    for (const c of Array.isArray(reported) ? reported : reported ? [reported] : []) {
      const table = c.TableName ?? '?';
      const units = c.CapacityUnits ?? 0;
      for (const e of [entry(byTable, table), entry(byCommand, `${table} ${command}`)]) {
        if (READS.has(command)) e.readUnits += c.ReadCapacityUnits ?? units;
        else e.writeUnits += c.WriteCapacityUnits ?? units;
      }
    }
    return result;
  };
  client.middlewareStack.add(middleware as never, { step: 'initialize', name });
  return {
    byTable,
    byCommand,
    table: (table) => byTable.get(table) ?? { readUnits: 0, writeUnits: 0, requests: 0 },
    requests: (table, command) => byCommand.get(`${table} ${command}`)?.requests ?? 0,
    reset: () => {
      byTable.clear();
      byCommand.clear();
    },
    remove: () => void client.middlewareStack.remove(name),
  };
}
