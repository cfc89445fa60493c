// The event text each filter is given: only the fields it reads when they are known at compile time
// (one projection per event and distinct access), else the event as received.
import { project, type FieldAccess } from "../compile/field-access.js";

/**
 * A number token of 16+ digits may lie beyond 2^53: such events are handed over as received (V8 would round
 * them). Digits in strings (e.g. schema_version) that follow ":" or "," rarely match, and only cost the projection.
 */
const MAYBE_BIG_INTEGER = /[:,[]\s*-?\d{16}/;
/**
 * Numbers that V8's JSON.stringify would not write back as read: beyond the double range (1e400 is Infinity, written
 * as null) or negative zero (-0, -0.0, written as 0). Such an event is handed over as received too.
 */
const NOT_ROUND_TRIP = /[:,[]\s*(?:-?\d+(?:\.\d*)?[eE][+-]?\d{3}|-0(?:\.0*)?(?:[eE][+-]?\d+)?\s*[,\]}])/;

export class EventView {
  #parsed: Record<string, unknown> | undefined;
  readonly #projections = new Map<string, string>();
  /** False when it may hold integers beyond 2^53 (the interpreter cannot read it as the sandbox does). */
  #exact: boolean | undefined;
  #projectable: boolean | undefined;

  constructor(readonly json: string) {}

  /**
   * The event as V8 parses it, for the predicate interpreter; null when it may hold integers beyond 2^53 (V8 would
   * round them, the sandbox makes BigInts of them) or is not a plain object: its filters then run in the sandbox.
   */
  root(): Record<string, unknown> | null {
    this.#exact ??= !MAYBE_BIG_INTEGER.test(this.json);
    if (!this.#exact) return null;
    this.#parsed ??= JSON.parse(this.json) as Record<string, unknown>;
    const root: unknown = this.#parsed;
    return typeof root === "object" && root !== null && !Array.isArray(root) ? this.#parsed : null;
  }

  for(filter: { readonly access: FieldAccess; readonly accessKey: string }): string {
    if (filter.access === null) return this.json;
    this.#exact ??= !MAYBE_BIG_INTEGER.test(this.json);
    this.#projectable ??= this.#exact && !NOT_ROUND_TRIP.test(this.json);
    if (!this.#projectable) return this.json;
    let text = this.#projections.get(filter.accessKey);
    if (text === undefined) {
      this.#parsed ??= JSON.parse(this.json) as Record<string, unknown>;
      text = JSON.stringify(project(this.#parsed, filter.access));
      this.#projections.set(filter.accessKey, text);
    }
    return text;
  }
}
