/**
 * `tributary triggers ...`: create, list, describe, update, enable, disable and delete triggers
 * (Lambda event source mappings for topics). Options map one to one onto the ESM's settings; their
 * values are checked by the SDK (INVALID_TRIGGER naming the setting, exit code 1), the shape of
 * the command line here (exit code 2).
 */
import type {
  Tributary,
  TriggerConfig,
  TriggerDescription,
  TriggerSettings,
  TriggerUpdate,
} from '../sdk/src/index.ts';
import { formatDuration, writeTable } from './format.ts';
import { parseCommand, UsageError } from './options.ts';

const ACTIONS = 'create, list, describe, update, enable, disable or delete';

/** The options that set a trigger's settings (create and update only). */
const SETTING_OPTIONS = {
  topic: { type: 'string' },
  function: { type: 'string' },
  'starting-position': { type: 'string' },
  'starting-position-timestamp': { type: 'string' },
  'batch-size': { type: 'string' },
  'batching-window': { type: 'string' },
  'maximum-retry-attempts': { type: 'string' },
  'maximum-record-age': { type: 'string' },
  'bisect-batch-on-function-error': { type: 'boolean' },
  'no-bisect-batch-on-function-error': { type: 'boolean' },
  'report-batch-item-failures': { type: 'boolean' },
  'no-report-batch-item-failures': { type: 'boolean' },
  destination: { type: 'string' },
  'no-destination': { type: 'boolean' },
  filter: { type: 'string', multiple: true },
  'no-filters': { type: 'boolean' },
  'maximum-concurrency': { type: 'string' },
  'no-maximum-concurrency': { type: 'boolean' },
  'group-id': { type: 'string' },
  disabled: { type: 'boolean' },
} as const;

/** Parsed setting options. */
type SettingValues = {
  -readonly [K in keyof typeof SETTING_OPTIONS]?: (typeof SETTING_OPTIONS)[K] extends { multiple: true }
    ? string[]
    : (typeof SETTING_OPTIONS)[K]['type'] extends 'boolean'
      ? boolean
      : string;
};

/** Options that only reset a setting: meaningless when creating (every setting starts at its default). */
const RESETS = [
  'no-bisect-batch-on-function-error',
  'no-report-batch-item-failures',
  'no-destination',
  'no-filters',
  'no-maximum-concurrency',
] as const;

export async function runTriggers(args: string[], client: Tributary): Promise<number> {
  const { values, positionals } = parseCommand(args, SETTING_OPTIONS);
  const [action, name] = positionals;
  const admin = client.admin();
  const needName = () => {
    if (!name) throw new UsageError(`triggers ${action} needs a trigger name`);
    return name;
  };
  if (action !== 'create' && action !== 'update') {
    const given = Object.keys(SETTING_OPTIONS).filter((option) => Object.hasOwn(values, option));
    if (given.length > 0) {
      throw new UsageError(
        `--${given[0]} is an option of triggers create and update, not of triggers ${action}`,
      );
    }
  }
  switch (action) {
    case 'create': {
      const config = createConfig(needName(), values);
      const created = await admin.createTrigger(config);
      process.stdout.write(
        `Created trigger "${created.name}": topic "${created.topic}" -> function "${created.functionName}" ` +
          `(group "${created.groupId}", ${created.state}).\n`,
      );
      return 0;
    }
    case 'list': {
      for (const t of await admin.listTriggers()) {
        process.stdout.write(`${[t.name, t.topic, t.functionName, t.groupId, t.state].join('\t')}\n`);
      }
      return 0;
    }
    case 'describe': {
      writeDescription(await admin.describeTrigger(needName()));
      return 0;
    }
    case 'update': {
      const trigger = needName();
      const update = settingsOf(values);
      if (Object.keys(update).length === 0) {
        throw new UsageError(
          'triggers update needs at least one setting to change (see triggers update --help)',
        );
      }
      const updated = await admin.updateTrigger(trigger, update);
      process.stdout.write(`Updated trigger "${updated.name}" (${updated.state}).\n`);
      return 0;
    }
    case 'enable':
    case 'disable': {
      const trigger = needName();
      await admin.updateTrigger(trigger, { enabled: action === 'enable' });
      process.stdout.write(`${action === 'enable' ? 'Enabled' : 'Disabled'} trigger "${trigger}".\n`);
      return 0;
    }
    case 'delete': {
      const trigger = needName();
      await admin.deleteTrigger(trigger);
      process.stdout.write(`Deleted trigger "${trigger}"; its consumer group and committed offsets stay.\n`);
      return 0;
    }
    default:
      throw new UsageError(`triggers takes ${ACTIONS}; got "${action ?? ''}"`);
  }
}

/** A create request from the options: the three the ESM requires, and whatever else is given. */
function createConfig(name: string, values: SettingValues): TriggerConfig {
  const reset = RESETS.find((option) => values[option] !== undefined);
  if (reset) throw new UsageError(`--${reset} is for triggers update: a new trigger starts with the default`);
  const missing = (['topic', 'function', 'starting-position'] as const).filter(
    (o) => values[o] === undefined,
  );
  if (missing.length > 0) {
    throw new UsageError(`triggers create needs ${missing.map((o) => `--${o}`).join(', ')}`);
  }
  // The values (a starting position among them) are the SDK's to check.
  return { name, ...settingsOf(values) } as TriggerConfig;
}

/**
 * The settings the options set. In an update, create-only ones are passed on too: it may repeat
 * their current value, and the SDK refuses any other (INVALID_TRIGGER naming it).
 */
function settingsOf(values: SettingValues): TriggerUpdate {
  const update: Record<string, unknown> = {};
  const exclusive = (on: keyof SettingValues, off: keyof SettingValues) => {
    if (values[on] !== undefined && values[off] !== undefined) {
      throw new UsageError(`use only one of --${on} and --${off}`);
    }
  };
  exclusive('bisect-batch-on-function-error', 'no-bisect-batch-on-function-error');
  exclusive('report-batch-item-failures', 'no-report-batch-item-failures');
  exclusive('destination', 'no-destination');
  exclusive('filter', 'no-filters');
  exclusive('maximum-concurrency', 'no-maximum-concurrency');

  if (values.topic !== undefined) update.topic = values.topic;
  if (values['starting-position'] !== undefined) update.startingPosition = values['starting-position'];
  if (values['starting-position-timestamp'] !== undefined) {
    update.startingPositionTimestamp = decimalOption(
      'starting-position-timestamp',
      values['starting-position-timestamp'],
    );
  }
  if (values['group-id'] !== undefined) update.groupId = values['group-id'];
  if (values.function !== undefined) update.functionName = values.function;
  if (values.disabled) update.enabled = false;
  if (values['batch-size'] !== undefined) update.batchSize = integer('batch-size', values['batch-size']);
  if (values['batching-window'] !== undefined) {
    update.maximumBatchingWindowInSeconds = integer('batching-window', values['batching-window']);
  }
  if (values['maximum-retry-attempts'] !== undefined) {
    update.maximumRetryAttempts = integer('maximum-retry-attempts', values['maximum-retry-attempts']);
  }
  if (values['maximum-record-age'] !== undefined) {
    update.maximumRecordAgeInSeconds = integer('maximum-record-age', values['maximum-record-age']);
  }
  if (values['bisect-batch-on-function-error']) update.bisectBatchOnFunctionError = true;
  if (values['no-bisect-batch-on-function-error']) update.bisectBatchOnFunctionError = false;
  if (values['report-batch-item-failures']) update.functionResponseTypes = ['ReportBatchItemFailures'];
  if (values['no-report-batch-item-failures']) update.functionResponseTypes = [];
  if (values.destination !== undefined) {
    update.destinationConfig = { onFailure: { destination: values.destination } };
  }
  if (values['no-destination']) update.destinationConfig = {};
  if (values.filter !== undefined) {
    update.filterCriteria = { filters: values.filter.map((pattern) => ({ pattern })) };
  }
  if (values['no-filters']) update.filterCriteria = {};
  if (values['maximum-concurrency'] !== undefined) {
    update.scalingConfig = {
      maximumConcurrency: integer('maximum-concurrency', values['maximum-concurrency']),
    };
  }
  if (values['no-maximum-concurrency']) update.scalingConfig = {};
  return update as TriggerUpdate;
}

/** An integer option, negative ones included (`--maximum-retry-attempts=-1`); its range is the SDK's to check. */
function integer(name: string, value: string): number {
  if (!/^-?\d+$/.test(value)) throw new UsageError(`--${name} must be an integer, got "${value}"`);
  return Number(value);
}

/** A non-negative decimal number option (seconds, possibly with a fraction). */
function decimalOption(name: string, value: string): number {
  if (!/^\d+(\.\d+)?$/.test(value))
    throw new UsageError(`--${name} must be a number of seconds, got "${value}"`);
  return Number(value);
}

/** The settings `describe` lists under "Settings", as `key=value` lines (`-` for none). */
function settingLines(s: TriggerSettings): string[] {
  const none = (value: string | number | undefined) =>
    value === undefined || value === '' ? '-' : String(value);
  const filters = s.filterCriteria.filters;
  return [
    `startingPosition=${s.startingPosition}`,
    `startingPositionTimestamp=${none(s.startingPositionTimestamp)}`,
    `batchSize=${s.batchSize}`,
    `maximumBatchingWindowInSeconds=${s.maximumBatchingWindowInSeconds}`,
    `maximumRetryAttempts=${s.maximumRetryAttempts}`,
    `maximumRecordAgeInSeconds=${s.maximumRecordAgeInSeconds}`,
    `bisectBatchOnFunctionError=${s.bisectBatchOnFunctionError}`,
    `functionResponseTypes=${none(s.functionResponseTypes.join(','))}`,
    `destinationConfig.onFailure.destination=${none(s.destinationConfig.onFailure.destination)}`,
    ...(filters.length === 0
      ? ['filterCriteria.filters=-']
      : filters.map((f, i) => `filterCriteria.filters[${i}].pattern=${f.pattern}`)),
    `scalingConfig.maximumConcurrency=${none(s.scalingConfig.maximumConcurrency)}`,
  ];
}

function writeDescription(d: TriggerDescription): void {
  const out = (line: string) => process.stdout.write(`${line}\n`);
  out(`Trigger: ${d.name}\tState: ${d.state}`);
  out(`Topic: ${d.topic}\tFunction: ${d.functionName}\tGroup: ${d.groupId}`);
  out(`Created: ${d.createdAt.toISOString()}\tUpdated: ${d.updatedAt.toISOString()}`);
  out(
    `Last error: ${d.lastError ? `${d.lastError.at.toISOString()} ${d.lastError.code}: ${d.lastError.message}` : '-'}`,
  );
  out(`In-flight batches: ${d.inFlightBatches}`);
  out('Settings:');
  for (const line of settingLines(d.settings)) out(`  ${line}`);
  out('');
  if (d.partitions.length === 0) {
    out(`No partitions (topic "${d.topic}" does not exist).`);
    return;
  }
  writeTable(
    ['PARTITION', 'COMMITTED', 'HIGH-WATERMARK', 'LAG', 'LAG-TIME', 'IN-FLIGHT', 'DUE'],
    d.partitions.map((p) => [
      String(p.partition),
      p.committedOffset === undefined ? '-' : String(p.committedOffset),
      String(p.highWatermark),
      String(p.lag),
      formatDuration(p.lagMs),
      p.inFlight ? 'yes' : 'no',
      p.dueAt?.toISOString() ?? '-',
    ]),
  );
}
