import { describe, expect, it } from 'vitest';
import { mrscRefusal, mrscRequestKind, operationOf } from '../../../../local/regions/mrsc-requests.ts';
import { strongConsistencyTableSchemas } from '../../../../local/regions/replica-tables.ts';
import { resolveReplicationSettings } from '../../../../local/regions/replication-options.ts';
import { createStrongConsistency } from '../../../../local/regions/strong-consistency.ts';
import { InvalidArgumentError } from '../../../../sdk/src/errors.ts';
import { TABLES } from '../../../../sdk/src/schema.ts';

const US = ['us-east-1', 'us-east-2', 'us-west-2'];
const target = (operation: string) => `DynamoDB_20120810.${operation}`;
const json = (body: unknown) => JSON.stringify(body);

describe('what MRSC makes of a DynamoDB request', () => {
  it.each(['TransactWriteItems', 'TransactGetItems', 'ExecuteTransaction'])('%s is a transaction', (op) => {
    expect(mrscRequestKind(target(op), '{}')).toBe('transaction');
  });

  it('UpdateTimeToLive changes TTL; DescribeTimeToLive does not', () => {
    expect(mrscRequestKind(target('UpdateTimeToLive'), '{}')).toBe('time-to-live');
    expect(mrscRequestKind(target('DescribeTimeToLive'), '{}')).toBe('other');
  });

  it.each(['PutItem', 'UpdateItem', 'DeleteItem', 'BatchWriteItem'])(
    '%s is a write, whatever its body',
    (op) => {
      expect(mrscRequestKind(target(op), 'not json')).toBe('write');
    },
  );

  it.each(['GetItem', 'Query', 'Scan'])('%s is a strong read only with ConsistentRead: true', (op) => {
    expect(mrscRequestKind(target(op), json({ TableName: 't', ConsistentRead: true }))).toBe('strong-read');
    expect(mrscRequestKind(target(op), json({ TableName: 't', ConsistentRead: false }))).toBe('other');
    expect(mrscRequestKind(target(op), json({ TableName: 't' }))).toBe('other');
    expect(mrscRequestKind(target(op), '{')).toBe('other');
  });

  it('BatchGetItem is a strong read when any table asks for one', () => {
    const body = (a: boolean | undefined, b: boolean | undefined) =>
      json({ RequestItems: { a: { Keys: [], ConsistentRead: a }, b: { Keys: [], ConsistentRead: b } } });
    expect(mrscRequestKind(target('BatchGetItem'), body(false, true))).toBe('strong-read');
    expect(mrscRequestKind(target('BatchGetItem'), body(undefined, false))).toBe('other');
  });

  it('a PartiQL statement is a write, a strong read or neither by what it says', () => {
    const statement = (Statement: string, ConsistentRead?: boolean) => json({ Statement, ConsistentRead });
    expect(mrscRequestKind(target('ExecuteStatement'), statement(' insert INTO t VALUE {}'))).toBe('write');
    expect(mrscRequestKind(target('ExecuteStatement'), statement('UPDATE t SET a = 1'))).toBe('write');
    expect(mrscRequestKind(target('ExecuteStatement'), statement('DELETE FROM t'))).toBe('write');
    expect(mrscRequestKind(target('ExecuteStatement'), statement('SELECT * FROM t', true))).toBe(
      'strong-read',
    );
    expect(mrscRequestKind(target('ExecuteStatement'), statement('SELECT * FROM t'))).toBe('other');
    // A table named like a verb does not make a read a write.
    expect(mrscRequestKind(target('ExecuteStatement'), statement('SELECT * FROM "update"'))).toBe('other');
    const batch = (statements: unknown[]) => json({ Statements: statements });
    expect(
      mrscRequestKind(
        target('BatchExecuteStatement'),
        batch([{ Statement: 'SELECT * FROM t', ConsistentRead: true }, { Statement: 'DELETE FROM t' }]),
      ),
    ).toBe('write');
    expect(
      mrscRequestKind(
        target('BatchExecuteStatement'),
        batch([{ Statement: 'SELECT * FROM t', ConsistentRead: true }]),
      ),
    ).toBe('strong-read');
    expect(mrscRequestKind(target('BatchExecuteStatement'), batch(['DELETE FROM t']))).toBe('other');
  });

  it('DynamoDB Streams and table management are neither', () => {
    expect(mrscRequestKind('DynamoDBStreams_20120810.GetRecords', '{}')).toBe('other');
    expect(mrscRequestKind(target('CreateTable'), '{}')).toBe('other');
    expect(mrscRequestKind(target('DescribeTable'), '{}')).toBe('other');
  });
});

describe('what an MRSC region refuses', () => {
  it('refuses transactions and TTL changes with a ValidationException, quorum or not', () => {
    for (const hasQuorum of [true, false]) {
      expect(mrscRefusal('transaction', 'TransactWriteItems', 'us-east-2', hasQuorum)).toMatchObject({
        status: 400,
        errorType: 'ValidationException',
        message: expect.stringMatching(
          /Transactions are not supported.*TransactWriteItems refused in us-east-2/,
        ),
      });
      expect(mrscRefusal('time-to-live', 'UpdateTimeToLive', 'us-east-2', hasQuorum)).toMatchObject({
        status: 400,
        errorType: 'ValidationException',
        message: expect.stringMatching(/Time to Live is not supported/),
      });
    }
  });

  it('refuses writes and strong reads without a quorum with a 500, and nothing else', () => {
    for (const kind of ['write', 'strong-read'] as const) {
      expect(mrscRefusal(kind, 'PutItem', 'us-west-2', true)).toBeUndefined();
      expect(mrscRefusal(kind, 'PutItem', 'us-west-2', false)).toMatchObject({
        status: 500,
        errorType: 'InternalServerError',
        message: expect.stringMatching(/us-west-2 cannot reach a quorum/),
      });
    }
    expect(mrscRefusal('other', 'GetItem', 'us-west-2', false)).toBeUndefined();
  });

  it('names the operation of a target', () => {
    expect(operationOf(target('PutItem'))).toBe('PutItem');
    expect(operationOf('DynamoDBStreams_20120810.GetRecords')).toBe('GetRecords');
  });
});

describe('the links between three MRSC regions', () => {
  it('gives every connected region a quorum; one cut off loses it, the other two keep it', () => {
    const links = createStrongConsistency(US);
    expect(US.map((region) => links.hasQuorum(region))).toEqual([true, true, true]);
    links.pause('us-west-2');
    expect(US.map((region) => links.hasQuorum(region))).toEqual([true, true, false]);
    // Two cut off: the third is alone, without a quorum too.
    links.pause('us-east-2');
    expect(US.map((region) => links.hasQuorum(region))).toEqual([false, false, false]);
    links.resume('us-east-2');
    links.resume('us-west-2');
    links.resume('us-west-2');
    expect(US.map((region) => links.hasQuorum(region))).toEqual([true, true, true]);
    expect(links.stats().paused).toEqual([]);
  });

  it("counts what each region's guard refuses, by kind", () => {
    const links = createStrongConsistency(US);
    const west = links.guard('us-west-2');
    const put = { target: target('PutItem'), body: '{}' };
    expect(west(put)).toBeUndefined();
    expect(west({ target: target('TransactGetItems'), body: '{}' })?.errorType).toBe('ValidationException');
    expect(west({ target: target('UpdateTimeToLive'), body: '{}' })?.errorType).toBe('ValidationException');
    links.pause('us-west-2');
    expect(west(put)?.status).toBe(500);
    expect(links.guard('us-east-1')(put)).toBeUndefined();
    expect(links.stats()).toEqual({
      paused: ['us-west-2'],
      refused: { transactions: 1, timeToLive: 1, noQuorum: 1 },
    });
  });

  it('refuses regions it does not simulate, and layouts MRSC cannot have', () => {
    const links = createStrongConsistency(US);
    expect(() => links.pause('eu-west-1')).toThrow(InvalidArgumentError);
    expect(() => links.guard('eu-west-1')).toThrow(/us-east-1, us-east-2, us-west-2/);
    expect(() => createStrongConsistency(['us-east-1', 'us-east-2'])).toThrow(/exactly three/);
    expect(() => createStrongConsistency(['us-east-1', 'us-east-2', 'eu-west-1'])).toThrow(/region set/);
    expect(() => createStrongConsistency(['us-east-1', 'us-east-2', 'us-west-2', 'eu-west-1'])).toThrow(
      InvalidArgumentError,
    );
  });
});

describe('the replication settings of a multi-region stack', () => {
  it('are MREC with a lag and a seed by default, MRSC when asked', () => {
    expect(resolveReplicationSettings(US, { seed: 3 })).toMatchObject({ mode: 'MREC', seed: 3 });
    expect(resolveReplicationSettings(US, undefined).mode).toBe('MREC');
    expect(resolveReplicationSettings(US, { mode: 'MRSC' })).toEqual({ mode: 'MRSC' });
  });

  it("refuses MRSC with MREC's lag or seed, or with a wrong region set", () => {
    const withLag = { mode: 'MRSC', lag: { meanMs: 10, jitterMs: 0 } } as unknown as { mode: 'MRSC' };
    expect(() => resolveReplicationSettings(US, withLag)).toThrow(/takes no lag/);
    expect(() => resolveReplicationSettings(['us-east-1', 'eu-west-1'], { mode: 'MRSC' })).toThrow(
      InvalidArgumentError,
    );
  });

  it('gives MRSC tables no TTL, and changes nothing else', () => {
    const tables = strongConsistencyTableSchemas(TABLES);
    expect(tables.some((schema) => schema.timeToLiveAttribute !== undefined)).toBe(false);
    expect(TABLES.some((schema) => schema.timeToLiveAttribute !== undefined)).toBe(true);
    expect(tables.map(({ suffix, stream, partitionKey }) => ({ suffix, stream, partitionKey }))).toEqual(
      TABLES.map(({ suffix, stream, partitionKey }) => ({ suffix, stream, partitionKey })),
    );
  });
});
