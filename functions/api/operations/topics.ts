/** Topic administration: thin adapters over `Admin`. */
import type { Operations } from './types.ts';

export const topicOperations: Operations<
  'listTopics' | 'createTopic' | 'describeTopic' | 'deleteTopic' | 'alterTopicConfigs' | 'createPartitions'
> = {
  listTopics: async (_input, { admin }) => ({ topics: await admin.listTopics() }),
  createTopic: async ({ body }, { admin }) => admin.createTopic(body),
  describeTopic: async ({ params }, { admin }) => {
    const d = await admin.describeTopic(params.topic);
    return { ...d, createdAt: d.createdAt.toISOString(), partitions: [...d.partitions] };
  },
  deleteTopic: async ({ params }, { admin }) => {
    await admin.deleteTopic(params.topic);
    return undefined;
  },
  alterTopicConfigs: async ({ params, body }, { admin }) => {
    await admin.alterTopicConfigs(params.topic, body.configs);
    return undefined;
  },
  createPartitions: async ({ params, body }, { admin }) => {
    await admin.createPartitions(params.topic, body.totalPartitions);
    return undefined;
  },
};
