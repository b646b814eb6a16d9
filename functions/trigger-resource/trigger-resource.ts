/**
 * A `Custom::TributaryTrigger` (CloudFormation, through `TributaryEventSource`) as trigger
 * administration: Create creates the trigger, Update updates it (or, when its name changed, creates
 * the replacement — CloudFormation then deletes the old one), Delete deletes it. The physical id is
 * the trigger name.
 *
 * CloudFormation (and Lambda's asynchronous retries of the provider framework) may repeat a Create.
 * A Create that finds the trigger already there with exactly the settings it asks for treats it as
 * its own and succeeds; one with other settings fails, so a trigger made outside the stack (or by
 * another resource) is never taken over or deleted.
 */
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import {
  TriggerAlreadyExistsError,
  type TriggerConfig,
  TriggerNotFoundError,
  type TriggerSettings,
} from '../../sdk/src/index.ts';
import { type TriggerRegistry, validateTriggerConfig } from '../../sdk/src/internal.ts';
import { TRIGGER_RESOURCE_PROPERTY } from '../environment.ts';

/** What the provider framework hands back to CloudFormation (`Fn::GetAtt` reads `Data`). */
export interface TriggerResourceResult {
  readonly PhysicalResourceId: string;
  readonly Data?: { readonly TriggerName: string; readonly GroupId: string };
}

/** The custom resource handler over `triggers`. */
export type TriggerResourceHandler = (
  event: CloudFormationCustomResourceEvent,
) => Promise<TriggerResourceResult>;

/** Settings a trigger gets at creation and keeps (as for Lambda's event source mappings). */
const CREATE_ONLY = [
  'topic',
  'groupId',
  'startingPosition',
  'startingPositionTimestamp',
] as const satisfies readonly (keyof TriggerSettings)[];

/** Creates the handler. */
export function triggerResourceHandler(triggers: TriggerRegistry): TriggerResourceHandler {
  return async (event) => {
    switch (event.RequestType) {
      case 'Create':
        return create(triggers, configOf(event.ResourceProperties));
      case 'Update': {
        const config = configOf(event.ResourceProperties);
        // A new name is a replacement: CloudFormation deletes the old physical id afterwards.
        if (config.name !== event.PhysicalResourceId) return create(triggers, config);
        return update(triggers, config);
      }
      case 'Delete':
        await remove(triggers, event.PhysicalResourceId);
        return { PhysicalResourceId: event.PhysicalResourceId };
    }
  };
}

async function create(triggers: TriggerRegistry, config: TriggerConfig): Promise<TriggerResourceResult> {
  const wanted = validateTriggerConfig(config);
  try {
    return resultOf((await triggers.create(config)).settings);
  } catch (error) {
    if (!(error instanceof TriggerAlreadyExistsError)) throw error;
    const existing = await triggers.get(wanted.name);
    if (canonical(existing.settings) === canonical(wanted)) return resultOf(existing.settings);
    throw new Error(
      `${error.message} Its settings differ from this resource's, so it was made outside this stack or by ` +
        'another resource: give the event source another triggerName, or delete that trigger first.',
      { cause: error },
    );
  }
}

async function update(triggers: TriggerRegistry, config: TriggerConfig): Promise<TriggerResourceResult> {
  const wanted = validateTriggerConfig(config);
  let current: TriggerSettings;
  try {
    current = (await triggers.get(wanted.name)).settings;
  } catch (error) {
    // Deleted outside CloudFormation: the stack says it exists, so it is put back.
    if (error instanceof TriggerNotFoundError) return create(triggers, config);
    throw error;
  }
  for (const key of CREATE_ONLY) {
    if (current[key] !== wanted[key]) {
      throw new Error(
        `Trigger "${wanted.name}": ${key} cannot change from ${JSON.stringify(current[key])} to ` +
          `${JSON.stringify(wanted[key])}; it is set when a trigger is created. Give the event source a new ` +
          'triggerName to replace the trigger (a generated name changes with it by itself).',
      );
    }
  }
  const { name, topic, groupId, startingPosition, startingPositionTimestamp, ...changes } = config;
  return resultOf((await triggers.update(name, changes)).settings);
}

async function remove(triggers: TriggerRegistry, name: string): Promise<void> {
  try {
    await triggers.delete(name);
  } catch (error) {
    if (!(error instanceof TriggerNotFoundError)) throw error;
  }
}

function resultOf(settings: TriggerSettings): TriggerResourceResult {
  return {
    PhysicalResourceId: settings.name,
    Data: { TriggerName: settings.name, GroupId: settings.groupId },
  };
}

/** The resource's trigger configuration; the SDK validates its settings. */
function configOf(properties: Readonly<Record<string, unknown>>): TriggerConfig {
  const text = properties[TRIGGER_RESOURCE_PROPERTY];
  if (typeof text !== 'string') {
    throw new Error(
      `Custom::TributaryTrigger: property ${TRIGGER_RESOURCE_PROPERTY} is missing (a JSON text)`,
    );
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new Error(`Custom::TributaryTrigger: property ${TRIGGER_RESOURCE_PROPERTY} is not JSON`, {
      cause: error,
    });
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new Error(`Custom::TributaryTrigger: property ${TRIGGER_RESOURCE_PROPERTY} is not a JSON object`);
  }
  return parsed as TriggerConfig;
}

/** JSON with sorted keys (and no `undefined`s): equal for equal settings, whatever their key order. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    typeof v === 'object' && v !== null && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );
}
