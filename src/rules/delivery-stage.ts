// The delivery rules on the event path: per state partition (the event's own when events are keyed by player, the
// repartition topic's otherwise), a player's matches are decided against the player's state in the local store;
// triggers and holdout records go out, then the new state to the changelog topic. The event is done once that
// state record is written: in exactly-once mode all of them are in the transaction that commits the event's
// offset; in at-least-once mode a crash before the state record is written sends the retried event's triggers
// again (a cap exceeded by retried events at most), never loses one.
import type { Campaign } from "../campaigns/campaign.js";
import type { DeliveryRules, FrequencyCap } from "../campaigns/delivery-rules.js";
import type { Config } from "../config/config.js";
import { errorMessage } from "../errors.js";
import type { OutRecord } from "../kafka/acking-producer.js";
import type { Logger } from "../logging/logger.js";
import type { RecordOutput } from "../offsets/committer.js";
import type { Telemetry } from "../telemetry.js";
import { triggerHeaderList, triggerValueBytes, type SourcePosition } from "../triggers/trigger.js";
import type { ChangelogRestorer } from "./changelog-restore.js";
import { decide } from "./decide.js";
import { decodeState, emptyState, encodeState, expire, isEmpty, type PlayerState } from "./player-state.js";
import type { PartitionStore, StateStore } from "./state-store.js";

/** The matches of one event that have delivery rules, for one player. */
export interface RuledMatch {
  readonly playerId: string;
  readonly createdMs: number | null;
  readonly campaigns: readonly Campaign[];
  readonly source: SourcePosition;
  /** The event's bytes as consumed. */
  readonly event: Uint8Array;
}

/** Called once the match's records are written; `refused` says which Kafka refused for good, if any. */
export type DeliveryDone = (refused: string | null) => void;

interface StatePartition {
  readonly store: PartitionStore;
  ready: Promise<void>;
  restored: boolean;
  revoked: boolean;
  /** The latest instant decided at here: the sweep's clock when the rules run on event time. */
  latestMs: number;
}

/** How often state out of every period is looked for, and how many players one look reads at most. */
const SWEEP_INTERVAL_MS = 60_000;
const SWEEP_BATCH = 5_000;

export interface DeliveryStageOptions {
  readonly store: StateStore;
  readonly restorer: ChangelogRestorer;
  readonly output: RecordOutput;
  readonly telemetry: Telemetry;
  readonly log: Logger;
  readonly globalCap: FrequencyCap | null;
  /** A campaign's current rules; undefined once it is gone (its state is then dropped). */
  readonly rulesOf: (campaignId: number) => DeliveryRules | undefined;
  readonly clock?: () => number;
}

export class DeliveryStage {
  readonly #config: Config;
  readonly #options: DeliveryStageOptions;
  readonly #clock: () => number;
  readonly #partitions = new Map<number, StatePartition>();
  readonly #sweepTimer: NodeJS.Timeout;
  readonly #sweepCursor = new Map<number, string>();

  constructor(config: Config, options: DeliveryStageOptions) {
    this.#config = config;
    this.#options = options;
    this.#clock = options.clock ?? Date.now;
    this.#sweepTimer = setInterval(() => this.#sweep(), SWEEP_INTERVAL_MS);
    this.#sweepTimer.unref();
  }

  /** Takes state partitions: each is cleared and restored from the changelog before its matches are decided. */
  assign(partitions: readonly number[]): void {
    for (const n of partitions) {
      const part: StatePartition = {
        store: this.#options.store.partition(n),
        ready: Promise.resolve(),
        restored: false,
        revoked: false,
        latestMs: 0,
      };
      part.ready = this.#options.restorer
        .restore(n, part.store, () => part.revoked)
        .then(
          (result) => {
            if (!result || part.revoked) return;
            part.restored = true;
            this.#options.telemetry.publish("restored", n, result.records, result.ms);
            this.#options.log.info("delivery-rule state restored", { partition: n, ...result });
          },
          (error) => {
            // Nothing of this partition can be decided without its state: the process stops and its partitions
            // go to another instance.
            this.#options.log.error("delivery-rule state not restored", {
              partition: n,
              error: errorMessage(error),
            });
            this.#options.telemetry.publish("fatal", error as Error);
          },
        );
      this.#partitions.set(n, part);
    }
  }

  revoke(partitions: readonly number[]): void {
    for (const n of partitions) {
      const part = this.#partitions.get(n);
      if (part) part.revoked = true;
      this.#partitions.delete(n);
    }
  }

  /**
   * Decides `match` in state partition `partition` and writes its records; `done` when they are written. Returns
   * a promise while the partition is still being restored (the caller keeps the partition's order by awaiting it).
   * Nothing happens for a partition this instance does not hold.
   */
  deliver(
    partition: number,
    match: RuledMatch,
    done: DeliveryDone,
    revoked: () => boolean,
  ): void | Promise<void> {
    const part = this.#partitions.get(partition);
    // A match read under an earlier assignment of the partition is the next owner's (or the next assignment's).
    if (!part || revoked()) return;
    if (part.restored) return this.#deliverNow(partition, part, match, done);
    return part.ready.then(() => {
      if (!part.revoked && part.restored && !revoked()) this.#deliverNow(partition, part, match, done);
    });
  }

  #deliverNow(partition: number, part: StatePartition, match: RuledMatch, done: DeliveryDone): void {
    const { playerId, campaigns, source, event } = match;
    // The rules' clock is the one the campaign windows use: processing time, or the event's created_at.
    const nowMs =
      this.#config.time_basis === "created-at" && match.createdMs !== null ? match.createdMs : this.#clock();
    part.latestMs = Math.max(part.latestMs, nowMs);
    const state = this.#stateOf(part, playerId);
    // Decided, and its records written, before the state was: a retry after a crash (at-least-once).
    const last = state.sources.get(source.partition);
    if (last !== undefined && source.offset <= last) return done(null);
    const decided = decide(
      {
        playerId,
        nowMs,
        createdMs: match.createdMs,
        candidates: campaigns,
        globalCap: this.#options.globalCap,
      },
      state,
    );
    const { deliveries } = decided;
    const changed = expire(state, nowMs, this.#options.rulesOf, this.#options.globalCap) || decided.changed;
    if (changed) state.sources.set(source.partition, source.offset);
    const records: OutRecord[] = [];
    for (const [i, campaign] of campaigns.entries()) {
      const delivery = deliveries[i]!;
      this.#options.telemetry.publish("delivery", campaign.campaignId, delivery);
      if (delivery.kind !== "trigger" && delivery.kind !== "held-out") continue;
      const variant = delivery.kind === "trigger" ? delivery.variant : null;
      records.push({
        topic: delivery.kind === "trigger" ? this.#config.trigger_topic : this.#config.holdout_topic,
        key: playerId,
        value: triggerValueBytes(campaign, event, variant),
        headers: triggerHeaderList(source, campaign, variant),
      });
    }
    const stateRecord = changed ? this.#remember(partition, part, playerId, state) : null;
    let refused: string | null = null;
    if (this.#config.delivery === "exactly-once") {
      // Everything at once, so that it all goes into one transaction: waiting for the triggers' acknowledgements
      // before sending the state lets a commit in between take the triggers without the state and the offset (a
      // crash then decides the match again, against state without it: a trigger twice, a cap exceeded).
      const all = stateRecord ? [...records, stateRecord] : records;
      let left = all.length;
      if (left === 0) return done(null);
      for (const record of all)
        this.#options.output.send(record, (error) => {
          const what = record === stateRecord ? `state of player ${playerId}` : record.topic;
          if (error) refused ??= `${what}: ${errorMessage(error)}`;
          if (--left === 0) done(refused);
        });
      return;
    }
    // At-least-once: the state only once the triggers are written, so that a crash never leaves state that counts a
    // trigger Kafka does not have.
    let waiting = records.length;
    const writeState = (): void => {
      if (!stateRecord) return done(refused);
      this.#options.output.send(stateRecord, (error) => {
        if (error) refused ??= `state of player ${playerId}: ${errorMessage(error)}`;
        done(refused);
      });
    };
    if (waiting === 0) return writeState();
    for (const record of records)
      this.#options.output.send(record, (error) => {
        if (error) refused ??= `${record.topic}: ${errorMessage(error)}`;
        if (--waiting === 0) writeState();
      });
  }

  #stateOf(part: StatePartition, playerId: string): PlayerState {
    try {
      return part.store.get(playerId) ?? emptyState();
    } catch (error) {
      // Bytes of another version or damaged: the player starts again, which the log says.
      this.#options.log.warn("player state unreadable; starting from none", {
        player: playerId,
        error: errorMessage(error),
      });
      return emptyState();
    }
  }

  /** Stores the player's state at once (the next event reads it) and returns its changelog record. */
  #remember(partition: number, part: StatePartition, playerId: string, state: PlayerState): OutRecord {
    const bytes = isEmpty(state) ? null : encodeState(state);
    part.store.put(playerId, bytes);
    return { topic: this.#config.rules_changelog_topic, partition, key: playerId, value: bytes, headers: [] };
  }

  /** Drops, a batch of players at a time, state no period needs any more (a tombstone on the changelog). */
  #sweep(): void {
    const eventTime = this.#config.time_basis === "created-at";
    for (const [n, part] of this.#partitions) {
      if (!part.restored || part.revoked) continue;
      // On event time, "now" is as far as the partition's events have gone (a replay of history keeps its caps).
      const nowMs = eventTime ? part.latestMs : this.#clock();
      if (nowMs === 0) continue;
      let read = 0;
      let last: string | undefined;
      const from = this.#sweepCursor.get(n);
      for (const [player, bytes] of part.store.entries(from)) {
        if (++read > SWEEP_BATCH) break;
        last = player;
        let state: PlayerState;
        try {
          state = decodeState(bytes);
        } catch {
          continue;
        }
        if (!expire(state, nowMs, this.#options.rulesOf, this.#options.globalCap)) continue;
        this.#options.output.send(this.#remember(n, part, player, state), () => {});
      }
      if (read > SWEEP_BATCH && last !== undefined) this.#sweepCursor.set(n, last);
      else this.#sweepCursor.delete(n);
    }
  }

  /** Waits for local writes. Idempotent. */
  async stop(): Promise<void> {
    clearInterval(this.#sweepTimer);
    for (const part of this.#partitions.values()) await part.store.settled();
  }
}
