// librdkafka settings shared by every client of the engine, from the configuration.
import { hostname } from "node:os";
import rdkafka from "@confluentinc/kafka-javascript";
import type { Config } from "../config/config.js";

export type RdSettings = Record<string, string | number | boolean>;

export function clientSettings(config: Config, role: string): RdSettings {
  return {
    "bootstrap.servers": config.kafka_bootstrap_servers,
    "client.id": `rtcrm-${role}-${hostname()}`,
    // Reconnect with back-off for ever: an unreachable broker is reported, never a reason to exit.
    "reconnect.backoff.ms": 100,
    "reconnect.backoff.max.ms": 10_000,
    "socket.keepalive.enable": true,
    ...config.kafka,
  };
}

const { CODES } = rdkafka;

/** librdkafka error codes the engine reacts to. */
export const KafkaErrors = {
  ASSIGN_PARTITIONS: CODES.ERRORS.ERR__ASSIGN_PARTITIONS,
  REVOKE_PARTITIONS: CODES.ERRORS.ERR__REVOKE_PARTITIONS,
  ALL_BROKERS_DOWN: CODES.ERRORS.ERR__ALL_BROKERS_DOWN,
  TRANSPORT: CODES.ERRORS.ERR__TRANSPORT,
  TIMED_OUT: CODES.ERRORS.ERR__TIMED_OUT,
  AUTHENTICATION: CODES.ERRORS.ERR__AUTHENTICATION,
  SASL_AUTHENTICATION_FAILED: CODES.ERRORS.ERR_SASL_AUTHENTICATION_FAILED,
  TOPIC_ALREADY_EXISTS: CODES.ERRORS.ERR_TOPIC_ALREADY_EXISTS,
  /** The client failed for good (a consumer group member: fenced by a newer member with its group.instance.id). */
  FATAL: CODES.ERRORS.ERR__FATAL,
  FENCED_INSTANCE_ID: CODES.ERRORS.ERR_FENCED_INSTANCE_ID,
} as const;
