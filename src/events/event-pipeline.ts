// The consumer loop: fetch events in the consumer group and hand them to the batch builder; pause fetching while
// too many events are in flight (back-pressure); take and give back partitions as the group rebalances; at stop,
// let in-flight events finish and commit. What happens to an event after it is fetched is the other stages' job.
import type { Config } from "../config/config.js";
import type { EventConsumer, TopicPartition } from "../kafka/event-consumer.js";
import type { Logger } from "../logging/logger.js";
import type { Assignments } from "../offsets/assignments.js";
import type { Committer } from "../offsets/committer.js";
import type { BatchBuilder } from "./batch-builder.js";

/** How long fetching may be held back before the partitions are paused (see #run). */
const PAUSE_AFTER_STALL_MS = 2_000;
/** Records asked of the consumer per call, at most, in batches (batch_size). */
const BATCHES_PER_FETCH = 4;
/** The fewest records asked per call. */
const MIN_FETCH = 32;
/**
 * How long one consume call may gather records. librdkafka's client returns a call's records once `max` are there
 * or none came for 1 ms: at 6,000 events/s a call of 1,024 gathered for 170 ms, most of the p99 latency. So the
 * number asked for follows the rate: what the last call got in this time.
 */
const GATHER_MS = 5;

export interface EventPipelineStages {
  readonly consumer: EventConsumer;
  readonly assignments: Assignments;
  readonly builder: BatchBuilder;
  readonly committer: Committer;
  /** Told which partitions this member takes and gives back (the delivery rules' state follows them). */
  readonly partitionListener?: {
    assigned(partitions: readonly TopicPartition[]): void;
    revoked(partitions: readonly TopicPartition[]): void;
  };
  /** What is behind, for the log line when fetching pauses (queued batches, records not yet acknowledged). */
  readonly backlog?: () => Record<string, number>;
}

export class EventPipeline {
  readonly #config: Config;
  readonly #stages: EventPipelineStages;
  readonly #log: Logger;
  #paused = false;
  #stalledSince: number | undefined;
  #stopping = false;
  #loop: Promise<void> | undefined;
  #fetchSize: number;

  constructor(config: Config, stages: EventPipelineStages, log: Logger) {
    this.#config = config;
    this.#stages = stages;
    this.#log = log;
    this.#fetchSize = config.batch_size * BATCHES_PER_FETCH;
    stages.consumer.onRebalance({
      assign: (partitions) => this.#assign(partitions),
      revoke: (partitions) => this.#revoke(partitions),
    });
  }

  /** Events fetched and not yet fully processed, over all assigned partitions. */
  get inFlight(): number {
    return this.#stages.assignments.inFlight;
  }

  async start(connectTimeoutMs = 30_000): Promise<void> {
    await this.#stages.consumer.connect(connectTimeoutMs);
    this.#stages.committer.start();
    this.#loop = this.#run();
    this.#log.info("consuming events", {
      topic: this.#config.event_topic,
      group: this.#config.kafka_group_id,
    });
  }

  async #run(): Promise<void> {
    const { consumer, builder, assignments } = this.#stages;
    while (!this.#stopping) {
      if (this.inFlight >= this.#config.max_pending_events) {
        // Back-pressure: stop taking records from librdkafka (whose own prefetch stops when its bounded queue
        // is full). A stall longer than a moment pauses the partitions, so that polling can go on (keeping
        // the group membership) without fetching.
        this.#stalledSince ??= Date.now();
        if (!this.#paused && Date.now() - this.#stalledSince > PAUSE_AFTER_STALL_MS) this.#pause();
        if (!this.#paused) {
          await new Promise((r) => setTimeout(r, 5));
          continue;
        }
      } else {
        this.#stalledSince = undefined;
        if (this.#paused) this.#resume();
      }
      let records;
      try {
        const asked = this.#fetchSize;
        const before = performance.eventLoopUtilization();
        records = await consumer.consume(asked);
        // The main thread's idle time during the call is the time spent waiting for records; the rest was
        // other work of the engine (results, acknowledgements), which says nothing about the rate.
        this.#adaptFetchSize(asked, records.length, performance.eventLoopUtilization(before).idle);
      } catch (error) {
        consumer.reportError(error as Error);
        await new Promise((r) => setTimeout(r, 500));
        continue;
      }
      if (records.length > 0) builder.accept(records, assignments);
    }
  }

  /** Asks for as many records as arrive in GATHER_MS at the rate the last call saw, waiting `waitedMs`. */
  #adaptFetchSize(asked: number, got: number, waitedMs: number): void {
    if (got < asked) return; // the call ended because nothing more came: the size did not hold it back
    const max = this.#config.batch_size * BATCHES_PER_FETCH;
    const atRate = waitedMs <= GATHER_MS ? asked * 2 : Math.floor((got * GATHER_MS) / waitedMs);
    this.#fetchSize = Math.max(Math.min(MIN_FETCH, max), Math.min(max, atRate));
  }

  #pause(): void {
    this.#stages.consumer.pause(this.#stages.assignments.list());
    this.#paused = true;
    this.#log.info("fetching paused: evaluation or the producer is behind", {
      inFlight: this.inFlight,
      ...this.#stages.backlog?.(),
    });
  }

  #resume(): void {
    this.#stages.consumer.resume(this.#stages.assignments.list());
    this.#paused = false;
    this.#log.info("fetching resumed", { inFlight: this.inFlight });
  }

  #assign(partitions: readonly TopicPartition[]): void {
    this.#stages.committer.whenAssigning(() => {
      if (this.#stopping) return;
      for (const tp of partitions) this.#stages.assignments.add(tp.topic, tp.partition);
      this.#stages.partitionListener?.assigned(partitions);
      this.#stages.consumer.assign(partitions, this.#paused);
      this.#log.info("partitions assigned", { partitions: partitions.map((tp) => tp.partition) });
    });
  }

  /**
   * At-least-once: what is done is committed; in-flight work of the revoked partitions is dropped (the next owner
   * re-reads it from the committed offset, with the same trigger ids). Exactly-once: the open transaction is
   * aborted instead, so that the next owner's work is the only one that becomes visible.
   */
  #revoke(partitions: readonly TopicPartition[]): void {
    this.#stages.committer.revoking();
    for (const tp of partitions) this.#stages.assignments.revoke(tp.topic, tp.partition);
    this.#stages.partitionListener?.revoked(partitions);
    this.#paused = false;
    this.#log.info("partitions revoked", { partitions: partitions.map((tp) => tp.partition) });
  }

  /**
   * Stops fetching, lets in-flight events finish (their records acknowledged) until `deadline` (epoch ms),
   * commits, and disconnects. Resolves true when nothing was left unfinished. Idempotent.
   */
  async stop(deadline: number): Promise<boolean> {
    if (this.#stopping) return this.inFlight === 0;
    this.#stopping = true;
    await this.#loop;
    this.#stages.builder.flushAll(this.#stages.assignments);
    while (this.inFlight > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    let clean = this.inFlight === 0;
    clean = (await this.#stages.committer.stop()) && clean;
    await this.#stages.consumer.disconnect(Math.max(1_000, deadline - Date.now()));
    return clean;
  }
}
