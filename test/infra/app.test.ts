/**
 * `infra/app.ts` as the CDK CLI runs it: a Node process with the output directory and the context
 * in its environment, no AWS credentials, cdk-nag registered.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { SKIP_BUNDLING } from './fixtures.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));
const outdirs: string[] = [];
afterAll(() => {
  for (const dir of outdirs) rmSync(dir, { recursive: true, force: true });
});

/** Runs the app like `cdk synth -c ...` does and returns the templates it wrote. */
function synthApp(context: Record<string, unknown>): string[] {
  const outdir = mkdtempSync(join(tmpdir(), 'tributary-app-'));
  outdirs.push(outdir);
  execFileSync(process.execPath, ['infra/app.ts'], {
    cwd: root,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      PATH: process.env.PATH ?? '',
      CDK_OUTDIR: outdir,
      CDK_CONTEXT_JSON: JSON.stringify({ ...SKIP_BUNDLING, ...context }),
    },
  });
  return readdirSync(outdir).filter((f) => f.endsWith('.template.json'));
}

describe('infra/app.ts', () => {
  it('synthesizes an environment-agnostic Tributary stack without credentials', () => {
    expect(synthApp({})).toEqual(['Tributary.template.json']);
  });

  it('adds one archive replica stack per replica region and honours stackName', () => {
    const templates = synthApp({
      stackName: 'Streams',
      account: '111111111111',
      region: 'us-east-1',
      replicaRegions: 'eu-west-1',
    });
    expect(templates.sort()).toEqual(['Streams-archive-eu-west-1.template.json', 'Streams.template.json']);
  });

  it('fails with the message of a bad context value', () => {
    let stderr = '';
    try {
      synthApp({ replicaRegions: 'eu-west-1' });
    } catch (error) {
      stderr = String((error as { stderr?: unknown }).stderr);
    }
    expect(stderr).toContain('Context replicaRegions (eu-west-1) needs a concrete account and region');
  });
});
