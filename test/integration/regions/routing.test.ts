/**
 * Appends go to a topic's home region whatever region the client is in (forwarded, or refused on
 * request), groups coordinate in one region, bad regions are refused before anything is written,
 * and a client without regions works exactly as before. On the multi-region local stack: while the
 * replica region is cut off, what each region's tables hold shows where every write went.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApiServer } from '../../../local/api-server.ts';
import {
  InvalidConfigError,
  NotHomeRegionError,
  Tributary,
  UnknownRegionError,
  UnsupportedOperationError,
} from '../../../sdk/src/index.ts';
import { partitionKey } from '../../../sdk/src/internal.ts';
import { injectFaults } from '../../helpers/faults.ts';
import {
  HOME,
  offsetsOf,
  REPLICA,
  type RegionsStack,
  refOf,
  startRegionsStack,
} from '../../helpers/regions.ts';
import { uniqueTopic } from '../../helpers/tributary.ts';
import { until } from '../../helpers/wait.ts';

let regions: RegionsStack;
let home: Tributary;
let replica: Tributary;

beforeAll(async () => {
  regions = await startRegionsStack();
  home = regions.client(HOME);
  replica = regions.client(REPLICA);
}, 120_000);

afterAll(async () => {
  home?.close();
  replica?.close();
  await regions?.stop();
});

async function createTopic(configs: Record<string, string> = {}, partitions = 1) {
  const topic = uniqueTopic('rg');
  await home.admin().createTopic({ topic, partitions, configs });
  const described = await home.admin().describeTopic(topic);
  await regions.stack.replicator!.settled();
  return { name: topic, incarnation: described.incarnation };
}

describe('appends go to the home region', () => {
  it("a producer in the replica region appends to the home region's log, stamped with it", async () => {
    const topic = await createTopic();
    const ref = refOf(topic, 0);
    const producer = replica.producer({ lingerMs: 0 });
    const sent = await regions.cutOff(REPLICA, async () => {
      const out = [
        ...(await producer.send({ topic: topic.name, messages: [{ value: 'a' }, { value: 'b' }] })),
        ...(await producer.send({ topic: topic.name, messages: [{ value: 'c' }] })),
      ];
      // While cut off, only the home region holds the batches: the replica's own log took nothing.
      const atHome = await regions.batchItems(HOME, ref);
      expect(offsetsOf(atHome)).toEqual([0, 2]);
      expect(atHome.map((i) => [i.rg?.S, i.le?.N])).toEqual([
        [HOME, '0'],
        [HOME, '0'],
      ]);
      expect(atHome.every((i) => Number(i.at?.N) > 0)).toBe(true);
      expect(await regions.batchItems(REPLICA, ref)).toEqual([]);
      return out;
    });
    await producer.close();
    expect(sent.map((m) => m.offset)).toEqual([0, 1, 2]);
    // Replicated afterwards: one log, the same in both regions.
    expect(await regions.batchItems(REPLICA, ref)).toEqual(await regions.batchItems(HOME, ref));
  });

  it('a topic homed in the replica region takes appends there, also from a client in the deployment home', async () => {
    const topic = await createTopic({ 'home.region': REPLICA });
    const ref = refOf(topic, 0);
    const producer = home.producer({ lingerMs: 0 });
    await regions.cutOff(REPLICA, async () => {
      await producer.send({ topic: topic.name, messages: [{ value: 'x' }] });
      expect((await regions.batchItems(REPLICA, ref)).map((i) => i.rg?.S)).toEqual([REPLICA]);
      expect(await regions.batchItems(HOME, ref)).toEqual([]);
    });
    await producer.close();
  });

  it('expected-offset and atomic appends from the replica region land in the home region', async () => {
    const a = await createTopic();
    const b = await createTopic();
    const producer = replica.producer({ lingerMs: 0 });
    await regions.cutOff(REPLICA, async () => {
      await producer.sendAtOffset({
        topic: a.name,
        partition: 0,
        expectedOffset: 0,
        messages: [{ value: '1' }],
      });
      const [toA, toB] = await producer.sendAtomically([
        { topic: a.name, messages: [{ value: '2' }] },
        { topic: b.name, messages: [{ value: '3' }, { value: '4' }] },
      ]);
      expect(toA!.map((m) => m.offset)).toEqual([1]);
      expect(toB!.map((m) => m.offset)).toEqual([0, 1]);
      expect(offsetsOf(await regions.batchItems(HOME, refOf(a, 0)))).toEqual([0, 1]);
      expect(offsetsOf(await regions.batchItems(HOME, refOf(b, 0)))).toEqual([0]);
      expect(await regions.batchItems(REPLICA, refOf(a, 0))).toEqual([]);
    });
    await producer.close();
  });

  it('refuses an atomic append across home regions before writing anything', async () => {
    const here = await createTopic();
    const there = await createTopic({ 'home.region': REPLICA });
    const producer = home.producer();
    await expect(
      producer.sendAtomically([
        { topic: here.name, messages: [{ value: '1' }] },
        { topic: there.name, messages: [{ value: '2' }] },
      ]),
    ).rejects.toThrow(UnsupportedOperationError);
    await producer.close();
    expect(await regions.batchItems(HOME, refOf(here, 0))).toEqual([]);
    expect(await regions.batchItems(REPLICA, refOf(there, 0))).toEqual([]);
  });

  it("with appends: 'refuse', a client outside the home region is refused and nothing is written", async () => {
    const topic = await createTopic();
    const own = await createTopic({ 'home.region': REPLICA });
    const refusing = regions.client(REPLICA, { appends: 'refuse' });
    const producer = refusing.producer({ lingerMs: 0 });
    const error = await producer.send({ topic: topic.name, messages: [{ value: 'no' }] }).catch((e) => e);
    expect(error).toBeInstanceOf(NotHomeRegionError);
    expect(error).toMatchObject({
      code: 'NOT_HOME_REGION',
      retriable: false,
      homeRegion: HOME,
      region: REPLICA,
    });
    await expect(
      producer.sendAtomically([{ topic: topic.name, messages: [{ value: 'no' }] }]),
    ).rejects.toBeInstanceOf(NotHomeRegionError);
    // Its own region's topics it appends to as usual.
    await producer.send({ topic: own.name, messages: [{ value: 'yes' }] });
    await producer.close();
    refusing.close();
    expect(await regions.batchItems(HOME, refOf(topic, 0))).toEqual([]);
    expect(await regions.batchItems(REPLICA, refOf(topic, 0))).toEqual([]);
    expect(offsetsOf(await regions.batchItems(REPLICA, refOf(own, 0)))).toEqual([0]);
  });

  it("the HTTP API's produce in the replica region appends to the home region (idempotent state included)", async () => {
    const topic = await createTopic();
    const api = await startApiServer({ connection: regions.options(REPLICA), port: 0 });
    const http = new Tributary({
      transport: 'http',
      endpoint: api.url,
      region: REPLICA,
      retry: { deadlineMs: 15_000 },
    });
    try {
      const producer = http.producer({ lingerMs: 0 });
      await regions.cutOff(REPLICA, async () => {
        const sent = await producer.send({
          topic: topic.name,
          messages: [{ partition: 0, value: 'over-http' }],
        });
        expect(sent.map((m) => m.offset)).toEqual([0]);
        expect((await regions.batchItems(HOME, refOf(topic, 0))).map((i) => i.rg?.S)).toEqual([HOME]);
        expect(await regions.batchItems(REPLICA, refOf(topic, 0))).toEqual([]);
        // The idempotent producer's sequence state lives next to the log it guards.
        const states = `${partitionKey(refOf(topic, 0))}#producers`;
        expect(await regions.logItems(HOME, states)).toHaveLength(1);
        expect(await regions.logItems(REPLICA, states)).toEqual([]);
      });
      await producer.close();
    } finally {
      http.close();
      await api.stop();
    }
  });
});

describe('bad regions are refused with typed errors, and nothing is written', () => {
  it('refuses a client region or group region that is not one of the regions', () => {
    expect(() => new Tributary({ ...regions.options(HOME), region: 'ap-south-1' })).toThrow(
      UnknownRegionError,
    );
    expect(() => regions.client(HOME, { groupRegion: 'eu-central-1' })).toThrow(UnknownRegionError);
  });

  it('refuses a home.region outside the regions on create: no topic in either region', async () => {
    const name = uniqueTopic('bad');
    const error = await replica
      .admin()
      .createTopic({ topic: name, configs: { 'home.region': 'eu-central-1' } })
      .catch((e) => e);
    expect(error).toBeInstanceOf(InvalidConfigError);
    expect(error).toMatchObject({ key: 'home.region' });
    expect(String(error.message)).toContain(`${HOME}, ${REPLICA}`);
    await regions.stack.replicator!.settled();
    expect(await regions.topicItem(HOME, name)).toBeUndefined();
    expect(await regions.topicItem(REPLICA, name)).toBeUndefined();
  });

  it('refuses moving a home with alterTopicConfigs, and an unknown home; naming the current home is fine', async () => {
    const topic = await createTopic();
    const admin = replica.admin();
    await expect(admin.alterTopicConfigs(topic.name, { 'home.region': REPLICA })).rejects.toThrow(
      InvalidConfigError,
    );
    await expect(admin.alterTopicConfigs(topic.name, { 'home.region': 'eu-central-1' })).rejects.toThrow(
      'not one of the deployment',
    );
    expect((await home.admin().describeTopic(topic.name)).configs['home.region']).toBeUndefined();
    await admin.alterTopicConfigs(topic.name, { 'home.region': HOME, 'retention.ms': 60_000 });
    const after = await regions.topicItem(HOME, topic.name);
    expect(after?.cfg?.M?.['home.region']?.S).toBe(HOME);
  });
});

describe('the registry and consumer groups live in one region', () => {
  it('a topic created in the replica region is written in the home region and usable at once', async () => {
    const name = uniqueTopic('reg');
    await regions.cutOff(REPLICA, async () => {
      await replica.admin().createTopic({ topic: name });
      expect(await regions.topicItem(HOME, name)).toBeDefined();
      expect(await regions.topicItem(REPLICA, name)).toBeUndefined();
      // The replica has not received it; its clients read it from the home meanwhile.
      const producer = replica.producer({ lingerMs: 0 });
      expect((await producer.send({ topic: name, messages: [{ value: 'v' }] }))[0]?.offset).toBe(0);
      await producer.close();
    });
  });

  it('a group in the replica region coordinates in the home region and resumes elsewhere at the same offsets', async () => {
    const topic = await createTopic();
    const group = uniqueTopic('g');
    const producer = home.producer({ lingerMs: 0 });
    await producer.send({
      topic: topic.name,
      messages: Array.from({ length: 20 }, (_, i) => ({ value: `a${i}` })),
    });
    await regions.stack.replicator!.settled();
    const timing = { heartbeatIntervalMs: 100, sessionTimeoutMs: 1_000, maxIdleIntervalMs: 50 };
    await regions.cutOff(REPLICA, async () => {
      const seen: number[] = [];
      const consumer = replica.consumer({ groupId: group, ...timing, autoCommitIntervalMs: 50 });
      await consumer.subscribe({ topics: [topic.name], fromBeginning: true });
      await consumer.run({ eachMessage: async (m) => void seen.push(m.offset) });
      await until(() => seen.length === 20, { timeoutMs: 15_000, message: 'the first 20 records' });
      await consumer.disconnect();
      expect(seen).toEqual(Array.from({ length: 20 }, (_, i) => i));
      // The group's leases and commits were written in the home region only.
      expect((await home.admin().describeGroup(group)).partitions[0]?.committedOffset).toBe(20);
      const local = regions.client(REPLICA, { groupRegion: REPLICA });
      await expect(local.admin().describeGroup(group)).rejects.toMatchObject({ code: 'GROUP_NOT_FOUND' });
      local.close();
    });
    await producer.send({
      topic: topic.name,
      messages: Array.from({ length: 5 }, (_, i) => ({ value: `b${i}` })),
    });
    await producer.close();
    // The same group, now run from the home region, continues exactly where it was.
    const seen: number[] = [];
    const consumer = home.consumer({ groupId: group, ...timing });
    await consumer.subscribe({ topics: [topic.name], fromBeginning: true });
    await consumer.run({ eachMessage: async (m) => void seen.push(m.offset) });
    await until(() => seen.length >= 5, { timeoutMs: 15_000, message: 'the next 5 records' });
    await consumer.disconnect();
    expect(seen).toEqual([20, 21, 22, 23, 24]);
  });

  it("refuses a group transaction that would span regions, and commits-only ones go to the group's region", async () => {
    const there = await createTopic({ 'home.region': REPLICA });
    const here = await createTopic();
    const transport = regions.transport(REPLICA);
    const backend = transport.groupBackend(uniqueTopic('g'));
    try {
      await expect(
        backend.transaction([], [{ topic: there.name, messages: [{ value: 'x' }] }], []),
      ).rejects.toThrow(UnsupportedOperationError);
      expect(await regions.batchItems(REPLICA, refOf(there, 0))).toEqual([]);
      await regions.cutOff(REPLICA, async () => {
        await backend.transaction([], [{ topic: here.name, messages: [{ value: 'y' }] }], []);
        expect(offsetsOf(await regions.batchItems(HOME, refOf(here, 0)))).toEqual([0]);
      });
    } finally {
      await backend.close();
      transport.close();
    }
  });
});

describe('without regions', () => {
  it('a client works exactly as before: no stamps, no extra requests', async () => {
    const topic = await createTopic();
    const ddb = regions.ddb(HOME);
    const commands: string[] = [];
    const faults = injectFaults(ddb, ({ command }) => {
      commands.push(command);
      return undefined;
    });
    const { regions: _, ...single } = regions.options(HOME);
    const plain = new Tributary({ ...single, dynamoDBClient: ddb });
    try {
      const producer = plain.producer({ lingerMs: 0 });
      await producer.send({ topic: topic.name, messages: [{ value: 'plain' }] });
      await producer.close();
    } finally {
      faults.remove();
      plain.close();
    }
    // The topic, the tail, the put: as a single-region client always did.
    expect(commands).toEqual(['GetItemCommand', 'QueryCommand', 'PutItemCommand']);
    const [item] = await regions.batchItems(HOME, refOf(topic, 0));
    expect(item && Object.keys(item).sort()).toEqual([
      'b',
      'mts',
      'n',
      'off',
      'pid',
      'pk',
      'rb',
      'seq',
      'ts',
    ]);
  });
});
