// Polls the engine's /metrics endpoint(s) for the per-campaign counters. An engine without the endpoint, or one
// that is not running, is a normal state for the UI: it says so and keeps polling.
import { errorMessage } from "../errors.js";
import {
  addCounters,
  campaignCounters,
  exposedCounts,
  noCounters,
  parseMetricsText,
  type CampaignCounters,
  type CountName,
} from "./prometheus-text.js";
import { TriggerRate, type TriggerRateSeries } from "./trigger-rate.js";

export interface MetricsState {
  /** True when every URL answered with metrics text on the last poll. */
  readonly available: boolean;
  readonly urls: readonly string[];
  /** Why the counters are missing or partial, in words for the page. */
  readonly problem: string | null;
  /** Per campaign id; totals over every URL that answered. */
  readonly campaigns: Readonly<Record<string, CampaignCounters>>;
  /**
   * The counts some engine that answered exposes: one that predates a count (rtcrm_campaign_triggers_total and
   * the other delivery-rule counts came with them) has no such samples, which the page must not show as 0.
   */
  readonly exposed: readonly CountName[];
  /** Triggers per minute per campaign, from the increase of the triggers count between polls. */
  readonly triggerRate: TriggerRateSeries;
}

export interface MetricsPollerOptions {
  readonly urls: readonly string[];
  readonly intervalMs?: number;
  /** Per request: an engine that hangs must not stall the next poll. */
  readonly timeoutMs?: number;
  /** The buckets of the triggers-per-minute series (tests make them short). */
  readonly rateBucketMs?: number;
  readonly rateBuckets?: number;
  readonly onChange: (state: MetricsState) => void;
}

async function fetchText(url: string, timeoutMs: number): Promise<string> {
  const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  if (!response.ok) {
    await response.body?.cancel();
    throw new Error(`HTTP ${response.status}`);
  }
  return response.text();
}

/** What one engine answered: its counters per campaign and the counts it exposes, or why there are none. */
export type InstanceReading =
  | {
      readonly url: string;
      readonly ok: true;
      readonly campaigns: ReadonlyMap<number, CampaignCounters>;
      readonly exposed: ReadonlySet<CountName>;
    }
  | { readonly url: string; readonly ok: false; readonly problem: string };

/** One poll of every URL, each engine on its own. */
export async function readInstances(urls: readonly string[], timeoutMs = 2_000): Promise<InstanceReading[]> {
  const results = await Promise.allSettled(urls.map((url) => fetchText(url, timeoutMs)));
  return results.map((result, i): InstanceReading => {
    const url = urls[i] ?? "";
    if (result.status === "rejected") return { url, ok: false, problem: describeFetchError(result.reason) };
    return {
      url,
      ok: true,
      campaigns: campaignCounters(parseMetricsText(result.value)),
      exposed: exposedCounts(result.value),
    };
  });
}

/** The page's counters: every engine that answered added up. */
export function combineReadings(
  urls: readonly string[],
  readings: readonly InstanceReading[],
  triggerRate: TriggerRateSeries,
): MetricsState {
  const campaigns: Record<string, CampaignCounters> = {};
  const exposed = new Set<CountName>();
  const problems: string[] = [];
  for (const r of readings) {
    if (!r.ok) {
      problems.push(`${r.url}: ${r.problem}`);
      continue;
    }
    for (const name of r.exposed) exposed.add(name);
    for (const [id, counters] of r.campaigns) addCounters((campaigns[String(id)] ??= noCounters()), counters);
  }
  return {
    available: problems.length === 0,
    urls,
    problem: problems.length === 0 ? null : `engine metrics not readable: ${problems.join("; ")}`,
    campaigns,
    exposed: [...exposed].sort(),
    triggerRate,
  };
}

function describeFetchError(error: unknown): string {
  const cause = (error as { cause?: { code?: string } } | null)?.cause;
  if (cause?.code === "ECONNREFUSED") return "connection refused (engine not running, or http_port 0)";
  if (error instanceof Error && error.name === "TimeoutError") return "no answer in time";
  return errorMessage(error);
}

export class MetricsPoller {
  readonly #options: Required<MetricsPollerOptions>;
  #timer: NodeJS.Timeout | undefined;
  #last = "";
  #stopped = false;
  #state: MetricsState;
  readonly #rate: TriggerRate;

  constructor(options: MetricsPollerOptions) {
    this.#options = {
      intervalMs: 2_000,
      timeoutMs: 2_000,
      rateBucketMs: 60_000,
      rateBuckets: 30,
      ...options,
    };
    this.#rate = new TriggerRate({
      bucketMs: this.#options.rateBucketMs,
      buckets: this.#options.rateBuckets,
    });
    this.#state = {
      available: false,
      urls: options.urls,
      problem: options.urls.length === 0 ? "no engine metrics URL configured" : "not read yet",
      campaigns: {},
      exposed: [],
      triggerRate: this.#rate.series(Date.now()),
    };
  }

  get state(): MetricsState {
    return this.#state;
  }

  start(): void {
    if (this.#options.urls.length === 0) return;
    const tick = async (): Promise<void> => {
      const readings = await readInstances(this.#options.urls, this.#options.timeoutMs);
      if (this.#stopped) return;
      const now = Date.now();
      for (const r of readings) {
        if (!r.ok) continue;
        const triggers = new Map<number, number>();
        for (const [id, c] of r.campaigns) triggers.set(id, c.triggers);
        this.#rate.observe(r.url, now, triggers);
      }
      const state = combineReadings(this.#options.urls, readings, this.#rate.series(now));
      this.#state = state;
      // Only changes go to the browsers; an idle engine costs them nothing.
      const text = JSON.stringify(state);
      if (text !== this.#last) {
        this.#last = text;
        this.#options.onChange(state);
      }
      this.#timer = setTimeout(() => void tick(), this.#options.intervalMs);
    };
    void tick();
  }

  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
  }
}
