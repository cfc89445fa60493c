// Offline evaluation of campaigns against recorded events with the engine's own parts: the campaign
// validation, the filter compiler, the QuickJS sandbox with the same limits, the field projection and the pure
// rules, and each event's created_at as the clock (time_basis "created-at"). A record's offset is its index
// in the input, so written in order to partition 0 of `sourceTopic`, the engine gives the same trigger ids.
// The delivery rules (caps, holdouts, variants, expiry, the global cap) are decided by the engine's decide(), from
// empty state, with every player's state in memory.
import { parseCampaign, parseInstant, type Campaign } from "../campaigns/campaign.js";
import { hasRules, type FrequencyCap } from "../campaigns/delivery-rules.js";
import type { CompiledFilter, FilterCompiler } from "../compile/filter-compiler.js";
import { evaluateCampaign, evaluationInstant } from "../evaluation/evaluate.js";
import type { FilterOutcomeKind, SkipReason } from "../evaluation/outcome.js";
import { decodeEvent } from "../events/decode.js";
import { EventView } from "../pool/event-view.js";
import { loadEngineModule } from "../sandbox/engine-module.js";
import { Sandbox } from "../sandbox/sandbox.js";
import { decide, type Delivery } from "../rules/decide.js";
import { emptyState, expire, isEmpty, type PlayerState } from "../rules/player-state.js";
import { triggerHeaders, triggerValueBytes } from "../triggers/trigger.js";
import { checkCampaignRecord, compilerFor, problemText } from "../client/check-campaign.js";

export interface BacktestOptions {
  /** Fuel of one filter call for a campaign (the engine's fuel_per_evaluation and fuel_overrides). */
  readonly fuelFor: (campaignId: number) => number;
  readonly memoryBytes: number;
  /** Wall-clock limit of one filter call (the engine's call_deadline_ms). */
  readonly deadlineMs: number;
  /** The events topic the input stands for: it names the trigger's source and goes into the trigger id. */
  readonly sourceTopic: string;
  readonly sourcePartition?: number;
  readonly compiler?: FilterCompiler;
  /** How many malformed events the report lists (all are counted). */
  readonly listMalformed?: number;
  /** The engine's global_frequency_cap; none when absent. */
  readonly globalCap?: FrequencyCap | null;
}

export interface CampaignInput {
  readonly value: unknown;
  /** Where it stands in the campaigns file, for messages. */
  readonly line: number;
}

export interface TriggerRecord {
  readonly key: string | null;
  readonly headers: Readonly<Record<string, string>>;
  /** The record value exactly as the engine writes it. */
  readonly value: string;
}

export type Tallied = FilterOutcomeKind | SkipReason;

export interface CampaignTally {
  readonly campaign_id: number;
  readonly game: string;
  readonly event_name: string;
  /** Events of its game and event name. */
  candidates: number;
  matches: number;
  /** Every outcome, matches included: skipped ones by reason (not-started, ended, disabled), filter ones by kind. */
  readonly outcomes: Partial<Record<Tallied, number>>;
  /** Whether its matches go through the delivery rules: a rule of its own, or the global cap. */
  readonly rules_apply: boolean;
  /** What the delivery rules made of the matches (all trigger for a campaign they do not apply to). */
  triggers: number;
  readonly capped: { campaign: number; global: number };
  held_out: number;
  expired: number;
  /** Matches on events without a player_id, which the rules cannot decide: the engine dead-letters such events. */
  no_player: number;
}

export interface BacktestReport {
  readonly time_basis: "created-at";
  readonly events: { read: number; malformed: number; evaluated: number; triggers: number };
  readonly malformed: { line: number; reason: string }[];
  readonly campaigns: CampaignTally[];
  readonly rejected: { line: number; campaign_id: number | null; reasons: string[] }[];
  readonly delivery_rules: {
    /** The engine's global_frequency_cap as applied, null when none. */
    readonly global_frequency_cap: { max: number; period: string | null } | null;
    /** Events with matches of campaigns the rules apply to but no player_id (the engine dead-letters them). */
    events_without_player: number;
  };
}

interface Loaded {
  readonly campaign: Campaign;
  readonly filter: CompiledFilter;
  readonly tally: CampaignTally;
}

/** A match of a campaign the rules do not apply to: it triggers. */
const PLAIN: Delivery = { kind: "trigger", variant: null };

export class Backtest {
  readonly #options: BacktestOptions;
  readonly #sandbox: Sandbox;
  readonly #routes = new Map<string, Loaded[]>();
  readonly #tallies: CampaignTally[] = [];
  readonly #rejected: BacktestReport["rejected"] = [];
  readonly #malformed: BacktestReport["malformed"] = [];
  readonly #counts = { read: 0, malformed: 0, evaluated: 0, triggers: 0 };
  #offset = 0;
  readonly #globalCap: FrequencyCap | null;
  /** Each player's rule state, from empty; a player whose state empties again is forgotten. */
  readonly #players = new Map<string, PlayerState>();
  readonly #rulesOf = new Map<number, Campaign["rules"]>();
  #withoutPlayer = 0;

  constructor(campaigns: readonly CampaignInput[], options: BacktestOptions) {
    this.#options = options;
    this.#globalCap = options.globalCap ?? null;
    const engine = loadEngineModule();
    this.#sandbox = new Sandbox(engine);
    const compiler = options.compiler ?? compilerFor();
    // As on the topic: the last record of an id wins, and an invalid record removes the id (CampaignSet).
    const byId = new Map<number, { campaign: Campaign; filter: CompiledFilter }>();
    for (const input of campaigns) {
      // The filters run on the events below, failures counted, so no example run here.
      const checked = checkCampaignRecord(input.value, { compiler, runOnExample: false });
      if (checked.ok) {
        byId.delete(checked.campaign.campaignId);
        byId.set(checked.campaign.campaignId, checked);
        continue;
      }
      const id = parseCampaign(input.value);
      const campaignId = id.ok ? id.campaign.campaignId : id.campaignId;
      if (campaignId !== null) byId.delete(campaignId);
      this.#rejected.push({
        line: input.line,
        campaign_id: campaignId,
        reasons: checked.problems.map(problemText),
      });
    }
    for (const { campaign, filter } of [...byId.values()].sort(
      (a, b) => a.campaign.campaignId - b.campaign.campaignId,
    )) {
      const tally: CampaignTally = {
        campaign_id: campaign.campaignId,
        game: campaign.game,
        event_name: campaign.eventName,
        candidates: 0,
        matches: 0,
        outcomes: {},
        rules_apply: this.#globalCap !== null || hasRules(campaign.rules),
        triggers: 0,
        capped: { campaign: 0, global: 0 },
        held_out: 0,
        expired: 0,
        no_player: 0,
      };
      const loaded = this.#sandbox.load(campaign.versionKey, filter.module);
      if (!loaded.ok) {
        this.#rejected.push({ line: 0, campaign_id: campaign.campaignId, reasons: [loaded.message] });
        continue;
      }
      this.#tallies.push(tally);
      this.#rulesOf.set(campaign.campaignId, campaign.rules);
      const key = `${campaign.game}\u0000${campaign.eventName}`;
      this.#routes.set(key, [...(this.#routes.get(key) ?? []), { campaign, filter, tally }]);
    }
  }

  /** Campaigns that will be evaluated. */
  get campaignCount(): number {
    return this.#tallies.length;
  }

  /** Evaluates one event record (its text as it would stand in Kafka); returns the triggers it causes. */
  feed(text: string, line: number): TriggerRecord[] {
    const offset = this.#offset++;
    this.#counts.read++;
    const bytes = Buffer.from(text, "utf8");
    const decoded = decodeEvent(bytes);
    const nowMs = decoded.ok
      ? evaluationInstant("created-at", { created_at: decoded.event.createdAt }, 0, parseInstant)
      : null;
    if (!decoded.ok || nowMs === null) {
      this.#counts.malformed++;
      if (this.#malformed.length < (this.#options.listMalformed ?? 20)) {
        this.#malformed.push({
          line,
          reason: decoded.ok ? "created_at is missing or not an ISO-8601 instant" : decoded.reason,
        });
      }
      return [];
    }
    const event = decoded.event;
    const candidates = this.#routes.get(`${event.game}\u0000${event.eventName}`);
    if (!candidates) return [];
    this.#counts.evaluated++;
    const view = new EventView(event.json);
    const head = { game: event.game, event_name: event.eventName };
    const source = {
      topic: this.#options.sourceTopic,
      partition: this.#options.sourcePartition ?? 0,
      offset,
    };
    const matched: Loaded[] = [];
    for (const loaded of candidates) {
      const { campaign, filter, tally } = loaded;
      tally.candidates++;
      const outcome = evaluateCampaign(campaign, head, nowMs, () =>
        this.#sandbox.evaluate(campaign.versionKey, view.for(filter), {
          fuel: this.#options.fuelFor(campaign.campaignId),
          memoryBytes: this.#options.memoryBytes,
          deadlineMs: this.#options.deadlineMs,
        }),
      );
      const kind: Tallied = outcome.kind === "skipped" ? outcome.reason : outcome.kind;
      tally.outcomes[kind] = (tally.outcomes[kind] ?? 0) + 1;
      if (outcome.kind !== "match") continue;
      tally.matches++;
      matched.push(loaded);
    }
    if (matched.length === 0) return [];
    const deliveries = this.#deliveries(matched, event.playerKey, nowMs);
    const triggers: TriggerRecord[] = [];
    for (const [i, { campaign, tally }] of matched.entries()) {
      const delivery = deliveries[i];
      if (delivery === undefined) {
        tally.no_player++;
        continue;
      }
      count(tally, delivery);
      if (delivery.kind !== "trigger") continue;
      this.#counts.triggers++;
      triggers.push({
        key: event.playerKey,
        headers: triggerHeaders(source, campaign, delivery.variant),
        value: triggerValueBytes(campaign, bytes, delivery.variant).toString("utf8"),
      });
    }
    return triggers;
  }

  /**
   * What becomes of each match, as in the engine: a match the rules do not apply to triggers; the others are
   * decided together for the player, at the event's created_at (the clock). Undefined for a ruled match of an
   * event without a player_id: the engine sends such an event to the dead letters.
   */
  #deliveries(matched: readonly Loaded[], playerId: string | null, nowMs: number): (Delivery | undefined)[] {
    const ruled = matched.filter((m) => m.tally.rules_apply);
    const out: (Delivery | undefined)[] = matched.map((m) => (m.tally.rules_apply ? undefined : PLAIN));
    if (ruled.length === 0) return out;
    if (playerId === null) {
      this.#withoutPlayer++;
      return out;
    }
    const state = this.#players.get(playerId) ?? emptyState();
    const { deliveries } = decide(
      {
        playerId,
        nowMs,
        createdMs: nowMs,
        candidates: ruled.map((m) => m.campaign),
        globalCap: this.#globalCap,
      },
      state,
    );
    // As the engine's store: what no cap needs any more is dropped, so memory follows the players within a period.
    expire(state, nowMs, (id) => this.#rulesOf.get(id), this.#globalCap);
    if (isEmpty(state)) this.#players.delete(playerId);
    else this.#players.set(playerId, state);
    let next = 0;
    for (const [i, m] of matched.entries()) if (m.tally.rules_apply) out[i] = deliveries[next++];
    return out;
  }

  report(): BacktestReport {
    return {
      time_basis: "created-at",
      events: { ...this.#counts },
      malformed: [...this.#malformed],
      campaigns: this.#tallies.map((t) => ({ ...t, outcomes: { ...t.outcomes }, capped: { ...t.capped } })),
      rejected: [...this.#rejected],
      delivery_rules: {
        global_frequency_cap:
          this.#globalCap === null ? null : { max: this.#globalCap.max, period: this.#globalCap.period },
        events_without_player: this.#withoutPlayer,
      },
    };
  }
}

function count(tally: CampaignTally, delivery: Delivery): void {
  if (delivery.kind === "trigger") tally.triggers++;
  else if (delivery.kind === "held-out") tally.held_out++;
  else if (delivery.kind === "expired") tally.expired++;
  else tally.capped[delivery.cap]++;
}

/** A trigger record as one JSON line; the value is embedded as it is, so its bytes stay the engine's. */
export function triggerRecordLine(record: TriggerRecord): string {
  return `{"key":${JSON.stringify(record.key)},"headers":${JSON.stringify(record.headers)},"value":${record.value}}`;
}
