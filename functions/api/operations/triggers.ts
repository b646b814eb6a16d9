/** Trigger administration: thin adapters over `Admin`, dates as ISO strings and undefineds as nulls. */
import type { TriggerDescription } from '../../../sdk/src/index.ts';
import type { OperationResult } from '../../../sdk/src/internal.ts';
import { isoOrNull } from '../wire.ts';
import type { Operations } from './types.ts';

/** A description on the wire. */
function descriptionBody(d: TriggerDescription): OperationResult<'describeTrigger'> {
  const { settings } = d;
  return {
    name: d.name,
    topic: d.topic,
    functionName: d.functionName,
    groupId: d.groupId,
    state: d.state,
    settings: {
      ...settings,
      startingPositionTimestamp: settings.startingPositionTimestamp ?? null,
      functionResponseTypes: [...settings.functionResponseTypes],
      destinationConfig: { onFailure: { destination: settings.destinationConfig.onFailure.destination } },
      filterCriteria: { filters: settings.filterCriteria.filters.map((f) => ({ pattern: f.pattern })) },
      scalingConfig: { maximumConcurrency: settings.scalingConfig.maximumConcurrency ?? null },
    },
    createdAt: d.createdAt.toISOString(),
    updatedAt: d.updatedAt.toISOString(),
    lastError: d.lastError
      ? { message: d.lastError.message, code: d.lastError.code, at: d.lastError.at.toISOString() }
      : null,
    inFlightBatches: d.inFlightBatches,
    partitions: d.partitions.map((p) => ({
      partition: p.partition,
      committedOffset: p.committedOffset ?? null,
      highWatermark: p.highWatermark,
      lag: p.lag,
      lagMs: p.lagMs,
      inFlight: p.inFlight,
      dueAt: isoOrNull(p.dueAt),
    })),
  };
}

export const triggerOperations: Operations<
  'listTriggers' | 'createTrigger' | 'describeTrigger' | 'updateTrigger' | 'deleteTrigger'
> = {
  listTriggers: async (_input, { admin }) => ({ triggers: await admin.listTriggers() }),
  createTrigger: async ({ body }, { admin }) => descriptionBody(await admin.createTrigger(body)),
  describeTrigger: async ({ params }, { admin }) =>
    descriptionBody(await admin.describeTrigger(params.trigger)),
  // The body may repeat create-only settings (the SDK refuses any change of them), so a whole
  // configuration can be applied again.
  updateTrigger: async ({ params, body }, { admin }) =>
    descriptionBody(await admin.updateTrigger(params.trigger, body)),
  deleteTrigger: async ({ params }, { admin }) => {
    await admin.deleteTrigger(params.trigger);
    return undefined;
  },
};
