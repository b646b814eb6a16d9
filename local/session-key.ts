/**
 * The secret the local API signs group sessions with. With a data directory it is kept there
 * (`api-session.key`, readable by its owner only), so members' sessions survive a restart of the
 * stack as they survive a redeploy in AWS; in memory it lives as long as the stack.
 */
import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

const KEY_BYTES = 32;
const FILE = 'api-session.key';

/** The session key of a stack whose data lives in `dataDir` (a fresh one without). */
export async function localSessionKey(dataDir: string | undefined): Promise<Uint8Array> {
  if (dataDir === undefined) return randomBytes(KEY_BYTES);
  const path = join(dataDir, FILE);
  try {
    const stored = Buffer.from((await readFile(path, 'utf8')).trim(), 'base64');
    if (stored.length >= KEY_BYTES) return stored;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  const key = randomBytes(KEY_BYTES);
  // `wx` fails if another process created the file meanwhile; then read the winner's key.
  try {
    await writeFile(path, `${key.toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
    return key;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    return Buffer.from((await readFile(path, 'utf8')).trim(), 'base64');
  }
}
