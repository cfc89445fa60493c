// How a batch and its outcomes cross the thread boundary: in columns (an array of event texts, typed arrays of
// numbers) rather than one object per event and per outcome. The structured clone writes every property name of
// every object: 256 events cost 227–261 µs to post and receive as objects, 66–72 µs in columns; their 512 outcomes
// 252–264 µs as objects, 36–40 µs in columns (bench/probes/wire-format.ts).
// Events of one route share one candidate list, sent once per batch. Outcomes are sparse: only the pairs that
// matched, failed or made a timed sandbox call come back; every other routed pair did not match (or was skipped
// by the rules before the filter), which is all the trigger sink and the metrics need to know of it.
import type { FilterOutcome } from "../evaluation/outcome.js";
import { FAILED_KINDS } from "../evaluation/outcome.js";
import type { BatchEvent } from "./protocol.js";

/** The events of a batch, column by column. Event i's campaigns are those of the task's route routeOf[i]. */
export interface WireEvents {
  readonly texts: readonly string[];
  /** Distinct game and event_name pairs, flattened: heads[2k] is a game, heads[2k+1] its event name. */
  readonly heads: readonly string[];
  /** Per event, its pair's k in heads. */
  readonly headOf: Int32Array;
  readonly nowMs: Float64Array;
  /** Per event, its route's index in the task's routes. */
  readonly routeOf: Int32Array;
}

/** What the worker did for a batch, counted over its (event, campaign) pairs. */
export interface EvaluationCounts {
  /** Pairs routed to the worker (every candidate of every event). */
  routed: number;
  /** Pairs left out by one index lookup (their first conjunct cannot hold). */
  indexed: number;
  /** Pairs visited and skipped by the rules before the filter (disabled, dates). */
  skipped: number;
  /** Pairs answered by the host's interpreter of predicate filters. */
  interpreted: number;
  /** Pairs answered by a call into the sandbox. */
  sandboxCalls: number;
  /** Pairs answered by another campaign's call with the same stateless filter on the same event. */
  shared: number;
  /** Quarantined pairs (no call). */
  quarantined: number;
}

export function noCounts(): EvaluationCounts {
  return { routed: 0, indexed: 0, skipped: 0, interpreted: 0, sandboxCalls: 0, shared: 0, quarantined: 0 };
}

export function addCounts(into: EvaluationCounts, from: EvaluationCounts): void {
  for (const k of Object.keys(into) as (keyof EvaluationCounts)[]) into[k] += from[k];
}

/** The reported pairs, in event order. */
export interface WireOutcomes {
  /** Event index of each reported pair, and its position in the event's candidate list. */
  readonly events: Int32Array;
  readonly candidates: Int32Array;
  /** Index into OUTCOME_CODES. */
  readonly kinds: Uint8Array;
  readonly fuel: Float64Array;
  /** The filter call's microseconds; NaN where no filter call was timed. */
  readonly micros: Float64Array;
  /** [row, text]: a failure's message. */
  readonly notes: readonly (readonly [number, string])[];
  readonly counts: EvaluationCounts;
}

/** One reported pair of an event: the position of the campaign in its candidates, and the outcome. */
export interface Evaluated {
  readonly candidate: number;
  readonly outcome: FilterOutcome;
}

/** A batch's reported pairs per event (matches, failures, timed calls; see wire.ts), and what the workers did. */
export interface EvaluatedBatch {
  readonly rows: readonly (readonly Evaluated[])[];
  readonly counts: EvaluationCounts;
}

const OUTCOME_CODES = ["match", "no-match", ...FAILED_KINDS] as const;
const CODE_OF = new Map<string, number>(OUTCOME_CODES.map((k, i) => [k, i]));

/** The events' columns; `routeIndex` gives each event's route its index in the task. */
export function encodeEvents(
  events: readonly BatchEvent[],
  routeIndex: (route: BatchEvent["route"]) => number,
): WireEvents {
  const n = events.length;
  const texts: string[] = new Array<string>(n);
  const heads: string[] = [];
  const headIndex = new Map<string, number>();
  const headOf = new Int32Array(n);
  const nowMs = new Float64Array(n);
  const routeOf = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const e = events[i] as BatchEvent;
    texts[i] = e.json;
    const key = `${e.game}\u0000${e.eventName}`;
    let k = headIndex.get(key);
    if (k === undefined) {
      k = heads.length / 2;
      heads.push(e.game, e.eventName);
      headIndex.set(key, k);
    }
    headOf[i] = k;
    nowMs[i] = e.nowMs;
    routeOf[i] = routeIndex(e.route);
  }
  return { texts, heads, headOf, nowMs, routeOf };
}

/** Collects reported pairs on the worker's side. */
export class OutcomeWriter {
  readonly #events: number[] = [];
  readonly #candidates: number[] = [];
  readonly #kinds: number[] = [];
  readonly #fuel: number[] = [];
  readonly #micros: number[] = [];
  readonly #notes: [number, string][] = [];

  add(event: number, candidate: number, outcome: FilterOutcome, micros: number): void {
    const row = this.#events.push(event) - 1;
    this.#candidates.push(candidate);
    this.#kinds.push(CODE_OF.get(outcome.kind) as number);
    this.#fuel.push(outcome.fuelUsed);
    this.#micros.push(micros);
    if (outcome.message !== undefined) this.#notes.push([row, outcome.message]);
  }

  finish(counts: EvaluationCounts): WireOutcomes {
    return {
      events: Int32Array.from(this.#events),
      candidates: Int32Array.from(this.#candidates),
      kinds: Uint8Array.from(this.#kinds),
      fuel: Float64Array.from(this.#fuel),
      micros: Float64Array.from(this.#micros),
      notes: this.#notes,
      counts,
    };
  }
}

const NONE: readonly Evaluated[] = Object.freeze([]);

/** The reported pairs of each of `eventCount` events (an event with none gets an empty list). */
export function decodeOutcomes(wire: WireOutcomes, eventCount: number): (readonly Evaluated[])[] {
  const notes = new Map(wire.notes);
  const rows: (readonly Evaluated[])[] = new Array<readonly Evaluated[]>(eventCount).fill(NONE);
  for (let row = 0; row < wire.events.length; row++) {
    const outcome: { -readonly [K in keyof FilterOutcome]: FilterOutcome[K] } = {
      kind: OUTCOME_CODES[wire.kinds[row] as number] as FilterOutcome["kind"],
      fuelUsed: wire.fuel[row] as number,
    };
    const message = notes.get(row);
    if (message !== undefined) outcome.message = message;
    const micros = wire.micros[row] as number;
    if (!Number.isNaN(micros)) outcome.micros = micros;
    const event = wire.events[row] as number;
    const list = rows[event] === NONE ? (rows[event] = []) : rows[event];
    (list as Evaluated[]).push({ candidate: wire.candidates[row] as number, outcome });
  }
  return rows;
}
