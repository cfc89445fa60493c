// Whether the engine is ready for traffic: the campaign topic read to its end (Engine.start resolved) and Kafka
// reachable, judged from the events consumer's librdkafka statistics. Statistics report the state of every
// broker connection at each interval, so readiness comes back by itself when Kafka does; error events would
// only say when it went away.
import { anyBrokerUp, type ConsumerStats } from "./kafka-stats.js";

export type ReadinessStatus = "starting" | "stopping" | "kafka-unreachable" | "ready";

export interface ReadinessReport {
  readonly ready: boolean;
  readonly status: ReadinessStatus;
  readonly campaigns_read: boolean;
  readonly kafka_reachable: boolean;
  /** One line per unmet condition, saying what is missing. */
  readonly missing: readonly string[];
}

export class Readiness {
  readonly #staleAfterMs: number;
  readonly #now: () => number;
  #started = false;
  #stopping = false;
  #stats: { readonly at: number; readonly stats: ConsumerStats } | undefined;

  /** `staleAfterMs`: statistics older than this no longer count (the consumer stopped reporting). */
  constructor(staleAfterMs: number, now: () => number = Date.now) {
    this.#staleAfterMs = staleAfterMs;
    this.#now = now;
  }

  markStarted(): void {
    this.#started = true;
  }

  markStopping(): void {
    this.#stopping = true;
  }

  kafkaStats(stats: ConsumerStats): void {
    this.#stats = { at: this.#now(), stats };
  }

  report(): ReadinessReport {
    const missing: string[] = [];
    if (this.#stopping) missing.push("the engine is stopping");
    if (!this.#started)
      missing.push("campaigns: the campaign topic is not yet read to its end (the engine is starting)");
    const kafka = this.#kafkaProblem();
    if (kafka !== null) missing.push(`kafka: ${kafka}`);
    const status: ReadinessStatus = this.#stopping
      ? "stopping"
      : !this.#started
        ? "starting"
        : kafka !== null
          ? "kafka-unreachable"
          : "ready";
    return {
      ready: missing.length === 0,
      status,
      campaigns_read: this.#started,
      kafka_reachable: kafka === null,
      missing,
    };
  }

  #kafkaProblem(): string | null {
    const seen = this.#stats;
    if (seen === undefined) return "no statistics from the events consumer yet";
    const age = this.#now() - seen.at;
    if (age > this.#staleAfterMs)
      return `no statistics from the events consumer for ${Math.round(age / 1000)} s`;
    if (anyBrokerUp(seen.stats)) return null;
    const states = seen.stats.brokers.map((b) => `${b.name} ${b.state}`).join(", ");
    return `no broker connection is up (${states || "no brokers known"})`;
  }
}
