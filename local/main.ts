/**
 * `npm start`: the local stack on http://127.0.0.1:4566 (or $TRIBUTARY_PORT), data kept in
 * `.tributary/` at the repository root. Stops cleanly on Ctrl+C / SIGTERM.
 * `npm start -- --no-verify-signatures` makes the HTTP API check only that requests carry a SigV4
 * header, as LocalStack does, instead of verifying the signatures.
 * `npm start -- --function billing=./handlers/billing.ts[#export][:timeoutMs]` (repeatable) serves a
 * handler module through Lambda's Invoke API on the edge endpoint; relative paths are taken from
 * the directory `npm start` was run in.
 * `npm start -- --regions us-east-1,eu-west-1[,...]` simulates those regions, the home region first:
 * a DynamoDB Local and an edge endpoint per region, replicated like MREC global tables, in memory
 * (nothing is kept in `.tributary/`); the home region's edge is on the port above, the others on
 * free ports, all printed. `--consistency strong` (with three regions of one MRSC region set, e.g.
 * `--regions us-east-1,us-east-2,us-west-2`) simulates MRSC global tables instead: one DynamoDB
 * Local behind every region's edge, no transactions, no TTL. `--consistency eventual` is the default.
 * The Kafka wire-protocol gateway (kcat, kafkajs and other Kafka clients on the stack's topics) is
 * served on 127.0.0.1:9092, or `--gateway-port N`; `--no-gateway` leaves it out.
 */
import { isAbsolute, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { TributaryError } from '../sdk/src/index.ts';
import type { SignatureCheck } from './api-server.ts';
import { FUNCTION_FLAG_SYNTAX, type LocalFunction, parseFunctionFlag } from './lambda/function-definition.ts';
import type { ReplicationMode } from './regions/replication-options.ts';
import { type LocalStack, startLocalStack } from './stack.ts';

const DEFAULT_PORT = 4566;
/** Kafka's own port: clients' defaults point there. */
const DEFAULT_GATEWAY_PORT = 9092;
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

const USAGE = `Usage: npm start [-- [--no-verify-signatures] [--function ${FUNCTION_FLAG_SYNTAX}]... [--regions home,other,... [--consistency eventual|strong]] [--gateway-port N | --no-gateway]]`;

/** `--consistency` values, named as the CDK construct's `multiRegionConsistency`, and the mode each simulates. */
const CONSISTENCY_MODES: ReadonlyMap<string, ReplicationMode> = new Map([
  ['eventual', 'MREC'],
  ['strong', 'MRSC'],
]);

/** What the command line asks for. */
interface StartArguments {
  readonly signatures: SignatureCheck;
  readonly functions: readonly LocalFunction[];
  /** The regions to simulate, the home region first; undefined for one region. */
  readonly regions: readonly string[] | undefined;
  /** How the regions replicate; undefined for the stack's default (MREC). */
  readonly mode: ReplicationMode | undefined;
  /** Where the Kafka gateway listens; undefined for none. */
  readonly gatewayPort: number | undefined;
}

/** The command line's choices, or undefined (after explaining why) when they are invalid. */
function argumentsFrom(args: readonly string[]): StartArguments | undefined {
  try {
    const { values } = parseArgs({
      args: [...args],
      options: {
        'no-verify-signatures': { type: 'boolean' },
        function: { type: 'string', multiple: true },
        regions: { type: 'string' },
        consistency: { type: 'string' },
        'gateway-port': { type: 'string' },
        'no-gateway': { type: 'boolean' },
      },
      strict: true,
      allowPositionals: false,
    });
    // npm runs the script from the package root; INIT_CWD is where the user typed `npm start`.
    const cwd = process.env.INIT_CWD ?? process.cwd();
    const functions = (values.function ?? []).map((flag) => {
      const definition = parseFunctionFlag(flag);
      const { module } = definition;
      return typeof module === 'string' && !isAbsolute(module)
        ? { ...definition, module: resolve(cwd, module) }
        : definition;
    });
    const regions = values.regions?.split(',').map((region) => region.trim());
    const { consistency } = values;
    const mode = consistency === undefined ? undefined : CONSISTENCY_MODES.get(consistency);
    if (consistency !== undefined && mode === undefined) {
      throw new Error(`--consistency is "${consistency}"; use eventual (MREC) or strong (MRSC).`);
    }
    if (consistency !== undefined && (regions === undefined || regions.length < 2)) {
      throw new Error(
        '--consistency needs --regions with several regions (three of one MRSC region set for strong).',
      );
    }
    const gateway = values['gateway-port'];
    if (gateway !== undefined && values['no-gateway']) {
      throw new Error('--gateway-port and --no-gateway contradict each other; give one.');
    }
    const gatewayPort = values['no-gateway'] ? undefined : Number(gateway ?? DEFAULT_GATEWAY_PORT);
    if (
      gatewayPort !== undefined &&
      (!/^\d+$/.test(gateway ?? String(DEFAULT_GATEWAY_PORT)) || gatewayPort < 1 || gatewayPort > 65_535)
    ) {
      throw new Error(`--gateway-port is "${gateway}"; use a port number from 1 to 65535.`);
    }
    return {
      signatures: values['no-verify-signatures'] ? 'presence' : 'verify',
      functions,
      regions,
      mode,
      gatewayPort,
    };
  } catch (error) {
    console.error(`${(error as Error).message}\n${USAGE}`);
    return undefined;
  }
}

/** The banner's lines about the Lambda service and the functions registered. */
function lambdaLines(stack: LocalStack): string[] {
  const functions = stack.lambda.functions();
  if (functions.length === 0) {
    return [
      `  Lambda    Invoke on ${stack.endpoint}, no functions registered (npm start -- --function name=./handler.ts)`,
    ];
  }
  return [
    `  Lambda    Invoke on ${stack.endpoint} (@aws-sdk/client-lambda), ${functions.length} function(s):`,
    ...functions.map(
      (fn) =>
        `            ${fn.name}  ${fn.modulePath}#${fn.exportName}  timeout ${fn.timeoutMs / 1000} s, concurrency ${fn.concurrency}`,
    ),
  ];
}

/** The banner's lines about the regions: each one's endpoint, and the replication between them. */
function regionLines(stack: LocalStack): string[] {
  const { replicator } = stack;
  if (stack.regions.length === 1) return [`  Region    ${stack.region}`];
  const width = Math.max(...stack.regions.map(({ region }) => region.length)) + 2;
  const replication = replicator
    ? `simulated ${replicator.mode} global tables: ${replicator.lag.meanMs} ± ${replicator.lag.jitterMs} ms per item, ` +
      'last writer wins'
    : 'simulated MRSC global tables: one DynamoDB Local behind every region, no transactions, no TTL';
  return [
    ...stack.regions.map(
      ({ region, endpoint }, index) =>
        `  ${index === 0 ? 'Regions ' : '        '}  ${region.padEnd(width)}${endpoint}${index === 0 ? '   (home region)' : ''}`,
    ),
    `            ${replication}; S3 and Lambda shared by all regions`,
  ];
}

/** The banner's lines about the Kafka gateway, and how to point kcat and kafkajs at it. */
function gatewayLines(stack: LocalStack): string[] {
  const bootstrap = stack.gatewayBootstrap;
  if (bootstrap === undefined) return ['  Kafka     no gateway (--no-gateway)'];
  return [
    `  Kafka     gateway on ${bootstrap} for Kafka clients:`,
    `            kcat -b ${bootstrap} -L                          (metadata)`,
    `            kcat -b ${bootstrap} -G <group> <topic>          (a consumer group member)`,
    `            new Kafka({ brokers: ['${bootstrap}'] })       (kafkajs)`,
  ];
}

function banner(stack: LocalStack, dataDir: string | undefined, signatures: SignatureCheck): string {
  const checked =
    signatures === 'verify'
      ? 'SigV4 signatures verified: sign with test/test, local/local or the AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY of this shell; --no-verify-signatures turns it off'
      : 'SigV4 signatures not verified (--no-verify-signatures): any signed-looking request passes';
  return [
    '',
    'Tributary local stack is running.',
    '',
    `  Endpoint  ${stack.endpoint}   (DynamoDB, DynamoDB Streams, S3 and Lambda Invoke on one port)`,
    ...regionLines(stack),
    `  Tables    ${stack.tablePrefix}*   Bucket ${stack.bucket}`,
    `  Data      ${dataDir ?? 'in memory (a multi-region stack keeps nothing)'}`,
    `  HTTP API  ${stack.apiUrl}   (the Lambda API, routes under /v1/)`,
    `            ${checked}`,
    ...lambdaLines(stack),
    ...gatewayLines(stack),
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
  const args = argumentsFrom(process.argv.slice(2));
  if (port === undefined || apiPort === undefined || args === undefined) {
    process.exitCode = 1;
    return;
  }
  const { signatures, functions, regions, mode, gatewayPort } = args;
  // A multi-region stack lives in memory only (see `LocalStackOptions.regions`).
  const keptIn = regions === undefined || regions.length === 1 ? dataDir : undefined;
  let stack: LocalStack;
  try {
    stack = await startLocalStack({
      ...(keptIn === undefined ? {} : { dataDir: keptIn }),
      ...(regions === undefined ? {} : { regions }),
      ...(mode === undefined ? {} : { replication: { mode } }),
      edgePort: port,
      archiveIntervalMs: ARCHIVE_INTERVAL_MS,
      apiPort,
      apiSignatures: signatures,
      ...(gatewayPort === undefined ? {} : { gatewayPort }),
      functions,
      log: (line) => console.log(line),
    });
  } catch (error) {
    if ((error as { cause?: NodeJS.ErrnoException }).cause?.code === 'EADDRINUSE') {
      console.error(
        `Cannot start: port ${port}, ${apiPort}${gatewayPort === undefined ? '' : ` or ${gatewayPort}`} on 127.0.0.1 is already in use (another Tributary stack or LocalStack?).\n` +
          `Stop whatever is using it, or choose other ports: ${PORT_VARIABLE}=${port + 10} ${API_PORT_VARIABLE}=${apiPort + 10} npm start${gatewayPort === undefined ? '' : ` -- --gateway-port ${gatewayPort + 10} (or --no-gateway)`}`,
      );
    } else {
      console.error(
        `Cannot start the local stack: ${error instanceof TributaryError ? error.message : error}`,
      );
    }
    process.exitCode = 1;
    return;
  }
  console.log(banner(stack, keptIn, signatures));

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
      () => console.log(keptIn === undefined ? 'Stopped.' : `Stopped. Data kept in ${keptIn}`),
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
