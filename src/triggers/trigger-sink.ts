// Triggers and dead letters to Kafka. Each event of a batch is done (its offset may be committed) once every
// record it caused is acknowledged; an event whose trigger Kafka refuses for good goes to the dead letters.
import type { ActiveCampaign } from "../campaigns/campaign-set.js";
import type { Config } from "../config/config.js";
import { errorMessage } from "../errors.js";
import type { ConsumedRecord } from "../kafka/event-consumer.js";
import type { Logger } from "../logging/logger.js";
import type { PartitionAssignment } from "../offsets/assignments.js";
import type { RecordOutput } from "../offsets/committer.js";
import type { Evaluated } from "../pool/wire.js";
import type { Delivery } from "../rules/decide.js";
import type { Telemetry } from "../telemetry.js";
import { triggerHeaderList, triggerValueBytes } from "./trigger.js";

/** Where matches of campaigns with delivery rules go (src/rules/rule-router.ts); absent: every match triggers. */
export interface RuledMatches {
  applies(campaign: ActiveCampaign["campaign"]): boolean;
  /**
   * Takes the event's matches that have rules; `done(problem)` once their records are written (a problem sends the
   * event to the dead letters with it as the reason). A promise:
   * later events of the partition must wait for it (their player's state is not ready yet).
   */
  route(
    p: PartitionAssignment,
    event: EvaluatedEvent,
    matched: readonly ActiveCampaign[],
    done: (refused: string | null) => void,
  ): void | Promise<void>;
}

/** A match of a campaign without delivery rules: it triggers. */
const PLAIN: Delivery = { kind: "trigger", variant: null };

export const DLQ_HEADERS = {
  reason: "rtcrm-dlq-reason",
  topic: "rtcrm-dlq-source-topic",
  partition: "rtcrm-dlq-source-partition",
  offset: "rtcrm-dlq-source-offset",
} as const;

/** The part of a consumed record a trigger or a dead letter is made of. */
export type SourceRecord = Pick<
  ConsumedRecord,
  "topic" | "partition" | "offset" | "key" | "value" | "headers"
>;

/** An evaluated event as the sink needs it: where it came from and the campaigns it was evaluated against. */
export interface EvaluatedEvent {
  readonly playerKey: string | null;
  /** The event's created_at as written (delivery rules' max_event_age reads it). */
  readonly createdAt: unknown;
  readonly campaigns: readonly ActiveCampaign[];
  readonly record: SourceRecord;
}

export class TriggerSink {
  readonly #triggerTopic: string;
  readonly #deadLetterTopic: string;
  readonly #output: RecordOutput;
  readonly #telemetry: Telemetry;
  readonly #log: Logger;
  readonly #rules: RuledMatches | null;

  constructor(
    config: Config,
    output: RecordOutput,
    telemetry: Telemetry,
    log: Logger,
    rules: RuledMatches | null = null,
  ) {
    this.#rules = rules;
    this.#triggerTopic = config.trigger_topic;
    this.#deadLetterTopic = config.dead_letter_topic;
    this.#output = output;
    this.#telemetry = telemetry;
    this.#log = log;
  }

  /**
   * `rows[i]`: the reported pairs of event i (its matches, failures and timed calls; every other campaign of its
   * route did not match). Sends the triggers of the matches, in event order.
   */
  emit(
    p: PartitionAssignment,
    events: readonly EvaluatedEvent[],
    rows: readonly (readonly Evaluated[])[],
  ): void | Promise<void> {
    if (p.revoked) return;
    let triggered = 0;
    for (const [i, event] of events.entries()) {
      const matched: ActiveCampaign[] = [];
      for (const { candidate, outcome } of rows[i] ?? []) {
        const campaign = event.campaigns[candidate];
        if (!campaign) continue;
        this.#telemetry.publish("outcome", campaign, outcome);
        if (outcome.kind === "match") matched.push(campaign);
      }
      if (matched.length === 0) {
        p.offsets.done(event.record.offset);
        continue;
      }
      const waiting = this.#trigger(p, event, matched);
      triggered += matched.length;
      // A state partition still restoring: the rest of the batch waits, in order.
      if (waiting) return this.#resume(waiting, p, events.slice(i + 1), rows.slice(i + 1), triggered);
    }
    if (triggered > 0) this.#telemetry.publish("triggered", triggered);
  }

  async #resume(
    waiting: Promise<void>,
    p: PartitionAssignment,
    events: readonly EvaluatedEvent[],
    rows: readonly (readonly Evaluated[])[],
    triggered: number,
  ): Promise<void> {
    if (triggered > 0) this.#telemetry.publish("triggered", triggered);
    await waiting;
    await this.emit(p, events, rows);
  }

  /** Sends the triggers of `matched` (those with delivery rules through the rules); the event is done after. */
  #trigger(p: PartitionAssignment, event: EvaluatedEvent, matched: ActiveCampaign[]): void | Promise<void> {
    const { record } = event;
    const rules = this.#rules;
    const ruled = rules ? matched.filter((a) => rules.applies(a.campaign)) : [];
    const plain = ruled.length === 0 ? matched : matched.filter((a) => !ruled.includes(a));
    let waiting = plain.length + (ruled.length > 0 ? 1 : 0);
    let refused: string | null = null;
    const finished = (problem: string | null): void => {
      refused ??= problem;
      if (--waiting > 0 || p.revoked) return;
      // A record Kafka can never take (e.g. over its size limit) sends the event to the dead letters, rather
      // than holding its partition back for ever.
      if (refused) this.deadLetter(p, record, refused);
      else p.offsets.done(record.offset);
    };
    const source = { topic: p.topic, partition: p.partition, offset: record.offset };
    const value = record.value ?? Buffer.alloc(0);
    const sendPlain = (): void => {
      for (const active of plain) {
        this.#telemetry.publish("delivery", active.campaign.campaignId, PLAIN);
        this.#output.send(
          {
            topic: this.#triggerTopic,
            key: event.playerKey,
            value: triggerValueBytes(active.campaign, value),
            headers: triggerHeaderList(source, active.campaign),
          },
          (error) =>
            finished(
              error
                ? `a trigger was refused by Kafka (campaign ${active.campaign.campaignId}: ${errorMessage(error)})`
                : null,
            ),
        );
      }
    };
    const restoring = rules && ruled.length > 0 ? rules.route(p, event, ruled, finished) : undefined;
    // While the player's state is restored, the event's other triggers wait with its rules' records: sent now,
    // a transaction committing meanwhile would take them without the event's offset (exactly-once), and a crash
    // before the next commit would send them twice.
    if (!restoring) return sendPlain();
    return restoring.then(() => {
      if (!p.revoked) sendPlain();
    });
  }

  /** Sends the record as consumed to the dead-letter topic with `reason`; the event is done once it is written. */
  deadLetter(p: PartitionAssignment, m: SourceRecord, reason: string): void {
    if (p.revoked) return;
    this.#telemetry.publish("deadLetter", reason);
    this.#log.debug("event dead-lettered", { partition: m.partition, offset: m.offset, reason });
    this.#output.send(
      {
        topic: this.#deadLetterTopic,
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
        if (!p.revoked) p.offsets.done(m.offset);
      },
    );
  }
}
