/**
 * Records each attempt as a file `attempt-<n>` in `event.dir` (holding the request id), fails the
 * first `event.failures` attempts, then writes `done`. Files, not module state, so attempts are
 * counted whichever worker runs them.
 */
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Context } from 'aws-lambda';

export const handler = async (
  event: { readonly dir: string; readonly failures: number },
  context: Context,
) => {
  const attempt = readdirSync(event.dir).filter((name) => name.startsWith('attempt-')).length + 1;
  writeFileSync(join(event.dir, `attempt-${attempt}`), context.awsRequestId);
  if (attempt <= event.failures) throw new Error(`attempt ${attempt} fails`);
  writeFileSync(join(event.dir, 'done'), context.awsRequestId);
  return attempt;
};
