/**
 * `tributary gateway`: runs a Kafka wire-protocol gateway until interrupted (SIGINT or SIGTERM),
 * serving the tables the connection options name to unmodified Kafka clients.
 */
import { readFileSync } from 'node:fs';
import {
  type FunctionConfig,
  GATEWAY_SASL_USERS_VARIABLE,
  readFunctionConfig,
} from '../functions/environment.ts';
import { type GatewayTlsOptions, type SaslPlainOptions, startGateway } from '../gateway/index.ts';
import type { TributaryOptions } from '../sdk/src/index.ts';
import { isLoopbackEndpoint } from '../sdk/src/internal.ts';
import { integerOption, LOCAL_ENDPOINT, parseCommand, UsageError } from './options.ts';

/** SASL/PLAIN users from the environment: `user:password,user2:password2`. */
const SASL_USERS_VARIABLE = GATEWAY_SASL_USERS_VARIABLE;

export async function runGateway(args: string[]): Promise<number> {
  const { values, positionals } = parseCommand(args, {
    host: { type: 'string' },
    port: { type: 'string' },
    'advertised-host': { type: 'string' },
    'advertised-port': { type: 'string' },
    'sasl-users-file': { type: 'string' },
    'tables-from-env': { type: 'boolean' },
    'health-port': { type: 'string' },
    'initial-rebalance-delay-ms': { type: 'string' },
    'tls-cert': { type: 'string' },
    'tls-key': { type: 'string' },
  });
  if (positionals.length > 0)
    throw new UsageError(`gateway takes no arguments, got "${positionals.join(' ')}"`);
  if (values.api !== undefined) {
    throw new UsageError(
      'gateway reaches the tables directly: give --endpoint (or nothing, for the local stack), not --api',
    );
  }
  if ((values.host === '0.0.0.0' || values.host === '::') && values['advertised-host'] === undefined) {
    throw new UsageError(
      `--host ${values.host} listens on every address: give --advertised-host, the one clients connect to`,
    );
  }
  const sasl = saslOptions(values['sasl-users-file']);
  const tls = tlsOptions(values['tls-cert'], values['tls-key']);
  const port = integerOption('port', values.port);
  const advertisedPort = integerOption('advertised-port', values['advertised-port'], 1);
  const healthPort = integerOption('health-port', values['health-port']);
  const initialRebalanceDelayMs = integerOption(
    'initial-rebalance-delay-ms',
    values['initial-rebalance-delay-ms'],
  );
  const gateway = await startGateway({
    tributary: connection(values),
    ...(values.host === undefined ? {} : { host: values.host }),
    ...(port === undefined ? {} : { port }),
    ...(values['advertised-host'] === undefined ? {} : { advertisedHost: values['advertised-host'] }),
    ...(advertisedPort === undefined ? {} : { advertisedPort }),
    ...(sasl ? { sasl } : {}),
    ...(tls ? { tls } : {}),
    ...(healthPort === undefined ? {} : { healthPort }),
    ...(initialRebalanceDelayMs === undefined ? {} : { initialRebalanceDelayMs }),
  });
  const { host, port: advertised } = gateway.advertised;
  const bootstrap = `${host}:${advertised}`;
  process.stdout.write(
    `Kafka gateway listening on ${gateway.host}:${gateway.port}${tls ? ' over TLS' : ''}${sasl ? ' (SASL/PLAIN required)' : ''}, ` +
      `advertised as ${bootstrap}\n` +
      `  kcat:    kcat -b ${bootstrap} -L    (a group member: kcat -b ${bootstrap} -G <group> <topic>)\n` +
      `  kafkajs: new Kafka({ brokers: ['${bootstrap}'] })\n` +
      (gateway.health
        ? `Health on http://${gateway.health.host}:${gateway.health.port}/health, metrics on /metrics\n`
        : '') +
      'Stop with Ctrl-C.\n',
  );
  await new Promise<void>((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
  await gateway.stop();
  return 0;
}

/** The tables to serve: as every direct command finds them (the endpoint, region, prefix, bucket). */
function connection(values: {
  readonly endpoint?: string | undefined;
  readonly region?: string | undefined;
  readonly 'table-prefix'?: string | undefined;
  readonly bucket?: string | undefined;
  readonly 'tables-from-env'?: boolean | undefined;
}): TributaryOptions {
  const chosen =
    values.endpoint ?? process.env.TRIBUTARY_ENDPOINT ?? process.env.AWS_ENDPOINT_URL ?? LOCAL_ENDPOINT;
  const endpoint = chosen === 'aws' ? undefined : chosen;
  if (endpoint !== undefined && !/^https?:\/\//.test(endpoint)) {
    throw new UsageError(`--endpoint must be an http(s) URL or "aws", got "${endpoint}"`);
  }
  // Against a local endpoint a refused connection means nothing is listening: requests fail fast.
  const local = endpoint !== undefined && isLoopbackEndpoint(endpoint);
  const deployed = values['tables-from-env'] ? deployedStorage(values) : undefined;
  return {
    ...(endpoint ? { endpoint } : {}),
    ...(local ? { retry: { deadlineMs: 3_000 } } : {}),
    ...(values.region ? { region: values.region } : {}),
    ...(values['table-prefix'] ? { tablePrefix: values['table-prefix'] } : {}),
    ...(values.bucket ? { bucket: values.bucket } : {}),
    ...(deployed ? { tables: deployed.tables, bucket: deployed.bucket } : {}),
  };
}

/**
 * `--tables-from-env`: the tables and bucket a deployment gave generated names, from the variables
 * its Lambda functions get too (`functions/environment.ts`); the CDK's `TributaryGateway` sets them
 * in its containers.
 */
function deployedStorage(values: {
  readonly 'table-prefix'?: string | undefined;
  readonly bucket?: string | undefined;
}): FunctionConfig {
  if (values['table-prefix'] !== undefined || values.bucket !== undefined) {
    throw new UsageError(
      '--tables-from-env names the tables and the bucket: give no --table-prefix or --bucket',
    );
  }
  try {
    return readFunctionConfig(process.env);
  } catch (error) {
    // readFunctionConfig's one failure: a variable is missing (its message names them).
    throw new UsageError(`--tables-from-env: ${(error as Error).message}`);
  }
}

/** The TLS identity from `--tls-cert` and `--tls-key` (PEM files; both or neither). */
function tlsOptions(
  certFile: string | undefined,
  keyFile: string | undefined,
): GatewayTlsOptions | undefined {
  if (certFile === undefined && keyFile === undefined) return undefined;
  if (certFile === undefined || keyFile === undefined) {
    throw new UsageError('--tls-cert and --tls-key go together: give both PEM files, or neither');
  }
  const read = (flag: string, file: string) => {
    try {
      return readFileSync(file, 'utf8');
    } catch (error) {
      throw new UsageError(`${flag}: cannot read ${file}: ${(error as Error).message}`);
    }
  };
  return { cert: read('--tls-cert', certFile), key: read('--tls-key', keyFile) };
}

/**
 * SASL/PLAIN users from `--sasl-users-file` (one `user:password` a line; blank lines and lines
 * starting with `#` ignored) or `$TRIBUTARY_GATEWAY_SASL_USERS`; none: no authentication.
 * Passwords never go on the command line, where other users of the machine could read them.
 */
function saslOptions(file: string | undefined): SaslPlainOptions | undefined {
  let entries: string[];
  let source: string;
  if (file !== undefined) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (error) {
      throw new UsageError(`--sasl-users-file: cannot read ${file}: ${(error as Error).message}`);
    }
    entries = text.split(/\r?\n/);
    source = file;
  } else {
    const variable = process.env[SASL_USERS_VARIABLE];
    if (variable === undefined || variable === '') return undefined;
    entries = variable.split(',');
    source = `$${SASL_USERS_VARIABLE}`;
  }
  const users = new Map<string, string>();
  entries.forEach((raw, index) => {
    const entry = raw.trim();
    if (entry === '' || entry.startsWith('#')) return;
    const at = entry.indexOf(':');
    // The entry itself is not shown: it may be a password.
    if (at <= 0 || at === entry.length - 1) {
      throw new UsageError(`${source}: entry ${index + 1} is not "user:password"`);
    }
    users.set(entry.slice(0, at), entry.slice(at + 1));
  });
  if (users.size === 0) throw new UsageError(`${source} names no users`);
  // Own properties only: a user named "__proto__" is a user name, not a prototype.
  return { mechanism: 'PLAIN', users: Object.fromEntries(users) };
}
