// Before the engine starts its clients: can it reach Kafka, and does Kafka accept its credentials? A refused
// login is reported at once with what to change; librdkafka alone would retry it for ever as a "transport
// failure", which looks like an outage.
import rdkafka from "@confluentinc/kafka-javascript";
import type { Config } from "../config/config.js";
import { ErrorCodes, RtcrmError } from "../errors.js";
import { clientSettings } from "./settings.js";

/** librdkafka's log lines for a refused login or a TLS handshake that cannot succeed. */
const REFUSED =
  /SASL authentication error|Authentication failed|SASL handshake failed|SSL handshake failed|certificate verify failed|unsupported SASL mechanism/i;

/**
 * Resolves once a client connected, rejects with KAFKA_AUTH on a refused login (not worth retrying) or with a
 * retriable KAFKA error when no broker answered within `timeoutMs`. The timeout is short because a pending
 * connect holds the process at exit for as long as it lasts.
 */
export function checkKafkaAccess(config: Config, timeoutMs = 5_000): Promise<void> {
  const client = new rdkafka.Producer({ ...clientSettings(config, "access-check"), event_cb: true });
  return new Promise<void>((resolve, reject) => {
    let settled = false;
    const settle = (error: Error | null): void => {
      if (settled) return;
      settled = true;
      client.removeAllListeners("event.log");
      if (client.isConnected()) client.disconnect(5_000, () => undefined);
      if (error) reject(error);
      else resolve();
    };
    client.on("event.log", (entry: { message: string }) => {
      if (!REFUSED.test(entry.message)) return;
      const detail = entry.message.replace(/^\[thrd:[^\]]*\]:\s*/, "");
      settle(
        new RtcrmError(
          ErrorCodes.KAFKA_AUTH,
          `Kafka at ${config.kafka_bootstrap_servers} refused the engine's login: ${detail}. Check the security ` +
            'settings in the "kafka" config map (security.protocol, sasl.mechanisms, sasl.username, ' +
            "sasl.password, ssl.*), or their RTCRM_KAFKA__* environment variables.",
        ),
      );
    });
    client.connect({ timeout: timeoutMs }, (err) =>
      settle(
        err
          ? new RtcrmError(
              ErrorCodes.KAFKA,
              `Kafka at ${config.kafka_bootstrap_servers} cannot be reached: ${err.message}`,
              { cause: err, canRetry: true },
            )
          : null,
      ),
    );
  });
}
