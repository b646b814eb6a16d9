/**
 * The regions of a simulated multi-region stack: AWS region names, each once, the home region
 * first. Pure.
 */
import { InvalidArgumentError } from '../../sdk/src/index.ts';

/** The region of a single-region stack (and the SDK's loopback default). */
export const DEFAULT_REGION = 'us-east-1';

/** An AWS region name: `us-east-1`, `eu-central-2`, `ap-southeast-4`, `us-gov-west-1`. */
const REGION_NAME = /^[a-z]{2}(-[a-z]+)+-\d{1,2}$/;

/** How many regions one machine is asked to simulate at most (each runs a DynamoDB Local). */
export const MAX_REGIONS = 5;

/**
 * The region list as given, checked: at least one, at most {@link MAX_REGIONS}, each an AWS region
 * name, none twice. Without a list, one region: {@link DEFAULT_REGION}.
 * @throws InvalidArgumentError naming the offending entry.
 */
export function validateRegionList(regions: readonly string[] | undefined): readonly string[] {
  if (regions === undefined) return [DEFAULT_REGION];
  if (regions.length === 0) {
    throw new InvalidArgumentError(
      'regions is empty; list the regions to simulate, the home region first (or leave it out for one region, us-east-1).',
    );
  }
  if (regions.length > MAX_REGIONS) {
    throw new InvalidArgumentError(
      `regions lists ${regions.length} regions; the local stack simulates at most ${MAX_REGIONS} (each runs its own DynamoDB Local).`,
    );
  }
  const seen = new Set<string>();
  for (const region of regions) {
    if (!REGION_NAME.test(region)) {
      throw new InvalidArgumentError(
        `regions lists "${region}", which is not an AWS region name; use names such as us-east-1 or eu-west-1.`,
      );
    }
    if (seen.has(region))
      throw new InvalidArgumentError(`regions lists ${region} twice; list each region once.`);
    seen.add(region);
  }
  return [...regions];
}
