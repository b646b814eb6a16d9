/** The one rule on consumer group ids, for groups of every protocol. */
import { InvalidGroupIdError } from '../errors.ts';

const LEGAL_GROUP_ID = /^[a-zA-Z0-9._-]{1,249}$/;

/** Throws {@link InvalidGroupIdError} unless `id` is a legal group id. */
export function validateGroupId(id: unknown): asserts id is string {
  if (typeof id !== 'string' || id.length === 0)
    throw new InvalidGroupIdError(String(id ?? ''), 'it is empty');
  if (!LEGAL_GROUP_ID.test(id)) {
    throw new InvalidGroupIdError(id, id.length > 249 ? 'it is too long' : 'it contains illegal characters');
  }
}
