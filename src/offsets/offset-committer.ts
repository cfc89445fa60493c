// At-least-once: per partition, the offset below which every event is fully processed (its records
// acknowledged) is committed: asynchronously on the interval (a blocking round trip would stall the main
// thread), synchronously at revoke and at stop. A crash re-processes at most what was done since the last commit.
import { errorMessage } from "../errors.js";
import type { AckingProducer } from "../kafka/acking-producer.js";
import type { EventConsumer } from "../kafka/event-consumer.js";
import type { Logger } from "../logging/logger.js";
import type { Telemetry } from "../telemetry.js";
import type { Assignments, PartitionOffset } from "./assignments.js";
import type { Committer, RecordOutput } from "./committer.js";

export class OffsetCommitter implements Committer {
  readonly output: RecordOutput;
  readonly #consumer: EventConsumer;
  readonly #assignments: Assignments;
  readonly #intervalMs: number;
  readonly #telemetry: Telemetry;
  readonly #log: Logger;
  #timer: NodeJS.Timeout | undefined;
  #startedAt = 0;
  #stopped = false;
  /** Whether the last synchronous commit (at a revoke or at stop) succeeded. */
  #syncCommitted = true;

  constructor(
    producer: AckingProducer,
    consumer: EventConsumer,
    assignments: Assignments,
    options: { intervalMs: number; telemetry: Telemetry; log: Logger },
  ) {
    this.output = producer;
    this.#consumer = consumer;
    this.#assignments = assignments;
    this.#intervalMs = options.intervalMs;
    this.#telemetry = options.telemetry;
    this.#log = options.log;
    consumer.onCommitted((error, offsets) => this.#onCommitted(error, offsets));
  }

  start(): void {
    this.#timer = setInterval(() => this.#commit(false), this.#intervalMs);
  }

  whenAssigning(assign: () => void): void {
    assign();
  }

  revoking(): void {
    if (!this.#stopped) this.#commitSync();
  }

  /** Resolves false when the last synchronous commit (this one, or at a revoke with nothing since) failed. */
  stop(): Promise<boolean> {
    if (!this.#stopped) {
      clearInterval(this.#timer);
      this.#commitSync();
      this.#stopped = true;
    }
    return Promise.resolve(this.#syncCommitted);
  }

  #commitSync(): void {
    const result = this.#commit(true);
    if (result !== "nothing") this.#syncCommitted = result;
  }

  /** False when the commit failed (it is tried again at the next interval, unless stopped). */
  #commit(sync: boolean): boolean | "nothing" {
    const offsets = this.#assignments.committable(sync);
    if (offsets.length === 0) return "nothing";
    this.#startedAt = Date.now();
    try {
      if (sync) this.#consumer.commitSync(offsets);
      else this.#consumer.commit(offsets);
      this.#assignments.markCommitted(offsets);
      return true;
    } catch (error) {
      this.#log.warn("offset commit failed; retrying at the next interval", { error: errorMessage(error) });
      return false;
    }
  }

  /** An asynchronous commit failed: those partitions are committed again at the next interval. */
  #onCommitted(error: Error | null, offsets: readonly PartitionOffset[]): void {
    if (!error) {
      this.#telemetry.publish("committed", Date.now() - this.#startedAt, offsets);
      return;
    }
    this.#log.warn("offset commit failed; retrying at the next interval", { error: error.message });
    this.#assignments.markCommitted(offsets, true);
  }
}
