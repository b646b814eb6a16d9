/**
 * The `tributary` command line: topics, produce, consume, consumer groups and the archiver. Points at the local stack
 * (http://127.0.0.1:4566) unless told otherwise by `--endpoint` or the environment.
 */
import { parseArgs } from 'node:util';
import { TributaryError } from '../sdk/src/index.ts';
import { runArchive } from './archive.ts';
import { runConsume } from './consume.ts';
import { runGroups } from './groups.ts';
import { type GlobalOptions, globalOptionSpec, openClient, UsageError } from './options.ts';
import { runProduce } from './produce.ts';
import { runTopics } from './topics.ts';

const HELP = `tributary: Kafka-style streaming on DynamoDB and S3

Usage:
  tributary topics create <topic> [--partitions N] [--config key=value ...]
  tributary topics list
  tributary topics describe <topic>
  tributary topics alter <topic> --config key=value ... [--delete-config key ...]
  tributary topics add-partitions <topic> --partitions N
  tributary topics delete <topic>
  tributary produce <topic> [--key-separator SEP] [--partition N] [--compression gzip|snappy|lz4|zstd] [--header k=v ...]
      Reads one message per line from stdin; with --key-separator, "key<SEP>value".
  tributary consume <topic> [--partition N] [--offset N | --from-beginning | --from-timestamp MS]
                    [--max-messages N] [--timeout-ms MS] [--format value|kv|json] [--key-separator SEP]
      Without an offset it starts at the end and waits for new messages.
  tributary consume <topic> --group G [--from-beginning] [--max-messages N] [--timeout-ms MS] [--format ...]
      Consumes as a member of consumer group G: starts from the group's committed offsets
      (else the end, or the beginning with --from-beginning) and commits what it printed.
  tributary groups list
  tributary groups describe <group>
  tributary groups reset-offsets <group> --topic T (--to-earliest | --to-latest | --to-timestamp MS | --to-offset N)
                    [--partition N ...] [--force]
  tributary groups delete <group> [--force]
      Resets and deletes are refused while the group has active members, unless --force.
  tributary archive run [--topic T ...]
      Runs the archiver once (every topic, or only these): moves batches past local retention
      to S3 segments, applies retention, and prints what it did per partition.

Connection (any command):
  --endpoint URL       DynamoDB/S3 endpoint; "aws" for AWS's own endpoints
                       (default: $TRIBUTARY_ENDPOINT, $AWS_ENDPOINT_URL, else http://127.0.0.1:4566)
  --api URL            Use the HTTP API instead (SigV4 with your AWS credentials), e.g. a stack's
                       ApiUrl output or the local http://127.0.0.1:4567 (default: $TRIBUTARY_API_URL)
  --region REGION      (default: $AWS_REGION, else us-east-1)
  --table-prefix P     (default: tributary-)
  --bucket NAME        (default: tributary-archive)
`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (!command || command === 'help' || command === '--help' || command === '-h') {
    process.stdout.write(HELP);
    return command ? 0 : 2;
  }
  const run = {
    topics: runTopics,
    produce: runProduce,
    consume: runConsume,
    groups: runGroups,
    archive: runArchive,
  }[command];
  if (!run) throw new UsageError(`Unknown command "${command}".`);
  // Global options are parsed by each command together with its own.
  const peek = parseArgs({ args: rest, options: globalOptionSpec, strict: false, allowPositionals: true });
  const client = openClient(peek.values as GlobalOptions);
  try {
    return await run(rest, client);
  } finally {
    client.close();
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    if (error instanceof UsageError) {
      process.stderr.write(`tributary: ${error.message}\nRun "tributary --help" for usage.\n`);
      process.exitCode = 2;
      return;
    }
    if (isConnectionRefused(error)) {
      process.stderr.write(
        'tributary: cannot reach the endpoint. Is the local stack running? Start it with "npm start", or pass --endpoint.\n',
      );
    } else if (error instanceof TributaryError) {
      process.stderr.write(`tributary: ${error.message} [${error.code}]\n`);
    } else {
      process.stderr.write(`tributary: ${error instanceof Error ? error.message : String(error)}\n`);
    }
    process.exitCode = 1;
  },
);

function isConnectionRefused(error: unknown): boolean {
  const seen = new Set<unknown>();
  let e: unknown = error;
  while (e && typeof e === 'object' && !seen.has(e)) {
    seen.add(e);
    const code = (e as { code?: unknown }).code;
    if (code === 'ECONNREFUSED') return true;
    e = (e as { cause?: unknown }).cause;
  }
  return false;
}
