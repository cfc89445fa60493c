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
import type { Telemetry } from "../telemetry.js";
import { triggerHeaderList, triggerValueBytes } from "./trigger.js";

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
  readonly campaigns: readonly ActiveCampaign[];
  readonly record: SourceRecord;
}

export class TriggerSink {
  readonly #triggerTopic: string;
  readonly #deadLetterTopic: string;
  readonly #output: RecordOutput;
  readonly #telemetry: Telemetry;
  readonly #log: Logger;

  constructor(config: Config, output: RecordOutput, telemetry: Telemetry, log: Logger) {
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
  ): void {
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
      if (matched.length === 0) p.offsets.done(event.record.offset);
      else this.#trigger(p, event, matched);
      triggered += matched.length;
    }
    if (triggered > 0) this.#telemetry.publish("triggered", triggered);
  }

  #trigger(p: PartitionAssignment, event: EvaluatedEvent, matched: readonly ActiveCampaign[]): void {
    const { record } = event;
    const source = { topic: p.topic, partition: p.partition, offset: record.offset };
    const value = record.value ?? Buffer.alloc(0);
    let waiting = matched.length;
    let refused: string | null = null;
    for (const active of matched) {
      this.#output.send(
        {
          topic: this.#triggerTopic,
          key: event.playerKey,
          value: triggerValueBytes(active.campaign, value),
          headers: triggerHeaderList(source, active.campaign),
        },
        (error) => {
          if (error) refused ??= `campaign ${active.campaign.campaignId}: ${errorMessage(error)}`;
          if (--waiting > 0 || p.revoked) return;
          // A trigger Kafka can never take (e.g. over its size limit) sends the event to the dead letters,
          // rather than holding its partition back for ever.
          if (refused) this.deadLetter(p, record, `a trigger was refused by Kafka (${refused})`);
          else p.offsets.done(record.offset);
        },
      );
    }
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
