// Records in, batches out: decode each event, route it by (game, event_name) to its campaigns, and gather the
// events of one partition into batches for the pool. A partition's batches evaluate in parallel but reach the
// sink in offset order, along the partition's chain; malformed events go to the dead letters in that order too.
// A batch goes to the pool when it is full or a worker is idle: while every worker is busy, events gather into
// the next batch instead of queueing as many small ones (at 6,000 events/s, batches of 1–14 events queued 18–38
// deep behind the worker's per-batch cost, and triggers waited 40–110 ms).
import { parseInstant } from "../campaigns/campaign.js";
import type { CampaignSet } from "../campaigns/campaign-set.js";
import type { Config } from "../config/config.js";
import { errorMessage } from "../errors.js";
import { evaluationInstant } from "../evaluation/evaluate.js";
import type { ConsumedRecord } from "../kafka/event-consumer.js";
import type { Logger } from "../logging/logger.js";
import type { Assignments, PartitionAssignment } from "../offsets/assignments.js";
import type { EvaluatorPool } from "../pool/evaluator-pool.js";
import type { BatchEvent } from "../pool/protocol.js";
import type { Telemetry } from "../telemetry.js";
import type { RuleRouter } from "../rules/rule-router.js";
import type { EvaluatedEvent, TriggerSink } from "../triggers/trigger-sink.js";
import { decodeEvent } from "./decode.js";

const CREATED_AT_INVALID = "created_at is missing or not an ISO-8601 instant (time_basis is created-at)";

/** A batch being gathered: the events for the pool, and what the sink needs of each. */
interface Building {
  readonly events: BatchEvent[];
  readonly evaluated: EvaluatedEvent[];
}

/** Per assignment of a partition: the batch being gathered, and the chain its batches are emitted along. */
interface PartitionWork {
  chain: Promise<void>;
  building: Building | null;
}

export class BatchBuilder {
  readonly #config: Config;
  readonly #campaigns: CampaignSet;
  readonly #pool: EvaluatorPool;
  readonly #sink: TriggerSink;
  readonly #telemetry: Telemetry;
  readonly #log: Logger;
  readonly #work = new WeakMap<PartitionAssignment, PartitionWork>();
  /** Partitions with a batch gathering that is not full: sent when a worker is idle. */
  readonly #gathering = new Set<PartitionAssignment>();
  #stopping = false;
  /** Delivery rules, when the repartition topic is read beside the events (null: it is not). */
  readonly #repartitioned: { readonly topic: string; readonly rules: RuleRouter } | null;

  constructor(
    config: Config,
    campaigns: CampaignSet,
    pool: EvaluatorPool,
    sink: TriggerSink,
    telemetry: Telemetry,
    log: Logger,
    rules: RuleRouter | null = null,
  ) {
    this.#repartitioned =
      rules && !config.events_keyed_by_player ? { topic: config.rules_repartition_topic, rules } : null;
    this.#config = config;
    this.#campaigns = campaigns;
    this.#pool = pool;
    this.#sink = sink;
    this.#telemetry = telemetry;
    this.#log = log;
    pool.on("idle", () => this.#sendGathered());
  }

  /** Takes fetched records of the held partitions (others were fetched before a revoke: the next owner reads them). */
  accept(records: readonly ConsumedRecord[], assignments: Assignments): void {
    const processingMs = Date.now();
    let consumed = 0;
    const repartitioned = new Map<PartitionAssignment, ConsumedRecord[]>();
    for (const m of records) {
      const p = assignments.get(m.topic, m.partition);
      if (!p || !p.offsets.track(m.offset)) continue;
      if (m.topic === this.#repartitioned?.topic) {
        const list = repartitioned.get(p);
        if (list) list.push(m);
        else repartitioned.set(p, [m]);
        continue;
      }
      consumed++;
      const decoded = decodeEvent(m.value);
      if (!decoded.ok) {
        this.#deadLetterInOrder(p, m, decoded.reason);
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
        this.#deadLetterInOrder(p, m, CREATED_AT_INVALID);
        continue;
      }
      const campaigns = this.#campaigns.route(event.game, event.eventName);
      if (campaigns.length === 0) {
        p.offsets.done(m.offset);
        continue;
      }
      const work = this.#workOf(p);
      const b = (work.building ??= newBuilding());
      b.events.push({
        json: event.json,
        game: event.game,
        eventName: event.eventName,
        nowMs,
        route: campaigns,
      });
      b.evaluated.push({ playerKey: event.playerKey, createdAt: event.createdAt, campaigns, record: m });
      this.#gathering.add(p);
      if (b.events.length >= this.#config.batch_size) this.#flush(p);
    }
    if (this.#repartitioned)
      for (const [p, list] of repartitioned) this.#decideInOrder(p, list, this.#repartitioned.rules);
    if (this.#pool.hasIdleWorker) this.#sendGathered();
    if (consumed > 0) this.#telemetry.publish("consumed", consumed);
  }

  #sendGathered(): void {
    for (const p of this.#gathering) this.#flush(p);
  }

  /** Sends every batch still being gathered (at stop: nothing more is fetched). */
  flushAll(assignments: Assignments): void {
    this.#stopping = true;
    for (const p of assignments.values()) this.#flush(p);
    this.#gathering.clear();
  }

  #workOf(p: PartitionAssignment): PartitionWork {
    let work = this.#work.get(p);
    if (!work) {
      work = { chain: Promise.resolve(), building: null };
      this.#work.set(p, work);
    }
    return work;
  }

  #flush(p: PartitionAssignment): void {
    this.#gathering.delete(p);
    const work = this.#workOf(p);
    const b = work.building;
    if (!b || b.events.length === 0) return;
    work.building = null;
    const result = this.#pool.evaluate({ events: b.events });
    work.chain = work.chain
      .then(() => result)
      .then((batch) => {
        this.#telemetry.publish("evaluations", batch.counts);
        this.#sink.emit(p, b.evaluated, batch.rows);
      })
      .catch((error) => {
        if (!this.#stopping)
          this.#log.error("batch failed; its events stay uncommitted", {
            error: errorMessage(error),
            partition: p.partition,
          });
      });
  }

  /** Repartitioned matches are decided after the earlier ones of their partition (their state comes first). */
  #decideInOrder(p: PartitionAssignment, records: readonly ConsumedRecord[], rules: RuleRouter): void {
    const work = this.#workOf(p);
    work.chain = work.chain.then(() => rules.fromRepartition(p, records));
  }

  /**
   * Dead letters go out in partition order, after the triggers of the events before them: in exactly-once
   * mode a transaction must never hold a record of an event beyond the offsets it commits.
   */
  #deadLetterInOrder(p: PartitionAssignment, m: ConsumedRecord, reason: string): void {
    this.#flush(p);
    const work = this.#workOf(p);
    work.chain = work.chain.then(() => this.#sink.deadLetter(p, m, reason));
  }
}

function newBuilding(): Building {
  return { events: [], evaluated: [] };
}
