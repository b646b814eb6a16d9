/**
 * Setup file of the `infra` project: every CDK app a test file synthesizes writes its `cdk.out*`
 * directory into one temporary directory of that file, removed when the file's tests are done —
 * otherwise each synthesis leaves a directory in the system's temp directory.
 *
 * It points the process's temp directory (`TMPDIR`, which `os.tmpdir()` reads on every call, and
 * where CDK puts an app's default outdir) there rather than setting `CDK_OUTDIR`: with `CDK_OUTDIR`
 * set, CDK believes it runs under its CLI and auto-synthesizes every app again when the process
 * exits — into the directory already removed.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';

const outdir = mkdtempSync(join(tmpdir(), 'tributary-synth-'));
const previous = process.env.TMPDIR;
process.env.TMPDIR = outdir;

afterAll(() => {
  if (previous === undefined) delete process.env.TMPDIR;
  else process.env.TMPDIR = previous;
  rmSync(outdir, { recursive: true, force: true });
});
