// Events in, triggers out: consume in the consumer group, decode and route on the main thread, evaluate
// batches in the worker pool, produce triggers in partition order, commit only fully processed offsets.
import rdkafka from "@confluentinc/kafka-javascript";
import { parseInstant } from "../campaigns/campaign.js";
import type { ActiveCampaign, CampaignSet } from "../campaigns/campaign-set.js";
import type { Config } from "../config/config.js";
import { errorMessage } from "../errors.js";
import { evaluationInstant } from "../evaluation/evaluate.js";
import type { Outcome } from "../evaluation/outcome.js";
import type { AckingProducer } from "../kafka/acking-producer.js";
import {
  connectConsumer,
  consumeBatch,
  returnReadyRecords,
  disconnectConsumer,
} from "../kafka/consumer-util.js";
import { clientSettings, KafkaErrors } from "../kafka/settings.js";
import type { Logger } from "../logging/logger.js";
import { PartitionOffsets } from "../offsets/partition-offsets.js";
import { TransactionalCommits } from "../offsets/transactional-commits.js";
import type { EvaluatorPool } from "../pool/evaluator-pool.js";
import type { BatchEvent, FilterRef } from "../pool/protocol.js";
import { triggerHeaders, triggerValue } from "../triggers/trigger.js";
import { decodeEvent } from "./decode.js";

/** How long fetching may be held back before the partitions are paused (see #run). */
const PAUSE_AFTER_STALL_MS = 2_000;

export const DLQ_HEADERS = {
  reason: "rtcrm-dlq-reason",
  topic: "rtcrm-dlq-source-topic",
  partition: "rtcrm-dlq-source-partition",
  offset: "rtcrm-dlq-source-offset",
} as const;

export interface PipelineCounters {
  consumed: number;
  deadLettered: number;
  evaluated: number;
  triggers: number;
  outcomes: Record<string, number>;
}

interface EventMeta {
  readonly offset: number;
  readonly playerKey: string | null;
  readonly json: string;
  readonly campaigns: readonly ActiveCampaign[];
  /** The record as consumed, for the dead-letter topic should Kafka refuse one of its triggers for good. */
  readonly record: Pick<rdkafka.Message, "topic" | "partition" | "offset" | "key" | "value" | "headers">;
}

interface Building {
  readonly events: BatchEvent[];
  readonly metas: EventMeta[];
  readonly filters: FilterRef[];
  readonly filterIndex: Map<string, number>;
}

function newBuilding(): Building {
  return { events: [], metas: [], filters: [], filterIndex: new Map() };
}

/** One assignment of one partition; a new object after every rebalance, so late work of a revoked one is dropped. */
class PartitionState {
  readonly offsets = new PartitionOffsets();
  chain: Promise<void> = Promise.resolve();
  revoked = false;
  building: Building | null = null;
  constructor(
    readonly topic: string,
    readonly partition: number,
  ) {}
}

export interface PipelineHooks {
  /** A campaign's filter outcome that is neither match nor no-match (threw, out of fuel, watchdog, ...). */
  onFilterProblem?(campaign: ActiveCampaign, outcome: Outcome): void;
  /** Every outcome of every (event, campaign) pair evaluated, skipped ones included. */
  onOutcome?(campaign: ActiveCampaign, outcome: Outcome): void;
  /** An event went to the dead-letter topic. */
  onDeadLetter?(reason: string): void;
  /** Offsets were committed; `ms` is the commit's round trip (0 for asynchronous commits not yet confirmed). */
  onCommitted?(ms: number, offsets: readonly rdkafka.TopicPartitionOffset[]): void;
  /** librdkafka statistics of the events consumer (JSON text), every `statsIntervalMs`; per-partition lag. */
  onStats?(json: string): void;
  readonly statsIntervalMs?: number;
  /** Exactly-once: the transactional producer failed for good; the engine cannot go on. */
  onFatal?(error: Error): void;
}

export class EventPipeline {
  readonly counters: PipelineCounters = {
    consumed: 0,
    deadLettered: 0,
    evaluated: 0,
    triggers: 0,
    outcomes: {},
  };
  readonly #config: Config;
  readonly #campaigns: CampaignSet;
  readonly #pool: EvaluatorPool;
  readonly #producer: AckingProducer;
  readonly #log: Logger;
  readonly #hooks: PipelineHooks;
  readonly #consumer: rdkafka.KafkaConsumer;
  readonly #partitions = new Map<number, PartitionState>();
  #paused = false;
  #stalledSince: number | undefined;
  #stopping = false;
  #loop: Promise<void> | undefined;
  #commitTimer: NodeJS.Timeout | undefined;
  #lastBrokerError = 0;
  #commitStartedAt = 0;
  #finalCommitDone = false;
  #transactionCommitting = false;
  /** Exactly-once mode: offsets are committed inside producer transactions. */
  readonly #txn: TransactionalCommits | null;

  constructor(
    config: Config,
    campaigns: CampaignSet,
    pool: EvaluatorPool,
    producer: AckingProducer,
    log: Logger,
    hooks: PipelineHooks = {},
  ) {
    this.#config = config;
    this.#campaigns = campaigns;
    this.#pool = pool;
    this.#producer = producer;
    this.#log = log.child({ component: "events" });
    this.#hooks = hooks;
    this.#consumer = new rdkafka.KafkaConsumer(
      {
        ...clientSettings(config, "events"),
        "group.id": config.kafka_group_id,
        // Exactly-once end to end: events written in aborted transactions upstream are never evaluated.
        ...(config.delivery === "exactly-once" ? { "isolation.level": "read_committed" } : {}),
        "enable.auto.commit": false,
        "enable.auto.offset.store": false,
        "queued.max.messages.kbytes": 16_384,
        offset_commit_cb: true,
        ...(hooks.onStats ? { "statistics.interval.ms": hooks.statsIntervalMs ?? 5_000 } : {}),
        rebalance_cb: (err: rdkafka.LibrdKafkaError, assignment: rdkafka.Assignment[]) =>
          this.#rebalance(err, assignment),
      },
      { "auto.offset.reset": config.auto_offset_reset },
    );
    this.#txn =
      config.delivery === "exactly-once"
        ? new TransactionalCommits(producer, this.#consumer, this.#log, {
            timeoutMs: 30_000,
            onFatal: (error) => hooks.onFatal?.(error),
          })
        : null;
    returnReadyRecords(this.#consumer, 50);
    this.#consumer.on("event.error", (err) => this.#brokerError(err));
    this.#consumer.on("offset.commit", (err, offsets) => this.#onCommitted(err, offsets));
    if (hooks.onStats) {
      const onStats = hooks.onStats;
      this.#consumer.on("event.stats", (stats) => onStats(stats.message));
    }
  }

  /** Events fetched and not yet fully processed, over all assigned partitions. */
  get inFlight(): number {
    let n = 0;
    for (const p of this.#partitions.values()) n += p.offsets.inFlight;
    return n;
  }

  async start(connectTimeoutMs = 30_000): Promise<void> {
    await connectConsumer(this.#consumer, connectTimeoutMs);
    this.#consumer.subscribe([this.#config.event_topic]);
    this.#commitTimer = setInterval(() => {
      // A transaction commit slower than the interval is not queued up behind itself.
      if (this.#txn && !this.#transactionCommitting) void this.#commitTransaction();
      else if (!this.#txn) this.#commit();
    }, this.#config.commit_interval_ms);
    this.#loop = this.#run();
    this.#log.info("consuming events", {
      topic: this.#config.event_topic,
      group: this.#config.kafka_group_id,
    });
  }

  async #run(): Promise<void> {
    while (!this.#stopping) {
      if (this.#overloaded()) {
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
      let messages: rdkafka.Message[];
      try {
        messages = await consumeBatch(this.#consumer, this.#config.batch_size * 4);
      } catch (error) {
        this.#brokerError(error as rdkafka.LibrdKafkaError);
        await new Promise((r) => setTimeout(r, 500));
        continue;
      }
      if (messages.length > 0) this.#accept(messages);
    }
  }

  #overloaded(): boolean {
    return this.inFlight >= this.#config.max_pending_events;
  }

  #accept(messages: rdkafka.Message[]): void {
    const processingMs = Date.now();
    const touched = new Set<PartitionState>();
    for (const m of messages) {
      const ps = this.#partitions.get(m.partition);
      if (!ps) continue; // fetched before a revoke: the next owner reads it again
      if (!ps.offsets.track(m.offset)) continue;
      this.counters.consumed++;
      const decoded = decodeEvent(m.value);
      if (!decoded.ok) {
        this.#deadLetterInOrder(ps, m, decoded.reason);
        continue;
      }
      const event = decoded.event;
      const nowMs = evaluationInstant(
        this.#config.time_basis,
        { created_at: event.createdAt },
        processingMs,
        parseInstant,
      );
      if (nowMs === null) {
        this.#deadLetterInOrder(
          ps,
          m,
          "created_at is missing or not an ISO-8601 instant (time_basis is created-at)",
        );
        continue;
      }
      const campaigns = this.#campaigns.route(event.game, event.eventName);
      if (campaigns.length === 0) {
        ps.offsets.done(m.offset);
        continue;
      }
      const b = (ps.building ??= newBuilding());
      const candidates = campaigns.map((c) => {
        let index = b.filterIndex.get(c.campaign.versionKey);
        if (index === undefined) {
          index = b.filters.push(c) - 1;
          b.filterIndex.set(c.campaign.versionKey, index);
        }
        return index;
      });
      b.events.push({ json: event.json, game: event.game, eventName: event.eventName, nowMs, candidates });
      b.metas.push({ offset: m.offset, playerKey: event.playerKey, json: event.json, campaigns, record: m });
      touched.add(ps);
      if (b.events.length >= this.#config.batch_size) this.#flush(ps);
    }
    for (const ps of touched) this.#flush(ps);
  }

  #flush(ps: PartitionState): void {
    const b = ps.building;
    if (!b || b.events.length === 0) return;
    ps.building = null;
    this.counters.evaluated += b.events.length;
    // Batches of one partition evaluate in parallel but are emitted in order along the partition's chain.
    const result = this.#pool.evaluate({ filters: b.filters, events: b.events });
    ps.chain = ps.chain
      .then(() => result)
      .then((outcomes) => this.#emit(ps, b.metas, outcomes))
      .catch((error) => {
        if (!this.#stopping)
          this.#log.error("batch failed; its events stay uncommitted", {
            error: errorMessage(error),
            partition: ps.partition,
          });
      });
  }

  #emit(ps: PartitionState, metas: EventMeta[], outcomes: Outcome[][]): void {
    if (ps.revoked) return;
    for (const [i, meta] of metas.entries()) {
      const row = outcomes[i] ?? [];
      const matched: ActiveCampaign[] = [];
      for (const [j, outcome] of row.entries()) {
        const campaign = meta.campaigns[j];
        if (!campaign) continue;
        this.counters.outcomes[outcome.kind] = (this.counters.outcomes[outcome.kind] ?? 0) + 1;
        this.#hooks.onOutcome?.(campaign, outcome);
        if (outcome.kind === "match") matched.push(campaign);
        else if (outcome.kind !== "no-match" && outcome.kind !== "skipped")
          this.#hooks.onFilterProblem?.(campaign, outcome);
      }
      if (matched.length === 0) {
        ps.offsets.done(meta.offset);
        continue;
      }
      const source = { topic: ps.topic, partition: ps.partition, offset: meta.offset };
      let waiting = matched.length;
      let refused: string | null = null;
      for (const active of matched) {
        this.counters.triggers++;
        this.#producer.send(
          {
            topic: this.#config.trigger_topic,
            key: meta.playerKey,
            value: Buffer.from(triggerValue(active.campaign.json, meta.json)),
            headers: Object.entries(triggerHeaders(source, active.campaign)).map(([k, v]) => ({ [k]: v })),
          },
          (error) => {
            if (error) refused ??= `campaign ${active.campaign.campaignId}: ${errorMessage(error)}`;
            if (--waiting > 0 || ps.revoked) return;
            // A trigger Kafka can never take (e.g. over its size limit) sends the event to the dead letters,
            // rather than holding its partition back for ever.
            if (refused) this.#deadLetter(ps, meta.record, `a trigger was refused by Kafka (${refused})`);
            else ps.offsets.done(meta.offset);
          },
        );
      }
    }
  }

  /**
   * Dead letters go out in partition order, after the triggers of the events before them: in exactly-once
   * mode a transaction must never hold a record of an event beyond the offsets it commits.
   */
  #deadLetterInOrder(ps: PartitionState, m: rdkafka.Message, reason: string): void {
    this.#flush(ps);
    ps.chain = ps.chain.then(() => this.#deadLetter(ps, m, reason));
  }

  #deadLetter(ps: PartitionState, m: EventMeta["record"], reason: string): void {
    if (ps.revoked) return;
    this.counters.deadLettered++;
    this.#hooks.onDeadLetter?.(reason);
    this.#log.debug("event dead-lettered", { partition: m.partition, offset: m.offset, reason });
    this.#producer.send(
      {
        topic: this.#config.dead_letter_topic,
        // An empty key stays empty (the client would send an empty Buffer as no key at all).
        key: m.key !== undefined && m.key !== null && m.key.length === 0 ? "" : (m.key ?? null),
        value: m.value ?? Buffer.alloc(0),
        headers: [
          ...(m.headers ?? []),
          { [DLQ_HEADERS.reason]: reason },
          { [DLQ_HEADERS.topic]: m.topic },
          { [DLQ_HEADERS.partition]: String(m.partition) },
          { [DLQ_HEADERS.offset]: String(m.offset) },
        ],
      },
      (error) => {
        // Refused for good as well: nowhere is left to put the event. Say where it was, and go on.
        if (error)
          this.#log.error("dead-letter record refused by Kafka; the event is skipped", {
            topic: m.topic,
            partition: m.partition,
            offset: m.offset,
            reason,
            error: errorMessage(error),
          });
        if (!ps.revoked) ps.offsets.done(m.offset);
      },
    );
  }

  #pause(): void {
    const assigned = this.#assignedList();
    this.#consumer.pause(assigned);
    this.#paused = true;
    this.#log.info("fetching paused: evaluation or the producer is behind", {
      inFlight: this.inFlight,
      queuedBatches: this.#pool.queued,
      producerPending: this.#producer.pending,
    });
  }

  #resume(): void {
    this.#consumer.resume(this.#assignedList());
    this.#paused = false;
    this.#log.info("fetching resumed", { inFlight: this.inFlight });
  }

  #assign(assignment: rdkafka.Assignment[]): void {
    if (this.#stopping) return;
    for (const tp of assignment)
      this.#partitions.set(tp.partition, new PartitionState(tp.topic, tp.partition));
    this.#consumer.assign(assignment);
    if (this.#paused)
      this.#consumer.pause(assignment.map((tp) => ({ topic: tp.topic, partition: tp.partition })));
    this.#log.info("partitions assigned", { partitions: assignment.map((tp) => tp.partition) });
  }

  /**
   * Exactly-once: commits, in one transaction, the records of every finished event and the offsets after
   * them. An aborted transaction forgets the records of unfinished events too, so every partition is then
   * re-read from its committed offset (the group is joined again).
   */
  async #commitTransaction(): Promise<boolean> {
    if (!this.#txn) return false;
    let started = 0;
    this.#transactionCommitting = true;
    const result = await this.#txn
      .commit(() => {
        started = Date.now();
        const offsets: rdkafka.TopicPartitionOffset[] = [];
        for (const ps of this.#partitions.values()) {
          const offset = ps.offsets.toCommit();
          if (offset !== null) offsets.push({ topic: ps.topic, partition: ps.partition, offset });
        }
        return offsets;
      })
      .finally(() => (this.#transactionCommitting = false));
    if (result === "aborted") {
      this.#rewind();
      return false;
    }
    if (result) {
      for (const o of result) this.#partitions.get(o.partition)?.offsets.markCommitted(o.offset);
      this.#hooks.onCommitted?.(Date.now() - started, result);
    }
    return true;
  }

  #rewind(): void {
    if (this.#stopping) return;
    for (const ps of this.#partitions.values()) ps.revoked = true;
    this.#partitions.clear();
    this.#log.warn("re-reading every partition from its committed offset");
    try {
      this.#consumer.unsubscribe();
      this.#consumer.subscribe([this.#config.event_topic]);
    } catch (error) {
      this.#log.error("re-joining the consumer group failed", { error: errorMessage(error) });
    }
  }

  #assignedList(): rdkafka.TopicPartition[] {
    return [...this.#partitions.values()].map((p) => ({ topic: p.topic, partition: p.partition }));
  }

  #rebalance(err: rdkafka.LibrdKafkaError, assignment: rdkafka.Assignment[]): void {
    try {
      if (err.code === KafkaErrors.ASSIGN_PARTITIONS) {
        // Exactly-once: not before an abort of the previous assignment's transaction has finished.
        if (this.#txn) void this.#txn.after(() => this.#assign(assignment));
        else this.#assign(assignment);
      } else if (err.code === KafkaErrors.REVOKE_PARTITIONS) {
        // At-least-once: commit what is done; in-flight work of the revoked partitions is dropped (the next
        // owner re-reads it from the committed offset, with the same trigger ids). Exactly-once: abort the
        // open transaction instead, so the next owner's work is the only one that becomes visible.
        // Once stopped, the final commit is done: the revoke of the disconnect has nothing left to commit.
        if (!this.#finalCommitDone) {
          if (this.#txn) void this.#txn.abort("partitions revoked");
          else this.#commit(true);
        }
        for (const tp of assignment) {
          const ps = this.#partitions.get(tp.partition);
          if (ps) ps.revoked = true;
          this.#partitions.delete(tp.partition);
        }
        this.#consumer.unassign();
        this.#paused = false;
        this.#log.info("partitions revoked", { partitions: assignment.map((tp) => tp.partition) });
      } else {
        this.#log.error("rebalance error", { error: err.message, code: err.code });
      }
    } catch (error) {
      this.#log.error("rebalance handling failed", { error: errorMessage(error) });
    }
  }

  /**
   * Commits, per partition, the offset below which every event is fully processed: asynchronously on the
   * interval (a blocking round trip would stall the main thread), synchronously on revoke and at stop.
   */
  #commit(sync = false): void {
    const offsets: rdkafka.TopicPartitionOffset[] = [];
    for (const ps of this.#partitions.values()) {
      const offset = sync ? ps.offsets.committable : ps.offsets.toCommit();
      if (offset !== null) offsets.push({ topic: ps.topic, partition: ps.partition, offset });
    }
    if (offsets.length === 0) return;
    this.#commitStartedAt = Date.now();
    try {
      if (sync) this.#consumer.commitSync(offsets);
      else this.#consumer.commit(offsets);
      for (const o of offsets) this.#partitions.get(o.partition)?.offsets.markCommitted(o.offset);
    } catch (error) {
      this.#log.warn("offset commit failed; retrying at the next interval", { error: errorMessage(error) });
    }
  }

  /** An asynchronous commit failed: those partitions are committed again at the next interval. */
  #onCommitted(
    err: rdkafka.LibrdKafkaError | null | undefined,
    offsets: rdkafka.TopicPartitionOffset[],
  ): void {
    if (!err) {
      this.#hooks.onCommitted?.(Date.now() - this.#commitStartedAt, offsets);
      return;
    }
    this.#log.warn("offset commit failed; retrying at the next interval", {
      error: err.message,
      code: err.code,
    });
    for (const o of offsets) this.#partitions.get(o.partition)?.offsets.markCommitted(null);
  }

  #brokerError(err: rdkafka.LibrdKafkaError): void {
    const now = Date.now();
    if (now - this.#lastBrokerError < 10_000) return;
    this.#lastBrokerError = now;
    // The client's error events do not always carry librdkafka's code (-1): the text says it as well.
    const down =
      err.code === KafkaErrors.ALL_BROKERS_DOWN ||
      err.code === KafkaErrors.TRANSPORT ||
      /broker connections are down|transport failure|connection refused/i.test(err.message);
    this.#log.warn(down ? "Kafka unreachable; retrying" : "Kafka consumer error", {
      error: err.message,
      code: err.code,
    });
  }

  /**
   * Stops fetching, lets in-flight events finish (their triggers acknowledged) until `deadline` (epoch ms),
   * commits, and disconnects. Resolves true when nothing was left unfinished. Idempotent.
   */
  async stop(deadline: number): Promise<boolean> {
    if (this.#stopping) return this.inFlight === 0;
    this.#stopping = true;
    await this.#loop;
    for (const ps of this.#partitions.values()) this.#flush(ps);
    while (this.inFlight > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    let clean = this.inFlight === 0;
    clearInterval(this.#commitTimer);
    if (this.#txn) clean = (await this.#commitTransaction()) && clean;
    else this.#commit(true);
    this.#finalCommitDone = true;
    await disconnectConsumer(this.#consumer, Math.max(1_000, deadline - Date.now()));
    return clean;
  }
}
