/**
 * A handler that signals it started (a `started` file in `event.dir`) and then holds its
 * execution environment until the test creates a `release` file there.
 */
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export const handler = async (event: { readonly dir: string }) => {
  writeFileSync(join(event.dir, 'started'), '');
  while (!existsSync(join(event.dir, 'release'))) await sleep(10);
  return 'released';
};
