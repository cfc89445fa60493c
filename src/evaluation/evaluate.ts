// The evaluation rules of SEED.md as one pure function. The clock and the filter are inputs,
// so tests fix the time and the engine, the CLI backtest and the benchmarks share one definition.
import type { Campaign } from "../campaigns/campaign.js";
import type { FilterOutcome, Outcome, SkipReason } from "./outcome.js";

/** The fields of an event the rules before the filter read. */
export interface EventHead {
  readonly game: string;
  readonly event_name: string;
}

/** Steps 1-5: enabled, game, event_name, strictly after start, strictly before end. Null when the filter decides. */
export function skipReason(campaign: Campaign, event: EventHead, nowMs: number): SkipReason | null {
  if (!campaign.enabled) return "disabled";
  if (campaign.game !== event.game) return "other-game";
  if (campaign.eventName !== event.event_name) return "other-event-name";
  if (campaign.startMs !== null && !(nowMs > campaign.startMs)) return "not-started";
  if (campaign.endMs !== null && !(nowMs < campaign.endMs)) return "ended";
  return null;
}

/**
 * Evaluates one campaign for one event at instant `nowMs` (processing time taken once per event, or the event's
 * created_at). `runFilter` is only called when steps 1-5 pass; only its "match" (boolean true) is a match.
 */
export function evaluateCampaign(
  campaign: Campaign,
  event: EventHead,
  nowMs: number,
  runFilter: (campaign: Campaign) => FilterOutcome,
): Outcome {
  const reason = skipReason(campaign, event, nowMs);
  if (reason !== null) return { kind: "skipped", reason };
  return runFilter(campaign);
}

/** Which instant the date window is checked against. */
export type TimeBasis = "processing-time" | "created-at";

/**
 * The instant for an event under `basis`: processing time, or the event's own created_at
 * (null when created_at is missing or not an instant: such an event cannot be evaluated by event time).
 */
export function evaluationInstant(
  basis: TimeBasis,
  event: { created_at?: unknown },
  processingMs: number,
  parseInstant: (text: string) => number | null,
): number | null {
  if (basis === "processing-time") return processingMs;
  return typeof event.created_at === "string" ? parseInstant(event.created_at) : null;
}
