/**
 * The local stack: tables and bucket, DynamoDB, DynamoDB Streams and S3 through the one edge
 * port, persistence across restarts, and no Java process outliving a killed Node parent.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import {
  DescribeTableCommand,
  DescribeTimeToLiveCommand,
  DynamoDBClient,
  GetItemCommand,
  ListTablesCommand,
  PutItemCommand,
} from '@aws-sdk/client-dynamodb';
import { GetObjectCommand, HeadBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { startEdgeProxy } from '../../local/edge-proxy.ts';
import { freePorts } from '../../local/free-port.ts';
import { type LocalStack, startLocalStack } from '../../local/index.ts';
import { provisionTables } from '../../local/provision.ts';
import { startArchiveTimer } from '../../local/stack.ts';
import { InvalidArgumentError } from '../../sdk/src/errors.ts';
import { tableNames } from '../../sdk/src/schema.ts';
import { isRunning } from '../helpers/processes.ts';
import { freshTablePrefix, testStackConfig } from '../helpers/stack.ts';
import { testClient } from '../helpers/tributary.ts';
import { until } from '../helpers/wait.ts';

const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };

function dynamodbAt(endpoint: string): DynamoDBClient {
  return new DynamoDBClient({ endpoint, region: 'us-east-1', credentials, maxAttempts: 1 });
}

function s3At(endpoint: string): S3Client {
  return new S3Client({ endpoint, region: 'us-east-1', credentials, forcePathStyle: true, maxAttempts: 1 });
}

describe('the test stack, through the edge endpoint', () => {
  const config = testStackConfig();
  const ddb = dynamodbAt(config.endpoint);
  const s3 = s3At(config.endpoint);
  afterAll(() => {
    ddb.destroy();
    s3.destroy();
  });

  it('listens on loopback', () => {
    expect(new URL(config.endpoint).hostname).toBe('127.0.0.1');
  });

  it('has the tables and the bucket', async () => {
    const { TableNames = [] } = await ddb.send(new ListTablesCommand({}));
    const names = tableNames(config.tablePrefix);
    expect(TableNames).toEqual(expect.arrayContaining([names.log, names.topics]));
    const log = await ddb.send(new DescribeTableCommand({ TableName: names.log }));
    expect(log.Table?.TableStatus).toBe('ACTIVE');
    expect(log.Table?.StreamSpecification).toEqual({ StreamEnabled: true, StreamViewType: 'NEW_IMAGE' });
    await expect(s3.send(new HeadBucketCommand({ Bucket: config.bucket }))).resolves.toBeDefined();
  });

  it('serves DynamoDB put and get', async () => {
    const TableName = tableNames(config.tablePrefix).topics;
    const name = `edge-${randomBytes(4).toString('hex')}`;
    await ddb.send(new PutItemCommand({ TableName, Item: { name: { S: name }, n: { N: '42' } } }));
    const { Item } = await ddb.send(
      new GetItemCommand({ TableName, Key: { name: { S: name } }, ConsistentRead: true }),
    );
    expect(Item).toEqual({ name: { S: name }, n: { N: '42' } });
  });

  it('serves S3 put and get of a multi-megabyte object, and ranged gets', async () => {
    const Key = `edge/${randomBytes(4).toString('hex')}.bin`;
    const body = randomBytes(8 * 1024 * 1024 + 123);
    await s3.send(new PutObjectCommand({ Bucket: config.bucket, Key, Body: body }));

    const whole = await s3.send(new GetObjectCommand({ Bucket: config.bucket, Key }));
    expect(whole.ContentLength).toBe(body.length);
    expect(Buffer.from(await whole.Body!.transformToByteArray()).equals(body)).toBe(true);

    const start = 5 * 1024 * 1024 - 7;
    const ranged = await s3.send(
      new GetObjectCommand({ Bucket: config.bucket, Key, Range: `bytes=${start}-${start + 999}` }),
    );
    expect(ranged.$metadata.httpStatusCode).toBe(206);
    expect(ranged.ContentRange).toBe(`bytes ${start}-${start + 999}/${body.length}`);
    expect(
      Buffer.from(await ranged.Body!.transformToByteArray()).equals(body.subarray(start, start + 1000)),
    ).toBe(true);
  });

  it('serves DynamoDB Streams (DescribeStream) on the same port', async () => {
    const { Table } = await ddb.send(
      new DescribeTableCommand({ TableName: tableNames(config.tablePrefix).log }),
    );
    expect(Table?.LatestStreamArn).toBeDefined();
    // No DynamoDB Streams client is installed: speak its JSON protocol directly. DynamoDB Local
    // wants an Authorization header but does not check the signature.
    const response = await fetch(config.endpoint, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-amz-json-1.0',
        'x-amz-target': 'DynamoDBStreams_20120810.DescribeStream',
        authorization:
          'AWS4-HMAC-SHA256 Credential=test/20250101/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=0',
      },
      body: JSON.stringify({ StreamArn: Table?.LatestStreamArn }),
    });
    expect(response.status).toBe(200);
    const { StreamDescription } = (await response.json()) as {
      StreamDescription: { StreamArn: string; StreamStatus: string; StreamViewType: string };
    };
    expect(StreamDescription).toMatchObject({
      StreamArn: Table?.LatestStreamArn,
      StreamStatus: 'ENABLED',
      StreamViewType: 'NEW_IMAGE',
    });
  });

  it('works for clients configured only through AWS_ENDPOINT_URL', async () => {
    const previous = process.env.AWS_ENDPOINT_URL;
    process.env.AWS_ENDPOINT_URL = config.endpoint;
    const envDdb = new DynamoDBClient({ region: config.region, credentials, maxAttempts: 1 });
    const envS3 = new S3Client({ region: config.region, credentials, forcePathStyle: true, maxAttempts: 1 });
    try {
      const { TableNames = [] } = await envDdb.send(new ListTablesCommand({}));
      expect(TableNames).toContain(tableNames(config.tablePrefix).log);
      await expect(envS3.send(new HeadBucketCommand({ Bucket: config.bucket }))).resolves.toBeDefined();
    } finally {
      if (previous === undefined) delete process.env.AWS_ENDPOINT_URL;
      else process.env.AWS_ENDPOINT_URL = previous;
      envDdb.destroy();
      envS3.destroy();
    }
  });

  it('creates fresh, isolated table sets, idempotently and with TTL where the schema asks', async () => {
    const prefix = await freshTablePrefix('iso');
    expect(prefix).not.toBe(config.tablePrefix);
    const { TableNames = [] } = await ddb.send(new ListTablesCommand({}));
    expect(TableNames).toEqual(expect.arrayContaining(Object.values(tableNames(prefix))));

    const ttlTable = {
      suffix: 'ttl',
      partitionKey: { name: 'id', type: 'S' as const },
      timeToLiveAttribute: 'exp',
    };
    await provisionTables(ddb, prefix, { tables: [ttlTable] });
    await provisionTables(ddb, prefix, { tables: [ttlTable] });
    const { TimeToLiveDescription } = await ddb.send(
      new DescribeTimeToLiveCommand({ TableName: `${prefix}ttl` }),
    );
    expect(TimeToLiveDescription).toMatchObject({ TimeToLiveStatus: 'ENABLED', AttributeName: 'exp' });
  });
});

describe('the edge proxy with an emulator down', () => {
  it('answers 502 with a message naming the emulator', async () => {
    const [deadDynamo, deadS3] = (await freePorts('127.0.0.1', 2)) as [number, number];
    const edge = await startEdgeProxy({
      host: '127.0.0.1',
      port: 0,
      upstreams: {
        dynamodb: { host: '127.0.0.1', port: deadDynamo },
        s3: { host: '127.0.0.1', port: deadS3 },
      },
    });
    const ddb = dynamodbAt(edge.endpoint);
    const s3 = s3At(edge.endpoint);
    try {
      const ddbError = await ddb.send(new ListTablesCommand({})).catch((error: unknown) => error);
      expect(ddbError).toMatchObject({ $metadata: { httpStatusCode: 502 } });
      expect(String((ddbError as Error).message)).toContain(
        `DynamoDB Local at 127.0.0.1:${deadDynamo} is not reachable`,
      );

      const s3Error = await s3
        .send(new GetObjectCommand({ Bucket: 'b', Key: 'k' }))
        .catch((error: unknown) => error);
      expect(s3Error).toMatchObject({ name: 'BadGateway', $metadata: { httpStatusCode: 502 } });
      expect(String((s3Error as Error).message)).toContain(
        `the S3 emulator at 127.0.0.1:${deadS3} is not reachable`,
      );
    } finally {
      ddb.destroy();
      s3.destroy();
      await edge.stop();
      await edge.stop();
    }
  });
});

describe('the archive timer', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('archives on its interval, and stops', async () => {
    // Tables of its own, so the timer archives no other test's topics.
    const config = testStackConfig();
    const tablePrefix = await freshTablePrefix('timer');
    const tributary = testClient({ tablePrefix });
    const lines: string[] = [];
    const timer = startArchiveTimer({
      connection: { endpoint: config.endpoint, region: config.region, tablePrefix, bucket: config.bucket },
      intervalMs: 50,
      log: (line) => lines.push(line),
    });
    try {
      await tributary.admin().createTopic({
        topic: 'timed',
        configs: { 'segment.bytes': 4096, 'local.retention.ms': 0 },
      });
      // Stored sizes here assume uncompressed batches (the producer compresses with zstd by default).
      const producer = tributary.producer({ compression: 'none' });
      for (let i = 0; i < 60; i += 5) {
        await producer.send({
          topic: 'timed',
          messages: Array.from({ length: 5 }, (_, j) => ({
            value: `value-${i + j}-${'x'.repeat(140)}`,
            timestamp: Date.now() - 3_600_000 + i + j,
          })),
        });
      }
      await producer.close();
      await until(() => lines.some((l) => l.startsWith('Archiver: ')), {
        timeoutMs: 10_000,
        message: 'the timer to archive a segment',
      });
      expect(lines.find((l) => l.startsWith('Archiver: '))).toMatch(
        /^Archiver: [1-9]\d* segment\(s\) archived/,
      );
      expect((await tributary.admin().partitionOffsets('timed', 0)).s3.segments).toBeGreaterThan(0);
      expect(lines.filter((l) => l.includes('failed'))).toEqual([]);
    } finally {
      await timer.stop();
      await timer.stop();
      tributary.close();
    }
  });

  it('logs a failed run and tries again on the next interval', async () => {
    const lines: string[] = [];
    const timer = startArchiveTimer({
      connection: { endpoint: 'http://127.0.0.1:1', region: 'us-east-1', retry: { deadlineMs: 50 } },
      intervalMs: 20,
      log: (line) => lines.push(line),
    });
    try {
      await until(() => lines.length >= 2, { message: 'two failed runs' });
      expect(lines[0]).toMatch(/^Archiver run failed \(next try in 20 ms\): /);
    } finally {
      await timer.stop();
    }
  });

  it('clears its timer on stop()', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const timer = startArchiveTimer({
      connection: { endpoint: 'http://127.0.0.1:1', region: 'us-east-1' },
      intervalMs: 60_000,
    });
    expect(vi.getTimerCount()).toBe(1);
    await timer.stop();
    expect(vi.getTimerCount()).toBe(0);
  });

  it('refuses an invalid interval before starting anything', async () => {
    await expect(startLocalStack({ archiveIntervalMs: -1 })).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(startLocalStack({ archiveIntervalMs: 1.5 })).rejects.toThrow(/archiveIntervalMs is 1.5/);
    expect(() => startArchiveTimer({ connection: {}, intervalMs: 0 })).toThrow(InvalidArgumentError);
  });
});

describe('a stack with a data directory', () => {
  // The archive timer is on (and never due during the test): start and stop work with it.
  const options = {
    edgePort: 0,
    tablePrefix: 'persist-',
    bucket: 'persist-bucket',
    archiveIntervalMs: 600_000,
  } as const;
  let dataDir: string;
  let stack: LocalStack;
  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'tributary-local-'));
    stack = await startLocalStack({ ...options, dataDir });
  });
  afterAll(async () => {
    await stack?.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('keeps items and objects across a restart', async () => {
    const TableName = tableNames(options.tablePrefix).topics;
    const body = randomBytes(256 * 1024);

    let ddb = dynamodbAt(stack.endpoint);
    let s3 = s3At(stack.endpoint);
    await ddb.send(
      new PutItemCommand({ TableName, Item: { name: { S: 'kept' }, v: { S: 'across restarts' } } }),
    );
    await s3.send(new PutObjectCommand({ Bucket: options.bucket, Key: 'segments/0.bin', Body: body }));
    ddb.destroy();
    s3.destroy();
    await stack.stop();
    await stack.stop();

    stack = await startLocalStack({ ...options, dataDir });
    ddb = dynamodbAt(stack.endpoint);
    s3 = s3At(stack.endpoint);
    try {
      const { Item } = await ddb.send(
        new GetItemCommand({ TableName, Key: { name: { S: 'kept' } }, ConsistentRead: true }),
      );
      expect(Item?.v).toEqual({ S: 'across restarts' });
      const object = await s3.send(new GetObjectCommand({ Bucket: options.bucket, Key: 'segments/0.bin' }));
      expect(Buffer.from(await object.Body!.transformToByteArray()).equals(body)).toBe(true);
    } finally {
      ddb.destroy();
      s3.destroy();
    }
  });

  it('serves the edge and the S3 emulator on loopback only', async () => {
    const outside = Object.values(networkInterfaces())
      .flat()
      .find((info) => info !== undefined && info.family === 'IPv4' && !info.internal)?.address;
    if (outside === undefined) return; // no non-loopback interface to try from
    for (const endpoint of [stack.endpoint, stack.s3Endpoint]) {
      const port = Number(new URL(endpoint).port);
      const reached = await new Promise<boolean>((resolve) => {
        const socket = connect({ host: outside, port });
        socket.once('connect', () => {
          socket.destroy();
          resolve(true);
        });
        socket.once('error', () => resolve(false));
      });
      expect(reached, `${endpoint} reachable on ${outside}`).toBe(false);
    }
  });
});

/** Direct children of `pid`. */
function childrenOf(pid: number): number[] {
  return execFileSync('ps', ['-A', '-o', 'pid=,ppid='], { encoding: 'utf8' })
    .trim()
    .split('\n')
    .map((line) => line.trim().split(/\s+/).map(Number) as [number, number])
    .filter(([, ppid]) => ppid === pid)
    .map(([child]) => child);
}

describe('a stack whose Node process is killed', () => {
  let child: ChildProcess | undefined;
  afterAll(() => {
    if (child?.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });

  it('takes its Java process with it', async () => {
    const script = [
      'const { startLocalStack } = await import(process.argv[1]);',
      'const stack = await startLocalStack({ edgePort: 0, log: (line) => console.log(line) });',
      "console.log('READY ' + stack.endpoint);",
      'setInterval(() => {}, 60_000);',
    ].join('\n');
    const moduleUrl = new URL('../../local/index.ts', import.meta.url).href;
    const started = spawn(process.execPath, ['--input-type=module', '-e', script, moduleUrl], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child = started;
    let stderr = '';
    started.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });

    let javaPid: number | undefined;
    let endpoint: string | undefined;
    for await (const line of createInterface({ input: started.stdout })) {
      const pid = /java pid (\d+)/.exec(line);
      if (pid) javaPid = Number(pid[1]);
      if (line.startsWith('READY ')) {
        endpoint = line.slice('READY '.length);
        break;
      }
    }
    expect(endpoint, `child stack did not start: ${stderr}`).toBeDefined();
    expect(javaPid).toBeDefined();
    const java = javaPid!;
    expect(execFileSync('ps', ['-o', 'args=', '-p', String(java)], { encoding: 'utf8' })).toContain(
      'DynamoDBLocal.jar',
    );
    const wrapper = Number(
      execFileSync('ps', ['-o', 'ppid=', '-p', String(java)], { encoding: 'utf8' }).trim(),
    );
    const supervised = [...new Set([java, wrapper, ...childrenOf(wrapper)])];
    expect(supervised).toHaveLength(3); // java, the wrapper and its watcher

    const exited = new Promise((resolve) => started.once('exit', resolve));
    started.kill('SIGKILL');
    await exited;
    await until(() => supervised.every((pid) => !isRunning(pid)), {
      timeoutMs: 15_000,
      message: `java ${java} and its wrapper processes ${supervised.join(', ')} to exit`,
    });
  });
});
