/**
 * The pure decisions of a failover (`failover.ts` does the I/O): which requests are refused before
 * anything is written, how far a region's copy of a partition's chain is held, and when two copies
 * of an item are the same.
 */
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { InvalidArgumentError, InvalidFailoverError, UnknownRegionError } from '../errors.ts';
import type { FailoverMode } from './leader-epochs.ts';

/** What a failover is asked to do. */
export interface FailoverRequest {
  /** The region to move the topic's home to. */
  readonly to: string;
  readonly mode: FailoverMode;
  /**
   * Planned only: how long to wait for the new home to hold every partition's log (ms). When it
   * passes, the fences are lifted (appends resume in the old home) and `TimeoutError` is thrown.
   * @default 60000
   */
  readonly timeoutMs?: number;
}

/** Default of {@link FailoverRequest.timeoutMs}. */
export const DEFAULT_FAILOVER_TIMEOUT_MS = 60_000;

/**
 * Checks a request against the deployment's regions and the topic's current home, before anything
 * is read from the target or written anywhere; returns the wait for a planned failover.
 *
 * @throws InvalidArgumentError for a malformed request
 * @throws UnknownRegionError when `to` is not one of the deployment's regions
 * @throws InvalidFailoverError (`already-home`) when `to` is the current home
 */
export function checkFailoverRequest(
  topic: string,
  request: FailoverRequest,
  regions: readonly string[],
  home: string,
): number {
  const { to, mode } = request;
  if (mode !== 'planned' && mode !== 'forced') {
    throw new InvalidArgumentError(`A failover's mode is 'planned' or 'forced', got ${JSON.stringify(mode)}`);
  }
  const timeoutMs = request.timeoutMs ?? DEFAULT_FAILOVER_TIMEOUT_MS;
  if (!Number.isSafeInteger(timeoutMs) || timeoutMs <= 0) {
    throw new InvalidArgumentError(`A failover's timeoutMs is a positive integer (ms), got ${timeoutMs}`);
  }
  if (typeof to !== 'string' || !regions.includes(to)) {
    throw new UnknownRegionError(String(to), regions, 'The failover target');
  }
  if (to === home) throw new InvalidFailoverError(topic, to, 'already-home', `${to} is its home already`);
  return timeoutMs;
}

/** A slot as the chain scan needs it. */
export interface ChainSlot {
  readonly offset: number;
  readonly count: number;
  readonly kind: 'complete' | 'pending' | 'archived' | 'fence';
}

/** How far a copy of a chain is held: every offset below `held` is in a complete batch (or a stub). */
export interface HeldChain {
  readonly held: number;
  /**
   * Why the scan stopped at `held`, once it did: a missing batch (`gap`), a claim whose body is not
   * there (`pending`), or a planned failover's fence (`fence`, the chain's end).
   */
  readonly stop: 'gap' | 'pending' | 'fence' | undefined;
}

/** A scan from `from` that has seen nothing yet. */
export function startChainScan(from: number): HeldChain {
  return { held: from, stop: undefined };
}

/** Folds one page of a copy's slots (ascending by offset) into the scan. */
export function scanChain(scan: HeldChain, page: readonly ChainSlot[]): HeldChain {
  if (scan.stop) return scan;
  let held = scan.held;
  for (const slot of page) {
    const end = slot.offset + slot.count;
    // Before the scan's start (a query from a batch boundary never returns these).
    if (end <= held && slot.kind !== 'fence') continue;
    if (slot.offset !== held) return { held, stop: 'gap' };
    if (slot.kind === 'pending' || slot.kind === 'fence') return { held, stop: slot.kind };
    held = end;
  }
  return { held, stop: undefined };
}

/**
 * A stable rendering of a DynamoDB item, equal for two copies that hold the same attributes with
 * the same values (MREC replicates an item as its whole image, so a replica's copy is identical).
 */
export function itemDigest(item: Readonly<Record<string, AttributeValue>>): string {
  return JSON.stringify(canonical(item));
}

function canonical(value: unknown): unknown {
  if (value instanceof Uint8Array) return Buffer.from(value).toString('base64');
  if (Array.isArray(value)) return value.map(canonical);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value as Record<string, unknown>)
        .filter(([, v]) => v !== undefined)
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        .map(([k, v]) => [k, canonical(v)]),
    );
  }
  return value;
}

/** Whether two regions hold the same items (by digest), wherever each listed them. */
export function sameItems(
  a: readonly Readonly<Record<string, AttributeValue>>[],
  b: readonly Readonly<Record<string, AttributeValue>>[],
): boolean {
  if (a.length !== b.length) return false;
  const digests = new Set(a.map(itemDigest));
  return b.every((item) => digests.has(itemDigest(item)));
}
