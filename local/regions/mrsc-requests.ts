/**
 * What a region's edge does with a DynamoDB request in the MRSC mode of a multi-region local
 * stack: which requests MRSC global tables refuse outright (transactions, Time to Live), and which
 * need a quorum of the regions (writes and strongly consistent reads), so that a region cut off
 * from the others refuses them. Pure: the edge calls it with the request's target and body.
 */
import type { EdgeRefusal } from '../edge-proxy.ts';

/** How MRSC treats a request. */
export type MrscRequestKind =
  /** TransactWriteItems, TransactGetItems, ExecuteTransaction: MRSC has no transactions. */
  | 'transaction'
  /** UpdateTimeToLive: MRSC has no TTL. */
  | 'time-to-live'
  /** A write: replicated synchronously, so it needs a quorum. */
  | 'write'
  /** A strongly consistent read: it reads the latest version across regions, so it needs a quorum. */
  | 'strong-read'
  /** Everything else (eventually consistent reads, table management, DynamoDB Streams). */
  | 'other';

const DYNAMODB_PREFIX = 'DynamoDB_20120810.';

const TRANSACTIONS = new Set(['TransactWriteItems', 'TransactGetItems', 'ExecuteTransaction']);
const WRITES = new Set(['PutItem', 'UpdateItem', 'DeleteItem', 'BatchWriteItem']);
/** Reads whose body has a top-level `ConsistentRead`. */
const SINGLE_READS = new Set(['GetItem', 'Query', 'Scan']);
/** PartiQL statements that write (the first word of the statement). */
const WRITE_STATEMENT = /^\s*(insert|update|delete)\b/i;

/** The request's JSON body as an object, or undefined when it is not one. */
function parseBody(body: string): Record<string, unknown> | undefined {
  try {
    const parsed: unknown = JSON.parse(body);
    return typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, unknown>) : undefined;
  } catch {
    // DynamoDB Local answers a malformed body itself.
    return undefined;
  }
}

/** One PartiQL statement's kind: a write, a strongly consistent SELECT, or neither. */
function statementKind(statement: unknown, consistentRead: unknown): MrscRequestKind {
  if (typeof statement !== 'string') return 'other';
  if (WRITE_STATEMENT.test(statement)) return 'write';
  return consistentRead === true ? 'strong-read' : 'other';
}

/**
 * How MRSC treats the request with this `x-amz-target` and body. A body that is not JSON makes a
 * read or a PartiQL statement `other` (DynamoDB Local then refuses it); the plain writes need no body.
 */
export function mrscRequestKind(target: string, body: string): MrscRequestKind {
  if (!target.startsWith(DYNAMODB_PREFIX)) return 'other';
  const operation = target.slice(DYNAMODB_PREFIX.length);
  if (TRANSACTIONS.has(operation)) return 'transaction';
  if (operation === 'UpdateTimeToLive') return 'time-to-live';
  if (WRITES.has(operation)) return 'write';
  if (SINGLE_READS.has(operation)) return parseBody(body)?.ConsistentRead === true ? 'strong-read' : 'other';
  if (operation === 'BatchGetItem') {
    const requestItems = parseBody(body)?.RequestItems;
    if (typeof requestItems !== 'object' || requestItems === null) return 'other';
    const strong = Object.values(requestItems).some(
      (keys) =>
        typeof keys === 'object' && keys !== null && 'ConsistentRead' in keys && keys.ConsistentRead === true,
    );
    return strong ? 'strong-read' : 'other';
  }
  if (operation === 'ExecuteStatement') {
    const parsed = parseBody(body);
    return statementKind(parsed?.Statement, parsed?.ConsistentRead);
  }
  if (operation === 'BatchExecuteStatement') {
    const statements = parseBody(body)?.Statements;
    if (!Array.isArray(statements)) return 'other';
    const kinds = statements.map((entry: unknown) =>
      typeof entry === 'object' && entry !== null
        ? statementKind(
            (entry as Record<string, unknown>).Statement,
            (entry as Record<string, unknown>).ConsistentRead,
          )
        : 'other',
    );
    if (kinds.includes('write')) return 'write';
    return kinds.includes('strong-read') ? 'strong-read' : 'other';
  }
  return 'other';
}

/** The operation named by an `x-amz-target` (`DynamoDB_20120810.PutItem` → `PutItem`). */
export function operationOf(target: string): string {
  const dot = target.lastIndexOf('.');
  return dot < 0 ? target : target.slice(dot + 1);
}

/**
 * The error `region`'s edge answers instead of forwarding a request of this kind (see
 * {@link mrscRequestKind}) and operation, or undefined to forward it. `hasQuorum` tells whether
 * `region` reaches another region (with itself, two of three).
 *
 * Transactions and TTL changes are refused with a ValidationException (a client error, as AWS
 * answers them on MRSC tables); the wording is the simulation's, not AWS's. A write or strongly
 * consistent read in a region without a quorum gets HTTP 500 InternalServerError, a server
 * error the AWS SDK retries, since AWS's replica in an isolated region cannot complete it either.
 */
export function mrscRefusal(
  kind: MrscRequestKind,
  operation: string,
  region: string,
  hasQuorum: boolean,
): EdgeRefusal | undefined {
  if (kind === 'transaction') {
    return {
      status: 400,
      errorType: 'ValidationException',
      message:
        `Transactions are not supported on global tables with multi-Region strong consistency (MRSC): ` +
        `${operation} refused in ${region} (Tributary local stack).`,
    };
  }
  if (kind === 'time-to-live') {
    return {
      status: 400,
      errorType: 'ValidationException',
      message:
        `Time to Live is not supported on global tables with multi-Region strong consistency (MRSC): ` +
        `${operation} refused in ${region} (Tributary local stack).`,
    };
  }
  if ((kind === 'write' || kind === 'strong-read') && !hasQuorum) {
    return {
      status: 500,
      errorType: 'InternalServerError',
      message:
        `${region} cannot reach a quorum of the MRSC global table's regions (cut off in the Tributary local ` +
        `stack): ${operation} ${kind === 'write' ? 'writes' : 'reads strongly consistently'} and needs another ` +
        'region; eventually consistent reads still work here.',
    };
  }
  return undefined;
}
