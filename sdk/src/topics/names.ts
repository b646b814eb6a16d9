/** Kafka's topic naming rules, enforced before anything is written. */
import { InvalidTopicNameError } from '../errors.ts';

/** Longest legal topic name (Kafka's limit). */
export const MAX_TOPIC_NAME_LENGTH = 249;

const LEGAL = /^[a-zA-Z0-9._-]+$/;

/** Every rule of {@link validateTopicName} as one pattern (1–249 legal characters, not `.` or `..`). */
export const LEGAL_TOPIC_NAME = /^(?!\.{1,2}$)[a-zA-Z0-9._-]{1,249}$/;

/** Throws {@link InvalidTopicNameError} unless `name` is a legal Kafka topic name. */
export function validateTopicName(name: unknown): asserts name is string {
  if (typeof name !== 'string') throw new InvalidTopicNameError(String(name), 'it must be a string');
  if (name.length === 0) throw new InvalidTopicNameError(name, 'it is empty');
  if (name === '.' || name === '..') throw new InvalidTopicNameError(name, `"${name}" is reserved`);
  if (name.length > MAX_TOPIC_NAME_LENGTH) {
    throw new InvalidTopicNameError(name, `it is ${name.length} characters long`);
  }
  if (!LEGAL.test(name)) {
    const bad = [...new Set([...name].filter((c) => !LEGAL.test(c)))]
      .map((c) => JSON.stringify(c))
      .join(', ');
    throw new InvalidTopicNameError(name, `it contains illegal character(s) ${bad}`);
  }
}
