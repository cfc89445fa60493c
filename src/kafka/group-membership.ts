// How the engine is a member of its consumer group: static membership (KIP-345) under a group.instance.id that
// is stable across restarts, so that a restarted instance takes its partitions back at once without a rebalance;
// the session timeout after which a member that stopped (a crash) loses its partitions, and the heartbeat that
// goes with it; and what it means when the broker fences the member (another instance with the same id).
import { hostname } from "node:os";
import type { Config } from "../config/config.js";
import { ErrorCodes, RtcrmError, errorMessage } from "../errors.js";
import { KafkaErrors, type RdSettings } from "./settings.js";

/** The group_instance_id that turns static membership off: every start joins as a new member. */
export const DYNAMIC_MEMBERSHIP = "none";

/** The heartbeat never exceeds librdkafka's default (3 s), and is a tenth of the session timeout at most. */
const MAX_HEARTBEAT_MS = 3_000;

type Identity = Pick<Config, "kafka_group_id" | "transactional_id" | "group_instance_id">;

/** The instance's name, stable across its restarts: transactional_id when set, else rtcrm-<group>-<hostname>. */
export function instanceName(config: Pick<Config, "kafka_group_id" | "transactional_id">): string {
  return config.transactional_id || `rtcrm-${config.kafka_group_id}-${hostname()}`;
}

/** The consumer's group.instance.id, or null for dynamic membership. */
export function groupInstanceId(config: Identity): string | null {
  if (config.group_instance_id === DYNAMIC_MEMBERSHIP) return null;
  return config.group_instance_id || instanceName(config);
}

/** A tenth of the session timeout, at most 3 s: a live member learns of a rebalance within one heartbeat. */
export function heartbeatIntervalMs(sessionTimeoutMs: number): number {
  return Math.min(MAX_HEARTBEAT_MS, Math.floor(sessionTimeoutMs / 10));
}

/** librdkafka's settings of the events consumer's membership. */
export function membershipSettings(config: Identity & Pick<Config, "session_timeout_ms">): RdSettings {
  const id = groupInstanceId(config);
  return {
    ...(id === null ? {} : { "group.instance.id": id }),
    "session.timeout.ms": config.session_timeout_ms,
    "heartbeat.interval.ms": heartbeatIntervalMs(config.session_timeout_ms),
  };
}

/**
 * The consumer's error as the engine's own when it means the member is gone for good, else null. librdkafka's
 * consumer (classic group protocol) fails for good only when the broker answers FENCED_INSTANCE_ID: another
 * consumer joined with this member's group.instance.id and took its place.
 */
export function memberGoneError(error: unknown, config: Identity): RtcrmError | null {
  const code = (error as { code?: unknown } | null)?.code;
  if (code !== KafkaErrors.FATAL && code !== KafkaErrors.FENCED_INSTANCE_ID) return null;
  const id = groupInstanceId(config);
  if (id === null)
    return new RtcrmError(ErrorCodes.KAFKA, `the events consumer failed for good: ${errorMessage(error)}`, {
      cause: error,
    });
  return new RtcrmError(
    ErrorCodes.KAFKA_FENCED_INSTANCE,
    `another instance joined consumer group ${config.kafka_group_id} with this instance's group_instance_id ` +
      `${JSON.stringify(id)} and took its partitions; give every instance its own group_instance_id ` +
      `(RTCRM_GROUP_INSTANCE_ID, or a distinct transactional_id), or "none" for dynamic membership`,
    { cause: error },
  );
}
