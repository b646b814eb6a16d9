/**
 * The archive schedule end to end, on table sets of the tests' own (so a run's one scan of the
 * topics table sees only this test's topics): an idle run reads the schedules and nothing else;
 * records reported by the dispatcher's doorbell (from DynamoDB Local's real stream) make their
 * partition due; time alone makes archiving and retention due; a scheduled run never leaves work
 * that a forced full run does; and a visit that crashes leaves its partition due. Time is the
 * archiver's injected clock (`StorageContext.now`); records carry timestamps of that clock.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { ArchiveDoorbell } from '../../../sdk/src/archive/archive-doorbell.ts';
import { RING_REPEAT_MS } from '../../../sdk/src/archive/archive-schedule.ts';
import { type ArchiveReport, type ArchiveRunOptions, Archiver, Tributary } from '../../../sdk/src/index.ts';
import type { StorageContext } from '../../../sdk/src/internal.ts';
import { archiveScheduleKey } from '../../../sdk/src/keys.ts';
import { tableNames } from '../../../sdk/src/schema.ts';
import { TopicRegistry } from '../../../sdk/src/topics/registry.ts';
import { TopicStore } from '../../../sdk/src/topics/topic-store.ts';
import { meterCapacity } from '../../helpers/capacity.ts';
import { readAll } from '../../helpers/consume.ts';
import { type FaultRule, injectFaults } from '../../helpers/faults.ts';
import { seededRandom, testSeed } from '../../helpers/random.ts';
import { freshTablePrefix } from '../../helpers/stack.ts';
import { testContext, testDynamoDB } from '../../helpers/tributary.ts';
import { connectionFor, startTestDispatcher } from '../../helpers/triggers.ts';
import { until } from '../../helpers/wait.ts';

const MIN = 60_000;
const HOUR = 60 * MIN;
/** Small segments, archived as soon as they close. */
const ARCHIVE_NOW = { 'segment.bytes': 2048, 'local.retention.ms': 0 };

const closers: (() => unknown)[] = [];
afterAll(async () => {
  for (const close of closers.reverse()) await close();
});

/** A settable clock: what the archiver (and, where given, the doorbell) takes for now. */
function settableClock(start = Date.now()) {
  let now = start;
  return {
    now: () => now,
    set: (t: number) => {
      now = t;
    },
    advance: (ms: number) => {
      now += ms;
      return now;
    },
  };
}

/** A table set of the test's own, a client on it, and contexts whose clock the test sets. */
async function tableSet(label: string) {
  const prefix = await freshTablePrefix(label);
  const client = new Tributary(connectionFor(prefix));
  closers.push(() => client.close());
  const tables = tableNames(prefix);
  const contextWith = (now: () => number, ddb = testDynamoDB()): StorageContext => ({
    ...testContext(ddb, now),
    tables,
  });
  const archiverWith = (ctx: StorageContext, options: ConstructorParameters<typeof Archiver>[2] = {}) =>
    new Archiver(ctx, new TopicRegistry(ctx), options);
  return { prefix, client, admin: client.admin(), tables, contextWith, archiverWith };
}

/** Appends `batches` batches of 4 records (about 700 bytes each) to one partition, stamped `timestamp`. */
async function produce(
  client: Tributary,
  topic: string,
  partition: number,
  batches: number,
  timestamp: number,
  tag = 'v',
): Promise<void> {
  const producer = client.producer({ compression: 'none', lingerMs: 0 });
  try {
    for (let b = 0; b < batches; b++) {
      await producer.send({
        topic,
        messages: Array.from({ length: 4 }, (_, i) => ({
          value: `${tag}-${b}-${i}-${'x'.repeat(150)}`,
          partition,
          timestamp: timestamp + b,
        })),
      });
    }
  } finally {
    await producer.close();
  }
}

const visited = (report: ArchiveReport) => report.partitions.map((p) => `${p.topic}[${p.partition}]`).sort();

describe('an idle run', () => {
  it('reads the schedules with one scan of the topics table and nothing of any partition', async () => {
    const set = await tableSet('idle');
    const clock = settableClock();
    const layout = { 'idle-a': 1, 'idle-b': 4, 'idle-c': 16 };
    for (const [topic, partitions] of Object.entries(layout)) {
      await set.admin.createTopic({ topic, partitions, configs: ARCHIVE_NOW });
      for (let p = 0; p < partitions; p++) await produce(set.client, topic, p, 6, clock.now());
    }
    const total = Object.values(layout).reduce((n, p) => n + p, 0);
    const ddb = testDynamoDB();
    const meter = meterCapacity(ddb);
    const archiver = set.archiverWith(set.contextWith(clock.now, ddb));

    // A minute later every closed segment is older than local.retention.ms (0).
    clock.advance(MIN);
    const first = await archiver.run({ visit: 'scheduled' });
    expect(first.partitions).toHaveLength(total);
    expect(first.segmentsArchived).toBeGreaterThanOrEqual(total);

    clock.advance(MIN);
    meter.reset();
    const idle = await archiver.run({ visit: 'scheduled' });
    expect(idle.partitions).toEqual([]);
    expect(idle.partitionsSkipped).toBe(total);
    expect(idle.s3Requests).toEqual({ puts: 0, gets: 0, lists: 0, deletes: 0 });
    // Nothing per partition: no request to the log table, one scan page of the topics table.
    expect(meter.table(set.tables.log).requests).toBe(0);
    expect(meter.table(set.tables.topics).requests).toBe(1);
    expect(meter.requests(set.tables.topics, 'ScanCommand')).toBe(1);
    const idleUnits = meter.table(set.tables.topics).readUnits;
    expect(idleUnits).toBeGreaterThan(0);
    expect(idleUnits).toBeLessThanOrEqual(2);
    expect(meter.table(set.tables.topics).writeUnits).toBe(0);

    // What every run read before schedules: each partition's bounds, newest batch and more.
    meter.reset();
    const forced = await archiver.run({ visit: 'all' });
    expect(forced.partitions).toHaveLength(total);
    expect(forced.segmentsArchived).toBe(0);
    expect(meter.table(set.tables.log).readUnits).toBeGreaterThanOrEqual(2 * total);
  });
});

describe('the doorbell', () => {
  it('makes a partition that got records due, and the next scheduled run archives it', async () => {
    const set = await tableSet('bell');
    const topic = 'bell';
    await set.admin.createTopic({ topic, partitions: 3, configs: ARCHIVE_NOW });
    // Written before the dispatcher starts reading the stream (at its end): never rung.
    for (let p = 0; p < 3; p++) await produce(set.client, topic, p, 4, Date.now());
    const dispatcher = await startTestDispatcher(set.prefix);
    closers.push(() => dispatcher.stop());
    const archiver = set.archiverWith(set.contextWith(Date.now));
    expect((await archiver.run({ visit: 'scheduled' })).partitions).toHaveLength(3);

    // The visits replaced archived batches by stubs (stream records of batch items); a marker
    // topic written after them shows the doorbell has read that far.
    await set.admin.createTopic({ topic: 'marker', configs: ARCHIVE_NOW });
    await produce(set.client, 'marker', 0, 1, Date.now());
    const store = new TopicStore(set.contextWith(Date.now));
    const markerRef = { topic: 'marker', incarnation: (await set.admin.describeTopic('marker')).incarnation };
    await until(
      async () =>
        (await store.archiveView()).schedules.some(
          (e) => e.key === archiveScheduleKey({ ...markerRef, partition: 0 }) && e.rung !== undefined,
        ),
      { timeoutMs: 20_000, message: 'the marker rung' },
    );
    // Stubs bring no records: nothing of the topic is due.
    const idle = await archiver.run({ visit: 'scheduled', topics: [topic] });
    expect(idle.partitions).toEqual([]);
    expect(idle.partitionsSkipped).toBe(3);

    await produce(set.client, topic, 1, 4, Date.now(), 'more');
    const runs: ArchiveReport[] = [];
    await until(
      async () => {
        const report = await archiver.run({ visit: 'scheduled', topics: [topic] });
        runs.push(report);
        return report.partitions.length > 0;
      },
      { timeoutMs: 20_000, message: 'a run that visits the rung partition' },
    );
    const run = runs.at(-1)!;
    expect(visited(run)).toEqual([`${topic}[1]`]);
    expect(run.segmentsArchived).toBeGreaterThan(0);
    expect(runs.slice(0, -1).every((r) => r.partitions.length === 0)).toBe(true);
    const offsets = await set.admin.partitionOffsets(topic, 1);
    expect(offsets.localLogStartOffset).toBe(run.partitions[0]!.localLogStartOffset);
    expect(offsets.localLogStartOffset).toBeGreaterThan(16);
  });

  it('records one ring per partition per repeat period, and none for topics records never give work', async () => {
    const set = await tableSet('ring');
    await set.admin.createTopic({ topic: 'kept', partitions: 2 });
    await set.admin.createTopic({
      topic: 'forever',
      configs: { 'remote.storage.enable': false, 'retention.ms': -1 },
    });
    const clock = settableClock();
    const ddb = testDynamoDB();
    const meter = meterCapacity(ddb);
    const ctx = set.contextWith(clock.now, ddb);
    const doorbell = new ArchiveDoorbell(ctx);
    const registry = new TopicRegistry(ctx);
    const kept = await registry.get('kept');
    const forever = await registry.get('forever');
    const writes = () => meter.requests(set.tables.topics, 'UpdateItemCommand');

    for (let i = 0; i < 5; i++) await doorbell.ring(kept, 0);
    expect(writes()).toBe(1);
    clock.advance(RING_REPEAT_MS - 1);
    await doorbell.ring(kept, 0);
    expect(writes()).toBe(1);
    await doorbell.ring(kept, 1);
    expect(writes()).toBe(2);
    clock.advance(1);
    await doorbell.ring(kept, 0);
    expect(writes()).toBe(3);
    await doorbell.ring(forever, 0);
    expect(writes()).toBe(3);

    // Another process's ring with an older clock never moves the ring back.
    await new ArchiveDoorbell(set.contextWith(() => clock.now() - HOUR)).ring(kept, 0);
    const rings = new Map(
      (await new TopicStore(ctx).archiveView()).schedules.map((e) => [
        `${e.ref.topic}[${e.ref.partition}]`,
        e.rung,
      ]),
    );
    expect(Object.fromEntries(rings)).toEqual({
      'kept[0]': clock.now(),
      'kept[1]': clock.now() - 1,
    });
  });
});

describe('time passing', () => {
  it('makes archiving and retention due without new records', async () => {
    const set = await tableSet('time');
    const topic = 'aging';
    await set.admin.createTopic({
      topic,
      configs: { 'segment.bytes': 2048, 'local.retention.ms': HOUR, 'retention.ms': 3 * HOUR },
    });
    const t0 = Date.now();
    const clock = settableClock(t0);
    await produce(set.client, topic, 0, 9, t0);
    const archiver = set.archiverWith(set.contextWith(clock.now));
    const run = (options: ArchiveRunOptions = { visit: 'scheduled' }) => archiver.run(options);

    const young = await run();
    expect(young.partitions).toHaveLength(1);
    expect(young.segmentsArchived).toBe(0);
    // The first batch reaches local retention an hour after its timestamp: not before.
    const [entry] = (await new TopicStore(set.contextWith(clock.now)).archiveView()).schedules;
    expect(entry?.due).toBe(t0 + HOUR + 1);
    clock.set(t0 + HOUR);
    expect((await run()).partitions).toEqual([]);

    clock.set(t0 + HOUR + MIN);
    const archived = await run();
    expect(visited(archived)).toEqual([`${topic}[0]`]);
    expect(archived.segmentsArchived).toBeGreaterThanOrEqual(2);
    const localLogStart = archived.partitions[0]!.localLogStartOffset;
    expect(archived.partitions[0]!.logStartOffset).toBe(0);
    clock.advance(MIN);
    expect((await run()).partitions).toEqual([]);

    // Every segment's newest record passes retention.ms three hours after it was written.
    clock.set(t0 + 3 * HOUR + MIN);
    const expired = await run();
    expect(expired.segmentsDeleted).toBe(archived.segmentsArchived);
    clock.advance(MIN);
    expect((await run()).partitions).toEqual([]);
    expect(await set.admin.partitionOffsets(topic, 0)).toMatchObject({
      logStartOffset: localLogStart,
      localLogStartOffset: localLogStart,
      highWatermark: 36,
    });
  });
});

describe('time passing, with records over time', () => {
  it("schedules a closed segment by its newest record's age, not its first's", async () => {
    const set = await tableSet('span');
    const topic = 'spanning';
    // Two batches per segment; a segment closes when a third batch exists.
    await set.admin.createTopic({
      topic,
      configs: { 'segment.bytes': 2048, 'local.retention.ms': 30 * MIN },
    });
    const t0 = Date.now();
    const clock = settableClock(t0);
    const ctx = set.contextWith(clock.now);
    const archiver = set.archiverWith(ctx);
    const doorbell = new ArchiveDoorbell(ctx);
    const meta = await new TopicRegistry(ctx).get(topic);
    const append = async (minutes: number) => {
      clock.set(t0 + minutes * MIN);
      await produce(set.client, topic, 0, 1, clock.now(), `at-${minutes}`);
      await doorbell.ring(meta, 0);
      return archiver.run({ visit: 'scheduled' });
    };
    const due = async () => (await new TopicStore(ctx).archiveView()).schedules[0]?.due;

    expect((await append(0)).segmentsArchived).toBe(0);
    expect((await append(40)).segmentsArchived).toBe(0);
    // The segment [t0, t0 + 40 min] is closed now; its first batch is past local retention, its
    // newest is not: it is due 30 minutes after its newest record.
    const closed = await append(50);
    expect(visited(closed)).toEqual([`${topic}[0]`]);
    expect(closed.segmentsArchived).toBe(0);
    expect(await due()).toBe(t0 + 70 * MIN + 1);
    // The ring came just before that visit started: the next run looks once more (a doorbell may
    // skip rings for a while after one), then the partition waits for its time.
    clock.set(t0 + 51 * MIN);
    expect((await archiver.run({ visit: 'scheduled' })).partitions).toHaveLength(1);
    expect(await due()).toBe(t0 + 70 * MIN + 1);
    clock.set(t0 + 70 * MIN);
    expect((await archiver.run({ visit: 'scheduled' })).partitions).toEqual([]);
    clock.set(t0 + 70 * MIN + 1);
    const archived = await archiver.run({ visit: 'scheduled' });
    expect(archived.segmentsArchived).toBe(1);
    expect(archived.partitions[0]!.localLogStartOffset).toBe(8);
  });
});

describe('nothing due is skipped', () => {
  it('a scheduled run leaves every partition as a forced full run does, step after step', async () => {
    const set = await tableSet('same');
    const seed = testSeed('archive-schedule-equivalence');
    const random = seededRandom(seed);
    const pairs = [
      {
        'segment.bytes': 2048,
        'segment.ms': 20 * MIN,
        'local.retention.ms': 30 * MIN,
        'retention.ms': 2 * HOUR,
      },
      { 'segment.bytes': 1500, 'local.retention.bytes': 4000, 'retention.bytes': 9000 },
      { 'segment.bytes': 2048, 'remote.storage.enable': false, 'retention.ms': 90 * MIN },
    ];
    const partitions = 2;
    const scheduled: string[] = [];
    const forced: string[] = [];
    for (const [i, configs] of pairs.entries()) {
      for (const [list, name] of [
        [scheduled, `s${i}`],
        [forced, `f${i}`],
      ] as const) {
        await set.admin.createTopic({ topic: name, partitions, configs });
        list.push(name);
      }
    }
    const clock = settableClock();
    const ctx = set.contextWith(clock.now);
    const archiver = set.archiverWith(ctx);
    const doorbell = new ArchiveDoorbell(ctx);
    const registry = new TopicRegistry(ctx);
    const steps = [MIN, 7 * MIN, 7 * MIN, 25 * MIN, 61 * MIN];
    const STEPS = 40;
    let target = { pair: 0, partition: 0 };
    let skipped = 0;
    let work = 0;
    for (let step = 0; step < STEPS; step++) {
      clock.advance(steps[Math.floor(random() * steps.length)]!);
      // Small appends in bursts to one partition over several steps: segments whose batches span
      // minutes, so a segment's first batch can be due while its newest is not.
      if (random() < 0.3)
        target = { pair: Math.floor(random() * pairs.length), partition: Math.floor(random() * partitions) };
      if (random() < 0.7) {
        const { pair, partition } = target;
        const batches = 1 + Math.floor(random() * 2);
        const tag = randomBytes(3).toString('hex');
        for (const topic of [scheduled[pair]!, forced[pair]!]) {
          await produce(set.client, topic, partition, batches, clock.now(), tag);
        }
        // What the dispatcher's doorbell does for every batch it sees.
        await doorbell.ring(await registry.get(scheduled[pair]!), partition);
      }
      const s = await archiver.run({ topics: scheduled, visit: 'scheduled' });
      const f = await archiver.run({ topics: forced, visit: 'all' });
      for (const [pair] of pairs.entries()) {
        const mine = (await set.admin.describeTopic(scheduled[pair]!)).partitions;
        const theirs = (await set.admin.describeTopic(forced[pair]!)).partitions;
        expect(mine, `step ${step}, pair ${pair} (seed ${seed})`).toEqual(theirs);
      }
      const totals = (r: ArchiveReport) => [
        r.segmentsArchived,
        r.segmentsDeleted,
        r.bytesExpired,
        r.orphansDeleted,
      ];
      expect(totals(s), `step ${step} (seed ${seed})`).toEqual(totals(f));
      skipped += s.partitionsSkipped;
      work += s.segmentsArchived + s.segmentsDeleted + s.bytesExpired;
    }
    // The comparison means something: the scheduled runs left partitions alone, and there was work.
    expect(skipped).toBeGreaterThan(STEPS);
    expect(work).toBeGreaterThan(0);
  });
});

describe('a visit that crashes', () => {
  const crash = () => ({ error: Object.assign(new Error('injected crash'), { name: 'InjectedCrash' }) });
  const moveLocalLogStart: FaultRule = ({ command, input }) =>
    command === 'UpdateItemCommand' && String(input.UpdateExpression).includes('#llso =')
      ? crash()
      : undefined;

  async function readBack(client: Tributary, topic: string, count: number): Promise<number[]> {
    const consumer = client.consumer();
    await consumer.assign([{ topic, partition: 0, offset: 0 }]);
    const messages = await readAll(consumer, count);
    consumer.close();
    return messages.map((m) => m.offset);
  }

  it('leaves a new partition due, and the next scheduled run archives it', async () => {
    const set = await tableSet('crash-new');
    const topic = 'crashing';
    await set.admin.createTopic({ topic, configs: ARCHIVE_NOW });
    await produce(set.client, topic, 0, 8, Date.now());
    const clock = settableClock();
    const faulty = testDynamoDB();
    injectFaults(faulty, moveLocalLogStart);
    await expect(
      set.archiverWith(set.contextWith(clock.now, faulty)).run({ visit: 'scheduled' }),
    ).rejects.toThrow('injected crash');
    clock.advance(MIN);
    const next = await set.archiverWith(set.contextWith(clock.now)).run({ visit: 'scheduled' });
    expect(visited(next)).toEqual([`${topic}[0]`]);
    expect(next.segmentsArchived).toBeGreaterThan(0);
    expect(await readBack(set.client, topic, 32)).toEqual(Array.from({ length: 32 }, (_, i) => i));
  });

  it('leaves a rung partition due, whatever the crash interrupted', async () => {
    const set = await tableSet('crash-rung');
    const topic = 'crashing';
    await set.admin.createTopic({ topic, configs: ARCHIVE_NOW });
    const clock = settableClock();
    // Records a minute old: every closed segment is due for S3 at once.
    await produce(set.client, topic, 0, 4, clock.now() - MIN);
    const ctx = set.contextWith(clock.now);
    const healthy = set.archiverWith(ctx);
    await healthy.run({ visit: 'scheduled' });
    clock.advance(MIN);
    expect((await healthy.run({ visit: 'scheduled' })).partitions).toEqual([]);

    await produce(set.client, topic, 0, 4, clock.now() - MIN, 'more');
    await new ArchiveDoorbell(ctx).ring(await new TopicRegistry(ctx).get(topic), 0);
    const faulty = testDynamoDB();
    injectFaults(faulty, moveLocalLogStart);
    await expect(
      set.archiverWith(set.contextWith(clock.now, faulty)).run({ visit: 'scheduled' }),
    ).rejects.toThrow('injected crash');
    // The crash came after the segment was written: the rerun finishes it.
    clock.advance(MIN);
    const next = await healthy.run({ visit: 'scheduled' });
    expect(visited(next)).toEqual([`${topic}[0]`]);
    expect(next.segmentsArchived).toBeGreaterThan(0);
    expect(await readBack(set.client, topic, 32)).toEqual(Array.from({ length: 32 }, (_, i) => i));

    // A crash on the schedule write itself (the visit's last write): the work is done, the
    // partition stays due, and the next run records the schedule.
    await produce(set.client, topic, 0, 4, clock.now() - MIN, 'again');
    await new ArchiveDoorbell(ctx).ring(await new TopicRegistry(ctx).get(topic), 0);
    const scheduleWrite = testDynamoDB();
    injectFaults(scheduleWrite, ({ command, input }) =>
      command === 'UpdateItemCommand' &&
      input.TableName === set.tables.topics &&
      String(input.UpdateExpression).includes('#s = :s')
        ? crash()
        : undefined,
    );
    await expect(
      set.archiverWith(set.contextWith(clock.now, scheduleWrite)).run({ visit: 'scheduled' }),
    ).rejects.toThrow('injected crash');
    clock.advance(MIN);
    const again = await healthy.run({ visit: 'scheduled' });
    expect(visited(again)).toEqual([`${topic}[0]`]);
    clock.advance(MIN);
    expect((await healthy.run({ visit: 'scheduled' })).partitions).toEqual([]);
  });
});
