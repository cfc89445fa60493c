// The event in engine memory: one buffer per engine instance, rewritten only when the event changes (one event is
// usually evaluated by several filters in a row), grown as needed, NUL-terminated for JS_ParseJSON. Integers
// beyond 2^53 are tagged on the way in (big-integers.ts).
import type { EngineExports } from "./abi.js";
import { tagBigIntegers } from "./big-integers.js";

const encoder = new TextEncoder();

export class EventSlot {
  readonly #ex: EngineExports;
  #json: string | undefined;
  #cap = 0;
  ptr = 0;
  length = 0;
  /** eval's flags: bit 0 says the text holds tagged big integers. */
  flags = 0;

  constructor(ex: EngineExports) {
    this.#ex = ex;
  }

  /** Places `json` in engine memory; false when the engine's memory cannot take it. */
  place(json: string): boolean {
    if (json === this.#json) return true;
    this.#json = undefined;
    const { json: text, tagged } = tagBigIntegers(json);
    const max = text.length * 3 + 1;
    if (max > this.#cap) {
      if (this.ptr) this.#ex.dealloc(this.ptr);
      this.#cap = 0;
      const cap = Math.max(max, 4096);
      this.ptr = this.#ex.alloc(cap) >>> 0;
      if (this.ptr === 0) return false;
      this.#cap = cap;
    }
    const view = new Uint8Array(this.#ex.memory.buffer, this.ptr, this.#cap);
    const { written } = encoder.encodeInto(text, view);
    view[written] = 0; // JS_ParseJSON needs a NUL after the text
    this.length = written;
    this.flags = tagged ? 1 : 0;
    this.#json = json;
    return true;
  }
}
