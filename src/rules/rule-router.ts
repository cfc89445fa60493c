// Sends an event's matches that have delivery rules to the state partition of their player: the event's own
// partition when events are keyed by player (events_keyed_by_player), otherwise through the repartition topic, whose
// records come back through the same consumer and are decided where they land.
import { parseInstant } from "../campaigns/campaign.js";
import type { ActiveCampaign } from "../campaigns/campaign-set.js";
import { hasRules, type FrequencyCap } from "../campaigns/delivery-rules.js";
import type { Config } from "../config/config.js";
import { errorMessage } from "../errors.js";
import type { ConsumedRecord } from "../kafka/event-consumer.js";
import type { PartitionAssignment } from "../offsets/assignments.js";
import type { RecordOutput } from "../offsets/committer.js";
import type { EvaluatedEvent, RuledMatches, TriggerSink } from "../triggers/trigger-sink.js";
import type { DeliveryStage, RuledMatch } from "./delivery-stage.js";
import { candidateRecord, readCandidate } from "./repartition.js";

export const NO_PLAYER =
  "player_id is missing or not a string or number: the delivery rules of the campaigns it matched need one";
export const KEY_NOT_PLAYER =
  "the event's key is not its player_id (events_keyed_by_player is set): its delivery rules cannot keep the player's state in one partition";

export class RuleRouter implements RuledMatches {
  readonly #config: Config;
  readonly #stage: DeliveryStage;
  readonly #output: RecordOutput;
  readonly #globalCap: FrequencyCap | null;
  /** Partitions of the repartition topic; null when events are keyed by player. */
  readonly #repartitions: number | null;
  #sink: TriggerSink | undefined;

  constructor(
    config: Config,
    stage: DeliveryStage,
    output: RecordOutput,
    globalCap: FrequencyCap | null,
    repartitions: number | null,
  ) {
    this.#config = config;
    this.#stage = stage;
    this.#output = output;
    this.#globalCap = globalCap;
    this.#repartitions = repartitions;
  }

  /** The sink whose dead letters take what cannot be decided (set once, as the two refer to each other). */
  set sink(sink: TriggerSink) {
    this.#sink = sink;
  }

  /** The topic whose partitions hold the state. */
  get stateTopic(): string {
    return this.#repartitions === null ? this.#config.event_topic : this.#config.rules_repartition_topic;
  }

  applies(campaign: ActiveCampaign["campaign"]): boolean {
    return this.#globalCap !== null || hasRules(campaign.rules);
  }

  route(
    p: PartitionAssignment,
    event: EvaluatedEvent,
    matched: readonly ActiveCampaign[],
    done: (refused: string | null) => void,
  ): void | Promise<void> {
    const { record } = event;
    const playerId = event.playerKey;
    if (playerId === null) return done(NO_PLAYER);
    const match: RuledMatch = {
      playerId,
      createdMs: typeof event.createdAt === "string" ? parseInstant(event.createdAt) : null,
      campaigns: matched.map((a) => a.campaign),
      source: { topic: p.topic, partition: p.partition, offset: record.offset },
      event: record.value ?? Buffer.alloc(0),
    };
    if (this.#repartitions === null) {
      if (record.key?.toString() !== playerId) return done(KEY_NOT_PLAYER);
      return this.#stage.deliver(
        p.partition,
        match,
        (refused) => done(refusal(refused)),
        () => p.revoked,
      );
    }
    const topic = this.#config.rules_repartition_topic;
    this.#output.send(candidateRecord(topic, this.#repartitions, match), (error) =>
      done(refusal(error ? `${topic}: ${errorMessage(error)}` : null)),
    );
  }

  /**
   * Records of the repartition topic, in offset order: each decided in its partition, done once its records are
   * written. A promise while the partition's state is being restored (the rest wait for it, in order).
   */
  fromRepartition(
    p: PartitionAssignment,
    records: readonly ConsumedRecord[],
    from = 0,
  ): void | Promise<void> {
    for (let i = from; i < records.length; i++) {
      const m = records[i]!;
      const read = readCandidate(m);
      if ("reason" in read) {
        this.#sink?.deadLetter(p, m, read.reason);
        continue;
      }
      const waiting = this.#stage.deliver(
        p.partition,
        read.match,
        (refused) => {
          if (p.revoked) return;
          if (refused) this.#sink?.deadLetter(p, m, refusal(refused)!);
          else p.offsets.done(m.offset);
        },
        () => p.revoked,
      );
      if (waiting) return waiting.then(() => this.fromRepartition(p, records, i + 1));
    }
  }
}

function refusal(refused: string | null): string | null {
  return refused === null ? null : `a record was refused by Kafka (${refused})`;
}
