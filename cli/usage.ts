/**
 * The command line's usage texts, defined once: `tributary --help` prints them all,
 * `tributary <command> --help` that command's, and `tributary <command> <subcommand> --help` that
 * subcommand's.
 */

/** Usage of one command: a line (or lines) per subcommand, or one entry for a command without them. */
interface CommandUsage {
  readonly summary: string;
  /** Subcommand name (or '' for the command itself) → its usage lines. */
  readonly forms: Readonly<Record<string, string>>;
}

export const COMMANDS: Readonly<Record<string, CommandUsage>> = {
  topics: {
    summary: 'create, list, describe, alter, grow, delete and fail over topics',
    forms: {
      create: 'tributary topics create <topic> [--partitions N] [--config key=value ...]',
      list: 'tributary topics list',
      describe: 'tributary topics describe <topic>',
      alter: 'tributary topics alter <topic> --config key=value ... [--delete-config key ...]',
      'add-partitions': 'tributary topics add-partitions <topic> --partitions N',
      delete: 'tributary topics delete <topic>',
      failover:
        'tributary topics failover <topic> --to REGION [--forced] [--timeout-ms MS]\n' +
        "    Moves the topic's home to REGION (one of --regions) and starts a new leader epoch there.\n" +
        '    Planned (the default): fences appends in the old home, waits until REGION holds the whole\n' +
        '    log (--timeout-ms, default 60000; then nothing changes), then switches: nothing is lost.\n' +
        '    --forced, when the old home is unreachable (nothing is sent to it): the new epoch starts\n' +
        '    after the last offset REGION holds; see topics divergence for what the old home kept.',
      divergence:
        'tributary topics divergence <topic> [--reappend]\n' +
        '    Lists the batches a failover left outside the log (acknowledged by the old home, not in the\n' +
        '    log): partition, epoch, offset, records, producer id and sequence, region, append time, status.\n' +
        '    --reappend appends the divergent ones again at the end of the log, once each (repeating it\n' +
        '    appends nothing twice).',
    },
  },
  produce: {
    summary: 'append messages read from stdin',
    forms: {
      '':
        'tributary produce <topic> [--key-separator SEP] [--partition N] [--compression none|gzip|snappy|lz4|zstd] [--header k=v ...]\n' +
        '    Reads one message per line from stdin; with --key-separator, "key<SEP>value". --compression defaults to zstd.',
    },
  },
  consume: {
    summary: 'print messages of a topic, alone or as a member of a consumer group',
    forms: {
      '':
        'tributary consume <topic> [--partition N] [--offset N | --from-beginning | --from-timestamp MS]\n' +
        '                  [--max-messages N] [--timeout-ms MS] [--format value|kv|json] [--key-separator SEP]\n' +
        '    Without an offset it starts at the end and waits for new messages.\n' +
        'tributary consume <topic> --group G [--from-beginning] [--max-messages N] [--timeout-ms MS] [--format ...]\n' +
        "    Consumes as a member of consumer group G: starts from the group's committed offsets\n" +
        '    (else the end, or the beginning with --from-beginning) and commits what it printed.',
    },
  },
  groups: {
    summary: 'list, describe, reset and delete consumer groups',
    forms: {
      list: 'tributary groups list',
      describe: 'tributary groups describe <group>',
      'reset-offsets':
        'tributary groups reset-offsets <group> --topic T (--to-earliest | --to-latest | --to-timestamp MS | --to-offset N)\n' +
        '                  [--partition N ...] [--force]\n' +
        '    Refused while the group has active members, unless --force.',
      delete:
        'tributary groups delete <group> [--force]\n' +
        '    Refused while the group has active members, unless --force.',
    },
  },
  triggers: {
    summary:
      "create, list, describe, update, enable, disable and delete triggers (a Lambda function invoked with a topic's records)",
    forms: {
      create:
        'tributary triggers create <name> --topic T --function F --starting-position TRIM_HORIZON|LATEST|AT_TIMESTAMP\n' +
        '                          [--starting-position-timestamp S] [--batch-size N] [--batching-window S]\n' +
        '                          [--maximum-retry-attempts N] [--maximum-record-age S] [--bisect-batch-on-function-error]\n' +
        '                          [--report-batch-item-failures] [--destination D] [--filter PATTERN ...]\n' +
        '                          [--maximum-concurrency N] [--group-id G] [--disabled]\n' +
        "    Settings are Lambda's for Kafka event source mappings: --batch-size 1-10000 (default 100),\n" +
        '    --batching-window 0-300 s (default 0.5), --maximum-retry-attempts -1 (forever, the default) or\n' +
        '    0-10000, --maximum-record-age -1 (none, the default) or 60-604800 s, --maximum-concurrency 1-1000,\n' +
        '    --starting-position-timestamp in Unix seconds (with AT_TIMESTAMP only). Write negative values as\n' +
        '    --maximum-retry-attempts=-1. --destination is kafka://<topic>, tributary://<topic>, an SQS standard\n' +
        '    queue ARN or an S3 bucket ARN; --filter an EventBridge pattern on the record value (up to 5, ORed), e.g.\n' +
        '    \'{"value":{"kind":["order"]}}\'. --group-id defaults to trigger-<name>. The function must exist.',
      list: 'tributary triggers list\n    One line per trigger: name, topic, function, group, state.',
      describe:
        'tributary triggers describe <name>\n' +
        '    Settings, state, last error, in-flight batches and, per partition, the committed offset,\n' +
        '    high watermark, lag in records and time, whether a batch is in flight and when it is due.',
      update:
        'tributary triggers update <name> [--function F] [--batch-size N] [--batching-window S]\n' +
        '                          [--maximum-retry-attempts N] [--maximum-record-age S]\n' +
        '                          [--bisect-batch-on-function-error | --no-bisect-batch-on-function-error]\n' +
        '                          [--report-batch-item-failures | --no-report-batch-item-failures]\n' +
        '                          [--destination D | --no-destination] [--filter PATTERN ... | --no-filters]\n' +
        '                          [--maximum-concurrency N | --no-maximum-concurrency] [--disabled]\n' +
        '    Changes only the settings given; --no-* resets one to its default, --filter replaces every filter.\n' +
        '    --topic, --starting-position, --starting-position-timestamp and --group-id are set at create and\n' +
        '    may only repeat their value.',
      enable: 'tributary triggers enable <name>',
      disable:
        'tributary triggers disable <name>\n' +
        '    A disabled trigger delivers nothing and keeps its position; enable resumes from there.',
      delete:
        'tributary triggers delete <name>\n' +
        '    Its consumer group and committed offsets stay (a trigger created on the group resumes there).',
    },
  },
  gateway: {
    summary:
      'run a Kafka wire-protocol gateway: unmodified Kafka clients (kcat, kafkajs, ...) on Tributary topics',
    forms: {
      '':
        'tributary gateway [--host ADDR] [--port N] [--advertised-host HOST] [--advertised-port N]\n' +
        '                  [--sasl-users-file FILE] [--tables-from-env] [--health-port N]\n' +
        '                  [--initial-rebalance-delay-ms N] [--tls-cert FILE --tls-key FILE]\n' +
        '    Serves the topics of the tables the connection options name until Ctrl-C. --host defaults to\n' +
        '    127.0.0.1, --port to 9092; clients are told to connect to --advertised-host:--advertised-port\n' +
        "    (default: the address listened on; give it with --host 0.0.0.0, e.g. a load balancer's name).\n" +
        '    With --sasl-users-file (one user:password a line) or $TRIBUTARY_GATEWAY_SASL_USERS\n' +
        '    (user:password,...), clients must authenticate with SASL/PLAIN. Any number of gateways may\n' +
        '    serve the same tables: they keep no state of their own. --tables-from-env takes the tables and\n' +
        '    the bucket from $TRIBUTARY_LOG_TABLE, $TRIBUTARY_TOPICS_TABLE, $TRIBUTARY_GROUPS_TABLE and\n' +
        "    $TRIBUTARY_BUCKET (how the CDK's TributaryGateway configures its containers).\n" +
        '    --health-port N serves GET /health (200 while serving, 503 while stopping) and GET /metrics\n' +
        '    (Prometheus text) over HTTP on --host. Every 60 s and at exit the gateway prints to stdout one\n' +
        '    JSON line per Kafka API used (CloudWatch Embedded Metric Format, namespace Tributary/Gateway:\n' +
        '    RequestCount, ErrorCount, LatencySum, LatencyMax).\n' +
        '    Consumer groups (kcat -G, kafkajs consumers) are coordinated by every gateway alike, their\n' +
        "    state in the groups table; --initial-rebalance-delay-ms (default 3000, Kafka's\n" +
        "    group.initial.rebalance.delay.ms) lets a new group's members arrive before the first assignment.\n" +
        '    --tls-cert and --tls-key (PEM files) serve the Kafka port over TLS (clients: security.protocol\n' +
        '    SSL, or SASL_SSL with SASL users); without them it is plain TCP, for a TLS-terminating load balancer.',
    },
  },
  archive: {
    summary: 'run the archiver once',
    forms: {
      run:
        'tributary archive run [--topic T ...] [--all]\n' +
        '    Runs the archiver once (every topic, or only these): moves batches past local retention\n' +
        '    to S3 segments, applies retention, and prints what it did per partition. It visits the\n' +
        '    partitions with work due (by time, new records or changed configs); --all visits every one.',
    },
  },
};

const CONNECTION = `Connection (any command):
  --endpoint URL       DynamoDB/S3 endpoint; "aws" for AWS's own endpoints
                       (default: $TRIBUTARY_ENDPOINT, $AWS_ENDPOINT_URL, else http://127.0.0.1:4566)
  --api URL            Use the HTTP API instead (SigV4 with your AWS credentials), e.g. a stack's
                       ApiUrl output or the local http://127.0.0.1:4567 (default: $TRIBUTARY_API_URL)
  --region REGION      (default: $AWS_REGION, else us-east-1)
  --regions LIST       The deployment's regions, home first: name[=endpoint],... (each region's
                       DynamoDB endpoint; default: $TRIBUTARY_REGIONS, names only)
  --table-prefix P     (default: tributary-)
  --bucket NAME        (default: tributary-archive)
`;

function indent(text: string): string {
  return text
    .split('\n')
    .map((line) => `  ${line}`)
    .join('\n');
}

/** Everything: `tributary --help`. */
export function fullUsage(): string {
  const forms = Object.values(COMMANDS).flatMap((c) => Object.values(c.forms).map(indent));
  return `tributary: Kafka-style streaming on DynamoDB and S3\n\nUsage:\n${forms.join('\n')}\n\n${CONNECTION}`;
}

/**
 * Usage of `command` (and of `subcommand`, when it is one of the command's), or undefined for an
 * unknown command.
 */
export function commandUsage(command: string, subcommand?: string): string | undefined {
  const usage = Object.hasOwn(COMMANDS, command) ? COMMANDS[command] : undefined;
  if (!usage) return undefined;
  const chosen =
    subcommand !== undefined && subcommand !== '' && Object.hasOwn(usage.forms, subcommand)
      ? [usage.forms[subcommand]!]
      : Object.values(usage.forms);
  return `tributary ${command}: ${usage.summary}\n\nUsage:\n${chosen.map(indent).join('\n')}\n\n${CONNECTION}`;
}

/** True when the arguments ask for help. */
export function wantsHelp(args: readonly string[]): boolean {
  return args.some((a) => a === '--help' || a === '-h');
}
