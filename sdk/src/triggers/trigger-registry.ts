/**
 * Triggers as resources — Tributary's event source mappings — stored in the topics table: create,
 * update, enable/disable, delete, list and describe. Everything a request names is checked before
 * anything is written: the settings (`trigger-settings.ts`), the source topic, a destination topic,
 * and the function (through a {@link FunctionLookup}).
 *
 * A trigger's consumer group is an ordinary group. Its starting position applies only where the
 * group has no committed offset, as for Lambda's Kafka ESM: on create, `LATEST` and `AT_TIMESTAMP`
 * are resolved to offsets and committed at once for every partition the group has none for (so no
 * record produced after the trigger was created is missed, unlike Lambda's "several minutes" gap);
 * `TRIM_HORIZON` leaves them uncommitted and marks the partitions due, so delivery starts from the
 * log start. A partition without a committed offset later (one added to the topic after the
 * trigger, or a group reset to nothing) is delivered from its log start: all its records are newer
 * than the trigger.
 */
import type { StorageContext } from '../context.ts';
import {
  FunctionNotFoundError,
  InvalidTriggerError,
  TopicNotFoundError,
  TriggerAlreadyExistsError,
  TriggerNotFoundError,
} from '../errors.ts';
import { GroupAdmin } from '../groups/group-admin.ts';
import { type DispatchState, LeaseStore } from '../groups/lease-store.ts';
import { PartitionReader } from '../log/reader.ts';
import { offsetForTimestamp } from '../log/timestamp-lookup.ts';
import { LEGAL_TOPIC_NAME } from '../topics/names.ts';
import type { TopicRegistry } from '../topics/registry.ts';
import { partitionRef, type TopicMetadata } from '../topics/topic-metadata.ts';
import { type StoredTrigger, TopicStore } from '../topics/topic-store.ts';
import type { FunctionFacts } from './function-lookup.ts';
import {
  onFailureDestination,
  parseFunctionName,
  type TriggerConfig,
  type TriggerSettings,
  type TriggerUpdate,
  updateTriggerSettings,
  validateTriggerConfig,
} from './trigger-settings.ts';

/**
 * How long a dispatcher may work from a list of triggers it read before (its cache). A trigger
 * created or enabled within that time is not yet known to every doorbell, so its partitions are
 * marked due just after it: the sweep then looks at them, and nothing produced meanwhile waits
 * for a record that rings again.
 */
export const TRIGGER_LIST_MAX_AGE_MS = 10_000;

/** A function's facts (GetFunctionConfiguration), undefined when it does not exist. */
export type FunctionLookup = (functionName: string) => Promise<FunctionFacts | undefined>;

/**
 * Longest function timeout a trigger accepts (s): Lambda's Kafka event source mappings take at
 * most 14 minutes, and a dispatcher run (15 minutes) must fit one invocation and hand on.
 */
export const MAX_FUNCTION_TIMEOUT_SECONDS = 840;

/** A trigger as listed. */
export interface TriggerSummary {
  readonly name: string;
  readonly topic: string;
  readonly functionName: string;
  readonly groupId: string;
  readonly state: 'Enabled' | 'Disabled';
}

/** The last error a dispatcher met delivering a trigger. */
export interface TriggerError {
  readonly message: string;
  readonly code: string;
  readonly at: Date;
}

/** One partition of a trigger, as `describeTrigger` shows it. */
export interface TriggerPartitionState {
  readonly partition: number;
  /** The next offset to deliver; undefined before the first delivery from the log start. */
  readonly committedOffset: number | undefined;
  readonly highWatermark: number;
  /** Records not yet delivered (or given up on). */
  readonly lag: number;
  /** Age of the oldest undelivered record (ms); 0 when caught up. */
  readonly lagMs: number;
  /** A dispatcher holds the partition now (a batch is, or may be, in flight). */
  readonly inFlight: boolean;
  /** When the partition needs a dispatcher next; undefined when idle. */
  readonly dueAt: Date | undefined;
}

/** A trigger with its settings and delivery state. */
export interface TriggerDescription extends TriggerSummary {
  readonly settings: TriggerSettings;
  readonly createdAt: Date;
  readonly updatedAt: Date;
  readonly lastError: TriggerError | undefined;
  /** Partitions with a batch in flight now. */
  readonly inFlightBatches: number;
  readonly partitions: readonly TriggerPartitionState[];
}

/** A stored trigger with its parsed settings. */
export interface TriggerRecordOf {
  readonly stored: StoredTrigger;
  readonly settings: TriggerSettings;
}

/** Trigger administration over the tables. */
export class TriggerRegistry {
  readonly #ctx: StorageContext;
  readonly #topics: TopicRegistry;
  readonly #store: TopicStore;
  readonly #functions: FunctionLookup;

  constructor(ctx: StorageContext, topics: TopicRegistry, functions: FunctionLookup) {
    this.#ctx = ctx;
    this.#topics = topics;
    this.#store = new TopicStore(ctx);
    this.#functions = functions;
  }

  /** Creates a trigger; typed errors, and nothing written, for any bad setting or missing topic/function. */
  async create(config: TriggerConfig): Promise<TriggerDescription> {
    const settings = validateTriggerConfig(config);
    const topic = await this.#topics.get(settings.topic);
    await this.#checkReferences(settings);
    if (await this.#store.getTrigger(settings.name)) throw new TriggerAlreadyExistsError(settings.name);
    // The group's starting offsets first: a creation interrupted after them is simply repeated
    // (they are set only where none is), and one interrupted before the trigger item exists
    // leaves no trigger that could start from the wrong place.
    await this.#initGroup(settings, topic);
    const now = this.#ctx.now();
    const created = await this.#store.createTrigger({
      name: settings.name,
      settings: JSON.stringify(settings),
      version: 1,
      createdAt: now,
      updatedAt: now,
      lastError: undefined,
    });
    if (!created) throw new TriggerAlreadyExistsError(settings.name);
    return this.describe(settings.name);
  }

  /** Applies `update` to a trigger (create-only settings may be repeated unchanged). */
  async update(name: string, update: TriggerUpdate): Promise<TriggerDescription> {
    for (let attempt = 0; ; attempt++) {
      const current = await this.get(name);
      const settings = updateTriggerSettings(current.settings, update);
      await this.#checkReferences(settings);
      if (
        await this.#store.updateTrigger(
          name,
          current.stored.version,
          JSON.stringify(settings),
          this.#ctx.now(),
        )
      ) {
        if (settings.enabled && !current.settings.enabled) await this.#markAllDue(settings);
        return this.describe(name);
      }
      // Another update landed between our read and write: apply ours on top of it (or report it gone).
      if (attempt >= 5) throw new TriggerNotFoundError(name);
    }
  }

  /** Deletes a trigger. Its consumer group and committed offsets stay (a new trigger on the group resumes there). */
  async delete(name: string): Promise<void> {
    if (!isTriggerName(name) || !(await this.#store.deleteTrigger(name)))
      throw new TriggerNotFoundError(name);
  }

  /** A trigger's stored item and settings; {@link TriggerNotFoundError} when there is none. */
  async get(name: string): Promise<TriggerRecordOf> {
    // A name no trigger can have (illegal characters, over 249 long) is simply not found.
    const stored = isTriggerName(name) ? await this.#store.getTrigger(name) : undefined;
    if (!stored) throw new TriggerNotFoundError(name);
    return { stored, settings: settingsOf(stored) };
  }

  /** Every trigger, sorted by name. */
  async list(): Promise<TriggerRecordOf[]> {
    return recordsOf(await this.#store.listTriggers());
  }

  /**
   * Every trigger (sorted by name) and every live topic by name, from one scan of the topics
   * table: the dispatcher's sweep reads no topic item of its own.
   */
  async listWithTopics(): Promise<{
    readonly triggers: TriggerRecordOf[];
    readonly topics: ReadonlyMap<string, TopicMetadata>;
  }> {
    const { triggers, topics } = await this.#store.listTriggersAndTopics();
    return { triggers: recordsOf(triggers), topics: new Map(topics.map((t) => [t.name, t])) };
  }

  /** A trigger with its state, last error, in-flight batches and lag per partition (records and time). */
  async describe(name: string): Promise<TriggerDescription> {
    const { stored, settings } = await this.get(name);
    let topic: TopicMetadata | undefined;
    try {
      topic = await this.#topics.get(settings.topic);
    } catch (error) {
      if (!(error instanceof TopicNotFoundError)) throw error;
    }
    const partitions: TriggerPartitionState[] = [];
    if (topic) {
      const states = new Map<number, DispatchState>(
        (await new LeaseStore(this.#ctx, settings.groupId).dispatchStates(topic.name)).map((s) => [
          s.partition,
          s,
        ]),
      );
      const now = this.#ctx.now();
      const lag = await new GroupAdmin(this.#ctx, this.#topics).lagOf(topic, states, now);
      for (let partition = 0; partition < topic.partitions; partition++) {
        const state = states.get(partition);
        const committed = state?.incarnation === topic.incarnation ? state.committed : undefined;
        const measured = lag.get(partition)!;
        partitions.push({
          partition,
          committedOffset: committed,
          highWatermark: measured.highWatermark,
          lag: measured.lag,
          lagMs: measured.lagMs,
          inFlight: state?.heldUntil !== undefined && state.heldUntil > now,
          dueAt: state?.due === undefined ? undefined : new Date(state.due),
        });
      }
    }
    const lastError = stored.lastError
      ? (JSON.parse(stored.lastError) as { message: string; code: string; at: number })
      : undefined;
    return {
      ...summaryOf(settings),
      settings,
      createdAt: new Date(stored.createdAt),
      updatedAt: new Date(stored.updatedAt),
      lastError: lastError
        ? { message: lastError.message, code: lastError.code, at: new Date(lastError.at) }
        : undefined,
      inFlightBatches: partitions.filter((p) => p.inFlight).length,
      partitions,
    };
  }

  /** Records the last delivery error of a trigger (or clears it). */
  async recordError(name: string, error: { message: string; code: string } | undefined): Promise<void> {
    await this.#store.setTriggerError(
      name,
      error === undefined ? undefined : JSON.stringify({ ...error, at: this.#ctx.now() }),
    );
  }

  /** The destination topic and the function must exist; checked before anything is written. */
  async #checkReferences(settings: TriggerSettings): Promise<void> {
    const destination = onFailureDestination(settings);
    if (destination?.kind === 'topic') await this.#topics.get(destination.topic);
    const fn = parseFunctionName(settings.functionName);
    const facts = await this.#functions(settings.functionName);
    if (!facts) throw new FunctionNotFoundError(fn.functionName);
    if (facts.timeoutSeconds > MAX_FUNCTION_TIMEOUT_SECONDS) {
      throw new InvalidTriggerError(
        'functionName',
        settings.functionName,
        `its timeout is ${facts.timeoutSeconds} s; a trigger's function may run at most ${MAX_FUNCTION_TIMEOUT_SECONDS} s ` +
          "(14 minutes, as for Lambda's Kafka event source mappings)",
      );
    }
  }

  async #initGroup(settings: TriggerSettings, topic: TopicMetadata): Promise<void> {
    const leases = new LeaseStore(this.#ctx, settings.groupId);
    await leases.ensureGroup();
    if (settings.startingPosition === 'TRIM_HORIZON') {
      await this.#markAllDue(settings);
      return;
    }
    await Promise.all(
      Array.from({ length: topic.partitions }, async (_, partition) => {
        const reader = new PartitionReader(this.#ctx, partitionRef(topic, partition));
        const offset =
          settings.startingPosition === 'AT_TIMESTAMP'
            ? ((await offsetForTimestamp(reader, (settings.startingPositionTimestamp ?? 0) * 1000)) ??
              (await reader.highWatermark()))
            : await reader.highWatermark();
        await leases.initOffset(topic.name, partition, offset, topic.incarnation);
        // AT_TIMESTAMP may start behind the end: deliver what is there now. And either way, look
        // again once every dispatcher knows the trigger (records produced meanwhile rang no bell).
        const due =
          settings.startingPosition === 'AT_TIMESTAMP'
            ? this.#ctx.now()
            : this.#ctx.now() + TRIGGER_LIST_MAX_AGE_MS + 1_000;
        await leases.ring(topic.name, partition, due);
      }),
    );
  }

  /** Rings every partition of the trigger's topic, so the next sweep looks at all of them. */
  async #markAllDue(settings: TriggerSettings): Promise<void> {
    const topic = await this.#topics.get(settings.topic);
    const leases = new LeaseStore(this.#ctx, settings.groupId);
    await Promise.all(
      Array.from({ length: topic.partitions }, (_, partition) => leases.ring(topic.name, partition)),
    );
  }
}

/** Trigger names follow topic names' rules. */
function isTriggerName(name: unknown): name is string {
  return typeof name === 'string' && LEGAL_TOPIC_NAME.test(name);
}

/** Stored triggers with their settings, sorted by name. */
function recordsOf(stored: readonly StoredTrigger[]): TriggerRecordOf[] {
  return stored
    .map((t) => ({ stored: t, settings: settingsOf(t) }))
    .sort((a, b) => (a.stored.name < b.stored.name ? -1 : a.stored.name > b.stored.name ? 1 : 0));
}

/**
 * Stored settings with every key of {@link TriggerSettings} present: JSON drops undefined values,
 * so the optional ones are put back as undefined (both transports then answer the same shape).
 */
function settingsOf(stored: StoredTrigger): TriggerSettings {
  const parsed = JSON.parse(stored.settings) as TriggerSettings;
  return {
    ...parsed,
    startingPositionTimestamp: parsed.startingPositionTimestamp,
    scalingConfig: { maximumConcurrency: parsed.scalingConfig?.maximumConcurrency },
  };
}

/** The listing view of settings. */
export function summaryOf(settings: TriggerSettings): TriggerSummary {
  return {
    name: settings.name,
    topic: settings.topic,
    functionName: settings.functionName,
    groupId: settings.groupId,
    state: settings.enabled ? 'Enabled' : 'Disabled',
  };
}
