/**
 * The one test that bundles for real: esbuild turns each handler into an ES module that Node 22
 * loads and that exports `handler`.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { afterAll, describe, expect, it } from 'vitest';
import { TributaryStack } from '../../infra/index.ts';

const outdir = mkdtempSync(join(tmpdir(), 'tributary-cdk-'));
afterAll(() => rmSync(outdir, { recursive: true, force: true }));

describe('bundling', () => {
  it('bundles both handlers into ES modules that load on Node 22 and export handler', () => {
    const app = new App({ outdir });
    const stack = new TributaryStack(app, 'Tributary');
    app.synth();
    const template = JSON.parse(readFileSync(join(outdir, `${stack.artifactId}.template.json`), 'utf8')) as {
      Resources: Record<
        string,
        { Type: string; Properties: { Code?: { S3Key?: string }; Description?: string } }
      >;
    };
    const functions = Object.values(template.Resources).filter((r) => r.Type === 'AWS::Lambda::Function');
    expect(functions.map((f) => f.Properties.Description).sort()).toEqual([
      'Tributary HTTP API',
      'Tributary archiver (DynamoDB to S3 segments, retention)',
    ]);

    for (const fn of functions) {
      const hash = fn.Properties.Code?.S3Key?.replace(/\.zip$/, '');
      const asset = join(outdir, `asset.${hash}`);
      const bundle = join(asset, 'index.mjs');
      expect(existsSync(bundle), bundle).toBe(true);
      expect(existsSync(`${bundle}.map`)).toBe(true);
      const code = readFileSync(bundle, 'utf8');
      expect(
        code.startsWith("import { createRequire as __tributaryCreateRequire } from 'node:module';"),
      ).toBe(true);
      expect(code).toMatch(/export\s*\{[^}]*\bas handler\b[^}]*\}/);

      // Load it the way Lambda does: a fresh Node 22 process importing the module.
      const exported = execFileSync(
        process.execPath,
        [
          '--input-type=module',
          '-e',
          `const m = await import(${JSON.stringify(bundle)}); console.log(typeof m.handler);`,
        ],
        {
          encoding: 'utf8',
          env: {
            PATH: process.env.PATH ?? '',
            AWS_REGION: 'us-east-1',
            TRIBUTARY_LOG_TABLE: 'log',
            TRIBUTARY_TOPICS_TABLE: 'topics',
            TRIBUTARY_GROUPS_TABLE: 'groups',
            TRIBUTARY_BUCKET: 'bucket',
            TRIBUTARY_SESSION_SECRET_ARN: 'arn:aws:secretsmanager:us-east-1:000000000000:secret:sessions',
          },
        },
      );
      expect(exported.trim()).toBe('function');
    }
  });
});
