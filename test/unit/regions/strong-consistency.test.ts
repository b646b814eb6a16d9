import { describe, expect, it } from 'vitest';
import { MRSC_REGION_SETS, strongConsistencyProblem } from '../../../sdk/src/regions/strong-consistency.ts';

describe('strongConsistencyProblem', () => {
  it('accepts three replicas, or two and a witness, of every region set', () => {
    for (const members of Object.values(MRSC_REGION_SETS)) {
      expect(strongConsistencyProblem({ replicas: members.slice(0, 3) })).toBeUndefined();
      expect(
        strongConsistencyProblem({ replicas: members.slice(0, 2), witness: members[2] }),
      ).toBeUndefined();
    }
    expect(
      strongConsistencyProblem({ replicas: ['eu-central-1', 'eu-west-3', 'eu-west-2'] }),
    ).toBeUndefined();
  });

  it.each([
    [{ replicas: ['us-east-1'] }, /exactly three replica regions .* got 1: us-east-1/],
    [{ replicas: ['us-east-1', 'us-east-2'] }, /got 2/],
    [{ replicas: ['us-east-1', 'us-east-2', 'us-west-2', 'us-east-1'] }, /us-east-1 is listed twice/],
    [
      { replicas: ['us-east-1', 'us-east-2', 'us-west-2'], witness: 'us-east-2' },
      /us-east-2 is listed twice/,
    ],
    [
      { replicas: ['us-east-1', 'us-east-2', 'us-west-2'], witness: 'eu-west-1' },
      /with a witness region needs exactly two/,
    ],
    [
      { replicas: ['us-east-1', 'eu-west-1', 'us-west-2'] },
      /eu-west-1 not in the US region set of us-east-1/,
    ],
    [
      { replicas: ['ap-northeast-1', 'ap-northeast-2'], witness: 'ap-southeast-1' },
      /ap-southeast-1 not in the AP region set/,
    ],
    [
      { replicas: ['sa-east-1', 'us-east-1', 'us-east-2'] },
      /sa-east-1 is in no MRSC region set \(US: us-east-1/,
    ],
    [{ replicas: [] }, /got 0: none/],
  ])('refuses %j', (layout, message) => {
    expect(strongConsistencyProblem(layout)).toMatch(message);
  });
});
