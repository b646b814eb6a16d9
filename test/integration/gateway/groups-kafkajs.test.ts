/**
 * Consumer groups of unmodified kafkajs 2.2.4 members through the gateway (the classic protocol,
 * kafkajs's own RoundRobinAssigner), each member a process of its own: three members rebalance as
 * they join, one crashes (SIGKILL: no LeaveGroup, no last commit) and one leaves, while records
 * keep arriving. Every record is processed, the group's committed offsets — Tributary group
 * offsets, read through the SDK the whole time — never go backwards, and end at the high
 * watermarks. Then Tributary's own tooling works on the Kafka group: describe shows its members,
 * owners and lag, and an offset reset is where the next kafkajs member starts.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Gateway } from '../../../gateway/index.ts';
import { startTestGateway } from '../../helpers/gateway.ts';
import { testClient, uniqueTopic } from '../../helpers/tributary.ts';
import { until } from '../../helpers/wait.ts';

const MEMBER = fileURLToPath(new URL('../../fixtures/kafkajs-member.ts', import.meta.url));
const PARTITIONS = 6;

const client = testClient();
const admin = client.admin();
let gateway: Gateway;
const children: ChildProcess[] = [];

beforeAll(async () => {
  gateway = await startTestGateway({ initialRebalanceDelayMs: 0 });
});
afterAll(async () => {
  for (const child of children)
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  await gateway?.stop();
  client.close();
});

interface Member {
  readonly name: string;
  readonly child: ChildProcess;
  /** Records processed, as `partition:offset`. */
  readonly processed: string[];
  /** Partitions of each join, in order. */
  readonly joins: number[][];
  readonly stderr: () => string;
}

function startMember(name: string, topic: string, groupId: string): Member {
  const child = spawn(
    process.execPath,
    [
      '--disable-warning=ExperimentalWarning',
      MEMBER,
      JSON.stringify({
        port: gateway.port,
        topic,
        groupId,
        clientId: name,
        sessionTimeout: 6_000,
        rebalanceTimeout: 10_000,
      }),
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  children.push(child);
  const member: Member = { name, child, processed: [], joins: [], stderr: () => stderr };
  let stderr = '';
  child.stderr!.on('data', (d) => {
    stderr += d;
  });
  createInterface({ input: child.stdout! }).on('line', (line) => {
    const event = JSON.parse(line) as { joined?: boolean; partitions?: number[]; p?: number; o?: number };
    if (event.joined) member.joins.push(event.partitions ?? []);
    else member.processed.push(`${event.p}:${event.o}`);
  });
  return member;
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

describe('a kafkajs consumer group through the gateway', () => {
  it('rebalances as members join, crash and leave: every record processed, commits never regress', async () => {
    const topic = uniqueTopic('kjs-group');
    const groupId = `g-${topic}`;
    await admin.createTopic({ topic, partitions: PARTITIONS });
    // kafkajs reads gzip (it has no zstd, the SDK producer's default).
    const producer = client.producer({ compression: 'gzip' });
    let produced = 0;
    let producing = true;
    const production = (async () => {
      while (producing) {
        await producer.send({ topic, messages: [{ key: `k${produced}`, value: `v${produced}` }] });
        produced++;
        await new Promise((r) => setTimeout(r, 10));
      }
    })();

    // Watch the committed offsets through the SDK for the whole test: they may never go back.
    const regressions: string[] = [];
    const last = new Map<number, number>();
    let watching = true;
    const watcher = (async () => {
      while (watching) {
        const d = await admin.describeGroup(groupId).catch(() => undefined);
        for (const p of d?.partitions ?? []) {
          if (p.committedOffset === undefined) continue;
          const before = last.get(p.partition) ?? 0;
          if (p.committedOffset < before)
            regressions.push(`${p.partition}: ${before} -> ${p.committedOffset}`);
          last.set(p.partition, p.committedOffset);
        }
        await new Promise((r) => setTimeout(r, 100));
      }
    })();

    const m1 = startMember('m1', topic, groupId);
    await until(() => m1.processed.length >= 20, { timeoutMs: 30_000, message: 'm1 consuming' });
    expect(m1.joins[0]).toHaveLength(PARTITIONS);

    const m2 = startMember('m2', topic, groupId);
    const m3 = startMember('m3', topic, groupId);
    // The round robin assigner splits six partitions two by two once all three are in.
    await until(() => [m1, m2, m3].every((m) => m.joins.at(-1)?.length === 2), {
      timeoutMs: 45_000,
      message: 'three members with two partitions each',
    });
    const owned = [m1, m2, m3].flatMap((m) => m.joins.at(-1) ?? []).sort();
    expect(owned).toEqual([0, 1, 2, 3, 4, 5]);
    const m2Before = m2.processed.length;
    await until(() => m2.processed.length > m2Before + 5, { timeoutMs: 20_000, message: 'm2 consuming' });

    // A crash: the gateway finds m2 gone when its liveness counter stands still for its session.
    m2.child.kill('SIGKILL');
    await until(() => [m1, m3].every((m) => m.joins.at(-1)?.length === 3), {
      timeoutMs: 45_000,
      message: 'm1 and m3 splitting the partitions after the crash',
    });

    // A graceful leave: m1 takes everything.
    m3.child.kill('SIGTERM');
    await exited(m3.child);
    await until(() => m1.joins.at(-1)?.length === PARTITIONS, {
      timeoutMs: 30_000,
      message: 'm1 alone again',
    });

    producing = false;
    await production;
    const described = await admin.describeTopic(topic);
    const ends = new Map(described.partitions.map((p) => [p.partition, p.highWatermark]));
    const expected = [...ends].flatMap(([p, end]) => Array.from({ length: end }, (_, o) => `${p}:${o}`));
    expect(expected.length).toBe(produced);
    const all = () => new Set([m1, m2, m3].flatMap((m) => m.processed));
    await until(() => expected.every((r) => all().has(r)), {
      timeoutMs: 30_000,
      message: `every one of ${produced} records processed`,
    });
    await until(
      async () => {
        const d = await admin.describeGroup(groupId);
        return (
          d.partitions.length === PARTITIONS &&
          d.partitions.every((p) => p.committedOffset === ends.get(p.partition))
        );
      },
      { timeoutMs: 30_000, message: 'committed offsets at the high watermarks' },
    );
    watching = false;
    await watcher;
    expect(regressions).toEqual([]);

    // Tributary's view of the live Kafka group: its one member, owning every partition, lag 0.
    const d = await admin.describeGroup(groupId);
    expect(d.members).toHaveLength(1);
    expect(d.members[0]!.memberId.startsWith('m1-')).toBe(true);
    expect(d.members[0]!.topics).toEqual([topic]);
    expect(d.members[0]!.active).toBe(true);
    expect(d.partitions.every((p) => p.owner === d.members[0]!.memberId && p.lag === 0)).toBe(true);
    // Resetting offsets is refused while a Kafka member is active, as for Tributary's own members.
    await expect(admin.resetGroupOffsets(groupId, topic, 'earliest')).rejects.toMatchObject({
      code: 'GROUP_ACTIVE',
    });

    m1.child.kill('SIGTERM');
    await exited(m1.child);
    await until(async () => (await admin.describeGroup(groupId)).members.length === 0, {
      message: 'the group empty after the last member left',
    });
    const reset = await admin.resetGroupOffsets(groupId, topic, { timestamp: 0 });
    expect(reset.every((r) => r.offset === 0)).toBe(true);

    // The next kafkajs member starts where the reset put the group: it reads everything again.
    const m4 = startMember('m4', topic, groupId);
    await until(() => expected.every((r) => m4.processed.includes(r)), {
      timeoutMs: 30_000,
      message: 'm4 reading from the reset offsets',
    });
    m4.child.kill('SIGTERM');
    await exited(m4.child);
    expect(m4.stderr()).not.toContain('"level":"ERROR"');
  }, 240_000);
});
