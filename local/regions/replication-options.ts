/**
 * How a multi-region local stack makes its regions one global table: MREC (a DynamoDB Local per
 * region and the replicator between them, `replicator.ts`) or MRSC (one DynamoDB Local behind every
 * region's edge, `strong-consistency.ts`). Checked before the stack starts anything.
 */
import { InvalidArgumentError } from '../../sdk/src/index.ts';
import type { ReplicationLag } from './delivery-schedule.ts';
import { type MrecReplicationOptions, resolveMrecReplication } from './replicator.ts';
import { type MrscReplicationOptions, validateStrongConsistencyRegions } from './strong-consistency.ts';

/** The consistency modes of DynamoDB global tables the local stack simulates. */
export type ReplicationMode = 'MREC' | 'MRSC';

/** How a multi-region local stack replicates (`startLocalStack({ replication })`). */
export type ReplicationOptions = MrecReplicationOptions | MrscReplicationOptions;

/** {@link ReplicationOptions} checked, defaults filled in. */
export type ReplicationSettings =
  | { readonly mode: 'MREC'; readonly lag: ReplicationLag; readonly seed: number }
  | { readonly mode: 'MRSC' };

/**
 * `options` for a stack of `regions` (already a valid region list of two or more), checked: MREC's
 * lag and seed (a random seed drawn when none is given), or MRSC's three regions of one region set.
 * @throws InvalidArgumentError for an invalid lag or seed, MREC options given with MRSC, or
 * regions that cannot be an MRSC global table.
 */
export function resolveReplicationSettings(
  regions: readonly string[],
  options: ReplicationOptions | undefined,
): ReplicationSettings {
  if (options?.mode !== 'MRSC') return { ...resolveMrecReplication(options), mode: 'MREC' };
  // Untyped callers: MREC's knobs mean nothing to synchronous replication, so they are refused, not ignored.
  const extra = Object.keys(options).filter((key) => key !== 'mode');
  if (extra.length > 0) {
    throw new InvalidArgumentError(
      `replication mode MRSC takes no ${extra.join(', ')}: MRSC replicates synchronously (lag and seed are MREC's).`,
    );
  }
  validateStrongConsistencyRegions(regions);
  return { mode: 'MRSC' };
}
