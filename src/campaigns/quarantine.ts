// Which campaign versions are out of evaluation because their filter kept being stopped by the sandbox, decided by
// outcome: a version whose calls were stopped (timeout, out-of-fuel, out-of-memory, stack-overflow, trap,
// watchdog) `after` times within `windowMs` is quarantined at once. The decision is published on the status topic
// (status "quarantined" with the version), which every instance reads at start and follows, so a quarantine
// holds on every instance and across restarts; only a new version of the campaign (other content) is evaluated
// again. A version quarantined earlier and written again is not retried.
import { STOPPED_CALL_KINDS, type FilterOutcome } from "../evaluation/outcome.js";

export interface QuarantineOptions {
  /** Stopped calls within the window that quarantine a version (config quarantine_after). */
  readonly after: number;
  readonly windowMs: number;
  readonly now?: () => number;
}

export class Quarantine {
  readonly #after: number;
  readonly #windowMs: number;
  readonly #now: () => number;
  /** versionKey -> times of its recent stopped calls (at most `after` kept). */
  readonly #strikes = new Map<string, number[]>();
  /** versionKey -> why it is quarantined. */
  readonly #reasons = new Map<string, string>();

  constructor(options: QuarantineOptions) {
    this.#after = options.after;
    this.#windowMs = options.windowMs;
    this.#now = options.now ?? Date.now;
  }

  /** Why `versionKey` is quarantined, or undefined when it is not. */
  reason(versionKey: string): string | undefined {
    return this.#reasons.get(versionKey);
  }

  has(versionKey: string): boolean {
    return this.#reasons.has(versionKey);
  }

  /**
   * Counts a filter outcome of `versionKey`. Returns the reason when this outcome quarantines it (once); undefined
   * otherwise (the outcome is not a stopped call, the count is below `after`, or it is quarantined already).
   */
  strike(versionKey: string, outcome: FilterOutcome): string | undefined {
    if (!STOPPED_CALL_KINDS.has(outcome.kind) || this.#reasons.has(versionKey)) return undefined;
    const now = this.#now();
    const times = (this.#strikes.get(versionKey) ?? []).filter((t) => now - t < this.#windowMs);
    times.push(now);
    if (times.length < this.#after) {
      this.#strikes.set(versionKey, times);
      return undefined;
    }
    this.#strikes.delete(versionKey);
    const reason =
      `its filter was stopped ${times.length} times within ${this.#windowMs} ms ` +
      `(last: ${outcome.kind}${outcome.message ? `, ${outcome.message}` : ""}); ` +
      "write a new version of the campaign to evaluate it again";
    this.#reasons.set(versionKey, reason);
    return reason;
  }

  /** Records a quarantine decided elsewhere (read from the status topic, or by a worker). False if known already. */
  remember(versionKey: string, reason: string): boolean {
    if (this.#reasons.has(versionKey)) return false;
    this.#strikes.delete(versionKey);
    this.#reasons.set(versionKey, reason);
    return true;
  }

  /** The version left the set (replaced or deleted): its strikes go; a quarantine stays remembered. */
  forgetStrikes(versionKey: string): void {
    this.#strikes.delete(versionKey);
  }
}
