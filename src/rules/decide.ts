// The delivery rules as one pure function: which of the campaigns an event matched a player gets, given what is
// remembered of the player. The engine, the backtest and the benchmarks share it; the clock is an input.
//
// For each matched campaign, in this order: too old an event (max_event_age) -> expired; the campaign's cap
// reached -> capped; the player in the campaign's holdout -> held out (a holdout record instead of a trigger,
// counted against the campaign's cap like a trigger, so that both groups see the same frequency). What is left
// triggers, highest priority first (ties: lower campaign_id) while the global cap allows; the rest is capped.
import type { DeliveryRules, FrequencyCap, Variant } from "../campaigns/delivery-rules.js";
import { windowed, type PlayerState } from "./player-state.js";
import { sha256 } from "./repartition.js";

export interface RuleCampaign {
  readonly campaignId: number;
  readonly rules: DeliveryRules;
}

export type Delivery =
  | { readonly kind: "trigger"; readonly variant: string | null }
  | { readonly kind: "held-out" }
  | { readonly kind: "capped"; readonly cap: "campaign" | "global" }
  | { readonly kind: "expired" };

export interface DecideInput {
  readonly playerId: string;
  /** The instant the rules apply at (processing time). */
  readonly nowMs: number;
  /** The event's created_at; null when it has none that parses (a campaign with max_event_age expires it). */
  readonly createdMs: number | null;
  readonly candidates: readonly RuleCampaign[];
  readonly globalCap: FrequencyCap | null;
}

/** Where in [0, 1) the player falls for `purpose` of campaign `campaignId`: the same on every instance, always. */
export function bucket(purpose: "holdout" | "variant", campaignId: number, playerId: string): number {
  return sha256(`${purpose}\u0000${campaignId}\u0000${playerId}`).readUInt32BE(0) / 2 ** 32;
}

export function isHeldOut(campaignId: number, playerId: string, percent: number): boolean {
  return percent > 0 && bucket("holdout", campaignId, playerId) * 100 < percent;
}

export function pickVariant(variants: readonly Variant[], campaignId: number, playerId: string): string {
  const total = variants.reduce((n, v) => n + v.weight, 0);
  let point = bucket("variant", campaignId, playerId) * total;
  for (const v of variants) {
    if (point < v.weight) return v.name;
    point -= v.weight;
  }
  return variants[variants.length - 1]!.name;
}

function campaignCount(state: PlayerState, id: number, cap: FrequencyCap, nowMs: number): number {
  const history = state.campaigns.get(id);
  if (!history) return 0;
  return cap.periodMs === null ? history.count : windowed(history.times, cap, nowMs).length;
}

function remember(state: PlayerState, id: number, cap: FrequencyCap, nowMs: number): void {
  const history = state.campaigns.get(id) ?? { count: 0, times: [] };
  if (cap.periodMs === null) history.count++;
  else history.times = windowed([...history.times, nowMs], cap, nowMs);
  state.campaigns.set(id, history);
}

/**
 * The delivery of each candidate (same order), updating `state` in place. Returns whether the state changed
 * (it must then be written to the store and the changelog).
 */
export function decide(input: DecideInput, state: PlayerState): { deliveries: Delivery[]; changed: boolean } {
  const { playerId, nowMs, createdMs, candidates, globalCap } = input;
  const deliveries: Delivery[] = new Array<Delivery>(candidates.length);
  let changed = false;
  const eligible: number[] = [];
  for (const [i, { campaignId, rules }] of candidates.entries()) {
    if (rules.maxEventAgeMs !== null && (createdMs === null || nowMs - createdMs > rules.maxEventAgeMs)) {
      deliveries[i] = { kind: "expired" };
      continue;
    }
    const cap = rules.frequencyCap;
    if (cap !== null && campaignCount(state, campaignId, cap, nowMs) >= cap.max) {
      deliveries[i] = { kind: "capped", cap: "campaign" };
      continue;
    }
    if (isHeldOut(campaignId, playerId, rules.holdoutPercent)) {
      deliveries[i] = { kind: "held-out" };
      if (cap !== null) remember(state, campaignId, cap, nowMs);
      changed ||= cap !== null;
      continue;
    }
    eligible.push(i);
  }
  eligible.sort((a, b) => {
    const ca = candidates[a]!;
    const cb = candidates[b]!;
    return cb.rules.priority - ca.rules.priority || ca.campaignId - cb.campaignId;
  });
  let left = Infinity;
  if (globalCap !== null) {
    state.global = windowed(state.global, globalCap, nowMs);
    left = globalCap.max - state.global.length;
  }
  for (const i of eligible) {
    const { campaignId, rules } = candidates[i]!;
    if (left <= 0) {
      deliveries[i] = { kind: "capped", cap: "global" };
      continue;
    }
    left--;
    if (rules.frequencyCap !== null) remember(state, campaignId, rules.frequencyCap, nowMs);
    if (globalCap !== null) state.global = windowed([...state.global, nowMs], globalCap, nowMs);
    changed ||= rules.frequencyCap !== null || globalCap !== null;
    const variant = rules.variants === null ? null : pickVariant(rules.variants, campaignId, playerId);
    deliveries[i] = { kind: "trigger", variant };
  }
  return { deliveries, changed };
}
