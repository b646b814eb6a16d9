/**
 * What the gateway advertises: exactly the APIs it serves, each with its whole range;
 * librdkafka 2.0.2's consumer group, compression and idempotence probes pass.
 */
import { describe, expect, it } from 'vitest';
import { ADVERTISED_APIS, HANDLED_APIS } from '../../../gateway/advertised-apis.ts';
import { HANDLERS } from '../../../gateway/handlers/index.ts';
import { groupErrorOf, KafkaError, kafkaErrorOf } from '../../../gateway/kafka-errors.ts';
import { APIS } from '../../../gateway/protocol/index.ts';
import * as errors from '../../../sdk/src/index.ts';

describe('ADVERTISED_APIS', () => {
  it('is the served APIs, each with the range its description implements', () => {
    expect(ADVERTISED_APIS.map((a) => a.name).sort()).toEqual([...HANDLED_APIS].sort());
    for (const api of ADVERTISED_APIS) {
      expect([api.minVersion, api.maxVersion]).toEqual([
        APIS[api.name].minVersion,
        APIS[api.name].maxVersion,
      ]);
    }
    // Every served API but the SASL exchange (run by the connection) has a handler.
    expect(Object.keys(HANDLERS).sort()).toEqual(
      HANDLED_APIS.filter((n) => n !== 'SaslHandshake' && n !== 'SaslAuthenticate').sort(),
    );
  });

  it('passes the probe librdkafka 2.0.2 enables consumer groups (kcat -G) with', () => {
    // rd_kafka_feature_map's BrokerBalancedConsumer: every key's range must overlap its probe.
    const probes: [string, number, number][] = [
      ['FindCoordinator', 0, 0],
      ['OffsetCommit', 1, 2],
      ['OffsetFetch', 1, 1],
      ['JoinGroup', 0, 0],
      ['SyncGroup', 0, 0],
      ['Heartbeat', 0, 0],
      ['LeaveGroup', 0, 0],
    ];
    for (const [name, min, max] of probes) {
      const api = ADVERTISED_APIS.find((a) => a.name === name);
      expect(api !== undefined && api.minVersion <= max && min <= api.maxVersion, name).toBe(true);
    }
  });

  it('serves every consumer group API of the classic protocol', () => {
    const names = new Set<string>(ADVERTISED_APIS.map((a) => a.name));
    for (const group of [
      'JoinGroup',
      'SyncGroup',
      'Heartbeat',
      'LeaveGroup',
      'OffsetCommit',
      'OffsetFetch',
      'DescribeGroups',
      'ListGroups',
      'DeleteGroups',
    ]) {
      expect(names.has(group), group).toBe(true);
    }
  });

  it('passes the probes librdkafka 2.0.2 enables gzip, snappy, lz4, zstd and idempotence with', () => {
    const range = (name: string) => ADVERTISED_APIS.find((a) => a.name === name);
    const overlaps = (name: string, min: number, max: number) => {
      const api = range(name);
      return api !== undefined && api.minVersion <= max && min <= api.maxVersion;
    };
    expect(overlaps('Produce', 0, 0)).toBe(true);
    expect(overlaps('FindCoordinator', 0, 0)).toBe(true);
    expect(overlaps('Produce', 7, 7) && overlaps('Fetch', 10, 10)).toBe(true);
    expect(overlaps('InitProducerId', 0, 0)).toBe(true);
    expect(overlaps('Produce', 3, 3) && overlaps('Fetch', 4, 4)).toBe(true);
  });
});

describe('kafkaErrorOf', () => {
  it("maps Tributary's errors to the Kafka codes clients act on", () => {
    expect(kafkaErrorOf(new errors.TopicNotFoundError('t')).code).toBe(KafkaError.UNKNOWN_TOPIC_OR_PARTITION);
    expect(kafkaErrorOf(new errors.UnknownPartitionError('t', 3, 1)).code).toBe(
      KafkaError.UNKNOWN_TOPIC_OR_PARTITION,
    );
    expect(kafkaErrorOf(new errors.InvalidTopicNameError('a b', 'no')).code).toBe(
      KafkaError.INVALID_TOPIC_EXCEPTION,
    );
    expect(kafkaErrorOf(new errors.TopicAlreadyExistsError('t')).code).toBe(KafkaError.TOPIC_ALREADY_EXISTS);
    expect(kafkaErrorOf(new errors.InvalidConfigError('k', 'bad')).code).toBe(KafkaError.INVALID_CONFIG);
    expect(kafkaErrorOf(new errors.InvalidPartitionsError('bad')).code).toBe(KafkaError.INVALID_PARTITIONS);
    expect(kafkaErrorOf(new errors.OffsetOutOfRangeError('t', 0, 9, 0, 5)).code).toBe(
      KafkaError.OFFSET_OUT_OF_RANGE,
    );
    expect(kafkaErrorOf(new errors.RecordTooLargeError(2, 1, 'x')).code).toBe(KafkaError.MESSAGE_TOO_LARGE);
    expect(kafkaErrorOf(new errors.CorruptRecordError('x')).code).toBe(KafkaError.CORRUPT_MESSAGE);
    expect(kafkaErrorOf(new errors.ProduceInProgressError('t', 0, '1', 0)).code).toBe(
      KafkaError.REQUEST_TIMED_OUT,
    );
    expect(kafkaErrorOf(new errors.TimeoutError('x')).code).toBe(KafkaError.REQUEST_TIMED_OUT);
    expect(kafkaErrorOf(new errors.ThrottledError('x')).code).toBe(KafkaError.KAFKA_STORAGE_ERROR);
    expect(kafkaErrorOf(new errors.ServiceUnavailableError('x')).code).toBe(KafkaError.KAFKA_STORAGE_ERROR);
    expect(kafkaErrorOf(new errors.LogInvariantError('x')).code).toBe(KafkaError.UNKNOWN_SERVER_ERROR);
    expect(kafkaErrorOf(new errors.InvalidGroupIdError('a b', 'no')).code).toBe(KafkaError.INVALID_GROUP_ID);
    expect(kafkaErrorOf(new errors.GroupNotFoundError('g')).code).toBe(KafkaError.GROUP_ID_NOT_FOUND);
    expect(kafkaErrorOf(new errors.GroupActiveError('g', ['m'], 'delete')).code).toBe(
      KafkaError.NON_EMPTY_GROUP,
    );
    expect(groupErrorOf(new errors.ThrottledError('x')).code).toBe(KafkaError.COORDINATOR_NOT_AVAILABLE);
    expect(groupErrorOf(new errors.GroupNotFoundError('g')).code).toBe(KafkaError.GROUP_ID_NOT_FOUND);
    expect(kafkaErrorOf(new Error('boom'))).toEqual({
      code: KafkaError.UNKNOWN_SERVER_ERROR,
      message: 'boom',
    });
  });
});
