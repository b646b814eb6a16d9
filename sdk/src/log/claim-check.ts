/**
 * Large batches by claim check: a batch at or above the topic's `large.message.threshold.bytes`
 * is stored as an S3 object, and the log item carries its key (`s3`) and size instead of the
 * bytes. The object is written before the pointer is appended, so a pointer never refers to a
 * missing object; a retried append reuses the same object. The batch's baseOffset inside the
 * object is rewritten on read to the slot it landed in (it lies outside the CRC).
 */
import { randomBytes } from 'node:crypto';
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { awsErrorName } from '../aws-errors.ts';
import type { StorageContext } from '../context.ts';
import { CorruptRecordError } from '../errors.ts';
import { claimObjectKey, type PartitionRef } from '../keys.ts';
import { withRetry } from '../retry.ts';
import { setBaseOffset } from './record-batch.ts';

/** Where a claimed batch is stored. */
export interface Claim {
  readonly key: string;
  readonly size: number;
}

/** Uploads a batch as a claim-check object; returns its key. */
export async function storeClaim(
  ctx: StorageContext,
  ref: PartitionRef,
  body: Uint8Array,
  producerId: string,
  sequence: number,
): Promise<Claim> {
  const key = claimObjectKey(ref, producerId, sequence, randomBytes(4).toString('hex'));
  await withRetry(
    `Storing a large batch in S3 (${key})`,
    () =>
      ctx.s3.send(
        new PutObjectCommand({
          Bucket: ctx.bucket,
          Key: key,
          Body: body,
          ContentLength: body.byteLength,
          ContentType: 'application/vnd.kafka.record-batch',
        }),
      ),
    ctx.retry,
  );
  return { key, size: body.byteLength };
}

/**
 * Reads a claimed batch and sets its baseOffset to the slot it occupies. A missing or short
 * object is a {@link CorruptRecordError} naming the object: never skipped.
 */
export async function loadClaim(ctx: StorageContext, claim: Claim, baseOffset: number): Promise<Uint8Array> {
  const location = `s3://${ctx.bucket}/${claim.key}`;
  let bytes: Uint8Array;
  try {
    const out = await withRetry(
      `Reading a large batch from S3 (${claim.key})`,
      () => ctx.s3.send(new GetObjectCommand({ Bucket: ctx.bucket, Key: claim.key })),
      ctx.retry,
    );
    bytes = (await out.Body?.transformToByteArray()) ?? new Uint8Array();
  } catch (error) {
    if (awsErrorName(error) === 'NoSuchKey') {
      throw new CorruptRecordError('The log points to a large batch whose S3 object is missing', location);
    }
    throw error;
  }
  if (bytes.byteLength !== claim.size) {
    throw new CorruptRecordError(
      `Large batch object has ${bytes.byteLength} bytes, the log says ${claim.size}`,
      location,
    );
  }
  return setBaseOffset(bytes, baseOffset);
}
