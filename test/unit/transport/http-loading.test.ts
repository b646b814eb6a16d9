/**
 * The HTTP transport loads its heavy parts only when used: importing the SDK's entry (what every
 * direct-transport user does) loads neither zod nor, from our code, the SigV4 signer; the first
 * call of an HTTP client loads both. A fresh Node process imports the entry with a loader hook
 * that records every module loaded and who resolved it; the second half (an HTTP call) proves the
 * hook sees those modules when they are loaded.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const ENTRY = new URL('../../../sdk/src/index.ts', import.meta.url).href;
const SDK_DIR = new URL('../../../sdk/', import.meta.url).href;

/** Runs in the child: records loads, imports the entry, then makes one HTTP call to a local server. */
const CHILD = `
import { registerHooks } from 'node:module';
import { createServer } from 'node:http';
const edges = [];
registerHooks({
  resolve(specifier, context, next) {
    const resolved = next(specifier, context);
    edges.push({ parent: context.parentURL ?? null, url: resolved.url });
    return resolved;
  },
});
const snapshot = () => edges.slice();
const sdk = await import(process.argv[1]);
const afterImport = snapshot();
const server = createServer((req, res) => {
  res.writeHead(200, { 'content-type': 'application/json' }).end('{"topics":[]}');
});
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const client = new sdk.Tributary({
  transport: 'http',
  endpoint: 'http://127.0.0.1:' + server.address().port,
  credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' },
});
const listed = await client.admin().listTopics();
client.close();
server.close();
process.stdout.write(JSON.stringify({ afterImport, afterCall: snapshot(), listed }));
`;

interface Edge {
  readonly parent: string | null;
  readonly url: string;
}

interface ChildReport {
  readonly afterImport: readonly Edge[];
  readonly afterCall: readonly Edge[];
  readonly listed: unknown;
}

async function runChild(): Promise<ChildReport> {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ['--disable-warning=ExperimentalWarning', '--input-type=module', '--eval', CHILD, ENTRY],
    { cwd: fileURLToPath(new URL('../../../', import.meta.url)), timeout: 60_000 },
  );
  return JSON.parse(stdout) as ChildReport;
}

const isPackage = (name: string) => (edge: Edge) => edge.url.includes(`/node_modules/${name}/`);
const fromOurCode = (edge: Edge) => edge.parent?.startsWith(SDK_DIR) ?? false;
const isOurs = (path: string) => (edge: Edge) => edge.url === new URL(path, SDK_DIR).href;

describe('loading the HTTP transport', () => {
  it('is deferred until an HTTP client makes its first call', async () => {
    const { afterImport, afterCall, listed } = await runChild();
    // The entry itself loaded (the probe saw our modules and the AWS SDK's).
    expect(afterImport.some(isOurs('src/client.ts'))).toBe(true);
    expect(afterImport.some(isPackage('@aws-sdk/client-dynamodb'))).toBe(true);

    // Importing the entry: no zod at all, no signer or exchange of ours. (The AWS SDK's own
    // clients sign their DynamoDB and S3 requests with @smithy/signature-v4 too; only ours is deferred.)
    expect(afterImport.filter(isPackage('zod'))).toEqual([]);
    expect(afterImport.filter((e) => isPackage('@smithy/signature-v4')(e) && fromOurCode(e))).toEqual([]);
    expect(afterImport.filter(isOurs('src/transport/http-exchange.ts'))).toEqual([]);
    expect(afterImport.filter(isOurs('src/api/schemas.ts'))).toEqual([]);

    // The first call loads them: the probe sees what the entry did not load.
    expect(listed).toEqual([]);
    expect(afterCall.some(isOurs('src/transport/http-exchange.ts'))).toBe(true);
    expect(afterCall.some(isPackage('zod'))).toBe(true);
    expect(afterCall.some((e) => isPackage('@smithy/signature-v4')(e) && fromOurCode(e))).toBe(true);
  });
});
