/**
 * Pure decisions of the appender: which append path to use for a partition, and how long to back
 * off after collisions.
 *
 * A collision costs the failed write's full size in write units. The one-phase path writes the
 * whole batch at the guessed slot, so under contention it wastes `itemUnits` per collision. The
 * two-phase path claims the slot with a ~1 unit placeholder and then writes the body, so it pays
 * one extra unit per append but only ~1 unit per collision. With `c` expected collisions per
 * successful append, two-phase is cheaper when `c * (itemUnits - 1) > 1`. We estimate the
 * collision probability `p` with an exponentially weighted moving average of recent attempts,
 * `c = p / (1 - p)`, and switch with hysteresis so a partition does not flap between paths.
 */

/** The two append paths. */
export type AppendPath = 'one-phase' | 'two-phase';

/** Per-partition contention estimate; immutable, updated by {@link recordAttempt}. */
export interface ContentionState {
  readonly collisionRate: number;
  readonly path: AppendPath;
  /** Attempts folded in so far, counted up to {@link WARM_UP_ATTEMPTS}. */
  readonly attempts: number;
}

/**
 * A new appender knows nothing of its partition. It assumes a little contention, so that its
 * first large batches are claimed with a cheap placeholder rather than risking a full-size
 * collision (many short-lived writers, such as Lambda instances, only ever write a few batches);
 * the estimate decays within a few appends when nobody else writes.
 */
export const INITIAL_CONTENTION: ContentionState = { collisionRate: 0.1, path: 'one-phase', attempts: 0 };

/** Weight of the newest attempt in the moving average. */
const EWMA_WEIGHT = 0.2;
/**
 * The first attempts weigh more, so the prior gives way to what the partition shows within a few
 * appends: at the usual weight, a quiet partition kept 128 KB batches on the two-phase path
 * (one more round trip each) for 13 appends; with these, for 5. A collision among them raises
 * the estimate as fast.
 */
const WARM_UP_ATTEMPTS = 4;
const WARM_UP_WEIGHT = 0.5;
/** Switch to two-phase when its estimated saving exceeds its cost by this factor... */
const SWITCH_UP = 1.25;
/** ...and back to one-phase when the saving falls below this fraction of the cost. */
const SWITCH_DOWN = 0.75;
/** Keeps `p / (1 - p)` finite. */
const MAX_RATE = 0.95;

/** Write units DynamoDB bills for an item of `bytes` (1 KB units, rounded up). */
export function writeUnits(bytes: number): number {
  return Math.max(1, Math.ceil(bytes / 1024));
}

/** Folds one append attempt (collided or not) into the estimate. */
export function recordAttempt(state: ContentionState, collided: boolean): ContentionState {
  const weight = state.attempts < WARM_UP_ATTEMPTS ? WARM_UP_WEIGHT : EWMA_WEIGHT;
  const rate = Math.min(MAX_RATE, state.collisionRate * (1 - weight) + (collided ? weight : 0));
  return { ...state, collisionRate: rate, attempts: Math.min(WARM_UP_ATTEMPTS, state.attempts + 1) };
}

/**
 * Chooses the path for the next batch of `itemBytes`, with hysteresis around the break-even
 * point `c * (units - 1) = 1`.
 */
export function choosePath(state: ContentionState, itemBytes: number): ContentionState {
  const expectedCollisions = state.collisionRate / (1 - state.collisionRate);
  const saving = expectedCollisions * (writeUnits(itemBytes) - 1);
  if (state.path === 'one-phase' && saving > SWITCH_UP) return { ...state, path: 'two-phase' };
  if (state.path === 'two-phase' && saving < SWITCH_DOWN) return { ...state, path: 'one-phase' };
  return state;
}

/**
 * Delay before retrying after `consecutive` collisions in a row. The first retry goes at once
 * (the collision told us the next slot); later ones spread out with full jitter so racing writers
 * take turns instead of colliding again, while their next batches grow.
 */
export function collisionBackoffMs(consecutive: number, random: () => number = Math.random): number {
  if (consecutive <= 1) return 0;
  const ceiling = Math.min(50, 2 * 2 ** (consecutive - 2));
  return random() * ceiling;
}
