/**
 * S3 I/O of segments: uploading a built segment's three objects, ranged reads of the `.log`,
 * cached index reads, and deletion. Indexes are small (8 bytes per ~4 KB of log) and immutable,
 * so readers keep recently used ones in memory.
 */
import {
  DeleteObjectsCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { awsErrorName } from '../aws-errors.ts';
import type { StorageContext } from '../context.ts';
import { ServiceUnavailableError } from '../errors.ts';
import type { SegmentObjectKeys } from '../keys.ts';
import { withRetry } from '../retry.ts';
import type { BuiltSegment } from './segment-format.ts';

/** Objects up to this size go up in one PUT; larger `.log` objects in parts (S3 limits a part to 5 GB). */
const SINGLE_PUT_MAX_BYTES = 8 * 1024 * 1024;

/** Index objects kept in memory per store. */
const INDEX_CACHE_ENTRIES = 64;

/**
 * Thrown (internally) when a segment object is gone: retention deleted it under a reader. S3
 * answers a missing key with 403 instead of 404 to a principal without `s3:ListBucket` (a
 * topic-scoped role), so a denied read is reported here too, with `denied` set: the caller then
 * checks the log start before taking it for a deletion, and rethrows `cause` otherwise.
 */
export class SegmentObjectMissing extends Error {
  readonly key: string;
  readonly denied: boolean;
  constructor(key: string, denied = false, cause?: unknown) {
    super(`Segment object ${key} does not exist${denied ? ' or may not be read' : ''}`, { cause });
    this.key = key;
    this.denied = denied;
  }
}

/** Counters of S3 requests, for cost reports. */
export interface SegmentStoreStats {
  puts: number;
  gets: number;
  lists: number;
  deletes: number;
  bytesRead: number;
}

/** Reads and writes segment objects in the archive bucket. */
export class SegmentStore {
  readonly stats: SegmentStoreStats = { puts: 0, gets: 0, lists: 0, deletes: 0, bytesRead: 0 };
  readonly #ctx: StorageContext;
  readonly #indexes = new Map<string, Uint8Array>();

  constructor(ctx: StorageContext) {
    this.#ctx = ctx;
  }

  /** `s3://bucket/key`, for messages. */
  location(key: string): string {
    return `s3://${this.#ctx.bucket}/${key}`;
  }

  /**
   * Uploads a segment: the indexes first, then the `.log`, so a `.log` object never exists without
   * its indexes. Rewriting the same segment writes the same bytes (idempotent).
   */
  async upload(keys: SegmentObjectKeys, segment: BuiltSegment): Promise<void> {
    await Promise.all([this.#put(keys.index, segment.index), this.#put(keys.timeIndex, segment.timeIndex)]);
    await this.#put(keys.log, segment.log);
  }

  async #put(key: string, body: Uint8Array): Promise<void> {
    if (body.byteLength <= SINGLE_PUT_MAX_BYTES) {
      this.stats.puts++;
      await withRetry(
        `Writing ${key}`,
        () =>
          this.#ctx.s3.send(
            new PutObjectCommand({
              Bucket: this.#ctx.bucket,
              Key: key,
              Body: body,
              ContentLength: body.byteLength,
              ContentType: 'application/octet-stream',
            }),
          ),
        this.#ctx.retry,
      );
      return;
    }
    // Create, one request per part, complete.
    this.stats.puts += 2 + Math.ceil(body.byteLength / SINGLE_PUT_MAX_BYTES);
    await withRetry(
      `Writing ${key}`,
      // A failed multipart upload is aborted by lib-storage; a retry starts a fresh one.
      () =>
        new Upload({
          client: this.#ctx.s3,
          params: { Bucket: this.#ctx.bucket, Key: key, Body: body, ContentType: 'application/octet-stream' },
          partSize: SINGLE_PUT_MAX_BYTES,
          queueSize: 2,
          leavePartsOnError: false,
        }).done(),
      this.#ctx.retry,
    );
  }

  /** The `.index` object (cached). */
  index(keys: SegmentObjectKeys): Promise<Uint8Array> {
    return this.#cachedWhole(keys.index);
  }

  /** The `.timeindex` object (cached). */
  timeIndex(keys: SegmentObjectKeys): Promise<Uint8Array> {
    return this.#cachedWhole(keys.timeIndex);
  }

  async #cachedWhole(key: string): Promise<Uint8Array> {
    const hit = this.#indexes.get(key);
    if (hit) {
      // Map order is insertion order: re-insert to mark as recently used.
      this.#indexes.delete(key);
      this.#indexes.set(key, hit);
      return hit;
    }
    const bytes = await this.#get(key);
    this.#indexes.set(key, bytes);
    if (this.#indexes.size > INDEX_CACHE_ENTRIES) {
      const oldest = this.#indexes.keys().next().value;
      if (oldest !== undefined) this.#indexes.delete(oldest);
    }
    return bytes;
  }

  /** Bytes `[start, end)` of an object (a ranged GET). */
  read(key: string, start: number, end: number): Promise<Uint8Array> {
    return this.#get(key, `bytes=${start}-${end - 1}`);
  }

  async #get(key: string, range?: string): Promise<Uint8Array> {
    this.stats.gets++;
    try {
      const bytes = await withRetry(
        `Reading ${key}`,
        async () => {
          const out = await this.#ctx.s3.send(
            new GetObjectCommand({ Bucket: this.#ctx.bucket, Key: key, ...(range ? { Range: range } : {}) }),
          );
          return (await out.Body?.transformToByteArray()) ?? new Uint8Array();
        },
        this.#ctx.retry,
      );
      this.stats.bytesRead += bytes.byteLength;
      return bytes;
    } catch (error) {
      const name = awsErrorName(error);
      if (name === 'NoSuchKey') throw new SegmentObjectMissing(key);
      if (name === 'AccessDenied') throw new SegmentObjectMissing(key, true, error);
      throw error;
    }
  }

  /** Keys of the objects under `prefix` last modified before `before` (epoch ms). */
  async listOlderThan(prefix: string, before: number): Promise<string[]> {
    const keys: string[] = [];
    let token: string | undefined;
    do {
      this.stats.lists++;
      const page = await withRetry(
        `Listing ${prefix}`,
        () =>
          this.#ctx.s3.send(
            new ListObjectsV2Command({
              Bucket: this.#ctx.bucket,
              Prefix: prefix,
              ...(token ? { ContinuationToken: token } : {}),
            }),
          ),
        this.#ctx.retry,
      );
      for (const object of page.Contents ?? []) {
        if (object.Key && object.LastModified && object.LastModified.getTime() < before)
          keys.push(object.Key);
      }
      token = page.NextContinuationToken;
    } while (token);
    return keys;
  }

  /** Deletes objects (missing ones are fine: deletion is idempotent). */
  async delete(keys: readonly string[]): Promise<void> {
    for (let i = 0; i < keys.length; i += 1000) {
      const chunk = keys.slice(i, i + 1000);
      this.stats.deletes++;
      const out = await withRetry(
        'Deleting archived objects',
        () =>
          this.#ctx.s3.send(
            new DeleteObjectsCommand({
              Bucket: this.#ctx.bucket,
              Delete: { Objects: chunk.map((Key) => ({ Key })), Quiet: true },
            }),
          ),
        this.#ctx.retry,
      );
      const failed = out.Errors?.[0];
      if (failed) {
        throw new ServiceUnavailableError(
          `S3 could not delete ${this.location(failed.Key ?? '?')}: ${failed.Code ?? ''} ${failed.Message ?? ''}`.trim(),
        );
      }
      for (const key of chunk) this.#indexes.delete(key);
    }
  }
}
