/** Topic administration: thin adapters over `Admin`. */
import { effectiveConfigs } from '../../../sdk/src/topics/configs.ts';
import type { Operations } from './types.ts';

export const topicOperations: Operations<
  'listTopics' | 'createTopic' | 'describeTopic' | 'deleteTopic' | 'alterTopicConfigs' | 'createPartitions'
> = {
  listTopics: async (_input, { admin }) => ({ topics: await admin.listTopics() }),
  createTopic: async ({ body }, { admin, invalidateTopic }) => {
    invalidateTopic(body.topic);
    return admin.createTopic(body);
  },
  describeTopic: async ({ params, query }, { admin, topicMetadata }) => {
    if (query.offsets === 'false') {
      const meta = await topicMetadata(params.topic);
      return {
        name: meta.name,
        incarnation: meta.incarnation,
        createdAt: new Date(meta.createdAt).toISOString(),
        partitionCount: meta.partitions,
        partitions: [],
        configs: effectiveConfigs(meta.configs),
      };
    }
    const d = await admin.describeTopic(params.topic);
    return {
      ...d,
      createdAt: d.createdAt.toISOString(),
      partitionCount: d.partitions.length,
      partitions: [...d.partitions],
    };
  },
  deleteTopic: async ({ params }, { admin, invalidateTopic }) => {
    await admin.deleteTopic(params.topic);
    invalidateTopic(params.topic);
    return undefined;
  },
  alterTopicConfigs: async ({ params, body }, { admin }) => {
    await admin.alterTopicConfigs(params.topic, body.configs);
    return undefined;
  },
  createPartitions: async ({ params, body }, { admin, invalidateTopic }) => {
    await admin.createPartitions(params.topic, body.totalPartitions);
    invalidateTopic(params.topic);
    return undefined;
  },
};
