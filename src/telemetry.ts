// One channel for what the event path reports: outcomes, dead letters, commits, client statistics and fatal
// errors. Stages publish; metrics, the quarantine and the process (run-engine.ts) subscribe. Listeners are
// called synchronously, in the order they subscribed: a listener must not throw and must be cheap (outcomes are
// published once per filter call).
import type { ActiveCampaign } from "./campaigns/campaign-set.js";
import type { Outcome } from "./evaluation/outcome.js";
import type { EvaluationCounts } from "./pool/wire.js";
import type { Delivery } from "./rules/decide.js";

export interface CommittedOffset {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
}

export interface TelemetryEvents {
  /** Records fetched from the events topic and taken into the pipeline. */
  consumed: [count: number];
  /**
   * The outcome of an (event, campaign) pair that matched, failed or made a timed sandbox call. Pairs that did not
   * match without a call of their own (left out by the index, answered by the host's interpreter or by a shared
   * call, skipped by the rules) are only counted, in `evaluations`.
   */
  outcome: [campaign: ActiveCampaign, outcome: Outcome];
  /** What the workers did with the (event, campaign) pairs of one batch. */
  evaluations: [counts: EvaluationCounts];
  /** Trigger records handed to the producer. */
  triggered: [count: number];
  /** What the delivery rules decided for a campaign an event matched (src/rules/decide.ts). */
  delivery: [campaignId: number, delivery: Delivery];
  /** A state partition was restored from the changelog topic. */
  restored: [partition: number, records: number, ms: number];
  /** An event went to the dead-letter topic. */
  deadLetter: [reason: string];
  /** Offsets were committed; `ms` is the commit's round trip. */
  committed: [ms: number, offsets: readonly CommittedOffset[]];
  /** librdkafka statistics of the events consumer (JSON text), every `statsIntervalMs` when someone listens. */
  clientStats: [json: string];
  /** The event path cannot go on (e.g. the transactional producer was fenced): the process must stop. */
  fatal: [error: Error];
}

type Listener<K extends keyof TelemetryEvents> = (...args: TelemetryEvents[K]) => void;
type Listeners = { [K in keyof TelemetryEvents]: Listener<K>[] };

export class Telemetry {
  /** How often the events consumer reports statistics, when anyone listens to `clientStats`. */
  readonly statsIntervalMs: number;
  readonly #listeners: Listeners = {
    consumed: [],
    outcome: [],
    evaluations: [],
    triggered: [],
    delivery: [],
    restored: [],
    deadLetter: [],
    committed: [],
    clientStats: [],
    fatal: [],
  };

  constructor(statsIntervalMs = 5_000) {
    this.statsIntervalMs = statsIntervalMs;
  }

  on<K extends keyof TelemetryEvents>(event: K, listener: Listener<K>): this {
    this.#listeners[event].push(listener);
    return this;
  }

  /** Whether anyone listens to `event` (statistics are only computed for a listener). */
  has(event: keyof TelemetryEvents): boolean {
    return this.#listeners[event].length > 0;
  }

  publish<K extends keyof TelemetryEvents>(event: K, ...args: TelemetryEvents[K]): void {
    for (const listener of this.#listeners[event]) listener(...args);
  }
}
