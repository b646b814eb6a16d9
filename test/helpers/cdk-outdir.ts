/**
 * Setup file of the `infra` project: every CDK app a test file synthesizes writes into one
 * temporary directory of that file (CDK's `CDK_OUTDIR`), removed when the file's tests are done —
 * otherwise each synthesis leaves a `cdk.out*` directory in the system's temp directory.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';

const outdir = mkdtempSync(join(tmpdir(), 'tributary-synth-'));
const previous = process.env.CDK_OUTDIR;
process.env.CDK_OUTDIR = outdir;

afterAll(() => {
  if (previous === undefined) delete process.env.CDK_OUTDIR;
  else process.env.CDK_OUTDIR = previous;
  rmSync(outdir, { recursive: true, force: true });
});
