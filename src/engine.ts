// Wires the stages in flow order: topics, campaigns in (compiled to sandboxed filters), events in, batches built,
// evaluation in the worker pool, triggers out, offsets committed. Start and a two-phase stop.
import { CampaignReader } from "./campaigns/campaign-reader.js";
import { CampaignSet, type ActiveCampaign } from "./campaigns/campaign-set.js";
import { Quarantine } from "./campaigns/quarantine.js";
import { FilterCompiler } from "./compile/filter-compiler.js";
import { fuelFor, globalFrequencyCap, type Config } from "./config/config.js";
import { ErrorCodes, RtcrmError, errorMessage } from "./errors.js";
import type { Outcome } from "./evaluation/outcome.js";
import { BatchBuilder } from "./events/batch-builder.js";
import { EventPipeline } from "./events/event-pipeline.js";
import { checkKafkaAccess } from "./kafka/access-check.js";
import { AckingProducer } from "./kafka/acking-producer.js";
import { authorizationError } from "./kafka/authorization.js";
import { EventConsumer } from "./kafka/event-consumer.js";
import { instanceName } from "./kafka/group-membership.js";
import { clientSettings } from "./kafka/settings.js";
import { ensureChangelog, ensureTopics } from "./kafka/topics.js";
import { isUnreachable } from "./kafka/unreachable.js";
import type { Logger } from "./logging/logger.js";
import { Assignments } from "./offsets/assignments.js";
import type { Committer } from "./offsets/committer.js";
import { OffsetCommitter } from "./offsets/offset-committer.js";
import { TransactionalCommitter } from "./offsets/transactional-committer.js";
import { EvaluatorPool } from "./pool/evaluator-pool.js";
import { loadEngineModule, type EngineModule } from "./sandbox/engine-module.js";
import { ChangelogRestorer } from "./rules/changelog-restore.js";
import { DeliveryStage } from "./rules/delivery-stage.js";
import { RuleRouter } from "./rules/rule-router.js";
import { StateStore, stateDirectory } from "./rules/state-store.js";
import { Telemetry } from "./telemetry.js";
import { TriggerSink } from "./triggers/trigger-sink.js";

export interface EngineParts {
  readonly campaigns: CampaignSet;
  readonly compiler: FilterCompiler;
  readonly pool: EvaluatorPool;
  /** Triggers and dead letters (transactional in exactly-once mode). */
  readonly producer: AckingProducer;
  /** Campaign status records: never inside a transaction, whose abort would lose them. */
  readonly statusProducer: AckingProducer;
  readonly reader: CampaignReader;
  readonly pipeline: EventPipeline;
  readonly rules: {
    readonly stage: DeliveryStage;
    readonly restorer: ChangelogRestorer;
    readonly store: StateStore;
  };
}

/** How long one transaction step may take (exactly-once). */
const TRANSACTION_STEP_TIMEOUT_MS = 30_000;

export class Engine {
  readonly parts: EngineParts;
  readonly #config: Config;
  readonly #log: Logger;
  #stopping: Promise<boolean> | undefined;

  private constructor(config: Config, log: Logger, parts: EngineParts) {
    this.#config = config;
    this.#log = log;
    this.parts = parts;
  }

  /**
   * Starts every stage; the event side starts only after the campaign topic was read to its end. Outcomes,
   * commits, statistics and fatal errors are published on `telemetry`.
   */
  static async start(
    config: Config,
    log: Logger,
    telemetry: Telemetry = new Telemetry(),
    engine: EngineModule = loadEngineModule(),
  ): Promise<Engine> {
    // How long each step of the start took (logged with "engine started"): the start is what a restart waits for.
    const steps: Record<string, number> = {};
    let stepAt = performance.now();
    const step = (name: string): void => {
      const now = performance.now();
      steps[name] = Math.round(now - stepAt);
      stepAt = now;
    };
    await retryWhileUnreachable(log, () => checkKafkaAccess(config));
    step("kafkaAccess");
    await retryWhileUnreachable(log, () => ensureTopics(config, log));
    step("topics");
    const compiler = new FilterCompiler(engine, config.filters_compiled_dir);
    // The pool exists once the campaign topic is read; removals before that have nothing to unload.
    const started: { pool?: EvaluatorPool; reader?: CampaignReader } = {};
    const quarantine = new Quarantine({
      after: config.quarantine_after,
      windowMs: config.quarantine_window_ms,
    });
    const campaigns = new CampaignSet({
      compiler,
      quarantined: (versionKey) => quarantine.reason(versionKey),
      limitsFor: (id) => ({
        fuel: fuelFor(config, id),
        memoryBytes: config.memory_limit_bytes,
        deadlineMs: config.call_deadline_ms,
      }),
      onRemoved: (removed) => {
        started.pool?.retire(removed.campaign.versionKey);
        compiler.forget(removed.campaign.filter);
        quarantine.forgetStrikes(removed.campaign.versionKey);
      },
    });
    const exactlyOnce = config.delivery === "exactly-once";
    const producer = new AckingProducer(
      clientSettings(config, "producer"),
      log.child({ component: "producer" }),
      exactlyOnce ? { transactionalId: transactionalId(config) } : {},
    );
    await retryWhileUnreachable(log, () => producer.connect(30_000));
    const statusProducer = exactlyOnce
      ? new AckingProducer(clientSettings(config, "status-producer"), log.child({ component: "status" }))
      : producer;
    if (statusProducer !== producer) await retryWhileUnreachable(log, () => statusProducer.connect(30_000));
    step("producers");
    const pool = new EvaluatorPool({
      engine,
      ...(config.workers === null ? {} : { workers: config.workers }),
      watchdogMs: config.watchdog_ms,
      isCurrent: (ref) =>
        campaigns.get(ref.campaign.campaignId)?.campaign.versionKey === ref.campaign.versionKey,
      quarantine: { after: config.quarantine_after, windowMs: config.quarantine_window_ms },
      campaignsMemoryBytes: config.worker_memory_limit_bytes,
    });
    started.pool = pool;
    pool.on("worker-failure", (error) =>
      log.warn("evaluation worker replaced", { error: errorMessage(error) }),
    );
    /** Takes a campaign version out of the set and says so on the status topic (if it is still the current one). */
    const quarantineVersion = (campaignId: number, versionKey: string, reason: string): void => {
      pool.quarantine(versionKey);
      const status = campaigns.quarantine(campaignId, versionKey, reason, "engine");
      if (status) started.reader?.publish(status);
    };
    const reader = new CampaignReader(config, campaigns, statusProducer, log, (status) => {
      // Read at start, or decided by another instance (this one's own records are known already).
      const reason = status.reasons?.[0] ?? "quarantined";
      if (quarantine.remember(status.version, reason))
        quarantineVersion(status.campaign_id, status.version, reason);
    });
    started.reader = reader;
    step("pool");
    await retryWhileUnreachable(log, () => reader.start());
    step("campaigns");
    telemetry.on("outcome", filterProblems(log, quarantine, quarantineVersion));

    // The delivery rules' state: its partitions follow those of the state topic, restored from the changelog.
    const restorer = new ChangelogRestorer(config);
    const keyed = config.events_keyed_by_player;
    const stateTopic = keyed ? config.event_topic : config.rules_repartition_topic;
    const statePartitions = await retryWhileUnreachable(log, () => restorer.partitionCount(stateTopic));
    if (statePartitions === null)
      throw new RtcrmError(
        ErrorCodes.TOPIC_MISSING,
        `missing topic ${stateTopic}; create it or set create_topics`,
      );
    const changelogPartitions = await restorer.partitionCount(config.rules_changelog_topic);
    await ensureChangelog(config, stateTopic, statePartitions, changelogPartitions, log);
    const store = StateStore.open(stateDirectory(config.state_dir, transactionalId(config)));
    step("state");

    // The event path, in flow order: consumer loop -> batch builder -> pool -> trigger sink (-> delivery rules,
    // directly or through the repartition topic) -> committer.
    const eventsLog = log.child({ component: "events" });
    const consumer = new EventConsumer(config, telemetry, eventsLog, keyed ? [] : [stateTopic]);
    const assignments = new Assignments();
    let committer: Committer;
    if (exactlyOnce) {
      const transactional = new TransactionalCommitter(producer, consumer, assignments, {
        intervalMs: config.commit_interval_ms,
        timeoutMs: TRANSACTION_STEP_TIMEOUT_MS,
        telemetry,
        log: eventsLog,
      });
      await retryWhileUnreachable(log, () => transactional.initTransactions(60_000)).catch(
        (error: unknown) => {
          // Kafka's ACLs refuse the transactional id: say which ACL is missing (README, Kafka permissions).
          throw (
            authorizationError(error, clientSettings(config, "producer"), config.event_topic, "Write", {
              transactionalId: transactionalId(config),
              group: config.kafka_group_id,
            }) ?? error
          );
        },
      );
      committer = transactional;
    } else {
      committer = new OffsetCommitter(producer, consumer, assignments, {
        intervalMs: config.commit_interval_ms,
        telemetry,
        log: eventsLog,
      });
    }
    const globalCap = globalFrequencyCap(config);
    const stage = new DeliveryStage(config, {
      store,
      restorer,
      output: committer.output,
      telemetry,
      log: log.child({ component: "rules" }),
      globalCap,
      rulesOf: (id) => campaigns.get(id)?.campaign.rules,
    });
    const router = new RuleRouter(config, stage, committer.output, globalCap, keyed ? null : statePartitions);
    const sink = new TriggerSink(config, committer.output, telemetry, eventsLog, router);
    router.sink = sink;
    const builder = new BatchBuilder(config, campaigns, pool, sink, telemetry, eventsLog, router);
    const statePartitionsOf = (tps: readonly { topic: string; partition: number }[]): number[] =>
      tps.filter((tp) => tp.topic === stateTopic).map((tp) => tp.partition);
    const pipeline = new EventPipeline(
      config,
      {
        consumer,
        assignments,
        builder,
        committer,
        backlog: () => ({ queuedBatches: pool.queued, producerPending: producer.pending }),
        partitionListener: {
          assigned: (tps) => stage.assign(statePartitionsOf(tps)),
          revoked: (tps) => stage.revoke(statePartitionsOf(tps)),
        },
      },
      eventsLog,
    );
    step("transactions");
    await pipeline.start();
    step("consumer");
    log.info("engine started", {
      campaigns: campaigns.size,
      workers: pool.workers,
      compiled: compiler.stats,
      delivery: config.delivery,
      startMs: steps,
    });
    return new Engine(config, log, {
      campaigns,
      compiler,
      pool,
      producer,
      statusProducer,
      reader,
      pipeline,
      rules: { stage, restorer, store },
    });
  }

  /**
   * Stops fetching, finishes in-flight batches, flushes the producer and commits, within shutdown_timeout_ms.
   * Resolves true when everything finished (no duplicates on restart), false when the deadline cut it short.
   * Idempotent.
   */
  stop(): Promise<boolean> {
    this.#stopping ??= this.#stop();
    return this.#stopping;
  }

  async #stop(): Promise<boolean> {
    const deadline = Date.now() + this.#config.shutdown_timeout_ms;
    const { pipeline, reader, producer, statusProducer, pool } = this.parts;
    let clean = await pipeline.stop(deadline);
    await reader.stop(Math.max(500, deadline - Date.now()));
    await this.parts.rules.stage.stop();
    await this.parts.rules.restorer.stop();
    for (const p of new Set([producer, statusProducer])) {
      try {
        await p.flush(Math.max(100, deadline - Date.now()));
      } catch (error) {
        clean = false;
        this.#log.error("producer not flushed before the deadline", { error: errorMessage(error) });
      }
      await p.disconnect(Math.max(500, deadline - Date.now()));
    }
    await pool.close(Math.max(500, deadline - Date.now()));
    await this.parts.rules.store.close();
    return clean;
  }
}

/** The configured transactional id, or one stable for this group on this host. */
export function transactionalId(config: Config): string {
  return instanceName(config);
}

/**
 * The outcome listener that logs filter problems (once per campaign version and kind) and quarantines versions
 * the sandbox keeps having to stop: they cost every other campaign (blame by outcome).
 */
function filterProblems(
  log: Logger,
  quarantine: Quarantine,
  quarantineVersion: (campaignId: number, versionKey: string, reason: string) => void,
): (active: ActiveCampaign, outcome: Outcome) => void {
  const reported = new Set<string>();
  return (active, outcome) => {
    if (outcome.kind === "match" || outcome.kind === "no-match" || outcome.kind === "skipped") return;
    const id = active.campaign.campaignId;
    const key = active.campaign.versionKey;
    const once = `${key}:${outcome.kind}`;
    // A skipped call of a quarantined version is not a problem of its own: the quarantine was logged.
    if (outcome.kind !== "quarantined" && !reported.has(once)) {
      reported.add(once);
      log.warn("campaign filter problem (reported once per campaign version and kind)", {
        campaign_id: id,
        outcome: outcome.kind,
        message: "message" in outcome ? outcome.message : undefined,
      });
    }
    const reason =
      outcome.kind === "quarantined"
        ? quarantine.remember(key, outcome.message ?? "quarantined by a worker")
          ? quarantine.reason(key)
          : undefined
        : quarantine.strike(key, outcome);
    if (reason !== undefined) quarantineVersion(id, key, reason);
  };
}

/** Runs `attempt` until it succeeds, backing off while Kafka cannot be reached; other errors are thrown. */
async function retryWhileUnreachable<T>(log: Logger, attempt: () => Promise<T>): Promise<T> {
  let delay = 1_000;
  for (;;) {
    try {
      return await attempt();
    } catch (error) {
      if (!isUnreachable(error)) throw error;
      log.warn("Kafka unreachable; retrying", { error: errorMessage(error), retryInMs: delay });
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(delay * 2, 30_000);
    }
  }
}
