/**
 * `npm start`: the local stack on http://127.0.0.1:4566 (or $TRIBUTARY_PORT), data kept in
 * `.tributary/` at the repository root. Stops cleanly on Ctrl+C / SIGTERM.
 */
import { fileURLToPath } from 'node:url';
import { TributaryError } from '../sdk/src/errors.ts';
import { type LocalStack, startLocalStack } from './stack.ts';

const DEFAULT_PORT = 4566;
/** How often `npm start` runs the archiver (as a deployment's schedule would). */
const ARCHIVE_INTERVAL_MS = 60_000;
const PORT_VARIABLE = 'TRIBUTARY_PORT';
const API_PORT_VARIABLE = 'TRIBUTARY_API_PORT';

/** A port from the environment, or undefined (after explaining why) when it is invalid. */
function portFrom(variable: string, fallback: number): number | undefined {
  const raw = process.env[variable];
  if (raw === undefined || raw === '') return fallback;
  const port = Number(raw);
  if (Number.isInteger(port) && port >= 1 && port <= 65_535) return port;
  console.error(`${variable} is "${raw}"; set it to a port number from 1 to 65535.`);
  return undefined;
}

function banner(stack: LocalStack, dataDir: string): string {
  return [
    '',
    'Tributary local stack is running.',
    '',
    `  Endpoint  ${stack.endpoint}   (DynamoDB, DynamoDB Streams and S3 on one port)`,
    `  Region    ${stack.region}`,
    `  Tables    ${stack.tablePrefix}*   Bucket ${stack.bucket}`,
    `  Data      ${dataDir}`,
    `  HTTP API  ${stack.apiUrl}   (the Lambda API: SigV4-signed requests, routes under /v1/)`,
    `  Archiver  runs every ${ARCHIVE_INTERVAL_MS / 1000} s (moves batches past local.retention.* to S3, applies retention)`,
    '',
    'Point an AWS SDK or the Tributary SDK at it:',
    `  export AWS_ENDPOINT_URL=${stack.endpoint}`,
    `  (S3 clients need forcePathStyle: true; any credentials and region work, e.g. AWS_REGION=${stack.region})`,
    '',
    'Try it:',
    '  npm run tributary -- topics create demo --partitions 3',
    '  echo "hello" | npm run tributary -- produce demo',
    '  npm run tributary -- consume demo --from-beginning --max-messages 1',
    '',
    'Or through the HTTP API (the SDK signs requests with your AWS credentials):',
    `  new Tributary({ transport: 'http', endpoint: '${stack.apiUrl}' })`,
    `  npm run tributary -- topics list --api ${stack.apiUrl}`,
    `  API description: ${stack.apiUrl}/v1/openapi.json (signed GET), also docs/openapi.json`,
    '',
    'Press Ctrl+C to stop.',
    '',
  ].join('\n');
}

async function main(): Promise<void> {
  const dataDir = fileURLToPath(new URL('../.tributary/', import.meta.url));
  const port = portFrom(PORT_VARIABLE, DEFAULT_PORT);
  const apiPort = portFrom(API_PORT_VARIABLE, DEFAULT_PORT + 1);
  if (port === undefined || apiPort === undefined) {
    process.exitCode = 1;
    return;
  }
  let stack: LocalStack;
  try {
    stack = await startLocalStack({
      dataDir,
      edgePort: port,
      archiveIntervalMs: ARCHIVE_INTERVAL_MS,
      apiPort,
      log: (line) => console.log(line),
    });
  } catch (error) {
    if ((error as { cause?: NodeJS.ErrnoException }).cause?.code === 'EADDRINUSE') {
      console.error(
        `Cannot start: port ${port} or ${apiPort} on 127.0.0.1 is already in use (another Tributary stack or LocalStack?).\n` +
          `Stop whatever is using it, or choose other ports: ${PORT_VARIABLE}=${port + 10} ${API_PORT_VARIABLE}=${apiPort + 10} npm start`,
      );
    } else {
      console.error(
        `Cannot start the local stack: ${error instanceof TributaryError ? error.message : error}`,
      );
    }
    process.exitCode = 1;
    return;
  }
  console.log(banner(stack, dataDir));

  let stopping = false;
  const shutdown = (signal: NodeJS.Signals) => {
    if (stopping) {
      // A second Ctrl+C: leave now. Java still goes: its wrapper sees our end of the pipe close.
      console.error(`${signal} again: exiting without waiting.`);
      process.exit(130);
    }
    stopping = true;
    console.log(`\n${signal} received: stopping...`);
    stack.stop().then(
      () => console.log('Stopped. Data kept in', dataDir),
      (error: unknown) => {
        console.error('Stopping failed:', error);
        process.exitCode = 1;
      },
    );
  };
  process.on('SIGINT', shutdown);
  process.on('SIGTERM', shutdown);
}

await main();
