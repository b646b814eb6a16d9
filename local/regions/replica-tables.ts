/**
 * The tables of a region of a multi-region stack. MREC: the shared schema's tables, each with a stream
 * of new and old images. Global tables need that stream on every replicated table (AWS turns it on
 * when a replica is added); the replicator reads it, so the log table's stream, only new images in a
 * single-region stack, carries old images too here (the dispatcher reads only the new ones). MRSC:
 * the schema's tables without TTL. Pure.
 */
import type { TableSchema } from '../../sdk/src/internal.ts';

/** The stream view global tables require, on every table. */
export const REPLICATION_STREAM_VIEW = 'NEW_AND_OLD_IMAGES';

/** `tables`, each with a {@link REPLICATION_STREAM_VIEW} stream. */
export function replicaTableSchemas(tables: readonly TableSchema[]): readonly TableSchema[] {
  return tables.map((schema) => ({ ...schema, stream: REPLICATION_STREAM_VIEW }));
}

/**
 * `tables` as an MRSC global table has them: without a TTL attribute (MRSC has no TTL; the CDK
 * construct leaves it out too, and the archiver deletes expired stubs itself). Streams stay as the
 * schema has them: MRSC does not replicate through them.
 */
export function strongConsistencyTableSchemas(tables: readonly TableSchema[]): readonly TableSchema[] {
  return tables.map(({ timeToLiveAttribute, ...withoutTimeToLive }) => withoutTimeToLive);
}
