/**
 * Validation of construct props and grant arguments. Messages name the prop, the value and what is
 * allowed. Topic and group names follow the SDK's own rules (one definition, in `sdk/`), which also
 * keeps IAM wildcards (`*`, `?`) out of every policy built from a name.
 */
import { type Duration, Token } from 'aws-cdk-lib';
import { validateGroupId, validateTopicName as validateSdkTopicName } from '../sdk/src/internal.ts';

/** Throws unless `value` is a legal Kafka topic name. */
export function validateTopicName(prop: string, value: string): void {
  rethrowFor(prop, () => validateSdkTopicName(value));
}

/** Throws unless `value` is a legal consumer group id. */
export function validateGroupName(prop: string, value: string): void {
  rethrowFor(prop, () => validateGroupId(value));
}

const REGION = /^[a-z]{2}(-[a-z]+)+-\d+$/;

/** Throws unless `value` is a concrete AWS region name (`eu-west-1`). */
export function validateRegion(prop: string, value: string): void {
  if (Token.isUnresolved(value) || !REGION.test(value)) {
    throw new Error(`${prop}: "${value}" is not an AWS region name; use a concrete region such as eu-west-1`);
  }
}

/** Throws unless `value` lies in `[min, max]`. Tokens are not checked. */
export function validateDuration(prop: string, value: Duration, min: Duration, max: Duration): void {
  if (value.isUnresolved()) return;
  const ms = value.toMilliseconds();
  if (ms < min.toMilliseconds() || ms > max.toMilliseconds()) {
    throw new Error(
      `${prop}: ${value.toHumanString()} is out of range; allowed ${min.toHumanString()} to ${max.toHumanString()}`,
    );
  }
}

/** Throws unless `value` is a whole number of days ≥ 1 (S3 lifecycle rules count in days). */
export function validateWholeDays(prop: string, value: Duration): void {
  if (value.isUnresolved()) return;
  const days = value.toHours({ integral: false }) / 24;
  if (!Number.isInteger(days) || days < 1) {
    throw new Error(
      `${prop}: ${value.toHumanString()} is not a whole number of days ≥ 1; S3 lifecycle rules count in days`,
    );
  }
}

/** Throws unless `value` is an integer in `[min, max]`. Tokens are not checked. */
export function validateInteger(prop: string, value: number, min: number, max: number): void {
  if (Token.isUnresolved(value)) return;
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new Error(`${prop}: ${value} is not allowed; use an integer from ${min} to ${max}`);
  }
}

function rethrowFor(prop: string, validate: () => void): void {
  try {
    validate();
  } catch (error) {
    throw new Error(`${prop}: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
}
