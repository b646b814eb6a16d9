/**
 * Types of the kafkajs internals the interoperability test uses (kafkajs types only its public
 * client API). Only what the test touches is declared.
 */

declare module 'kafkajs/src/protocol/encoder.js' {
  /** A growable write buffer; `buffer` is what was written. */
  export default class Encoder {
    readonly buffer: Buffer;
  }
}

declare module 'kafkajs/src/protocol/decoder.js' {
  /** A read cursor over `buffer`. */
  export default class Decoder {
    constructor(buffer: Buffer);
  }
}

declare module 'kafkajs/src/protocol/recordBatch/record/v0/index.js' {
  import type Encoder from 'kafkajs/src/protocol/encoder.js';

  /** Header values by key; a repeated key holds an array. */
  export type KafkajsHeaders = Record<string, Buffer | string | null | (Buffer | string)[]>;

  /** Encodes one record (v0 of kafkajs's record encoder, i.e. the RecordBatch v2 record). */
  export default function Record(record: {
    offsetDelta: number;
    timestampDelta: number;
    key: Buffer | null;
    value: Buffer | null;
    headers?: KafkajsHeaders;
  }): Encoder;
}

declare module 'kafkajs/src/protocol/recordBatch/v0/index.js' {
  import type Encoder from 'kafkajs/src/protocol/encoder.js';

  /** Encodes a RecordBatch v2 (magic 2) around already-encoded records. */
  export function RecordBatch(batch: {
    compression?: number;
    firstOffset?: bigint;
    firstTimestamp?: number;
    maxTimestamp?: number;
    partitionLeaderEpoch?: number;
    lastOffsetDelta?: number;
    transactional?: boolean;
    producerId?: bigint;
    producerEpoch?: number;
    firstSequence?: number;
    records: Encoder[];
  }): Promise<Encoder>;
}

declare module 'kafkajs/src/protocol/recordBatch/v0/decoder.js' {
  import type Decoder from 'kafkajs/src/protocol/decoder.js';

  /** A record as kafkajs decodes it: 64-bit numbers as decimal strings, headers by key. */
  export interface KafkajsDecodedRecord {
    offset: string;
    timestamp: string;
    key: Buffer | null;
    value: Buffer | null;
    headers: Record<string, Buffer | null | (Buffer | null)[]>;
    isControlRecord: boolean;
  }

  /** A batch as kafkajs decodes it (no CRC check). */
  export interface KafkajsDecodedBatch {
    firstOffset: string;
    firstTimestamp: string;
    maxTimestamp: string;
    partitionLeaderEpoch: number;
    inTransaction: boolean;
    isControlBatch: boolean;
    lastOffsetDelta: number;
    producerId: string;
    producerEpoch: number;
    firstSequence: number;
    timestampType: number;
    records: KafkajsDecodedRecord[];
  }

  export default function decodeRecordBatch(decoder: Decoder): Promise<KafkajsDecodedBatch>;
}

declare module 'kafkajs/src/protocol/message/compression/index.js' {
  import type Encoder from 'kafkajs/src/protocol/encoder.js';

  /** A kafkajs compression codec plug-in. */
  export interface KafkajsCodec {
    compress(encoder: Encoder): Promise<Buffer>;
    decompress(buffer: Buffer): Promise<Buffer>;
  }

  /** Codec factories by Kafka codec id; plug-ins are registered by assigning to it. */
  export const Codecs: Record<number, () => KafkajsCodec>;
}
