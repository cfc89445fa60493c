// Per-campaign counts kept as plain numbers on the hot path (one map look-up and a few additions per outcome);
// prom-client hashes the label set on every inc/observe, which would cost more than the rest of the outcome's
// handling on the main thread. The registry reads these tallies when it is scraped.
import { FAILED_KINDS, type FilterOutcomeKind, type Outcome } from "../evaluation/outcome.js";
import type { Delivery } from "../rules/decide.js";

/**
 * Outcome kinds counted as errors of a campaign: the failed calls, but out-of-fuel (it has its own counter) and
 * calls skipped because the version is quarantined (no call was made).
 */
export const ERROR_KINDS = FAILED_KINDS.filter(
  (kind): kind is Exclude<(typeof FAILED_KINDS)[number], "out-of-fuel" | "quarantined"> =>
    kind !== "out-of-fuel" && kind !== "quarantined",
);
export type ErrorKind = (typeof ERROR_KINDS)[number];

/**
 * Upper bounds (seconds) of the evaluation-time histogram: a filter call takes a few to some tens of microseconds
 * (BENCHMARKS.md), a runaway one up to its fuel budget's worth of milliseconds.
 */
export const EVALUATION_BUCKETS_SECONDS = [
  0.000_005, 0.000_01, 0.000_025, 0.000_05, 0.000_1, 0.000_25, 0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025,
  0.1, 1,
] as const;
const BUCKETS_MICROS = EVALUATION_BUCKETS_SECONDS.map((s) => s * 1e6);

const ERROR_INDEX: Partial<Record<FilterOutcomeKind, number>> = Object.fromEntries(
  ERROR_KINDS.map((kind, i) => [kind, i]),
);

export class CampaignTally {
  matches = 0;
  /** What the delivery rules made of the matches (every match triggers for a campaign without rules). */
  triggers = 0;
  cappedByCampaign = 0;
  cappedByGlobal = 0;
  heldOut = 0;
  expired = 0;
  fuelExhausted = 0;
  /** Indexed like ERROR_KINDS. */
  readonly errors = new Float64Array(ERROR_KINDS.length);
  /** Calls per bucket (not cumulative); the last slot counts calls above the largest bound. */
  readonly buckets = new Float64Array(BUCKETS_MICROS.length + 1);
  timedCalls = 0;
  sumMicros = 0;
}

export class CampaignTallies {
  readonly #byId = new Map<number, CampaignTally>();

  #tally(campaignId: number): CampaignTally {
    let tally = this.#byId.get(campaignId);
    if (tally === undefined) {
      tally = new CampaignTally();
      this.#byId.set(campaignId, tally);
    }
    return tally;
  }

  /** Counts what the delivery rules decided for one match. */
  recordDelivery(campaignId: number, delivery: Delivery): void {
    const tally = this.#tally(campaignId);
    if (delivery.kind === "trigger") tally.triggers++;
    else if (delivery.kind === "held-out") tally.heldOut++;
    else if (delivery.kind === "expired") tally.expired++;
    else if (delivery.cap === "campaign") tally.cappedByCampaign++;
    else tally.cappedByGlobal++;
  }

  /** Counts one outcome of campaign `campaignId`; skipped outcomes (no filter call) count nowhere. */
  record(campaignId: number, outcome: Outcome): void {
    const kind = outcome.kind;
    if (kind === "skipped") return;
    const tally = this.#tally(campaignId);
    if (kind === "match") tally.matches++;
    else if (kind === "out-of-fuel") tally.fuelExhausted++;
    else if (kind !== "no-match") {
      const index = ERROR_INDEX[kind];
      if (index !== undefined) tally.errors[index]! += 1;
    }
    const micros = outcome.micros;
    if (micros === undefined) return;
    let bucket = 0;
    while (bucket < BUCKETS_MICROS.length && micros > BUCKETS_MICROS[bucket]!) bucket++;
    tally.buckets[bucket]! += 1;
    tally.timedCalls++;
    tally.sumMicros += micros;
  }

  delete(campaignId: number): void {
    this.#byId.delete(campaignId);
  }

  get(campaignId: number): CampaignTally | undefined {
    return this.#byId.get(campaignId);
  }

  entries(): IterableIterator<[number, CampaignTally]> {
    return this.#byId.entries();
  }
}
