/**
 * The life of a lease held by a member, as an explicit state machine:
 *
 *   owned ──► revoking ──► released      (graceful hand-off after the in-flight batch)
 *     │          │
 *     └──────────┴──────► lost           (another member took it: stop at once, never commit)
 *   owned ──► released                   (leaving the group)
 *   revoking ──► owned                   (the rebalance that asked for it changed its mind)
 */
import { LogInvariantError } from '../errors.ts';

export type LeaseState = 'owned' | 'revoking' | 'released' | 'lost';

const ALLOWED: Readonly<Record<LeaseState, readonly LeaseState[]>> = {
  owned: ['revoking', 'released', 'lost'],
  revoking: ['owned', 'released', 'lost'],
  released: [],
  lost: [],
};

/** Returns `to` if the transition is allowed; throws otherwise (a bug, never a runtime condition). */
export function transition(from: LeaseState, to: LeaseState): LeaseState {
  if (!ALLOWED[from].includes(to)) throw new LogInvariantError(`Lease state cannot go from ${from} to ${to}`);
  return to;
}

/** True while the member may process and commit the partition. */
export function isHeld(state: LeaseState): boolean {
  return state === 'owned' || state === 'revoking';
}
