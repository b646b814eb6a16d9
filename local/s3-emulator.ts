/**
 * The S3 emulator: fauxqs, in this process, path-style S3 on loopback.
 *
 * Persistence: fauxqs has two stores. `dataDir` keeps everything (SQS, SNS and S3 objects as
 * blobs) in one SQLite file; `s3StorageDir` keeps S3 buckets, objects, metadata and in-progress
 * multipart uploads as plain files, written synchronously on every change and reloaded on start.
 * We use `s3StorageDir`: Tributary archives multi-megabyte segments, which the fauxqs README
 * advises against storing as SQLite blobs, and we use no SQS or SNS.
 */
import { Server } from 'node:net';
import { startFauxqs } from 'fauxqs';

/** Options of {@link startS3Emulator}. */
export interface S3EmulatorOptions {
  /** Loopback address to listen on. */
  readonly host: '127.0.0.1';
  /** Port to listen on (a specific free port: see {@link bindToHost}). */
  readonly port: number;
  /** Directory for buckets and objects; in-memory when absent. */
  readonly storageDir?: string | undefined;
}

/** A running S3 emulator. */
export interface S3Emulator {
  /** `http://127.0.0.1:<port>`. */
  readonly endpoint: string;
  readonly port: number;
  /** Stops the server and closes its connections. Idempotent. */
  stop(): Promise<void>;
}

let startQueue: Promise<unknown> = Promise.resolve();

/**
 * fauxqs 2.x always listens on 0.0.0.0 (its `host` option only names queue URLs). While `start`
 * runs, this rewrites that one `listen({ host: '0.0.0.0', port })` call, recognised by its port,
 * to `host`. Starts are serialised so two concurrent starts cannot interleave their patches.
 */
async function bindToHost<T>(host: string, port: number, start: () => Promise<T>): Promise<T> {
  const run = startQueue.then(async () => {
    const listen = Server.prototype.listen;
    Server.prototype.listen = function (this: Server, ...args: unknown[]) {
      const [first] = args;
      if (typeof first === 'object' && first !== null) {
        const options = first as { host?: unknown; port?: unknown };
        if (options.host === '0.0.0.0' && options.port === port) args[0] = { ...options, host };
      }
      return (listen as (...a: unknown[]) => Server).apply(this, args);
    } as typeof listen;
    try {
      return await start();
    } finally {
      Server.prototype.listen = listen;
    }
  });
  startQueue = run.catch(() => {});
  return run;
}

/** Starts fauxqs on `host:port` with logging off. */
export async function startS3Emulator(options: S3EmulatorOptions): Promise<S3Emulator> {
  const { host, port, storageDir } = options;
  const server = await bindToHost(host, port, () =>
    startFauxqs({ port, logger: false, ...(storageDir === undefined ? {} : { s3StorageDir: storageDir }) }),
  );
  let stopping: Promise<void> | undefined;
  return {
    endpoint: `http://${host}:${server.port}`,
    port: server.port,
    stop: () => {
      stopping ??= server.stop();
      return stopping;
    },
  };
}
