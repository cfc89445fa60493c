// Whether an error means "Kafka cannot be reached right now" (retry with back-off) rather than a fault to report.
// librdkafka's codes say it when they are there; some of the client's errors carry only text (code -1, or a
// plain Error from a timed-out call), and this is the one place that reads it.
import { ErrorCodes, RtcrmError } from "../errors.js";
import { KafkaErrors } from "./settings.js";

const UNREACHABLE_CODES = new Set<number>([
  KafkaErrors.ALL_BROKERS_DOWN,
  KafkaErrors.TRANSPORT,
  KafkaErrors.TIMED_OUT,
]);

const UNREACHABLE_TEXT = /timed out|transport|brokers? (are )?down|connect|ECONNREFUSED|Local: Broker/i;

export function isUnreachable(error: unknown): boolean {
  // The engine's own errors say whether trying again may help; only Kafka's are then read further.
  if (error instanceof RtcrmError && !error.canRetry && error.code !== ErrorCodes.KAFKA) return false;
  for (const e of [error, (error as { cause?: unknown } | null)?.cause]) {
    const code = (e as { code?: unknown } | null)?.code;
    if (typeof code === "number" && UNREACHABLE_CODES.has(code)) return true;
  }
  const message = (error as { message?: unknown } | null)?.message;
  return typeof message === "string" && UNREACHABLE_TEXT.test(message);
}
