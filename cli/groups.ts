/** `tributary groups ...`: list, describe, reset offsets of and delete consumer groups. */
import type { GroupDescription, OffsetResetTarget, Tributary } from '../sdk/src/index.ts';
import { formatDuration, writeTable } from './format.ts';
import { integerOption, parseCommand, UsageError } from './options.ts';

const ACTIONS = 'list, describe, reset-offsets or delete';

export async function runGroups(args: string[], client: Tributary): Promise<number> {
  const { values, positionals } = parseCommand(args, {
    topic: { type: 'string' },
    partition: { type: 'string', multiple: true },
    'to-earliest': { type: 'boolean' },
    'to-latest': { type: 'boolean' },
    'to-timestamp': { type: 'string' },
    'to-offset': { type: 'string' },
    force: { type: 'boolean' },
  });
  const [action, group] = positionals;
  const admin = client.admin();
  const needGroup = () => {
    if (!group) throw new UsageError(`groups ${action} needs a group id`);
    return group;
  };
  switch (action) {
    case 'list': {
      for (const g of await admin.listGroups()) {
        process.stdout.write(`${g.groupId}\t${g.createdAt?.toISOString() ?? '-'}\n`);
      }
      return 0;
    }
    case 'describe': {
      writeDescription(await admin.describeGroup(needGroup()));
      return 0;
    }
    case 'reset-offsets': {
      const id = needGroup();
      const topic = values.topic;
      if (!topic) throw new UsageError('groups reset-offsets needs --topic T');
      const to = resetTarget(values);
      const partitions = values.partition?.map((p) => integerOption('partition', p) as number);
      const offsets = await admin.resetGroupOffsets(id, topic, to, {
        ...(partitions ? { partitions } : {}),
        force: values.force === true,
      });
      writeTable(
        ['TOPIC', 'PARTITION', 'NEW-OFFSET'],
        offsets.map((o) => [topic, String(o.partition), String(o.offset)]),
      );
      return 0;
    }
    case 'delete': {
      const id = needGroup();
      await admin.deleteGroup(id, { force: values.force === true });
      process.stdout.write(`Deleted consumer group "${id}".\n`);
      return 0;
    }
    default:
      throw new UsageError(`groups takes ${ACTIONS}; got "${action ?? ''}"`);
  }
}

/** The one `--to-*` flag of `reset-offsets`, as the SDK's target. */
function resetTarget(values: {
  'to-earliest'?: boolean;
  'to-latest'?: boolean;
  'to-timestamp'?: string;
  'to-offset'?: string;
}): OffsetResetTarget {
  const given = [
    values['to-earliest'] && '--to-earliest',
    values['to-latest'] && '--to-latest',
    values['to-timestamp'] !== undefined && '--to-timestamp',
    values['to-offset'] !== undefined && '--to-offset',
  ].filter((flag): flag is string => typeof flag === 'string');
  if (given.length !== 1) {
    throw new UsageError(
      given.length === 0
        ? 'groups reset-offsets needs one of --to-earliest, --to-latest, --to-timestamp MS, --to-offset N'
        : `use only one of ${given.join(', ')}`,
    );
  }
  if (values['to-earliest']) return 'earliest';
  if (values['to-latest']) return 'latest';
  const timestamp = integerOption('to-timestamp', values['to-timestamp']);
  if (timestamp !== undefined) return { timestamp };
  return { offset: integerOption('to-offset', values['to-offset']) as number };
}

function writeDescription(d: GroupDescription): void {
  process.stdout.write(`Group: ${d.groupId}\tCreated: ${d.createdAt?.toISOString() ?? '-'}\n\n`);
  if (d.members.length === 0) process.stdout.write('No members.\n');
  else
    writeTable(
      ['MEMBER', 'INSTANCE', 'ACTIVE', 'LAST-HEARTBEAT'],
      d.members.map((m) => [
        m.memberId,
        m.instanceId ?? '-',
        m.active ? 'yes' : 'no',
        m.lastHeartbeatAt.toISOString(),
      ]),
    );
  process.stdout.write('\n');
  if (d.partitions.length === 0) process.stdout.write('No partitions.\n');
  else
    writeTable(
      ['TOPIC', 'PARTITION', 'OWNER', 'COMMITTED', 'HIGH-WATERMARK', 'LAG', 'LAG-TIME'],
      d.partitions.map((p) => [
        p.topic,
        String(p.partition),
        p.owner ?? '-',
        p.committedOffset === undefined ? '-' : String(p.committedOffset),
        String(p.highWatermark),
        String(p.lag),
        formatDuration(p.lagMs),
      ]),
    );
}
