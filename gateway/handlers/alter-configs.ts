/**
 * AlterConfigs and IncrementalAlterConfigs of topics, through the topic registry (whose config
 * names are Kafka's; an unknown name or a bad value is INVALID_CONFIG, and nothing is written).
 *
 * - AlterConfigs replaces a topic's whole set: the configs listed are set, every other one goes
 *   back to its default.
 * - IncrementalAlterConfigs changes single configs: SET, DELETE (back to the default), and APPEND
 *   or SUBTRACT items of a list config (`cleanup.policy`); APPEND or SUBTRACT on any other config
 *   is INVALID_CONFIG.
 *
 * With `validateOnly` the change is checked against the topic's current configs and not written.
 * The gateway has no broker configs: altering any resource but a topic is INVALID_REQUEST.
 */
import {
  mapLimited,
  type TopicMetadata,
  topicConfigDef,
  validateTopicConfigs,
} from '../../sdk/src/internal.ts';
import type { GatewayContext, Handler } from '../context.ts';
import { KafkaError, type KafkaFailure, kafkaErrorOf } from '../kafka-errors.ts';
import { isListConfig, topicConfigEntries } from '../topic-configs.ts';
import { ResourceType } from './resource-types.ts';

/** Config name → new value, or null for back to the default. */
type Changes = ReadonlyMap<string, string | null>;

/** A resource's changes, or why they are refused before the registry sees them. */
type Planned = { readonly changes: Changes } | { readonly failure: KafkaFailure };

/** IncrementalAlterConfigs' operations. */
const Operation = { SET: 0, DELETE: 1, APPEND: 2, SUBTRACT: 3 } as const;

interface ResourceResult {
  readonly resourceType: number;
  readonly resourceName: string;
  readonly errorCode: number;
  readonly errorMessage: string | null;
}

export const handleAlterConfigs: Handler<'AlterConfigs'> = async (request, { gateway }) => {
  const { body } = request;
  const duplicates = duplicateResources(body.resources);
  const responses = await mapLimited(body.resources, gateway.readConcurrency, (resource) =>
    alterOne(gateway, resource, duplicates, body.validateOnly, (topic) => {
      const changes = new Map<string, string | null>();
      for (const { name, value } of resource.configs) {
        if (changes.has(name)) return { failure: duplicateConfig(name) };
        changes.set(name, value);
      }
      // Everything not listed goes back to its default: the set replaces the topic's.
      for (const name of Object.keys(topic.configs)) if (!changes.has(name)) changes.set(name, null);
      return { changes };
    }),
  );
  return { throttleTimeMs: 0, responses };
};

export const handleIncrementalAlterConfigs: Handler<'IncrementalAlterConfigs'> = async (
  request,
  { gateway },
) => {
  const { body } = request;
  const duplicates = duplicateResources(body.resources);
  const responses = await mapLimited(body.resources, gateway.readConcurrency, (resource) =>
    alterOne(gateway, resource, duplicates, body.validateOnly, (topic) => {
      const changes = new Map<string, string | null>();
      for (const { name, configOperation, value } of resource.configs) {
        if (changes.has(name)) return { failure: duplicateConfig(name) };
        const change = incrementalChange(topic, name, configOperation, value);
        if ('failure' in change) return change;
        changes.set(name, change.value);
      }
      return { changes };
    }),
  );
  return { throttleTimeMs: 0, responses };
};

/** One resource: checked, its changes computed from the topic as it is, then validated or applied. */
async function alterOne(
  gateway: GatewayContext,
  resource: { readonly resourceType: number; readonly resourceName: string },
  duplicates: ReadonlySet<string>,
  validateOnly: boolean,
  changesOf: (topic: TopicMetadata) => Planned,
): Promise<ResourceResult> {
  const { resourceType, resourceName } = resource;
  const answer = (failure?: KafkaFailure): ResourceResult => ({
    resourceType,
    resourceName,
    errorCode: failure?.code ?? KafkaError.NONE,
    errorMessage: failure?.message ?? null,
  });
  if (resourceType !== ResourceType.TOPIC) {
    return answer({
      code: KafkaError.INVALID_REQUEST,
      message: `Resource type ${resourceType} has no configs to alter here; topics (2) have`,
    });
  }
  if (duplicates.has(resourceName)) {
    return answer({ code: KafkaError.INVALID_REQUEST, message: 'The topic is named twice' });
  }
  try {
    const topic = await gateway.transport.registry.get(resourceName);
    const planned = changesOf(topic);
    if ('failure' in planned) return answer(planned.failure);
    const { changes } = planned;
    // Maps, then own properties only: a config named "__proto__" is a config name, not a prototype.
    if (validateOnly) {
      const kept = new Map(Object.entries(topic.configs));
      const set = new Map<string, string>();
      for (const [name, value] of changes) {
        // A reset of an unknown name is refused too, as the registry refuses it.
        if (value === null && topicConfigDef(name) === undefined) {
          return answer({ code: KafkaError.INVALID_CONFIG, message: `Unknown config "${name}"` });
        }
        if (value === null) kept.delete(name);
        else set.set(name, value);
      }
      validateTopicConfigs(Object.fromEntries(set), Object.fromEntries(kept));
      return answer();
    }
    await gateway.admin.alterTopicConfigs(resourceName, Object.fromEntries(changes));
    gateway.transport.topics.invalidate(resourceName);
    return answer();
  } catch (error) {
    return answer(kafkaErrorOf(error));
  }
}

/** The new value of one config for an IncrementalAlterConfigs operation, or why it is refused. */
function incrementalChange(
  topic: TopicMetadata,
  name: string,
  operation: number,
  value: string | null,
): { readonly value: string | null } | { readonly failure: KafkaFailure } {
  switch (operation) {
    case Operation.SET:
      if (value === null) {
        return { failure: { code: KafkaError.INVALID_CONFIG, message: `SET of "${name}" needs a value` } };
      }
      return { value };
    case Operation.DELETE:
      return { value: null };
    case Operation.APPEND:
    case Operation.SUBTRACT: {
      if (!isListConfig(name)) {
        return {
          failure: {
            code: KafkaError.INVALID_CONFIG,
            message: `"${name}" is not a list config: APPEND and SUBTRACT apply to list configs (cleanup.policy)`,
          },
        };
      }
      const current = topicConfigEntries(topic.configs, [name])[0]?.value ?? '';
      const items = splitList(current);
      const given = splitList(value ?? '');
      const next =
        operation === Operation.APPEND
          ? [...items, ...given.filter((item) => !items.includes(item))]
          : items.filter((item) => !given.includes(item));
      return { value: next.join(',') };
    }
    default:
      return {
        failure: { code: KafkaError.INVALID_REQUEST, message: `Unknown config operation ${operation}` },
      };
  }
}

function splitList(value: string): string[] {
  return value
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');
}

function duplicateConfig(name: string): KafkaFailure {
  return { code: KafkaError.INVALID_REQUEST, message: `Config "${name}" is given twice` };
}

function duplicateResources(
  resources: readonly { resourceType: number; resourceName: string }[],
): Set<string> {
  const seen = new Set<string>();
  const twice = new Set<string>();
  for (const r of resources) {
    if (r.resourceType !== ResourceType.TOPIC) continue;
    if (seen.has(r.resourceName)) twice.add(r.resourceName);
    seen.add(r.resourceName);
  }
  return twice;
}
