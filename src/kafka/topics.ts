// Checks at start that the engine's topics exist; creates the missing ones where the configuration allows.
import rdkafka from "@confluentinc/kafka-javascript";
import type { Config } from "../config/config.js";
import { ErrorCodes, RtcrmError } from "../errors.js";
import type { Logger } from "../logging/logger.js";
import { authorizationError } from "./authorization.js";
import { clientSettings, KafkaErrors, type RdSettings } from "./settings.js";

export interface TopicPlan {
  readonly topic: string;
  readonly partitions: number;
  readonly compacted: boolean;
}

export function plannedTopics(config: Config): TopicPlan[] {
  const n = config.new_topic_partitions;
  return [
    { topic: config.campaign_topic, partitions: 1, compacted: true },
    { topic: config.campaign_status_topic, partitions: 1, compacted: true },
    { topic: config.event_topic, partitions: n, compacted: false },
    { topic: config.trigger_topic, partitions: n, compacted: false },
    { topic: config.dead_letter_topic, partitions: n, compacted: false },
    { topic: config.holdout_topic, partitions: n, compacted: false },
    ...(config.events_keyed_by_player
      ? []
      : [{ topic: config.rules_repartition_topic, partitions: n, compacted: false }]),
  ];
}

function listTopics(admin: rdkafka.IAdminClient, timeoutMs: number): Promise<string[]> {
  return new Promise((resolve, reject) =>
    admin.listTopics({ timeout: timeoutMs }, (err, topics) => (err ? reject(err) : resolve(topics))),
  );
}

/**
 * Creates the topic (an existing one is fine). Refused by Kafka's ACLs: a KafkaAuthorizationError naming the
 * topic, Create, and the admin's alternative of creating it beforehand.
 */
function createTopic(
  admin: rdkafka.IAdminClient,
  settings: RdSettings,
  plan: TopicPlan,
  timeoutMs: number,
): Promise<void> {
  return new Promise((resolve, reject) =>
    admin.createTopic(
      {
        topic: plan.topic,
        num_partitions: plan.partitions,
        replication_factor: -1,
        config: plan.compacted ? { "cleanup.policy": "compact" } : {},
      },
      timeoutMs,
      (err) => {
        if (!err || err.code === KafkaErrors.TOPIC_ALREADY_EXISTS) return resolve();
        const refused = authorizationError(err, settings, plan.topic, "Create", {
          detail:
            `the topic is missing, or this principal may not describe it; have an admin create it beforehand ` +
            `(${plan.partitions} partitions${plan.compacted ? ", cleanup.policy=compact" : ""}) and grant ` +
            `the operations README "Kafka permissions" lists, or grant Create`,
        });
        reject(refused ?? err);
      },
    ),
  );
}

/**
 * The delivery rules' changelog topic: partition i holds the state of the state topic's partition i, so it has as
 * many partitions (created so when it is missing; a different count stops the start with the reason).
 */
export async function ensureChangelog(
  config: Config,
  stateTopic: string,
  statePartitions: number,
  changelogPartitions: number | null,
  log: Logger,
  timeoutMs = 30_000,
): Promise<void> {
  const topic = config.rules_changelog_topic;
  if (changelogPartitions !== null) {
    if (changelogPartitions === statePartitions) return;
    throw new RtcrmError(
      ErrorCodes.TOPIC_MISSING,
      `${topic} has ${changelogPartitions} partitions but ${stateTopic} has ${statePartitions}; the delivery rules' changelog needs one partition per partition of ${stateTopic} (delete it and let the engine create it, or create it with ${statePartitions})`,
    );
  }
  if (!config.create_topics)
    throw new RtcrmError(
      ErrorCodes.TOPIC_MISSING,
      `missing topic ${topic} (compacted, ${statePartitions} partitions); create it or set create_topics to true`,
    );
  const settings = clientSettings(config, "admin");
  const admin = rdkafka.AdminClient.create(settings);
  try {
    await createTopic(admin, settings, { topic, partitions: statePartitions, compacted: true }, timeoutMs);
    log.info("topic created", { topic, partitions: statePartitions, compacted: true });
  } finally {
    admin.disconnect();
  }
}

/** Resolves when every topic exists; throws RtcrmError(TOPIC_MISSING) naming all missing ones when it may not create them. */
export async function ensureTopics(config: Config, log: Logger, timeoutMs = 30_000): Promise<void> {
  const settings = clientSettings(config, "admin");
  const admin = rdkafka.AdminClient.create(settings);
  try {
    const existing = new Set(await listTopics(admin, timeoutMs));
    const missing = plannedTopics(config).filter((p) => !existing.has(p.topic));
    if (missing.length === 0) return;
    if (!config.create_topics) {
      throw new RtcrmError(
        ErrorCodes.TOPIC_MISSING,
        `missing topic(s): ${missing.map((m) => m.topic).join(", ")} (or this principal may not describe them); ` +
          "create them or set create_topics to true",
      );
    }
    for (const plan of missing) {
      await createTopic(admin, settings, plan, timeoutMs);
      log.info("topic created", {
        topic: plan.topic,
        partitions: plan.partitions,
        compacted: plan.compacted,
      });
    }
  } finally {
    admin.disconnect();
  }
}
