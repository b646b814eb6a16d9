/**
 * The storage a module uses for a topic or a group, given the context it was handed: with the
 * deployment's regions known, what {@link RegionRouting} decides; without, the context itself (one
 * region, exactly as before regions existed).
 */
import type { ReadPlacement, StorageContext } from '../context.ts';
import type { TopicMetadata } from '../topics/topic-metadata.ts';

/** Where the topic's appends go (may throw `NotHomeRegionError` or `UnknownRegionError`). */
export function appendContext(ctx: StorageContext, topic: TopicMetadata): StorageContext {
  return ctx.regions?.forAppends(topic) ?? ctx;
}

/**
 * The topic's home region's storage, for writes that must land where the log is written whatever
 * the client's append policy (voiding an abandoned claim, purging a deleted topic). With MRSC
 * every region writes the one log: the client's own.
 */
export function homeContext(ctx: StorageContext, topic: TopicMetadata): StorageContext {
  if (!ctx.regions) return ctx;
  if (ctx.regions.consistency === 'strong') return ctx.regions.context(ctx.regions.own);
  return ctx.regions.context(ctx.regions.homeOf(topic));
}

/** Where the topic's reads go. */
export function readPlacement(ctx: StorageContext, topic: TopicMetadata): ReadPlacement {
  return ctx.regions?.forReads(topic) ?? { ctx };
}

/** Where consumer groups coordinate. */
export function groupContext(ctx: StorageContext): StorageContext {
  return ctx.regions?.forGroups() ?? ctx;
}

/**
 * Where the topic registry is written: the deployment's home region, so that creating, altering
 * and deleting topics are conditional writes in one region (two regions creating one name would
 * otherwise each see it free, and last-writer-wins would orphan one incarnation's records).
 */
export function registryContext(ctx: StorageContext): StorageContext {
  if (!ctx.regions) return ctx;
  // MRSC: the registry's conditional writes see every region from any of them.
  return ctx.regions.context(ctx.regions.consistency === 'strong' ? ctx.regions.own : ctx.regions.home);
}

/**
 * True on an MRSC deployment (`consistency: 'strong'`): DynamoDB refuses transactions and TTL
 * there, so the stores take their non-transactional paths and the archiver deletes stubs itself.
 */
export function isStronglyConsistent(ctx: StorageContext): boolean {
  return ctx.regions?.consistency === 'strong';
}
