// The events topic's consumer: librdkafka's settings for fetching fast within a memory bound, and the calls the
// consumer loop and the committers make, in promise form where librdkafka answers later.
import rdkafka from "@confluentinc/kafka-javascript";
import type { Config } from "../config/config.js";
import { errorMessage, type RtcrmError } from "../errors.js";
import type { Logger } from "../logging/logger.js";
import type { Telemetry } from "../telemetry.js";
import { connectConsumer, consumeBatch, disconnectConsumer, returnReadyRecords } from "./consumer-util.js";
import { authorizationError, isAuthorizationFailure } from "./authorization.js";
import { groupInstanceId, memberGoneError, membershipSettings } from "./group-membership.js";
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
/** How long a static member waits, at a graceful stop, for librdkafka to give back its partitions and leave. */
const LEAVE_TIMEOUT_MS = 5_000;

export class EventConsumer {
  readonly topic: string;
  /** The events topic, and the rules' repartition topic when matches go through it. */
  readonly #topics: string[];
  readonly #consumer: rdkafka.KafkaConsumer;
  readonly #log: Logger;
  readonly #config: Config;
  readonly #telemetry: Telemetry;
  /** Static membership: the consumer must leave the group explicitly at a graceful stop. */
  readonly #isStatic: boolean;
  /** Set once the member is gone for good (fenced); reported once. */
  #gone: RtcrmError | undefined;
  /** Told when a revoke was served (while leaving). */
  #onRevoked: (() => void) | undefined;
  #handler: RebalanceHandler | undefined;
  #commitListener: CommitListener | undefined;
  #lastErrorLogged = 0;

  constructor(config: Config, telemetry: Telemetry, log: Logger, alsoRead: readonly string[] = []) {
    this.topic = config.event_topic;
    this.#topics = [config.event_topic, ...alsoRead];
    this.#log = log;
    this.#config = config;
    this.#telemetry = telemetry;
    this.#isStatic = groupInstanceId(config) !== null;
    const stats = telemetry.has("clientStats");
    this.#consumer = new rdkafka.KafkaConsumer(
      {
        ...clientSettings(config, "events"),
        "group.id": config.kafka_group_id,
        ...membershipSettings(config),
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
    this.#consumer.on("offset.commit", (err, offsets) => {
      if (err) this.#memberGone(err);
      this.#commitListener?.(err ? new Error(err.message, { cause: err }) : null, offsets);
    });
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

  /**
   * Up to `max` records: waits for the first one briefly, then takes what is ready. Once the member is fenced
   * (another instance with its group_instance_id), rejects with RTCRM_KAFKA_FENCED_INSTANCE; once Kafka's ACLs
   * refuse its group or a topic, with RTCRM_KAFKA_NOT_AUTHORIZED. Both are also published as fatal: the process
   * must stop.
   */
  async consume(max: number): Promise<ConsumedRecord[]> {
    try {
      return await consumeBatch(this.#consumer, max);
    } catch (error) {
      throw this.#memberGone(error) ?? this.#refused(error) ?? error;
    }
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

  /** Leaves the group (a static member too, so that its partitions move at once) and closes the consumer. */
  async disconnect(timeoutMs: number): Promise<void> {
    if (this.#isStatic && !this.#gone) await this.#leave(Math.min(LEAVE_TIMEOUT_MS, timeoutMs));
    return disconnectConsumer(this.#consumer, timeoutMs);
  }

  /**
   * librdkafka closes a static member without LeaveGroup (KIP-345: a restart should find its partitions waiting),
   * so they would wait for session_timeout_ms. Unsubscribing before the close does send it (librdkafka skips it
   * only while closing), once the revoke is served, which takes a poll.
   */
  async #leave(timeoutMs: number): Promise<void> {
    const started = Date.now();
    try {
      const held = this.#consumer.assignments().length;
      let revoked = held === 0;
      this.#onRevoked = () => (revoked = true);
      this.#consumer.unsubscribe();
      // Polls serve the revoke; records still buffered are dropped (uncommitted: the next owner reads them).
      do {
        await consumeBatch(this.#consumer, 1);
      } while (!revoked && Date.now() - started < timeoutMs);
      this.#log.info("left the consumer group", { partitions: held, ms: Date.now() - started });
    } catch (error) {
      this.#log.warn("leaving the consumer group failed; its partitions move after the session timeout", {
        error: errorMessage(error),
      });
    }
  }

  /** The member's error if it means the member is gone for good (reported as fatal once), else undefined. */
  #memberGone(error: unknown): RtcrmError | undefined {
    if (this.#gone) return this.#gone;
    const gone = memberGoneError(error, this.#config);
    if (!gone) return undefined;
    this.#gone = gone;
    this.#telemetry.publish("fatal", gone);
    return gone;
  }

  /**
   * Kafka's ACLs refuse this member its group or a topic it reads (consume() fails with the code; the client's
   * error events carry only the text): librdkafka would retry for ever while the engine looked healthy and read
   * nothing, so it is fatal (RTCRM_KAFKA_NOT_AUTHORIZED, naming what to grant).
   */
  #refused(err: unknown): RtcrmError | undefined {
    if (this.#gone) return this.#gone;
    if (!isAuthorizationFailure(err)) return undefined;
    const refused = authorizationError(
      err,
      clientSettings(this.#config, "events"),
      this.#topics.join(", "),
      "Read",
      {
        group: this.#config.kafka_group_id,
        detail: "a topic this member reads",
      },
    );
    if (!refused) return undefined;
    this.#gone = refused;
    this.#telemetry.publish("fatal", refused);
    return refused;
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
        this.#onRevoked?.();
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
