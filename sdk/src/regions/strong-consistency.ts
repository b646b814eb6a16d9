/**
 * Where DynamoDB's multi-Region strong consistency (MRSC) global tables can live: exactly three
 * regions of one region set — three replicas, or two replicas and a witness (a region that takes
 * part in the quorum but holds no readable replica). Pure: the CDK construct checks a deployment
 * with it before CloudFormation would, and the local stack checks its simulated regions, so both
 * refuse the same layouts with the same words.
 */

/** The region sets MRSC global tables may span (DynamoDB's documentation of `GlobalTableWitness`). */
export const MRSC_REGION_SETS: Readonly<Record<'US' | 'EU' | 'AP', readonly string[]>> = {
  US: ['us-east-1', 'us-east-2', 'us-west-2'],
  EU: ['eu-west-1', 'eu-west-2', 'eu-west-3', 'eu-central-1'],
  AP: ['ap-northeast-1', 'ap-northeast-2', 'ap-northeast-3'],
};

/** The regions of an MRSC deployment. */
export interface StrongConsistencyLayout {
  /** Regions holding a replica (the home region first). */
  readonly replicas: readonly string[];
  /** The witness region, when the deployment has two replicas and a witness. */
  readonly witness?: string | undefined;
}

/**
 * Why `layout` cannot be an MRSC global table, in one sentence; undefined when it can. Checks:
 * no region twice, exactly three regions in all (three replicas, or two and a witness), all of
 * them in one of {@link MRSC_REGION_SETS}.
 */
export function strongConsistencyProblem(layout: StrongConsistencyLayout): string | undefined {
  const regions = [...layout.replicas, ...(layout.witness === undefined ? [] : [layout.witness])];
  const twice = regions.find((region, i) => regions.indexOf(region) !== i);
  if (twice !== undefined) return `${twice} is listed twice; MRSC needs three distinct regions`;
  const expected = layout.witness === undefined ? 3 : 2;
  if (layout.replicas.length !== expected) {
    return layout.witness === undefined
      ? `MRSC needs exactly three replica regions (or two and a witness region); got ${layout.replicas.length}: ${describe(layout.replicas)}`
      : `MRSC with a witness region needs exactly two replica regions; got ${layout.replicas.length}: ${describe(layout.replicas)}`;
  }
  const set = Object.entries(MRSC_REGION_SETS).find(([, members]) => members.includes(regions[0]!));
  if (!set) return `${regions[0]} is in no MRSC region set (${describeSets()})`;
  const [name, members] = set;
  const outside = regions.filter((region) => !members.includes(region));
  if (outside.length > 0) {
    return `${describe(outside)} not in the ${name} region set of ${regions[0]} (${members.join(', ')}); all three regions must be in one set`;
  }
  return undefined;
}

function describe(regions: readonly string[]): string {
  return regions.length === 0 ? 'none' : regions.join(', ');
}

function describeSets(): string {
  return Object.entries(MRSC_REGION_SETS)
    .map(([name, members]) => `${name}: ${members.join(', ')}`)
    .join('; ');
}
