/**
 * The SDK operations that exist only as one DynamoDB transaction — atomic appends and a group's
 * consume-transform-produce transaction — and their refusal on MRSC global tables, which have no
 * transactions (DynamoDB answers `TransactWriteItems` there with a ValidationException). The
 * refusal comes before anything is prepared or written, with a typed error that says what to do
 * instead, rather than a ValidationException after the caller's earlier records were flushed.
 */
import type { StorageContext } from '../context.ts';
import { UnsupportedOperationError } from '../errors.ts';
import { isStronglyConsistent } from './routing.ts';

/**
 * Throws {@link UnsupportedOperationError} when `ctx` is an MRSC deployment's.
 * @param operation what the caller asked for, e.g. `producer.sendAtomically()`
 * @param instead what to do without a transaction
 */
export function assertTransactionsAvailable(ctx: StorageContext, operation: string, instead: string): void {
  if (!isStronglyConsistent(ctx)) return;
  throw new UnsupportedOperationError(
    `${operation} writes one DynamoDB transaction, and this deployment's global tables use multi-Region ` +
      `strong consistency (MRSC, consistency: 'strong'), which has no transactions. Nothing was written. ${instead}`,
  );
}
