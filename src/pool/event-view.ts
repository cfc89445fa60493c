// The event text each filter is given: only the fields it reads when they are known at compile time
// (one projection per event and distinct access), else the event as received.
import { project, type FieldAccess } from "../compile/field-access.js";

/**
 * A number token of 16+ digits may lie beyond 2^53: such events are handed over as received (V8 would round
 * them). Digits in strings (e.g. schema_version) that follow ":" or "," rarely match, and only cost the projection.
 */
const MAYBE_BIG_INTEGER = /[:,[]\s*-?\d{16}/;

export class EventView {
  #parsed: Record<string, unknown> | undefined;
  readonly #projections = new Map<string, string>();
  readonly #projectable: boolean;

  constructor(readonly json: string) {
    this.#projectable = !MAYBE_BIG_INTEGER.test(json);
  }

  for(filter: { readonly access: FieldAccess; readonly accessKey: string }): string {
    if (filter.access === null || !this.#projectable) return this.json;
    let text = this.#projections.get(filter.accessKey);
    if (text === undefined) {
      this.#parsed ??= JSON.parse(this.json) as Record<string, unknown>;
      text = JSON.stringify(project(this.#parsed, filter.access));
      this.#projections.set(filter.accessKey, text);
    }
    return text;
  }
}
