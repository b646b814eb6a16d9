/**
 * A handler that, given a `heartbeat` file, never yields: it rewrites the file with a growing
 * count in a tight loop, so only terminating its thread stops it, and the file shows whether it did.
 */
import { writeFileSync } from 'node:fs';
import { threadId } from 'node:worker_threads';

export const handler = async (event: { readonly heartbeat?: string }) => {
  if (event.heartbeat !== undefined)
    for (let beat = 1; ; beat++) writeFileSync(event.heartbeat, String(beat));
  return { threadId };
};
