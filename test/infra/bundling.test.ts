/**
 * The one test that bundles for real: esbuild turns each handler (`functions/<name>/handler.ts`) into an
 * ES module that Node 22 loads and that exports `handler`, and the stack deploys every one.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { App } from 'aws-cdk-lib';
import { afterAll, describe, expect, it } from 'vitest';
import { TributaryStack } from '../../infra/index.ts';

const outdir = mkdtempSync(join(tmpdir(), 'tributary-cdk-'));
afterAll(() => rmSync(outdir, { recursive: true, force: true }));

/** Every handler module of ours: `functions/<name>/handler.ts`. */
const HANDLERS = readdirSync(fileURLToPath(new URL('../../functions/', import.meta.url)), {
  withFileTypes: true,
})
  .filter((entry) => entry.isDirectory() && existsSync(join(entry.parentPath, entry.name, 'handler.ts')))
  .map((entry) => `functions/${entry.name}/handler.ts`)
  .sort();

describe('bundling', () => {
  it('bundles every handler into an ES module that loads on Node 22 and exports handler', () => {
    expect(HANDLERS).toEqual(
      expect.arrayContaining(['functions/api/handler.ts', 'functions/archiver/handler.ts']),
    );
    const app = new App({ outdir });
    const stack = new TributaryStack(app, 'Tributary');
    app.synth();
    const template = JSON.parse(readFileSync(join(outdir, `${stack.artifactId}.template.json`), 'utf8')) as {
      Resources: Record<string, { Type: string; Properties: { Code?: { S3Key?: string } } }>;
    };
    // Our functions are bundled by esbuild (index.mjs); aws-cdk-lib's provider framework is not.
    const bundles = Object.values(template.Resources)
      .filter((r) => r.Type === 'AWS::Lambda::Function')
      .map((fn) => join(outdir, `asset.${fn.Properties.Code?.S3Key?.replace(/\.zip$/, '')}`, 'index.mjs'))
      .filter((bundle) => existsSync(bundle));

    const bundled: string[] = [];
    for (const bundle of bundles) {
      expect(existsSync(`${bundle}.map`)).toBe(true);
      // The source map names the handler module the bundle was built from.
      const sources = (JSON.parse(readFileSync(`${bundle}.map`, 'utf8')) as { sources: string[] }).sources;
      const entry = sources
        .map((source) => /(functions\/[^/]+\/handler\.ts)$/.exec(source)?.[1])
        .find((match) => match !== undefined);
      expect(entry, bundle).toBeDefined();
      bundled.push(entry as string);

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
            AWS_LAMBDA_FUNCTION_NAME: 'tributary-function',
            TRIBUTARY_LOG_TABLE: 'log',
            TRIBUTARY_TOPICS_TABLE: 'topics',
            TRIBUTARY_GROUPS_TABLE: 'groups',
            TRIBUTARY_BUCKET: 'bucket',
            TRIBUTARY_SESSION_SECRET_ARN: 'arn:aws:secretsmanager:us-east-1:000000000000:secret:sessions',
            TRIBUTARY_BOOTSTRAP_SERVERS: 'tributary.us-east-1:9092',
          },
        },
      );
      expect(exported.trim(), entry).toBe('function');
    }
    // Every handler under functions/ is deployed, each by exactly one function.
    expect(bundled.sort()).toEqual(HANDLERS);
  });
});
