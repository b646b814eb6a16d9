/**
 * `kcat -G` (librdkafka 2.0.2, Debian's) consumer groups through the gateway: librdkafka enables
 * them only when the gateway advertises the old group API versions it probes. A member reads a
 * topic and commits; the next run of the group resumes at those commits (OffsetFetch), reading
 * only what arrived since; two members at once split the partitions between them (librdkafka's
 * range/roundrobin assignors, run by the elected leader), and every record is read.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Gateway } from '../../../gateway/index.ts';
import { kcat, requireKcat, startTestGateway } from '../../helpers/gateway.ts';
import { testClient, uniqueTopic } from '../../helpers/tributary.ts';
import { until } from '../../helpers/wait.ts';

const client = testClient();
const admin = client.admin();
// kcat reads every codec; gzip keeps the records readable by every client of these tests.
const producer = client.producer({ compression: 'gzip' });
let gateway: Gateway;
const children: ChildProcess[] = [];

beforeAll(async () => {
  await requireKcat();
  gateway = await startTestGateway({ initialRebalanceDelayMs: 0, healthPort: 0 });
});
afterAll(async () => {
  for (const child of children)
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  await gateway?.stop();
  client.close();
});

/** Fetch requests the gateway has served, from its Prometheus metrics. */
async function fetchRequests(): Promise<number> {
  const text = await (await fetch(`http://${gateway.health!.host}:${gateway.health!.port}/metrics`)).text();
  return text
    .split('\n')
    .filter((line) => line.startsWith('tributary_gateway_requests_total{api="Fetch"'))
    .reduce((n, line) => n + Number(line.split(' ').at(-1)), 0);
}

async function produce(topic: string, from: number, count: number): Promise<void> {
  for (let i = from; i < from + count; i++) {
    await producer.send({ topic, messages: [{ key: `k${i}`, value: `v${i}` }] });
  }
}

// A new group starts at the earliest offsets (`-o` would force the start of every assignment).
const GROUP_OPTIONS = [
  '-X',
  'auto.offset.reset=earliest',
  '-X',
  'session.timeout.ms=6000',
  '-X',
  'heartbeat.interval.ms=500',
];

/** A long-running `kcat -G` member (unbuffered: each record on stdout as read), its output kept. */
function startKcatMember(group: string, topic: string, format: string, options: readonly string[]) {
  const child = spawn(
    'kcat',
    ['-b', `127.0.0.1:${gateway.port}`, '-u', '-G', group, '-f', format, ...options, topic],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  children.push(child);
  const member = { child, stdout: '', stderr: '' };
  child.stdout.on('data', (d) => {
    member.stdout += d;
  });
  child.stderr.on('data', (d) => {
    member.stderr += d;
  });
  return member;
}

describe('kcat -G through the gateway', () => {
  it('reads a topic and commits; the next run of the group resumes at the commits', async () => {
    const topic = uniqueTopic('kcat-group');
    const group = `g-${topic}`;
    await admin.createTopic({ topic, partitions: 3 });
    await produce(topic, 0, 30);

    const first = await kcat(
      gateway.port,
      ['-G', group, '-e', '-f', '%s\n', ...GROUP_OPTIONS, topic],
      '',
      60_000,
    );
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout.trim().split('\n').sort()).toEqual(
      Array.from({ length: 30 }, (_, i) => `v${i}`).sort(),
    );
    // librdkafka committed on close; Tributary shows the Kafka group caught up.
    const described = await admin.describeGroup(group);
    expect(described.partitions.map((p) => p.lag)).toEqual([0, 0, 0]);
    expect(described.partitions.reduce((n, p) => n + (p.committedOffset ?? 0), 0)).toBe(30);

    await produce(topic, 30, 5);
    const second = await kcat(
      gateway.port,
      ['-G', group, '-e', '-f', '%s\n', ...GROUP_OPTIONS, topic],
      '',
      60_000,
    );
    expect(second.code, second.stderr).toBe(0);
    expect(second.stdout.trim().split('\n').sort()).toEqual(['v30', 'v31', 'v32', 'v33', 'v34']);
  });

  it('two members at once split the partitions and read every record between them', async () => {
    const topic = uniqueTopic('kcat-pair');
    const group = `g-${topic}`;
    await admin.createTopic({ topic, partitions: 4 });
    const start = () => startKcatMember(group, topic, '%p %s\n', GROUP_OPTIONS);
    const a = start();
    await until(() => a.stderr.includes('assigned:'), {
      timeoutMs: 30_000,
      message: 'the first member assigned',
    });
    const b = start();
    // kcat prints each rebalance's assignment; wait until both hold two partitions.
    const lastAssignment = (stderr: string) => {
      const lines = stderr.split('\n').filter((l) => l.includes('assigned:'));
      return (lines.at(-1)?.match(/\[\d+\]/g) ?? []).length;
    };
    await until(() => lastAssignment(a.stderr) === 2 && lastAssignment(b.stderr) === 2, {
      timeoutMs: 45_000,
      message: 'two partitions each',
    });
    await produce(topic, 0, 40);
    const values = () => [...a.stdout.split('\n'), ...b.stdout.split('\n')].filter((l) => l !== '');
    await until(() => values().length >= 40, {
      timeoutMs: 30_000,
      message: `all 40 records read (read: ${values().length}; ${a.stderr.slice(-500)} ${b.stderr.slice(-500)})`,
    });
    expect(
      values()
        .map((l) => l.split(' ')[1])
        .sort(),
    ).toEqual(Array.from({ length: 40 }, (_, i) => `v${i}`).sort());
    // Each member read only its own partitions.
    const partitionsOf = (stdout: string) =>
      new Set(
        stdout
          .split('\n')
          .filter((l) => l !== '')
          .map((l) => l.split(' ')[0]),
      );
    const [pa, pb] = [partitionsOf(a.stdout), partitionsOf(b.stdout)];
    expect([...pa].filter((p) => pb.has(p))).toEqual([]);
    for (const child of [a.child, b.child]) child.kill('SIGTERM');
  });

  it('a new group starts at the end by default (auto.offset.reset=latest): only records produced after it joined', async () => {
    const topic = uniqueTopic('kcat-latest');
    const group = `g-${topic}`;
    await admin.createTopic({ topic, partitions: 2 });
    await produce(topic, 0, 10);
    // Without auto.offset.reset: librdkafka's default, the end.
    const member = startKcatMember(group, topic, '%s\n', [
      '-X',
      'session.timeout.ms=6000',
      '-X',
      'heartbeat.interval.ms=500',
    ]);
    await until(() => member.stderr.includes('assigned:'), {
      timeoutMs: 30_000,
      message: 'the member assigned',
    });
    // Once it fetches, it has resolved its start positions (the partitions' ends, by ListOffsets).
    const fetchesBefore = await fetchRequests();
    await until(async () => (await fetchRequests()) > fetchesBefore, {
      timeoutMs: 30_000,
      message: 'the member fetching',
    });
    await produce(topic, 10, 6);
    await until(
      () =>
        member.stdout
          .trim()
          .split('\n')
          .filter((l) => l !== '').length >= 6,
      {
        timeoutMs: 30_000,
        message: 'the six new records read',
      },
    );
    expect(member.stdout.trim().split('\n').sort()).toEqual(['v10', 'v11', 'v12', 'v13', 'v14', 'v15']);
    member.child.kill('SIGTERM');
  });

  it('cooperative-sticky (incremental rebalancing, run by the clients): the second member takes half without the first stopping', async () => {
    const topic = uniqueTopic('kcat-coop');
    const group = `g-${topic}`;
    await admin.createTopic({ topic, partitions: 4 });
    const start = () =>
      startKcatMember(group, topic, '%p %s\n', [
        '-X',
        'partition.assignment.strategy=cooperative-sticky',
        ...GROUP_OPTIONS,
      ]);
    const a = start();
    await until(() => a.stderr.includes('incremental assignment of 4 partition(s)'), {
      timeoutMs: 30_000,
      message: 'the first member holding all four',
    });
    const b = start();
    // The leader's sticky assignment revokes two from the first member only (no stop-the-world),
    // and the second round hands them to the second member.
    await until(
      () =>
        a.stderr.includes('incremental revoke of 2 partition(s)') &&
        b.stderr.includes('incremental assignment of 2 partition(s)'),
      { timeoutMs: 45_000, message: 'two partitions moved to the second member' },
    );
    expect(a.stderr).not.toContain('incremental revoke of 4');
    await produce(topic, 0, 20);
    const lines = () => [...a.stdout.split('\n'), ...b.stdout.split('\n')].filter((l) => l !== '');
    await until(() => lines().length >= 20, { timeoutMs: 30_000, message: 'all 20 records read' });
    expect(
      lines()
        .map((l) => l.split(' ')[1])
        .sort(),
    ).toEqual(Array.from({ length: 20 }, (_, i) => `v${i}`).sort());
    const partitionsOf = (stdout: string) =>
      new Set(
        stdout
          .split('\n')
          .filter((l) => l !== '')
          .map((l) => l.split(' ')[0]),
      );
    expect([...partitionsOf(a.stdout)].filter((p) => partitionsOf(b.stdout).has(p))).toEqual([]);
    for (const child of [a.child, b.child]) child.kill('SIGTERM');
  });
});
