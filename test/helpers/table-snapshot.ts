/**
 * Whole-table snapshots of DynamoDB tables, for tests that must show a request wrote nothing: a
 * snapshot is every item of every table (consistent Scans), compared item by item; and a table
 * set can be put back to an earlier snapshot, so the request that changed it can be found by
 * replaying candidates one group at a time. Only for small tables a test made for itself.
 */
import {
  type AttributeValue,
  DeleteItemCommand,
  DescribeTableCommand,
  type DynamoDBClient,
  PutItemCommand,
  ScanCommand,
} from '@aws-sdk/client-dynamodb';

type Item = Record<string, AttributeValue>;

/** Every item of a set of tables, by table and by canonical key. */
export interface TableSnapshot {
  readonly items: ReadonlyMap<string, ReadonlyMap<string, { readonly item: Item; readonly text: string }>>;
}

/** One item that differs between two snapshots. */
export interface ItemChange {
  readonly table: string;
  readonly key: string;
  /** The item before, absent when it was added. */
  readonly before?: string;
  /** The item after, absent when it was deleted. */
  readonly after?: string;
}

/** A value as canonical JSON: object keys sorted, binary as base64, so equal items print equally. */
function canonical(value: unknown): unknown {
  if (value instanceof Uint8Array) return { $bytes: Buffer.from(value).toString('base64') };
  if (Array.isArray(value)) return value.map(canonical);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((key) => [key, canonical((value as Record<string, unknown>)[key])]),
    );
  }
  return value;
}

const text = (value: unknown) => JSON.stringify(canonical(value));

/** Snapshots (and restores) the tables `tables` through `ddb`. */
export class TableSnapshotter {
  readonly #ddb: DynamoDBClient;
  readonly #tables: readonly string[];
  readonly #keys = new Map<string, readonly string[]>();

  constructor(ddb: DynamoDBClient, tables: readonly string[]) {
    this.#ddb = ddb;
    this.#tables = tables;
  }

  async #keyNames(table: string): Promise<readonly string[]> {
    let names = this.#keys.get(table);
    if (!names) {
      const described = await this.#ddb.send(new DescribeTableCommand({ TableName: table }));
      names = (described.Table?.KeySchema ?? []).map((k) => k.AttributeName!);
      this.#keys.set(table, names);
    }
    return names;
  }

  /** Every item of every table now. */
  async snapshot(): Promise<TableSnapshot> {
    const items = new Map<string, Map<string, { item: Item; text: string }>>();
    await Promise.all(
      this.#tables.map(async (table) => {
        const keys = await this.#keyNames(table);
        const byKey = new Map<string, { item: Item; text: string }>();
        let start: Item | undefined;
        do {
          const page = await this.#ddb.send(
            new ScanCommand({ TableName: table, ConsistentRead: true, ExclusiveStartKey: start }),
          );
          for (const item of page.Items ?? []) {
            byKey.set(text(keys.map((k) => item[k])), { item, text: text(item) });
          }
          start = page.LastEvaluatedKey;
        } while (start);
        items.set(table, byKey);
      }),
    );
    return { items };
  }

  /** Items that differ from `before` to `after`. */
  static diff(before: TableSnapshot, after: TableSnapshot): ItemChange[] {
    const changes: ItemChange[] = [];
    const tables = new Set([...before.items.keys(), ...after.items.keys()]);
    for (const table of tables) {
      const a = before.items.get(table) ?? new Map();
      const b = after.items.get(table) ?? new Map();
      for (const [key, { text: was }] of a) {
        const now = b.get(key)?.text;
        if (now === undefined) changes.push({ table, key, before: was });
        else if (now !== was) changes.push({ table, key, before: was, after: now });
      }
      for (const [key, { text: now }] of b) {
        if (!a.has(key)) changes.push({ table, key, after: now });
      }
    }
    return changes;
  }

  /** Puts the tables back to `target` from their state `current` (only the items that differ). */
  async restore(current: TableSnapshot, target: TableSnapshot): Promise<void> {
    for (const change of TableSnapshotter.diff(current, target)) {
      const keys = await this.#keyNames(change.table);
      if (change.after === undefined) {
        const { item } = current.items.get(change.table)!.get(change.key)!;
        await this.#ddb.send(
          new DeleteItemCommand({
            TableName: change.table,
            Key: Object.fromEntries(keys.map((k) => [k, item[k]!])),
          }),
        );
      } else {
        const { item } = target.items.get(change.table)!.get(change.key)!;
        await this.#ddb.send(new PutItemCommand({ TableName: change.table, Item: item }));
      }
    }
  }
}
