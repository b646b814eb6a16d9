/**
 * The Kafka gateway against direct (`BENCH_ONLY=gateway`): the same workload through kafkajs 2.2.4
 * and the gateway, and through the Tributary SDK's direct transport, in one run on one stack.
 *
 * - **produce**: RECORDS keyed 1 KB records to a new 4-partition topic, in sends of SEND_RECORDS
 *   records (Kafka's murmur2 partitioner spreads them, so each send carries a batch per
 *   partition), IN_FLIGHT sends outstanding; kafkajs with acks -1. Plain and idempotent, both ways,
 *   and kafkajs over IN_FLIGHT connections (the gateway serves a connection's requests in turn).
 * - **latency**: sequential sends of LATENCY_RECORDS records to one partition, nothing else in
 *   flight; p50 and p99 of one `send()`.
 * - **consume**: a new consumer group reading the whole topic kafkajs wrote from earliest: the
 *   kafkajs consumer through the gateway, the SDK's group consumer directly.
 * - **CPU**: the gateway runs in a child process (`fixtures/gateway-process.ts`), so its CPU
 *   (user + system, from `/proc/<pid>/stat`) is apart from the clients' (this process) and from
 *   DynamoDB Local's (its JVM); each is read before and after every phase, per MB of record values.
 *
 * Both paths reach DynamoDB Local directly, not through the edge proxy: the proxy runs in this
 * process and would bill the gateway's DynamoDB traffic to the clients. Each path's DynamoDB client
 * is metered (the gateway's in its process, reported over its stdin/stdout).
 *
 * `BENCH_GATEWAY_RECORDS`, `BENCH_GATEWAY_ROUNDS` and `BENCH_GATEWAY_LATENCY_SENDS` change the size.
 */
import { type ChildProcessByStdio, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { basename } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { Kafka, logLevel, Partitioners } from 'kafkajs';
import type { LocalStack } from '../local/index.ts';
import { Tributary } from '../sdk/src/index.ts';
import { tableNames } from '../sdk/src/internal.ts';
import { type CapacityTotals, meterCapacity } from './capacity-meter.ts';
import type { GatewayProcessConfig } from './fixtures/gateway-process.ts';
import { partitionLogItems } from './log-items.ts';

const RECORD_BYTES = 1024;
const RECORDS = Number(process.env.BENCH_GATEWAY_RECORDS ?? 20_000);
const ROUNDS = Number(process.env.BENCH_GATEWAY_ROUNDS ?? 5);
const PARTITIONS = 4;
/** Records per `send()` in the throughput runs: about 100 per partition. */
const SEND_RECORDS = 400;
/** `send()`s outstanding at once in the throughput runs, as an application pipelining its sends. */
const IN_FLIGHT = 4;
const LATENCY_SENDS = Number(process.env.BENCH_GATEWAY_LATENCY_SENDS ?? 300);
const LATENCY_WARMUP = 30;
/** Records of one latency `send()`, all to one partition: one small batch. */
const LATENCY_RECORDS = 10;
/**
 * The SDK group consumer's records per fetch and partition: what kafkajs's default
 * `maxBytesPerPartition` (1 MiB) holds of these records, so both fetch alike.
 */
const DIRECT_MAX_RECORDS = 1_000;
const PHASE_TIMEOUT_MS = 180_000;
/** The window in which the processes' CPU is measured with nothing sent. */
const IDLE_MS = 3_000;
const MB = 1024 * 1024;
const GATEWAY_SCRIPT = fileURLToPath(new URL('./fixtures/gateway-process.ts', import.meta.url));
const CREDENTIALS = { accessKeyId: 'test', secretAccessKey: 'test' };

type Path = 'gateway' | 'direct';

/** CPU time of the three processes doing the work: ms over a phase, or ms per second idle. */
interface Cpu {
  /** The gateway's process. */
  readonly gateway: number;
  /** This process: kafkajs or the SDK, plus the local stack's own servers (idle but for its dispatcher). */
  readonly client: number;
  /** DynamoDB Local's JVM. */
  readonly dynamodb: number;
  /** The whole machine: these three and whatever else runs on it (other work skews the figures). */
  readonly machine: number;
}

interface Phase {
  /** Records over `seconds`: the rate's (consume: those after the first batch). */
  readonly records: number;
  /** Seconds the records took (consume: from the first batch delivered to the last). */
  readonly seconds: number;
  /** Bytes of record values handled over `wallMs`: what CPU is per MB of. */
  readonly bytes: number;
  /** Bytes of record values handled in the whole phase: what DynamoDB requests and units are per MB of. */
  readonly phaseBytes: number;
  /** The phase (consume: from the first batch), and the CPU of each process over it. */
  readonly wallMs: number;
  readonly cpu: Cpu;
  /** The DynamoDB requests and units of the path's client: the gateway's or the SDK's. */
  readonly dynamo: CapacityTotals;
  /** Consume: from `run()` until the first batch (joining the group, the first fetch). */
  readonly firstBatchMs?: number;
}

/** The log items of a topic: how the path's batches were stored. */
interface Stored {
  readonly items: number;
  readonly avgBytes: number;
}

/** One round's phases, by path. */
interface Round {
  readonly plain: Record<Path, Phase>;
  readonly idempotent: Record<Path, Phase>;
  /** kafkajs through the gateway with IN_FLIGHT producers, one connection each. */
  readonly connections: Phase;
  readonly consumed: Record<Path, Phase>;
  readonly stored: Record<Path, Stored>;
}

/** Milliseconds per latency `send()`, by producer kind and path. */
interface Latencies {
  readonly plain: Record<Path, number[]>;
  readonly idempotent: Record<Path, number[]>;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

/** Nearest-rank percentile. */
function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

/** `promise`, or a failure naming `what` after `ms`. */
async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`bench: timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

const CLOCK_TICKS_PER_SECOND = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());

/** CPU time (user + system, every thread) a process has used so far, in ms. */
function processCpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The fields after the command name, which is in parentheses and may hold spaces; fields[0] is
  // stat(5)'s field 3, so utime (14) and stime (15) are fields[11] and fields[12].
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS_PER_SECOND;
}

/** CPU time the whole machine has spent busy so far (every core, all but idle and I/O wait), in ms. */
function machineCpuMs(): number {
  // The first line of /proc/stat: "cpu  user nice system idle iowait irq softirq steal ...", in ticks.
  const ticks = readFileSync('/proc/stat', 'utf8')
    .split('\n', 1)[0]!
    .trim()
    .split(/\s+/)
    .slice(1)
    .map(Number);
  const busy = ticks.slice(0, 8).reduce((sum, t, i) => (i === 3 || i === 4 ? sum : sum + t), 0);
  return (busy * 1000) / CLOCK_TICKS_PER_SECOND;
}

/** The Java process of the stack's DynamoDB Local: `java ... -port <its port>` (not its `sh` wrapper). */
function dynamoDBLocalPid(endpoint: string): number {
  const port = new URL(endpoint).port;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let args: string[];
    try {
      args = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
    } catch (error) {
      // The process ended between the listing and the read.
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw error;
    }
    const at = args.indexOf('-port');
    if (basename(args[0] ?? '') === 'java' && at > 0 && args[at + 1] === port) return Number(entry);
  }
  throw new Error(
    `bench: no DynamoDB Local JVM with -port ${port} in /proc (Linux is needed to read CPU times)`,
  );
}

/** The gateway in its own process. */
interface GatewayProcess {
  readonly pid: number;
  readonly port: number;
  /** The gateway's DynamoDB requests and units since the previous call. */
  meter(): Promise<CapacityTotals>;
  /** Stops it (SIGTERM, then SIGKILL after 15 s); resolves with how it ended. */
  stop(): Promise<string>;
}

async function startGatewayProcess(stack: LocalStack): Promise<GatewayProcess> {
  const config: GatewayProcessConfig = {
    dynamodbEndpoint: stack.dynamodbEndpoint,
    endpoint: stack.endpoint,
    region: stack.region,
    tablePrefix: stack.tablePrefix,
    bucket: stack.bucket,
  };
  // stdin is the child's lifeline: it stops when the pipe closes, so it cannot outlive this process.
  const child = spawn(process.execPath, [...process.execArgv, GATEWAY_SCRIPT, JSON.stringify(config)], {
    stdio: ['pipe', 'pipe', 'inherit'],
  }) as ChildProcessByStdio<Writable, Readable, null>;
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  const ended = new Promise<string>((resolve) => {
    child.once('exit', (code, signal) => resolve(signal ?? `exit code ${code}`));
    child.once('error', (error) => resolve(`failed to start: ${error.message}`));
  });
  const waiting: ((line: string) => void)[] = [];
  createInterface({ input: child.stdout }).on('line', (line) => waiting.shift()?.(line));
  const nextLine = (what: string) =>
    within(
      Promise.race([
        new Promise<string>((resolve) => waiting.push(resolve)),
        ended.then((how): never => {
          throw new Error(`bench: the gateway process ended (${how}) before ${what}`);
        }),
      ]),
      30_000,
      what,
    );
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((resolve) => {
      timer = setTimeout(() => resolve('late'), 15_000);
    });
    let how = await Promise.race([ended, late]);
    clearTimeout(timer);
    if (how === 'late') {
      child.kill('SIGKILL');
      how = `killed after ignoring SIGTERM for 15 s (${await ended})`;
    }
    process.off('exit', killOnExit);
    return how;
  };
  try {
    const { port } = JSON.parse(await nextLine('it listened')) as { port: number };
    return {
      pid: child.pid!,
      port,
      meter: async () => {
        const reply = nextLine('its meter');
        child.stdin.write('meter\n');
        return JSON.parse(await reply) as CapacityTotals;
      },
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

export async function benchGateway(stack: LocalStack): Promise<string[]> {
  // Before the gateway starts: nothing is left to stop if it throws.
  const dynamodbPid = dynamoDBLocalPid(stack.dynamodbEndpoint);
  const gateway = await startGatewayProcess(stack);
  const ddb = new DynamoDBClient({
    endpoint: stack.dynamodbEndpoint,
    region: stack.region,
    credentials: CREDENTIALS,
  });
  const directMeter = meterCapacity(ddb);
  const direct = new Tributary({
    endpoint: stack.endpoint,
    region: stack.region,
    tablePrefix: stack.tablePrefix,
    bucket: stack.bucket,
    credentials: CREDENTIALS,
    dynamoDBClient: ddb,
  });
  const admin = direct.admin();
  const kafka = new Kafka({
    clientId: 'tributary-bench',
    brokers: [`127.0.0.1:${gateway.port}`],
    logLevel: logLevel.ERROR,
  });
  const pids = {
    gateway: gateway.pid,
    client: process.pid,
    dynamodb: dynamodbPid,
  };
  const values = Array.from({ length: 1_000 }, () => randomBytes(RECORD_BYTES));
  const keyOf = (i: number) => `key-${i}`;
  const messages = (from: number, count: number) =>
    Array.from({ length: count }, (_, j) => ({
      key: keyOf(from + j),
      value: values[(from + j) % values.length]!,
    }));

  const kafkaProducer = (idempotent: boolean) =>
    kafka.producer({
      idempotent,
      allowAutoTopicCreation: false,
      createPartitioner: Partitioners.DefaultPartitioner,
    });

  const cpuNow = (): Cpu => ({
    gateway: processCpuMs(pids.gateway),
    client: processCpuMs(pids.client),
    dynamodb: processCpuMs(pids.dynamodb),
    machine: machineCpuMs(),
  });

  /**
   * Runs `fn` (which returns the records it handled and the seconds they took) with CPU and
   * DynamoDB metered. CPU is read from the start, or from the moment `fn` calls `mark()`: a
   * consumer marks its first batch, so that joining the group is not billed to the records.
   */
  async function phase(
    path: Path,
    fn: (mark: () => void) => Promise<{
      records: number;
      seconds: number;
      bytes: number;
      phaseBytes: number;
      firstBatchMs?: number;
    }>,
  ): Promise<Phase> {
    await gateway.meter();
    directMeter.reset();
    let cpu = cpuNow();
    let start = performance.now();
    const mark = () => {
      cpu = cpuNow();
      start = performance.now();
    };
    const result = await within(fn(mark), PHASE_TIMEOUT_MS, `a ${path} phase`);
    const wallMs = performance.now() - start;
    const after = cpuNow();
    const dynamo = path === 'gateway' ? await gateway.meter() : structuredClone(directMeter.totals);
    return {
      ...result,
      wallMs,
      cpu: {
        gateway: after.gateway - cpu.gateway,
        client: after.client - cpu.client,
        dynamodb: after.dynamodb - cpu.dynamodb,
        machine: after.machine - cpu.machine,
      },
      dynamo,
    };
  }

  /**
   * RECORDS records in sends of SEND_RECORDS, IN_FLIGHT outstanding (`lane` says which of the
   * IN_FLIGHT sends it is); seconds until the last is acknowledged.
   */
  async function pump(
    send: (from: number, count: number, lane: number) => Promise<unknown>,
  ): Promise<number> {
    let next = 0;
    const start = performance.now();
    await Promise.all(
      Array.from({ length: IN_FLIGHT }, async (_, lane) => {
        while (next < RECORDS) {
          const from = next;
          const count = Math.min(SEND_RECORDS, RECORDS - from);
          next += count;
          await send(from, count, lane);
        }
      }),
    );
    return (performance.now() - start) / 1000;
  }

  /**
   * Produces RECORDS to a new topic. Through the gateway, `producers` kafkajs producers (each its
   * own connection) share the IN_FLIGHT sends.
   */
  async function produce(path: Path, topic: string, idempotent: boolean, producers = 1): Promise<Phase> {
    await admin.createTopic({ topic, partitions: PARTITIONS });
    if (path === 'gateway') {
      const all = Array.from({ length: producers }, () => kafkaProducer(idempotent));
      try {
        for (const producer of all) await producer.connect();
        return await phase(path, async () => ({
          records: RECORDS,
          bytes: RECORDS * RECORD_BYTES,
          phaseBytes: RECORDS * RECORD_BYTES,
          seconds: await pump((from, count, lane) =>
            all[lane % producers]!.send({ topic, acks: -1, messages: messages(from, count) }),
          ),
        }));
      } finally {
        for (const producer of all) await producer.disconnect();
      }
    }
    // Random bytes do not compress: a codec would only spend CPU (kafkajs sends them uncompressed too).
    const producer = direct.producer({ compression: 'none', idempotent });
    try {
      return await phase(path, async () => {
        const seconds = await pump((from, count) =>
          producer.send({ topic, messages: messages(from, count) }),
        );
        await producer.flush();
        return {
          records: RECORDS,
          bytes: RECORDS * RECORD_BYTES,
          phaseBytes: RECORDS * RECORD_BYTES,
          seconds,
        };
      });
    } finally {
      await producer.close();
    }
  }

  /** A new group reading `topic` from earliest until it has RECORDS records. */
  async function consume(path: Path, topic: string): Promise<Phase> {
    const groupId = `bench-gw-${path}-${randomBytes(3).toString('hex')}`;
    let read = 0;
    let started = 0;
    let first: { at: number; records: number } | undefined;
    let finished: (at: number) => void = () => {};
    let failed: (error: unknown) => void = () => {};
    const done = new Promise<number>((resolve, reject) => {
      finished = resolve;
      failed = reject;
    });
    // Awaited by timed(); a failure before then (while joining) must not count as unhandled.
    done.catch(() => {});
    let mark: () => void = () => {};
    const delivered = (records: number) => {
      const at = performance.now();
      if (!first) {
        first = { at, records };
        mark();
      }
      read += records;
      if (read >= RECORDS) finished(at);
    };
    const timed = async () => {
      const end = await done;
      if (!first) throw new Error('bench: the consumer finished without a batch');
      return {
        records: read - first.records,
        seconds: (end - first.at) / 1000,
        bytes: (read - first.records) * RECORD_BYTES,
        phaseBytes: read * RECORD_BYTES,
        firstBatchMs: first.at - started,
      };
    };
    if (path === 'gateway') {
      const consumer = kafka.consumer({ groupId, allowAutoTopicCreation: false });
      consumer.on(consumer.events.CRASH, (event) => failed(event.payload.error));
      await consumer.connect();
      try {
        await consumer.subscribe({ topics: [topic], fromBeginning: true });
        return await phase(path, async (markFirstBatch) => {
          mark = markFirstBatch;
          started = performance.now();
          await consumer.run({ eachBatch: async ({ batch }) => delivered(batch.messages.length) });
          return timed();
        });
      } finally {
        await consumer.disconnect();
      }
    }
    const consumer = direct.consumer({ groupId, maxRecords: DIRECT_MAX_RECORDS, onError: failed });
    try {
      await consumer.subscribe({ topics: [topic], fromBeginning: true });
      return await phase(path, async (markFirstBatch) => {
        mark = markFirstBatch;
        started = performance.now();
        await consumer.run({ eachBatch: async (batch) => delivered(batch.messages.length) });
        return timed();
      });
    } finally {
      await consumer.disconnect();
    }
  }

  async function stored(topic: string): Promise<Stored> {
    const { incarnation } = await admin.describeTopic(topic);
    let items = 0;
    let bytes = 0;
    for (let partition = 0; partition < PARTITIONS; partition++) {
      for (const item of await partitionLogItems(ddb, tableNames(stack.tablePrefix).log, {
        topic,
        incarnation,
        partition,
      })) {
        items++;
        bytes += item.b?.B?.byteLength ?? 0;
      }
    }
    return { items, avgBytes: bytes / items };
  }

  /** Sequential sends of LATENCY_RECORDS records, partitions in turn; ms per send after a warm-up. */
  async function latency(path: Path, idempotent: boolean): Promise<number[]> {
    const topic = `bench-gw-lat-${path}-${randomBytes(3).toString('hex')}`;
    await admin.createTopic({ topic, partitions: PARTITIONS });
    const batch = (i: number) =>
      messages(i * LATENCY_RECORDS, LATENCY_RECORDS).map((m) => ({ ...m, partition: i % PARTITIONS }));
    const ms: number[] = [];
    const sample = async (i: number, send: () => Promise<unknown>) => {
      const start = performance.now();
      await send();
      if (i >= LATENCY_WARMUP) ms.push(performance.now() - start);
    };
    if (path === 'gateway') {
      const producer = kafkaProducer(idempotent);
      await producer.connect();
      try {
        for (let i = 0; i < LATENCY_WARMUP + LATENCY_SENDS; i++) {
          await sample(i, () => producer.send({ topic, acks: -1, messages: batch(i) }));
        }
      } finally {
        await producer.disconnect();
      }
      return ms;
    }
    // lingerMs 0: the batch goes at once, as kafkajs sends it (it has no linger).
    const producer = direct.producer({ compression: 'none', idempotent, lingerMs: 0 });
    try {
      for (let i = 0; i < LATENCY_WARMUP + LATENCY_SENDS; i++) {
        await sample(i, () => producer.send({ topic, messages: batch(i) }));
      }
    } finally {
      await producer.close();
    }
    return ms;
  }

  /** CPU (ms per second) of each process over IDLE_MS with nothing sent: the floor under every phase. */
  async function idleCpu(): Promise<Cpu> {
    const before = cpuNow();
    const start = performance.now();
    await new Promise((resolve) => setTimeout(resolve, IDLE_MS));
    const seconds = (performance.now() - start) / 1000;
    const after = cpuNow();
    return {
      gateway: (after.gateway - before.gateway) / seconds,
      client: (after.client - before.client) / seconds,
      dynamodb: (after.dynamodb - before.dynamodb) / seconds,
      machine: (after.machine - before.machine) / seconds,
    };
  }

  /** One round of every throughput phase, on new topics; the paths alternate which goes first. */
  async function round(index: number): Promise<Round> {
    const id = randomBytes(3).toString('hex');
    const order: Path[] = index % 2 === 0 ? ['direct', 'gateway'] : ['gateway', 'direct'];
    const topic = (path: Path, idempotent: boolean) =>
      `bench-gw-${path}-${idempotent ? 'idem' : 'plain'}-${id}`;
    const plain = {} as Record<Path, Phase>;
    const idempotent = {} as Record<Path, Phase>;
    for (const path of order) plain[path] = await produce(path, topic(path, false), false);
    for (const path of order) idempotent[path] = await produce(path, topic(path, true), true);
    // Diagnostic: the same sends over IN_FLIGHT connections, as the gateway serves each connection's
    // requests one at a time (as Kafka does).
    const connections = await produce('gateway', `bench-gw-conns-${id}`, false, IN_FLIGHT);
    const consumed = {} as Record<Path, Phase>;
    // Both read the same stored batches: those kafkajs wrote.
    for (const path of order) consumed[path] = await consume(path, topic('gateway', false));
    return {
      plain,
      idempotent,
      connections,
      consumed,
      stored: {
        direct: await stored(topic('direct', false)),
        gateway: await stored(topic('gateway', false)),
      },
    };
  }

  const close = () => {
    direct.close();
    ddb.destroy();
    return gateway.stop();
  };
  let lines: string[];
  try {
    await round(-1);
    const idle = await idleCpu();
    const rounds: Round[] = [];
    for (let i = 0; i < ROUNDS; i++) rounds.push(await round(i));
    const latencies: Latencies = {
      plain: { direct: await latency('direct', false), gateway: await latency('gateway', false) },
      idempotent: { direct: await latency('direct', true), gateway: await latency('gateway', true) },
    };
    lines = report(rounds, latencies, idle);
  } catch (error) {
    await close();
    throw error;
  }
  const how = await close();
  if (how !== 'exit code 0') throw new Error(`bench: the gateway process did not stop cleanly (${how})`);
  return lines;
}

const n = (value: number, digits = 0) => value.toLocaleString('en-US', { maximumFractionDigits: digits });

/** The figures as Markdown: medians over the rounds; each ratio the median of the rounds' ratios, with their range. */
function report(rounds: readonly Round[], latencies: Latencies, idle: Cpu): string[] {
  const med = (f: (r: Round) => number) => median(rounds.map(f));
  const perSecond = (p: Phase) => p.records / p.seconds;
  /** A phase's figures, each a median over the rounds. */
  const figures = (pick: (r: Round) => Phase) => {
    const of = (f: (p: Phase) => number) => med((r) => f(pick(r)));
    const perCpuMb = (ms: (cpu: Cpu) => number) => of((p) => ms(p.cpu) / (p.bytes / MB));
    const perPhaseMb = (units: (d: CapacityTotals) => number) =>
      of((p) => units(p.dynamo) / (p.phaseBytes / MB));
    return {
      perSecond: of(perSecond),
      mbPerSecond: of((p) => (perSecond(p) * RECORD_BYTES) / MB),
      requests: of((p) => (1000 * p.dynamo.requests) / (p.phaseBytes / RECORD_BYTES)),
      writeUnits: perPhaseMb((d) => d.writeUnits),
      readUnits: perPhaseMb((d) => d.readUnits),
      gatewayCpu: perCpuMb((c) => c.gateway),
      clientCpu: perCpuMb((c) => c.client),
      dynamodbCpu: perCpuMb((c) => c.dynamodb),
      cores: of((p) => (p.cpu.gateway + p.cpu.client + p.cpu.dynamodb) / p.wallMs),
      machineCores: of((p) => p.cpu.machine / p.wallMs),
    };
  };
  const row = (label: string, path: Path, pick: (r: Round) => Phase, ratio: string, extra: string[]) => {
    const f = figures(pick);
    const cells = [
      label,
      n(f.perSecond),
      n(f.mbPerSecond, 1),
      ratio,
      ...extra,
      n(f.requests, 1),
      `${n(f.writeUnits, 1)} WU, ${n(f.readUnits, 1)} RU`,
      path === 'direct' ? '—' : n(f.gatewayCpu, 1),
      n(f.clientCpu, 1),
      n(f.dynamodbCpu, 1),
      `${n(f.cores, 2)} / ${n(f.machineCores, 2)}`,
    ];
    return `| ${cells.join(' | ')} |`;
  };
  /** The median ratio, and its range over the rounds: how much this shared machine moved it. */
  const ratio = (f: (r: Round) => number) => {
    const all = rounds.map(f);
    return `${median(all).toFixed(2)}× (${Math.min(...all).toFixed(2)}–${Math.max(...all).toFixed(2)})`;
  };
  const costHeader = [
    'DynamoDB requests per 1000 records',
    'DynamoDB units per MB',
    'gateway CPU ms per MB',
    'client CPU ms per MB',
    'DynamoDB Local CPU ms per MB',
    'cores busy: ours / machine',
  ];
  const lines = [
    `Kafka gateway against direct: ${n(RECORDS)} records × ${RECORD_BYTES} B (random, uncompressed; keys \`key-<i>\`, spread by murmur2) per path and round, ${PARTITIONS} partitions, sends of ${SEND_RECORDS} records (about ${SEND_RECORDS / PARTITIONS} per partition), ${IN_FLIGHT} sends in flight. Gateway: kafkajs 2.2.4 (acks -1, no compression) → the gateway in its own Node process → DynamoDB Local. Direct: the SDK (\`compression: 'none'\`, \`lingerMs\` 5) → DynamoDB Local. Neither goes through the edge proxy. Medians of ${ROUNDS} rounds after a warm-up round; the paths alternate which goes first; "gateway ÷ direct" is the median of the rounds' ratios (their range in parentheses). Node ${process.version}, ${CLOCK_TICKS_PER_SECOND} clock ticks per second in \`/proc/<pid>/stat\`.`,
    '',
    `| scenario | records/s | MB/s | gateway ÷ direct | ${costHeader.join(' | ')} |`,
    `| --- | ---: | ---: | ---: | ${costHeader.map(() => '---:').join(' | ')} |`,
    row('produce, direct', 'direct', (r) => r.plain.direct, '1.00×', []),
    row(
      'produce, kafkajs → gateway',
      'gateway',
      (r) => r.plain.gateway,
      ratio((r) => perSecond(r.plain.gateway) / perSecond(r.plain.direct)),
      [],
    ),
    row(
      `produce, kafkajs → gateway, ${IN_FLIGHT} producers (a connection each)`,
      'gateway',
      (r) => r.connections,
      ratio((r) => perSecond(r.connections) / perSecond(r.plain.direct)),
      [],
    ),
    row('produce idempotent, direct', 'direct', (r) => r.idempotent.direct, '1.00×', []),
    row(
      'produce idempotent, kafkajs → gateway',
      'gateway',
      (r) => r.idempotent.gateway,
      ratio((r) => perSecond(r.idempotent.gateway) / perSecond(r.idempotent.direct)),
      [],
    ),
    '',
    `Stored batches (plain topics): direct ${n(med((r) => r.stored.direct.items))} items of ${n(med((r) => r.stored.direct.avgBytes) / 1024, 1)} KB; kafkajs through the gateway ${n(med((r) => r.stored.gateway.items))} items of ${n(med((r) => r.stored.gateway.avgBytes) / 1024, 1)} KB. DynamoDB requests and units are those of the path's DynamoDB client (the gateway's, metered in its process, or the SDK's), as DynamoDB reports them. CPU is user + system time of each process over the whole phase, per MB of record values: the gateway's process, this process ("client": kafkajs or the SDK, and the local stack's servers, whose trigger dispatcher follows the log table's stream), DynamoDB Local's JVM. "Cores busy": the three together, and the whole machine (${availableParallelism()} cores; anything else running shows as the difference), over the phase's wall time. Idle, over ${IDLE_MS / 1000} s with nothing sent, they used ${n(idle.gateway, 1)} (gateway), ${n(idle.client, 1)} (this process) and ${n(idle.dynamodb, 1)} (DynamoDB Local) ms of CPU per second, the machine ${n(idle.machine, 1)}.`,
  ];
  const consumeHeader = ['first batch after (ms)', ...costHeader];
  lines.push(
    '',
    `Consume: a new consumer group of one member reads the topic kafkajs wrote from earliest (the same stored batches both ways). Gateway: the kafkajs consumer (\`eachBatch\`, defaults: \`maxBytesPerPartition\` 1 MiB, \`maxWaitTimeInMs\` 5000). Direct: the SDK's group consumer (\`eachBatch\`, \`maxRecords\` ${DIRECT_MAX_RECORDS} per partition and fetch, about 1 MiB of these records). Records/s and CPU from the first batch delivered to the last (the records after the first batch); "first batch after" is from \`run()\` (joining the group, the first fetch); DynamoDB requests and units over the whole phase, joining included.`,
    '',
    `| scenario | records/s | MB/s | gateway ÷ direct | ${consumeHeader.join(' | ')} |`,
    `| --- | ---: | ---: | ---: | ${consumeHeader.map(() => '---:').join(' | ')} |`,
    row('consume, direct', 'direct', (r) => r.consumed.direct, '1.00×', [
      n(med((r) => r.consumed.direct.firstBatchMs ?? 0)),
    ]),
    row(
      'consume, kafkajs → gateway',
      'gateway',
      (r) => r.consumed.gateway,
      ratio((r) => perSecond(r.consumed.gateway) / perSecond(r.consumed.direct)),
      [n(med((r) => r.consumed.gateway.firstBatchMs ?? 0))],
    ),
  );
  const latencyRow = (label: string, ms: number[], baseline: number[] | undefined) =>
    `| ${label} | ${n(percentile(ms, 50), 2)} | ${n(percentile(ms, 99), 2)} | ${
      baseline ? `${(percentile(ms, 50) / percentile(baseline, 50)).toFixed(2)}×` : '1.00×'
    } | ${baseline ? `${(percentile(ms, 99) / percentile(baseline, 99)).toFixed(2)}×` : '1.00×'} |`;
  lines.push(
    '',
    `Produce latency: ${LATENCY_SENDS} sequential sends (after ${LATENCY_WARMUP} warm-up sends) of ${LATENCY_RECORDS} records × ${RECORD_BYTES} B to one partition (the ${PARTITIONS} in turn), nothing else in flight; kafkajs acks -1, the SDK with \`lingerMs\` 0.`,
    '',
    '| path | p50 ms | p99 ms | p50 ÷ direct | p99 ÷ direct |',
    '| --- | ---: | ---: | ---: | ---: |',
    latencyRow('direct `send()`', latencies.plain.direct, undefined),
    latencyRow('kafkajs `send()` → gateway', latencies.plain.gateway, latencies.plain.direct),
    latencyRow('direct `send()`, idempotent', latencies.idempotent.direct, undefined),
    latencyRow(
      'kafkajs `send()` → gateway, idempotent',
      latencies.idempotent.gateway,
      latencies.idempotent.direct,
    ),
  );
  return lines;
}
