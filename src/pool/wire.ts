// How a batch and its outcomes cross the thread boundary: in columns (an array of event texts, typed arrays of
// numbers) rather than one object per event and per outcome. The structured clone writes every property name of
// every object: 256 events cost 227–261 µs to post and receive as objects, 66–72 µs in columns; their 512 outcomes
// 252–264 µs as objects, 36–40 µs in columns (bench/probes/wire-format.ts).
import type { FilterOutcome, Outcome, SkipReason } from "../evaluation/outcome.js";
import { FAILED_KINDS } from "../evaluation/outcome.js";
import type { BatchEvent } from "./protocol.js";

/** The events of a batch, column by column. Event i's candidates are candidates[candidateEnds[i-1] .. candidateEnds[i]). */
export interface WireEvents {
  readonly texts: readonly string[];
  /** Distinct game and event_name pairs, flattened: heads[2k] is a game, heads[2k+1] its event name. */
  readonly heads: readonly string[];
  /** Per event, its pair's k in heads. */
  readonly headOf: Int32Array;
  readonly nowMs: Float64Array;
  readonly candidateEnds: Int32Array;
  readonly candidates: Int32Array;
}

/** Outcomes in row order (event by event, candidate by candidate). */
export interface WireOutcomes {
  /** Index into OUTCOME_CODES. */
  readonly kinds: Uint8Array;
  readonly fuel: Float64Array;
  /** The filter call's microseconds; NaN where no filter call completed. */
  readonly micros: Float64Array;
  /** [position, text]: a failure's message, or a skip's reason. */
  readonly notes: readonly (readonly [number, string])[];
}

const OUTCOME_CODES = ["match", "no-match", "skipped", ...FAILED_KINDS] as const;
type OutcomeCode = (typeof OUTCOME_CODES)[number];
const CODE_OF = new Map<string, number>(OUTCOME_CODES.map((k, i) => [k, i]));

export function encodeEvents(events: readonly BatchEvent[]): WireEvents {
  const n = events.length;
  const texts: string[] = new Array<string>(n);
  const heads: string[] = [];
  const headIndex = new Map<string, number>();
  const headOf = new Int32Array(n);
  const nowMs = new Float64Array(n);
  const candidateEnds = new Int32Array(n);
  let total = 0;
  for (const e of events) total += e.candidates.length;
  const candidates = new Int32Array(total);
  let c = 0;
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
    for (const candidate of e.candidates) candidates[c++] = candidate;
    candidateEnds[i] = c;
  }
  return { texts, heads, headOf, nowMs, candidateEnds, candidates };
}

/** Collects outcomes in row order on the worker's side. */
export class OutcomeWriter {
  readonly #kinds: Uint8Array;
  readonly #fuel: Float64Array;
  readonly #micros: Float64Array;
  readonly #notes: [number, string][] = [];
  #at = 0;

  constructor(size: number) {
    this.#kinds = new Uint8Array(size);
    this.#fuel = new Float64Array(size);
    this.#micros = new Float64Array(size);
  }

  add(outcome: Outcome, micros: number): void {
    const at = this.#at++;
    this.#kinds[at] = CODE_OF.get(outcome.kind) as number;
    this.#micros[at] = micros;
    if (outcome.kind === "skipped") {
      this.#notes.push([at, outcome.reason]);
      return;
    }
    this.#fuel[at] = outcome.fuelUsed;
    if (outcome.message !== undefined) this.#notes.push([at, outcome.message]);
  }

  finish(): WireOutcomes {
    return { kinds: this.#kinds, fuel: this.#fuel, micros: this.#micros, notes: this.#notes };
  }
}

/** The outcome rows of `events`, from their columns. */
export function decodeOutcomes(wire: WireOutcomes, events: readonly BatchEvent[]): Outcome[][] {
  const notes = new Map(wire.notes);
  const rows: Outcome[][] = [];
  let at = 0;
  for (const event of events) {
    const row: Outcome[] = [];
    for (let j = 0; j < event.candidates.length; j++, at++) {
      const kind = OUTCOME_CODES[wire.kinds[at] as number] as OutcomeCode;
      if (kind === "skipped") {
        row.push({ kind, reason: notes.get(at) as SkipReason });
        continue;
      }
      const outcome: { -readonly [K in keyof FilterOutcome]: FilterOutcome[K] } = {
        kind,
        fuelUsed: wire.fuel[at] as number,
      };
      const message = notes.get(at);
      if (message !== undefined) outcome.message = message;
      const micros = wire.micros[at] as number;
      if (!Number.isNaN(micros)) outcome.micros = micros; // NaN: no filter call completed
      row.push(outcome);
    }
    rows.push(row);
  }
  return rows;
}
