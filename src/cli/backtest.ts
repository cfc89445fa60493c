// Offline evaluation of campaigns against recorded events with the engine's own parts: the campaign
// validation, the filter compiler, the QuickJS sandbox with the same limits, the field projection and the pure
// rules, and each event's created_at as the clock (time_basis "created-at"). A record's offset is its index
// in the input, so written in order to partition 0 of `sourceTopic`, the engine gives the same trigger ids.
import { parseCampaign, parseInstant, type Campaign } from "../campaigns/campaign.js";
import type { CompiledFilter, FilterCompiler } from "../compile/filter-compiler.js";
import { evaluateCampaign, evaluationInstant } from "../evaluation/evaluate.js";
import type { FilterOutcomeKind, SkipReason } from "../evaluation/outcome.js";
import { decodeEvent } from "../events/decode.js";
import { EventView } from "../pool/event-view.js";
import { loadEngineModule } from "../sandbox/engine-module.js";
import { Sandbox } from "../sandbox/sandbox.js";
import { triggerHeaders, triggerValue } from "../triggers/trigger.js";
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
}

export interface BacktestReport {
  readonly time_basis: "created-at";
  readonly events: { read: number; malformed: number; evaluated: number; triggers: number };
  readonly malformed: { line: number; reason: string }[];
  readonly campaigns: CampaignTally[];
  readonly rejected: { line: number; campaign_id: number | null; reasons: string[] }[];
}

interface Loaded {
  readonly campaign: Campaign;
  readonly filter: CompiledFilter;
  readonly tally: CampaignTally;
}

export class Backtest {
  readonly #options: BacktestOptions;
  readonly #sandbox: Sandbox;
  readonly #routes = new Map<string, Loaded[]>();
  readonly #tallies: CampaignTally[] = [];
  readonly #rejected: BacktestReport["rejected"] = [];
  readonly #malformed: BacktestReport["malformed"] = [];
  readonly #counts = { read: 0, malformed: 0, evaluated: 0, triggers: 0 };
  #offset = 0;

  constructor(campaigns: readonly CampaignInput[], options: BacktestOptions) {
    this.#options = options;
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
      };
      const loaded = this.#sandbox.load(campaign.versionKey, filter.module);
      if (!loaded.ok) {
        this.#rejected.push({ line: 0, campaign_id: campaign.campaignId, reasons: [loaded.message] });
        continue;
      }
      this.#tallies.push(tally);
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
    const decoded = decodeEvent(Buffer.from(text, "utf8"));
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
    const triggers: TriggerRecord[] = [];
    for (const { campaign, filter, tally } of candidates) {
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
      this.#counts.triggers++;
      triggers.push({
        key: event.playerKey,
        headers: triggerHeaders(source, campaign),
        value: triggerValue(campaign.json, event.json),
      });
    }
    return triggers;
  }

  report(): BacktestReport {
    return {
      time_basis: "created-at",
      events: { ...this.#counts },
      malformed: [...this.#malformed],
      campaigns: this.#tallies.map((t) => ({ ...t, outcomes: { ...t.outcomes } })),
      rejected: [...this.#rejected],
    };
  }
}

/** A trigger record as one JSON line; the value is embedded as it is, so its bytes stay the engine's. */
export function triggerRecordLine(record: TriggerRecord): string {
  return `{"key":${JSON.stringify(record.key)},"headers":${JSON.stringify(record.headers)},"value":${record.value}}`;
}
