// Triggers per minute per campaign, for the page's small charts: the engine exposes only running totals
// (rtcrm_campaign_triggers_total), so the UI server takes the increase between successive polls of each engine
// and adds it to the minute of the later poll. What happened before the UI first read an engine is unknown,
// not zero: the series start with the UI's first reading.

export interface TriggerRateOptions {
  /** Width of one point of the series. */
  readonly bucketMs?: number;
  /** Points kept: 30 one-minute buckets are the last half hour. */
  readonly buckets?: number;
}

export interface TriggerRateSeries {
  readonly bucketMs: number;
  /** Most points a series can have. */
  readonly buckets: number;
  /** End (exclusive) of the last point, the bucket that holds `now`, in ms since the epoch. */
  readonly end: number;
  /**
   * Points observed so far, at most `buckets`: every series has this many, oldest first, the last one the
   * current (partial) bucket. 0 until the first reading.
   */
  readonly observed: number;
  /** Per campaign id; a campaign without a series had no trigger in the window (0 at every observed point). */
  readonly campaigns: Readonly<Record<string, readonly number[]>>;
}

export class TriggerRate {
  readonly #bucketMs: number;
  readonly #buckets: number;
  /** Per engine URL: the totals of its last successful reading. */
  readonly #last = new Map<string, ReadonlyMap<number, number>>();
  /** Bucket number (ms since the epoch / bucketMs) of the first reading, -1 before it. */
  #firstBucket = -1;
  /** Per campaign: bucket number -> triggers in it. */
  readonly #counts = new Map<number, Map<number, number>>();

  constructor(options: TriggerRateOptions = {}) {
    this.#bucketMs = options.bucketMs ?? 60_000;
    this.#buckets = options.buckets ?? 30;
  }

  /**
   * One successful reading of one engine: its rtcrm_campaign_triggers_total per campaign. A campaign it did not
   * list before counts from 0; a total lower than before means the engine restarted, so all of it is new.
   */
  observe(url: string, now: number, totals: ReadonlyMap<number, number>): void {
    const bucket = Math.floor(now / this.#bucketMs);
    if (this.#firstBucket < 0) this.#firstBucket = bucket;
    const last = this.#last.get(url);
    this.#last.set(url, totals);
    // The first reading of an engine is its baseline: its totals were counted before the UI looked.
    if (!last) return;
    for (const [id, total] of totals) {
      const before = last.get(id) ?? 0;
      const increase = total >= before ? total - before : total;
      if (increase > 0) {
        let counts = this.#counts.get(id);
        if (!counts) this.#counts.set(id, (counts = new Map()));
        counts.set(bucket, (counts.get(bucket) ?? 0) + increase);
      }
    }
  }

  /** The series at `now`; buckets older than the window are dropped on the way. */
  series(now: number): TriggerRateSeries {
    const current = Math.floor(now / this.#bucketMs);
    const first = current - this.#buckets + 1;
    const observed = this.#firstBucket < 0 ? 0 : Math.min(this.#buckets, current - this.#firstBucket + 1);
    const start = current - observed + 1;
    const campaigns: Record<string, number[]> = {};
    for (const [id, counts] of this.#counts) {
      for (const b of counts.keys()) if (b < first) counts.delete(b);
      if (counts.size === 0) {
        this.#counts.delete(id);
        continue;
      }
      const points: number[] = [];
      for (let b = start; b <= current; b++) points.push(counts.get(b) ?? 0);
      campaigns[String(id)] = points;
    }
    return {
      bucketMs: this.#bucketMs,
      buckets: this.#buckets,
      end: (current + 1) * this.#bucketMs,
      observed,
      campaigns,
    };
  }
}
