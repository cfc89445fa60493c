// The engine's metrics. Per-event and per-outcome figures come from plain counters and tallies filled from the
// telemetry channel, read when scraped, so the hot path never touches a labelled metric.
// Engine-wide metrics and the process metrics live in a prom-client registry; the per-campaign families are
// written from the tallies directly (campaign-exposition.ts says why).
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";
import { errorMessage } from "../errors.js";
import type { Logger } from "../logging/logger.js";
import type { WorkerMemory } from "../pool/protocol.js";
import type { Telemetry } from "../telemetry.js";
import { renderCampaignMetrics } from "./campaign-exposition.js";
import { CampaignTallies } from "./campaign-tallies.js";
import { parseConsumerStats } from "./kafka-stats.js";
import { addCounts, noCounts, type EvaluationCounts } from "../pool/wire.js";
import { METRIC_NAMES } from "./metric-names.js";
import { Readiness } from "./readiness.js";
import { UtilizationMeter } from "./utilization.js";

export { METRIC_NAMES };

/** Prefix of prom-client's default process metrics (rtcrm_process_cpu_seconds_total, ...). */
export const PROCESS_METRICS_PREFIX = "rtcrm_";

/** How often the events consumer reports statistics (lag, broker states). */
export const STATS_INTERVAL_MS = 2_000;

/** Missing this many statistics in a row makes Kafka count as unreachable. */
const STATS_MISSED_BEFORE_STALE = 3;

/**
 * A campaign that left the set keeps its series this long (ms), so that scrapes see its last counts; then they
 * go, or campaigns created and deleted all day would grow the registry and every scrape without bound.
 */
export const GONE_CAMPAIGN_SERIES_MS = 5 * 60_000;

const COMMIT_BUCKETS_SECONDS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** What the metrics read from a started engine (EngineParts has all of it). */
export interface MeteredParts {
  readonly campaigns: {
    readonly size: number;
    all(): Iterable<{ readonly campaign: { readonly campaignId: number } }>;
  };
  readonly pool: {
    readonly workers: number;
    readonly queued: number;
    busyTimeMs(now?: number): number;
    memory(): readonly WorkerMemory[];
  };
}

/** Counts of the event path, from the telemetry channel. */
interface EventCounts {
  consumed: number;
  triggers: number;
  deadLettered: number;
}

export interface EngineMetricsOptions {
  readonly log?: Logger;
  /** Wall clock of the readiness checks (epoch ms). */
  readonly now?: () => number;
  /** Monotonic clock of the pool's busy time (performance.now() in ms). */
  readonly monotonic?: () => number;
  /** prom-client's default process metrics; on unless a test turns them off. */
  readonly processMetrics?: boolean;
}

export class EngineMetrics {
  readonly registry = new Registry();
  readonly readiness: Readiness;
  readonly #tallies = new CampaignTallies();
  /** Campaigns with tallies that are no longer in the set, and since when (monotonic ms). */
  readonly #goneSince = new Map<number, number>();
  readonly #log: Logger | undefined;
  readonly #monotonic: () => number;
  readonly #lag: Gauge<"topic" | "partition">;
  readonly #commitLatency: Histogram;
  #parts: MeteredParts | undefined;
  #utilization: UtilizationMeter | undefined;
  #badStatsLogged = false;

  readonly #counts: EventCounts = { consumed: 0, triggers: 0, deadLettered: 0 };
  readonly #pairs: EvaluationCounts = noCounts();

  /** Outcomes into the tallies, counts, commit round trips, consumer statistics. */
  subscribe(telemetry: Telemetry): void {
    telemetry
      .on("consumed", (n) => (this.#counts.consumed += n))
      .on("triggered", (n) => (this.#counts.triggers += n))
      .on("deadLetter", () => this.#counts.deadLettered++)
      .on("outcome", (active, outcome) => this.#tallies.record(active.campaign.campaignId, outcome))
      .on("delivery", (campaignId, delivery) => this.#tallies.recordDelivery(campaignId, delivery))
      .on("evaluations", (counts) => addCounts(this.#pairs, counts))
      .on("committed", (ms) => this.#commitLatency.observe(ms / 1000))
      .on("clientStats", (json) => this.#onStats(json));
  }

  constructor(options: EngineMetricsOptions = {}) {
    this.#log = options.log;
    this.#monotonic = options.monotonic ?? (() => performance.now());
    this.readiness = new Readiness(STATS_INTERVAL_MS * STATS_MISSED_BEFORE_STALE + 1_000, options.now);
    const registers = [this.registry];
    const parts = (): MeteredParts | undefined => this.#parts;

    const counts = this.#counts;
    const fromCounters = (name: string, help: string, read: (c: EventCounts) => number): void => {
      new Counter({
        name,
        help,
        registers,
        collect() {
          this.reset();
          this.inc(read(counts));
        },
      });
    };
    fromCounters(METRIC_NAMES.eventsConsumed, "Events read from the events topic", (c) => c.consumed);
    fromCounters(
      METRIC_NAMES.triggersProduced,
      "Trigger records sent to the trigger topic",
      (c) => c.triggers,
    );
    fromCounters(
      METRIC_NAMES.deadLettered,
      "Malformed events sent to the dead-letter topic",
      (c) => c.deadLettered,
    );

    const pairs = this.#pairs;
    new Counter({
      name: METRIC_NAMES.evaluationPairs,
      help:
        "(event, campaign) pairs by how they were decided: routed (all), indexed (left out by one index lookup), " +
        "skipped (rules before the filter), interpreted (host interpreter of predicate filters), sandbox (a call), " +
        "shared (another campaign's call of the same stateless filter), quarantined",
      labelNames: ["path"],
      registers,
      collect() {
        this.reset();
        this.inc({ path: "routed" }, pairs.routed);
        this.inc({ path: "indexed" }, pairs.indexed);
        this.inc({ path: "skipped" }, pairs.skipped);
        this.inc({ path: "interpreted" }, pairs.interpreted);
        this.inc({ path: "sandbox" }, pairs.sandboxCalls);
        this.inc({ path: "shared" }, pairs.shared);
        this.inc({ path: "quarantined" }, pairs.quarantined);
      },
    });
    new Gauge({
      name: METRIC_NAMES.poolQueueDepth,
      help: "Batches waiting for a worker",
      registers,
      collect() {
        this.set(parts()?.pool.queued ?? 0);
      },
    });
    new Gauge({
      name: METRIC_NAMES.poolWorkers,
      help: "Evaluation worker threads",
      registers,
      collect() {
        this.set(parts()?.pool.workers ?? 0);
      },
    });
    const utilization = (): number => {
      const p = parts();
      if (!p || !this.#utilization) return 0;
      const now = this.#monotonic();
      return this.#utilization.read(now, p.pool.busyTimeMs(now), p.pool.workers);
    };
    new Gauge({
      name: METRIC_NAMES.poolUtilization,
      help: "Share of the workers' time spent on batches since the previous scrape (0..1)",
      registers,
      collect() {
        this.set(utilization());
      },
    });
    const perWorker: [name: string, help: string, read: (m: WorkerMemory) => number][] = [
      [
        METRIC_NAMES.workerHeapUsedBytes,
        "V8 heap in use in each evaluation worker (as it last reported, at most 1 s old)",
        (m) => m.heapUsedBytes,
      ],
      [
        METRIC_NAMES.workerHeapTotalBytes,
        "V8 heap reserved by each evaluation worker",
        (m) => m.heapTotalBytes,
      ],
      [
        METRIC_NAMES.sandboxMemoryBytes,
        "WebAssembly memory of each worker's sandbox (it grows, never shrinks)",
        (m) => m.sandboxMemoryBytes,
      ],
      [
        METRIC_NAMES.sandboxHeapBytes,
        "Bytes QuickJS has allocated inside each worker's sandbox memory",
        (m) => m.sandboxHeapBytes,
      ],
      [
        METRIC_NAMES.sandboxCampaignsBytes,
        "Bytes all campaigns hold in each worker's sandbox (their contexts and globals; worker_memory_limit_bytes bounds it)",
        (m) => m.campaignsBytes,
      ],
      [
        METRIC_NAMES.sandboxMemoryResets,
        "Campaign contexts each worker reset (globals lost) to keep its campaigns under worker_memory_limit_bytes, since the worker started",
        (m) => m.memoryResets,
      ],
      [METRIC_NAMES.workerFilters, "Filters loaded in each worker's sandbox", (m) => m.filters],
    ];
    for (const [name, help, read] of perWorker)
      new Gauge({
        name,
        help,
        labelNames: ["worker"] as const,
        registers,
        collect() {
          this.reset();
          parts()
            ?.pool.memory()
            .forEach((m, i) => this.set({ worker: String(i) }, read(m)));
        },
      });
    new Gauge({
      name: METRIC_NAMES.campaignsActive,
      help: "Campaigns in the active set",
      registers,
      collect() {
        this.set(parts()?.campaigns.size ?? 0);
      },
    });
    this.#lag = new Gauge({
      name: METRIC_NAMES.consumerLag,
      help: "Messages between the committed offset and the end of each assigned partition (librdkafka statistics)",
      labelNames: ["topic", "partition"] as const,
      registers,
    });
    this.#commitLatency = new Histogram({
      name: METRIC_NAMES.commitLatencySeconds,
      help: "Round trip of an offset commit",
      buckets: COMMIT_BUCKETS_SECONDS,
      registers,
    });
    if (options.processMetrics ?? true)
      collectDefaultMetrics({ register: this.registry, prefix: PROCESS_METRICS_PREFIX });
  }

  /** From now on the gauges and counters read this started engine. */
  attach(parts: MeteredParts): void {
    this.#parts = parts;
    const now = this.#monotonic();
    this.#utilization = new UtilizationMeter(now, parts.pool.busyTimeMs(now));
  }

  /** The Prometheus text of every metric: the registry's, then the per-campaign families. */
  async text(): Promise<string> {
    const engineWide = await this.registry.metrics();
    const active = new Set<number>();
    for (const a of this.#parts?.campaigns.all() ?? []) active.add(a.campaign.campaignId);
    if (this.#parts) this.#dropGoneCampaigns(active);
    return `${engineWide}\n${renderCampaignMetrics(this.#tallies, active)}`;
  }

  #dropGoneCampaigns(active: ReadonlySet<number>): void {
    const now = this.#monotonic();
    for (const [id] of this.#tallies.entries()) {
      if (active.has(id)) {
        this.#goneSince.delete(id);
        continue;
      }
      const since = this.#goneSince.get(id);
      if (since === undefined) this.#goneSince.set(id, now);
      else if (now - since >= GONE_CAMPAIGN_SERIES_MS) {
        this.#tallies.delete(id);
        this.#goneSince.delete(id);
      }
    }
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  #onStats(json: string): void {
    let stats;
    try {
      stats = parseConsumerStats(json);
    } catch (error) {
      if (!this.#badStatsLogged) {
        this.#badStatsLogged = true;
        this.#log?.warn("librdkafka statistics not understood; consumer lag not reported", {
          error: errorMessage(error),
        });
      }
      return;
    }
    this.readiness.kafkaStats(stats);
    this.#lag.reset();
    for (const { topic, partition, lag } of stats.lags)
      this.#lag.set({ topic, partition: String(partition) }, lag);
  }
}
