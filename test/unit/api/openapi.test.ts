/** The OpenAPI document: generated from the route table, committed up to date, and complete. */
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { CONTRACT } from '../../../sdk/src/api/contract.ts';
import { openApiDocument } from '../../../sdk/src/api/openapi.ts';
import { ROUTES } from '../../../sdk/src/api/routes.ts';

type Doc = { paths: Record<string, Record<string, { operationId: string; security: unknown[] }>> };

describe('OpenAPI document', () => {
  it('is committed up to date in docs/openapi.json (run `npm run openapi` after changing the API)', async () => {
    const committed = JSON.parse(
      await readFile(new URL('../../../docs/openapi.json', import.meta.url), 'utf8'),
    );
    expect(committed).toEqual(JSON.parse(JSON.stringify(openApiDocument())));
  });

  it('has exactly one operation per route, each requiring SigV4', () => {
    const doc = openApiDocument() as unknown as Doc;
    const operations = Object.entries(doc.paths).flatMap(([path, methods]) =>
      Object.entries(methods).map(([method, op]) => ({ key: `${method.toUpperCase()} ${path}`, op })),
    );
    expect(operations.map((o) => o.key).sort()).toEqual(ROUTES.map((r) => `${r.method} ${r.path}`).sort());
    for (const { op } of operations) expect(op.security).toEqual([{ sigv4: [] }]);
    expect(new Set(operations.map((o) => o.op.operationId)).size).toBe(ROUTES.length);
  });

  it('declares every path parameter of every route, and a contract for every operation', () => {
    const doc = openApiDocument() as unknown as {
      paths: Record<string, Record<string, { parameters: { name: string; in: string }[] }>>;
    };
    for (const route of ROUTES) {
      expect(CONTRACT[route.operationId]).toBeDefined();
      const names = [...route.path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]);
      const declared = doc.paths[route.path]![route.method.toLowerCase()]!.parameters.filter(
        (p) => p.in === 'path',
      );
      expect(declared.map((p) => p.name).sort()).toEqual(names.sort());
    }
  });
});
