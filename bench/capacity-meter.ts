/**
 * Measures DynamoDB capacity as DynamoDB reports it: middleware asks every request for
 * `ReturnConsumedCapacity: TOTAL` and sums what comes back. Failed conditional writes report no
 * capacity in their error, so they are estimated from the item size the way DynamoDB bills them.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { writeUnits } from '../sdk/src/internal.ts';

export interface CapacityTotals {
  /** Read and write units per table, as reported. */
  byTable: Record<string, { readUnits: number; writeUnits: number; requests: number }>;
  /** Read and write units per command (`QueryCommand`, `UpdateItemCommand`, ...), as reported. */
  byCommand: Record<string, { readUnits: number; writeUnits: number; requests: number }>;
  readUnits: number;
  writeUnits: number;
  /** Estimated units of writes that failed their condition. */
  failedWriteUnits: number;
  requests: number;
}

interface Consumed {
  TableName?: string;
  CapacityUnits?: number;
  ReadCapacityUnits?: number;
  WriteCapacityUnits?: number;
}

/** Commands whose consumed capacity is read units (a Scan's too: it reads every item it passes). */
const READ_COMMANDS = new Set([
  'QueryCommand',
  'GetItemCommand',
  'ScanCommand',
  'BatchGetItemCommand',
  'TransactGetItemsCommand',
]);

function itemBytes(item: Record<string, Record<string, unknown>> | undefined): number {
  if (!item) return 0;
  let size = 0;
  for (const [name, value] of Object.entries(item)) {
    size += Buffer.byteLength(name);
    const v = Object.values(value)[0];
    if (v instanceof Uint8Array) size += v.byteLength;
    else if (typeof v === 'string') size += Buffer.byteLength(v);
    else size += 8;
  }
  return size;
}

/** Installs the meter on a client; `totals` accumulate until `reset()`. */
export function meterCapacity(client: DynamoDBClient): { totals: CapacityTotals; reset: () => void } {
  const totals: CapacityTotals = {
    byTable: {},
    byCommand: {},
    readUnits: 0,
    writeUnits: 0,
    failedWriteUnits: 0,
    requests: 0,
  };
  const tableTotals = (name: string) => {
    totals.byTable[name] ??= { readUnits: 0, writeUnits: 0, requests: 0 };
    return totals.byTable[name];
  };
  const commandTotals = (name: string) => {
    totals.byCommand[name] ??= { readUnits: 0, writeUnits: 0, requests: 0 };
    return totals.byCommand[name];
  };
  type Args = { input: Record<string, unknown> };
  type Next = (args: Args) => Promise<{ output: Record<string, unknown> }>;
  const middleware = (next: Next, context: { commandName?: string }) => async (args: Args) => {
    totals.requests++;
    if (typeof args.input.TableName === 'string') tableTotals(args.input.TableName).requests++;
    const command = commandTotals(context.commandName ?? '?');
    command.requests++;
    const input = { ...args.input, ReturnConsumedCapacity: 'TOTAL' };
    try {
      const result = await next({ ...args, input });
      const consumed = result.output.ConsumedCapacity as Consumed | Consumed[] | undefined;
      for (const c of Array.isArray(consumed) ? consumed : consumed ? [consumed] : []) {
        const isRead = READ_COMMANDS.has(context.commandName ?? '');
        const units = c.CapacityUnits ?? 0;
        const table = tableTotals(c.TableName ?? '?');
        if (isRead) {
          totals.readUnits += c.ReadCapacityUnits ?? units;
          table.readUnits += c.ReadCapacityUnits ?? units;
          command.readUnits += c.ReadCapacityUnits ?? units;
        } else {
          totals.writeUnits += c.WriteCapacityUnits ?? units;
          table.writeUnits += c.WriteCapacityUnits ?? units;
          command.writeUnits += c.WriteCapacityUnits ?? units;
        }
      }
      return result;
    } catch (error) {
      if ((error as { name?: string }).name === 'ConditionalCheckFailedException') {
        const item = args.input.Item as Record<string, Record<string, unknown>> | undefined;
        totals.failedWriteUnits += writeUnits(itemBytes(item));
      }
      throw error;
    }
  };
  client.middlewareStack.add(middleware as never, { step: 'initialize', name: 'bench-capacity-meter' });
  return {
    totals,
    reset: () => {
      totals.byTable = {};
      totals.byCommand = {};
      totals.readUnits = 0;
      totals.writeUnits = 0;
      totals.failedWriteUnits = 0;
      totals.requests = 0;
    },
  };
}
