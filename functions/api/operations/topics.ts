/** Topic administration: thin adapters over `Admin`. */
import { effectiveConfigs } from '../../../sdk/src/internal.ts';
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
  deleteTopic: async ({ params }, { admin, invalidateTopic, signal }) => {
    // The topic is gone once its tombstone is written; a purge that outlasts this request's time
    // is finished by the scheduled archiver (which resumes purges), so answer in time either way.
    const deletion = admin.deleteTopic(params.topic).finally(() => invalidateTopic(params.topic));
    const purged = await Promise.race([deletion.then(() => true), outOfTime(signal)]);
    if (!purged) deletion.catch(() => undefined);
    return { topic: params.topic, purged };
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

/** Resolves false when the request's time budget runs out (never, without one). */
function outOfTime(signal: AbortSignal | undefined): Promise<false> {
  return new Promise((resolve) => {
    if (!signal) return;
    if (signal.aborted) resolve(false);
    signal.addEventListener('abort', () => resolve(false), { once: true });
  });
}
