/**
 * DescribeConfigs of topics: every config Tributary knows (or those asked for; unknown names are
 * left out, as Kafka leaves them), with its effective value, whether it was set on the topic or is
 * the default, Kafka's type and, when asked, its synonyms (the topic's value, then the default)
 * and documentation. The gateway has no broker configs: a broker resource is described with none;
 * other resource types are INVALID_REQUEST.
 */
import { mapLimited } from '../../sdk/src/internal.ts';
import type { GatewayContext, Handler } from '../context.ts';
import { KafkaError, kafkaErrorOf } from '../kafka-errors.ts';
import type { ResponseInput } from '../protocol/index.ts';
import { ConfigSource, type TopicConfigEntry, topicConfigEntries } from '../topic-configs.ts';
import { ResourceType } from './resource-types.ts';

type Result = ResponseInput<'DescribeConfigs'>['results'][number];
type Config = Result['configs'][number];

export const handleDescribeConfigs: Handler<'DescribeConfigs'> = async (request, { gateway }) => {
  const { body } = request;
  const results = await mapLimited(body.resources, gateway.readConcurrency, (resource) =>
    describeOne(gateway, resource, body.includeSynonyms, body.includeDocumentation),
  );
  return { throttleTimeMs: 0, results };
};

async function describeOne(
  gateway: GatewayContext,
  resource: { resourceType: number; resourceName: string; configurationKeys: string[] | null },
  includeSynonyms: boolean,
  includeDocumentation: boolean,
): Promise<Result> {
  const { resourceType, resourceName } = resource;
  const base = { resourceType, resourceName, errorCode: KafkaError.NONE, errorMessage: null };
  if (resourceType === ResourceType.BROKER) return { ...base, configs: [] };
  if (resourceType !== ResourceType.TOPIC) {
    return {
      ...base,
      errorCode: KafkaError.INVALID_REQUEST,
      errorMessage: `Resource type ${resourceType} has no configs here; topics (2) have`,
      configs: [],
    };
  }
  try {
    const topic = await gateway.transport.registry.get(resourceName);
    const entries = topicConfigEntries(topic.configs, resource.configurationKeys);
    return { ...base, configs: entries.map((e) => configOf(e, includeSynonyms, includeDocumentation)) };
  } catch (error) {
    const failure = kafkaErrorOf(error);
    return { ...base, errorCode: failure.code, errorMessage: failure.message, configs: [] };
  }
}

function configOf(entry: TopicConfigEntry, includeSynonyms: boolean, includeDocumentation: boolean): Config {
  const synonyms: { name: string; value: string | null; source: number }[] = [];
  if (includeSynonyms) {
    if (entry.source === ConfigSource.TOPIC) {
      synonyms.push({ name: entry.name, value: entry.value, source: ConfigSource.TOPIC });
    }
    if (entry.defaultValue !== undefined) {
      synonyms.push({ name: entry.name, value: entry.defaultValue, source: ConfigSource.DEFAULT });
    }
  }
  return {
    name: entry.name,
    value: entry.value,
    readOnly: false,
    isDefault: entry.source === ConfigSource.DEFAULT,
    configSource: entry.source,
    isSensitive: false,
    synonyms,
    configType: entry.configType,
    documentation: includeDocumentation ? entry.documentation : null,
  };
}
