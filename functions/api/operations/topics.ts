/** Topic administration: thin adapters over `Admin`. */
import type { Operations } from './types.ts';

export const topicOperations: Operations<
  'listTopics' | 'createTopic' | 'describeTopic' | 'deleteTopic' | 'alterTopicConfigs' | 'createPartitions'
> = {
  listTopics: async (_input, { admin }) => ({ topics: await admin.listTopics() }),
  createTopic: async ({ body }, { admin, invalidateTopic }) => {
    invalidateTopic(body.topic);
    return admin.createTopic(body);
  },
  describeTopic: async ({ params }, { admin }) => {
    const d = await admin.describeTopic(params.topic);
    return { ...d, createdAt: d.createdAt.toISOString(), partitions: [...d.partitions] };
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
