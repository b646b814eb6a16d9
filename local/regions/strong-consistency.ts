/**
 * The MRSC mode of a multi-region local stack (`replication: { mode: 'MRSC' }`): three simulated
 * regions that behave like one MRSC (multi-region strong consistency) global table per Tributary
 * table. It is a simulation on one machine, in the stack's own process.
 *
 * How: every region's edge serves the same single DynamoDB Local, so there is one copy of each
 * item, the single source of truth a quorum gives AWS; each region keeps its own edge endpoint, and
 * each edge checks requests against what MRSC allows ({@link mrscRefusal}).
 *
 * What it reproduces of DynamoDB MRSC global tables:
 * - A write in any region is visible at once to strongly consistent reads in every region, and
 *   conditional writes are evaluated against the latest version of the item, whichever region
 *   wrote it: two regions racing on one `attribute_not_exists` slot, exactly one wins.
 * - Exactly three regions of one MRSC region set (`strongConsistencyProblem`, the rule the CDK
 *   construct applies too); anything else is refused before the stack starts.
 * - No transactions: TransactWriteItems, TransactGetItems and ExecuteTransaction are answered with
 *   a ValidationException in every region. No TTL: UpdateTimeToLive likewise, and the tables are
 *   created without a TTL attribute (as the CDK construct creates MRSC tables).
 * - DynamoDB Streams work, in every region, and show every region's writes.
 * - A region can be cut off (`pause`): it then reaches no quorum, so its edge answers writes and
 *   strongly consistent reads with HTTP 500 InternalServerError (retried by the AWS SDK, then
 *   thrown), while the two others, still a quorum of two, carry on. Cutting off two regions leaves
 *   the third alone, without a quorum either. Eventually consistent reads and streams are served
 *   everywhere throughout.
 *
 * What it does not reproduce:
 * - Latency: an MRSC write (and strongly consistent read) waits for a second region in AWS, tens
 *   of milliseconds across regions; here it costs what a DynamoDB Local request costs.
 * - ReplicatedWriteConflictException: AWS refuses a write to an item that a request in another
 *   region is modifying at that moment; DynamoDB Local serializes such writes instead (conditions
 *   still settle any race, so the outcome a conditional append sees is the same, minus the retry).
 * - The exact wording of AWS's errors (AWS does not document them word for word): the refusals
 *   carry AWS's error names (ValidationException, InternalServerError) and the simulation's words.
 * - Stale eventually consistent reads: with one copy they always return the latest version.
 * - A witness region (two replicas and a witness): the stack simulates three replicas.
 * - Per-region tables: creating or deleting a table through one region's edge does so in all.
 * - Throughput, cost, throttling; S3 and Lambda are shared by the regions, as in MREC mode.
 */
import { InvalidArgumentError } from '../../sdk/src/index.ts';
import { strongConsistencyProblem } from '../../sdk/src/internal.ts';
import type { DynamoDBGuard } from '../edge-proxy.ts';
import { type MrscRequestKind, mrscRefusal, mrscRequestKind, operationOf } from './mrsc-requests.ts';

/** `replication` of a stack simulating MRSC global tables. */
export interface MrscReplicationOptions {
  /** `MRSC`: multi-region strong consistency (see `regions/strong-consistency.ts`). */
  readonly mode: 'MRSC';
}

/** Counters since the stack started, and the regions cut off now. */
export interface StrongConsistencyStats {
  /** The regions cut off (`pause`), in the order they were paused. */
  readonly paused: readonly string[];
  /** Requests the regions' edges refused: transactions, TTL changes, and those a region without a quorum cannot serve. */
  readonly refused: {
    readonly transactions: number;
    readonly timeToLive: number;
    readonly noQuorum: number;
  };
}

/** The MRSC simulation of a multi-region local stack (`stack.strongConsistency`). */
export interface StrongConsistency {
  readonly mode: 'MRSC';
  /** The three regions, the home region first. */
  readonly regions: readonly string[];
  /**
   * Cuts `region` off from the others: its edge refuses writes and strongly consistent reads
   * (InternalServerError) until {@link resume}, as an isolated MRSC replica reaches no quorum; the
   * others keep a quorum unless a second region is cut off too. Idempotent.
   * @throws InvalidArgumentError for a region the stack does not simulate.
   */
  pause(region: string): void;
  /** Reconnects `region`. Idempotent. @throws InvalidArgumentError for a region the stack does not simulate. */
  resume(region: string): void;
  /**
   * Whether `region` reaches a quorum: it is not cut off, and another region is not either.
   * @throws InvalidArgumentError for a region the stack does not simulate.
   */
  hasQuorum(region: string): boolean;
  stats(): StrongConsistencyStats;
}

/**
 * Checks that `regions` can be one MRSC global table: three distinct regions of one MRSC region set.
 * @throws InvalidArgumentError saying why not.
 */
export function validateStrongConsistencyRegions(regions: readonly string[]): void {
  const problem = strongConsistencyProblem({ replicas: regions });
  if (problem !== undefined) {
    throw new InvalidArgumentError(
      `replication mode MRSC with regions ${regions.join(', ')}: ${problem} (the local stack simulates three replica regions, no witness).`,
    );
  }
}

/** The stack's side of {@link StrongConsistency}: one edge guard per region. */
export interface StrongConsistencyLinks extends StrongConsistency {
  /** What `region`'s edge consults for every DynamoDB request. */
  guard(region: string): DynamoDBGuard;
}

/** Which counter of {@link StrongConsistencyStats.refused} a refused request of each kind adds to. */
const REFUSAL_COUNTER: Record<Exclude<MrscRequestKind, 'other'>, keyof StrongConsistencyStats['refused']> = {
  transaction: 'transactions',
  'time-to-live': 'timeToLive',
  write: 'noQuorum',
  'strong-read': 'noQuorum',
};

class MrscLinks implements StrongConsistencyLinks {
  readonly mode = 'MRSC' as const;
  readonly regions: readonly string[];
  readonly #paused = new Set<string>();
  readonly #refused = { transactions: 0, timeToLive: 0, noQuorum: 0 };

  constructor(regions: readonly string[]) {
    this.regions = [...regions];
  }

  pause(region: string): void {
    this.#check(region);
    this.#paused.add(region);
  }

  resume(region: string): void {
    this.#check(region);
    this.#paused.delete(region);
  }

  hasQuorum(region: string): boolean {
    this.#check(region);
    // Two of three: the region itself and one other it can reach.
    return (
      !this.#paused.has(region) && this.regions.some((other) => other !== region && !this.#paused.has(other))
    );
  }

  stats(): StrongConsistencyStats {
    return { paused: [...this.#paused], refused: { ...this.#refused } };
  }

  guard(region: string): DynamoDBGuard {
    this.#check(region);
    return ({ target, body }) => {
      const kind = mrscRequestKind(target, body);
      const refusal = mrscRefusal(kind, operationOf(target), region, this.hasQuorum(region));
      // `other` requests are never refused.
      if (refusal !== undefined && kind !== 'other') this.#refused[REFUSAL_COUNTER[kind]]++;
      return refusal;
    };
  }

  #check(region: string): void {
    if (!this.regions.includes(region)) {
      throw new InvalidArgumentError(
        `Unknown region "${region}"; the MRSC stack simulates ${this.regions.join(', ')}.`,
      );
    }
  }
}

/**
 * The links between three regions that {@link validateStrongConsistencyRegions} accepts, all
 * connected.
 * @throws InvalidArgumentError when they cannot be an MRSC global table.
 */
export function createStrongConsistency(regions: readonly string[]): StrongConsistencyLinks {
  validateStrongConsistencyRegions(regions);
  return new MrscLinks(regions);
}
