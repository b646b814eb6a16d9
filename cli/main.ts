/**
 * The `tributary` command line: topics, produce, consume, consumer groups, triggers, the archiver and the Kafka gateway. Points at the local stack
 * (http://127.0.0.1:4566) unless told otherwise by `--endpoint` or the environment.
 */
import { parseArgs } from 'node:util';
import { TributaryError } from '../sdk/src/index.ts';
import { runArchive } from './archive.ts';
import { runConsume } from './consume.ts';
import { runGateway } from './gateway.ts';
import { runGroups } from './groups.ts';
import { type GlobalOptions, globalOptionSpec, openClient, UsageError } from './options.ts';
import { runProduce } from './produce.ts';
import { runTopics } from './topics.ts';
import { runTriggers } from './triggers.ts';
import { commandUsage, fullUsage, wantsHelp } from './usage.ts';

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (!command || command === 'help' || command === '--help' || command === '-h') {
    process.stdout.write(fullUsage());
    return command ? 0 : 2;
  }
  if (wantsHelp(rest)) {
    const usage = commandUsage(command, rest[0]);
    if (!usage) throw new UsageError(`Unknown command "${command}".`);
    process.stdout.write(usage);
    return 0;
  }
  // A long-running server on the tables themselves, not a client command.
  if (command === 'gateway') return runGateway(rest);
  const run = {
    topics: runTopics,
    produce: runProduce,
    consume: runConsume,
    groups: runGroups,
    triggers: runTriggers,
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
