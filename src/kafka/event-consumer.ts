// The events topic's consumer: librdkafka's settings for fetching fast within a memory bound, and the calls the
// consumer loop and the committers make, in promise form where librdkafka answers later.
import rdkafka from "@confluentinc/kafka-javascript";
import type { Config } from "../config/config.js";
import { errorMessage } from "../errors.js";
import type { Logger } from "../logging/logger.js";
import type { Telemetry } from "../telemetry.js";
import { connectConsumer, consumeBatch, disconnectConsumer, returnReadyRecords } from "./consumer-util.js";
import { clientSettings, KafkaErrors } from "./settings.js";
import { isUnreachable } from "./unreachable.js";

export type TopicPartition = rdkafka.TopicPartition;
export type TopicPartitionOffset = rdkafka.TopicPartitionOffset;
export type ConsumedRecord = rdkafka.Message;

/** What the consumer group asks of its member: take these partitions, or give these back. */
export interface RebalanceHandler {
  assign(partitions: readonly TopicPartition[]): void;
  revoke(partitions: readonly TopicPartition[]): void;
}

/** Asynchronous commits report back here: null error, or why they failed. */
export type CommitListener = (error: Error | null, offsets: readonly TopicPartitionOffset[]) => void;

/**
 * Prefetched records librdkafka may hold (KiB). A full queue postpones the next fetch by
 * fetch.queue.backoff.ms, whose default (1 s) let a consumer of 600-byte events read 43,000 records/s instead of
 * 199,000 (BENCHMARKS.md, the event path).
 */
const QUEUED_KIB = 16_384;
const FETCH_QUEUE_BACKOFF_MS = 10;
/** How long consume() waits for a first record; afterwards it returns what is ready. */
const FIRST_RECORD_TIMEOUT_MS = 50;

export class EventConsumer {
  readonly topic: string;
  /** The events topic, and the rules' repartition topic when matches go through it. */
  readonly #topics: string[];
  readonly #consumer: rdkafka.KafkaConsumer;
  readonly #log: Logger;
  #handler: RebalanceHandler | undefined;
  #commitListener: CommitListener | undefined;
  #lastErrorLogged = 0;

  constructor(config: Config, telemetry: Telemetry, log: Logger, alsoRead: readonly string[] = []) {
    this.topic = config.event_topic;
    this.#topics = [config.event_topic, ...alsoRead];
    this.#log = log;
    const stats = telemetry.has("clientStats");
    this.#consumer = new rdkafka.KafkaConsumer(
      {
        ...clientSettings(config, "events"),
        "group.id": config.kafka_group_id,
        // Exactly-once end to end: events written in aborted transactions upstream are never evaluated.
        ...(config.delivery === "exactly-once" ? { "isolation.level": "read_committed" } : {}),
        "enable.auto.commit": false,
        "enable.auto.offset.store": false,
        "queued.max.messages.kbytes": QUEUED_KIB,
        "fetch.queue.backoff.ms": FETCH_QUEUE_BACKOFF_MS,
        offset_commit_cb: true,
        ...(stats ? { "statistics.interval.ms": telemetry.statsIntervalMs } : {}),
        rebalance_cb: (err: rdkafka.LibrdKafkaError, assignment: rdkafka.Assignment[]) =>
          this.#rebalance(err, assignment),
      },
      { "auto.offset.reset": config.auto_offset_reset },
    );
    returnReadyRecords(this.#consumer, FIRST_RECORD_TIMEOUT_MS);
    this.#consumer.on("event.error", (err) => this.reportError(err));
    this.#consumer.on("offset.commit", (err, offsets) =>
      this.#commitListener?.(err ? new Error(err.message, { cause: err }) : null, offsets),
    );
    if (stats) this.#consumer.on("event.stats", (s) => telemetry.publish("clientStats", s.message));
  }

  /** The librdkafka client, for the transaction's offsets (sendOffsetsToTransaction takes the consumer). */
  get client(): rdkafka.KafkaConsumer {
    return this.#consumer;
  }

  onRebalance(handler: RebalanceHandler): void {
    this.#handler = handler;
  }

  onCommitted(listener: CommitListener): void {
    this.#commitListener = listener;
  }

  async connect(timeoutMs: number): Promise<void> {
    await connectConsumer(this.#consumer, timeoutMs);
    this.#consumer.subscribe([...this.#topics]);
  }

  /** Up to `max` records: waits for the first one briefly, then takes what is ready. */
  consume(max: number): Promise<ConsumedRecord[]> {
    return consumeBatch(this.#consumer, max);
  }

  pause(partitions: readonly TopicPartition[]): void {
    this.#consumer.pause([...partitions]);
  }

  resume(partitions: readonly TopicPartition[]): void {
    this.#consumer.resume([...partitions]);
  }

  /** Asynchronous: the result comes to the commit listener. */
  commit(offsets: readonly TopicPartitionOffset[]): void {
    this.#consumer.commit([...offsets]);
  }

  commitSync(offsets: readonly TopicPartitionOffset[]): void {
    this.#consumer.commitSync([...offsets]);
  }

  /** Leaves the group and joins it again: every partition is then read again from its committed offset. */
  rejoin(): void {
    try {
      this.#consumer.unsubscribe();
      this.#consumer.subscribe([...this.#topics]);
    } catch (error) {
      this.#log.error("re-joining the consumer group failed", { error: errorMessage(error) });
    }
  }

  disconnect(timeoutMs: number): Promise<void> {
    return disconnectConsumer(this.#consumer, timeoutMs);
  }

  /** Logs a consumer error, at most every 10 s (an outage repeats its errors every second). */
  reportError(err: rdkafka.LibrdKafkaError | Error): void {
    const now = Date.now();
    if (now - this.#lastErrorLogged < 10_000) return;
    this.#lastErrorLogged = now;
    const code = (err as { code?: unknown }).code;
    this.#log.warn(isUnreachable(err) ? "Kafka unreachable; retrying" : "Kafka consumer error", {
      error: err.message,
      code,
    });
  }

  #rebalance(err: rdkafka.LibrdKafkaError, assignment: rdkafka.Assignment[]): void {
    const partitions = assignment.map((tp) => ({ topic: tp.topic, partition: tp.partition }));
    try {
      if (err.code === KafkaErrors.ASSIGN_PARTITIONS) {
        this.#handler?.assign(partitions);
      } else if (err.code === KafkaErrors.REVOKE_PARTITIONS) {
        this.#handler?.revoke(partitions);
        this.#consumer.unassign();
      } else {
        this.#log.error("rebalance error", { error: err.message, code: err.code });
      }
    } catch (error) {
      this.#log.error("rebalance handling failed", { error: errorMessage(error) });
    }
  }

  /** Takes `partitions` (after an assign callback), paused when fetching is paused. */
  assign(partitions: readonly TopicPartition[], paused: boolean): void {
    this.#consumer.assign([...partitions]);
    if (paused) this.#consumer.pause([...partitions]);
  }
}
