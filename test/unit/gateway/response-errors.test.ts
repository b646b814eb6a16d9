/** Error codes found in responses by walking them: nested arrays, `...ErrorCode` fields, bytes skipped. */
import { describe, expect, it } from 'vitest';
import { decodeResponse, encodeResponse, type ResponseInput } from '../../../gateway/protocol/index.ts';
import { responseErrorCodes } from '../../../gateway/response-errors.ts';

const ZERO_ID = '00000000-0000-0000-0000-000000000000';

describe('responseErrorCodes', () => {
  it('counts every non-zero errorCode, top-level and nested in arrays, and no zero', () => {
    const metadata: ResponseInput<'Metadata'> = {
      throttleTimeMs: 0,
      brokers: [{ nodeId: 0, host: 'h', port: 9092, rack: null }],
      clusterId: 'c',
      controllerId: 0,
      topics: [
        { errorCode: 3, name: 'missing', topicId: ZERO_ID, isInternal: false, partitions: [] },
        {
          errorCode: 0,
          name: 'present',
          topicId: ZERO_ID,
          isInternal: false,
          partitions: [
            {
              errorCode: 0,
              partitionIndex: 0,
              leaderId: 0,
              replicaNodes: [0],
              isrNodes: [0],
              offlineReplicas: [],
            },
            {
              errorCode: 9,
              partitionIndex: 1,
              leaderId: 0,
              replicaNodes: [0],
              isrNodes: [0],
              offlineReplicas: [],
            },
            {
              errorCode: 9,
              partitionIndex: 2,
              leaderId: 0,
              replicaNodes: [0],
              isrNodes: [0],
              offlineReplicas: [],
            },
          ],
        },
        { errorCode: 3, name: 'gone', topicId: ZERO_ID, isInternal: false, partitions: [] },
      ],
    };
    expect(responseErrorCodes(metadata)).toEqual(
      new Map([
        [3, 2],
        [9, 2],
      ]),
    );
    // The decoded form of the same response (defaults filled in) gives the same codes.
    const frame = encodeResponse('Metadata', 12, 1, metadata);
    const decoded = decodeResponse('Metadata', 12, frame.subarray(4));
    expect(responseErrorCodes(decoded.body)).toEqual(responseErrorCodes(metadata));
  });

  it('counts the other `...ErrorCode` fields (CreateTopics v5+ topicConfigErrorCode)', () => {
    const created: ResponseInput<'CreateTopics'> = {
      throttleTimeMs: 0,
      topics: [
        {
          name: 't',
          topicId: ZERO_ID,
          errorCode: 0,
          errorMessage: null,
          topicConfigErrorCode: 40,
          configs: [],
        },
      ],
    };
    expect(responseErrorCodes(created)).toEqual(new Map([[40, 1]]));
  });

  it('finds nothing in an answer without errors, or no answer, and does not look into bytes', () => {
    expect(responseErrorCodes({ errorCode: 0, apiKeys: [], throttleTimeMs: 0 })).toEqual(new Map());
    expect(responseErrorCodes(undefined)).toEqual(new Map());
    expect(responseErrorCodes(null)).toEqual(new Map());
    // Record bytes are opaque; a non-numeric field of the name (never written by a handler) is not a code.
    const records = new Uint8Array([1, 2, 3]);
    expect(responseErrorCodes({ records, errorMessage: 'x', other: { errorCode: 'NONE' }, id: 5n })).toEqual(
      new Map(),
    );
  });

  it('counts negative codes (UNKNOWN_SERVER_ERROR is -1)', () => {
    expect(responseErrorCodes({ errorCode: -1, responses: [{ partitions: [{ errorCode: -1 }] }] })).toEqual(
      new Map([[-1, 2]]),
    );
  });
});
