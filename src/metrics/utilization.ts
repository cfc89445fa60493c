// The workers' busy share between two readings of their cumulative busy time. A scrape reads it, so the share
// covers the time since the previous scrape; readings closer together than `minWindowMs` repeat the last value
// instead of measuring a window too short to mean anything.

export class UtilizationMeter {
  readonly #minWindowMs: number;
  #at: number;
  #busyMs: number;
  #last = 0;

  constructor(atMs: number, busyMs: number, minWindowMs = 1_000) {
    this.#at = atMs;
    this.#busyMs = busyMs;
    this.#minWindowMs = minWindowMs;
  }

  /** Busy share (0..1) of `workers` workers since the previous reading, given their cumulative busy time now. */
  read(atMs: number, busyMs: number, workers: number): number {
    const elapsed = atMs - this.#at;
    if (elapsed < this.#minWindowMs || workers <= 0) return this.#last;
    const share = (busyMs - this.#busyMs) / (elapsed * workers);
    this.#last = Math.min(1, Math.max(0, share));
    this.#at = atMs;
    this.#busyMs = busyMs;
    return this.#last;
  }
}
