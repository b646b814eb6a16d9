/**
 * `npm run openapi`: writes docs/openapi.json from the route table and the schemas (the same
 * document the API serves at GET /v1/openapi.json). A unit test fails when the file is stale.
 */
import { writeFile } from 'node:fs/promises';
import { openApiDocument } from '../sdk/src/internal.ts';

const target = new URL('../docs/openapi.json', import.meta.url);
await writeFile(target, `${JSON.stringify(openApiDocument(), null, 2)}\n`);
console.log(`Wrote ${target.pathname}`);
