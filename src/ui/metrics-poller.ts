// Polls the engine's /metrics endpoint(s) for the per-campaign counters. An engine without the endpoint, or one
// that is not running, is a normal state for the UI: it says so and keeps polling.
import { errorMessage } from "../errors.js";
import { campaignCounters, parseMetricsText, type CampaignCounters, type Sample } from "./prometheus-text.js";

export interface MetricsState {
  /** True when every URL answered with metrics text on the last poll. */
  readonly available: boolean;
  readonly urls: readonly string[];
  /** Why the counters are missing or partial, in words for the page. */
  readonly problem: string | null;
  /** Per campaign id; totals over every URL that answered. */
  readonly campaigns: Readonly<Record<string, CampaignCounters>>;
}

export interface MetricsPollerOptions {
  readonly urls: readonly string[];
  readonly intervalMs?: number;
  /** Per request: an engine that hangs must not stall the next poll. */
  readonly timeoutMs?: number;
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

/** One poll of every URL. */
export async function readMetrics(urls: readonly string[], timeoutMs = 2_000): Promise<MetricsState> {
  const results = await Promise.allSettled(urls.map((url) => fetchText(url, timeoutMs)));
  const samples: Sample[] = [];
  const problems: string[] = [];
  results.forEach((result, i) => {
    if (result.status === "fulfilled") samples.push(...parseMetricsText(result.value));
    else problems.push(`${urls[i]}: ${describeFetchError(result.reason)}`);
  });
  const campaigns: Record<string, CampaignCounters> = {};
  for (const [id, counters] of campaignCounters(samples)) campaigns[String(id)] = counters;
  return {
    available: problems.length === 0,
    urls,
    problem: problems.length === 0 ? null : `engine metrics not readable: ${problems.join("; ")}`,
    campaigns,
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

  constructor(options: MetricsPollerOptions) {
    this.#options = { intervalMs: 2_000, timeoutMs: 2_000, ...options };
    this.#state = {
      available: false,
      urls: options.urls,
      problem: options.urls.length === 0 ? "no engine metrics URL configured" : "not read yet",
      campaigns: {},
    };
  }

  get state(): MetricsState {
    return this.#state;
  }

  start(): void {
    if (this.#options.urls.length === 0) return;
    const tick = async (): Promise<void> => {
      const state = await readMetrics(this.#options.urls, this.#options.timeoutMs);
      if (this.#stopped) return;
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
