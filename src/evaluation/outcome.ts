// What evaluating one campaign against one event gives. Outcomes are values: one bad filter never fails a batch.

/** The filter calls that gave no answer: every outcome kind but "match" and "no-match". */
export const FAILED_KINDS = [
  "threw",
  "out-of-fuel",
  "out-of-memory",
  "stack-overflow",
  "timeout",
  "trap",
  "bad-event",
  "host-error",
  "watchdog",
  "quarantined",
] as const;

/** What the sandbox says about one filter call. */
export type FilterOutcomeKind = "match" | "no-match" | (typeof FAILED_KINDS)[number];

/**
 * Calls the sandbox had to stop: they count towards quarantining the campaign version (config quarantine_after).
 * `trap` is the engine instance failing inside the filter's own call; a failure of the host (`host-error`: the
 * event could not be placed in the sandbox) is never blamed on a campaign.
 */
export const STOPPED_CALL_KINDS: ReadonlySet<FilterOutcomeKind> = new Set<FilterOutcomeKind>([
  "out-of-fuel",
  "out-of-memory",
  "stack-overflow",
  "timeout",
  "trap",
  "watchdog",
]);

export interface FilterOutcome {
  readonly kind: FilterOutcomeKind;
  /** Fuel units spent by the call (see the sandbox for the unit). */
  readonly fuelUsed: number;
  /** For threw/bad-event/watchdog and the stopped calls: what happened, e.g. the thrown value as text. */
  readonly message?: string;
  /**
   * Wall-clock time of the filter call in the worker, in microseconds (the sandbox call alone, without building
   * the event's projection, which filters reading the same fields share). Absent when no call completed
   * (watchdog, a failed worker, a quarantined version).
   */
  readonly micros?: number;
}

/** Why a campaign was not even asked: the rules before the filter (SEED.md, evaluation steps 1-5). */
export type SkipReason = "disabled" | "other-game" | "other-event-name" | "not-started" | "ended";

export type Outcome = { readonly kind: "skipped"; readonly reason: SkipReason } | FilterOutcome;
