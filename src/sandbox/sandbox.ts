// One QuickJS-in-WebAssembly engine instance (one per worker thread) and the filters loaded into it.
//
// Outcomes are values: evaluate() never throws for anything a filter or an event does. If the wasm
// instance itself traps (a QuickJS bug, a host stack overflow), the instance is thrown away, a new
// one is made, every loaded filter is linked into it again, and that one evaluation reports `trap`
// when it happened in the filter's call, or `host-error` when it happened while the event was decoded
// (not the filter's fault).
import type { FilterOutcome } from "../evaluation/outcome.js";
import { OUTCOME_KIND, PHASE_EVENT, R_INVALID, type EngineExports } from "./abi.js";
import type { EngineModule } from "./engine-module.js";
import { readFilterModuleInfo } from "./filter-module.js";
import { EventSlot } from "./event-slot.js";
import {
  DEFAULT_CAMPAIGNS_MEMORY_BYTES,
  DEFAULT_LOAD_LIMITS,
  EVENT_MEMORY_BYTES,
  type Limits,
} from "./limits.js";
import { engineImports } from "./engine-imports.js";
import { EngineExit, createWasiStubs, type WasiStubs } from "./wasi-stubs.js";

export type { FilterOutcome } from "../evaluation/outcome.js";
export type { Limits } from "./limits.js";

export type { CompileResult, LoadResult, SandboxOptions, SandboxStats } from "./sandbox-types.js";
import type { CompileResult, LoadResult, SandboxOptions, SandboxStats } from "./sandbox-types.js";

interface Loaded {
  readonly module: WebAssembly.Module;
  readonly length: number;
  /** Lives in the context stateless filters share, and reads the event text decoded once for all of them. */
  readonly shared: boolean;
  /** Engine handle, or -1 when loading failed (then `error` says why). */
  handle: number;
  /** False for modules that are not valid filter modules or whose loading trapped the engine. */
  linkable: boolean;
  error?: string;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

function isTrap(e: unknown): e is Error {
  return e instanceof WebAssembly.RuntimeError || e instanceof RangeError || e instanceof EngineExit;
}

export class Sandbox {
  private readonly module: WebAssembly.Module;
  private readonly engineVersion: string | undefined;
  private readonly loadLimits: Limits;
  private readonly campaignsMemoryBytes: number;
  private readonly filters = new Map<string, Loaded>();
  private ex!: EngineExports;
  private wasi!: WasiStubs;
  private restarts = 0;
  private event!: EventSlot;
  /** The event text the engine decoded for shared filters, and its number (eval_shared re-decodes on a new one). */
  #sharedJson: string | undefined;
  #sharedNumber = 0;

  constructor(engine: WebAssembly.Module | EngineModule, options: SandboxOptions = {}) {
    if (engine instanceof WebAssembly.Module) {
      this.module = engine;
      this.engineVersion = options.engineVersion;
    } else {
      this.module = engine.module;
      this.engineVersion = options.engineVersion ?? engine.version;
    }
    this.loadLimits = options.loadLimits ?? DEFAULT_LOAD_LIMITS;
    this.campaignsMemoryBytes = options.campaignsMemoryBytes ?? DEFAULT_CAMPAIGNS_MEMORY_BYTES;
    this.instantiate();
  }

  /**
   * Compiles a filter source (an anonymous `function(event) {...}`) to engine bytecode. `check`: load it once in a
   * scratch context to prove it evaluates to a function (not needed for a source validated as one function
   * expression, validate-filter.ts; it costs a context, about 0.7 ms).
   */
  compile(source: string, check = true): CompileResult {
    try {
      const src = encoder.encode(source);
      const ptr = this.alloc(src.length);
      new Uint8Array(this.ex.memory.buffer, ptr, src.length).set(src);
      const { fuel, memoryBytes, deadlineMs } = this.loadLimits;
      const rc = this.ex.compile(ptr, src.length, fuel, memoryBytes, deadlineMs, check ? 1 : 0);
      this.ex.dealloc(ptr);
      if (rc === 0) {
        const bytecode = this.outBytes().slice();
        this.ex.out_clear();
        return { ok: true, bytecode };
      }
      const message = this.outText();
      const line = this.ex.out_line();
      this.ex.out_clear();
      return line > 0 ? { ok: false, message, line } : { ok: false, message };
    } catch (e) {
      if (!isTrap(e)) throw e;
      this.restart();
      return { ok: false, message: `engine trap: ${e.message}` };
    }
  }

  /**
   * Links a filter module (see filter-module.ts) into the engine under `id` (replacing an earlier one).
   * A filter that fails to load stays registered: evaluate() then reports `threw` with the reason.
   * `shared`: the filter provably keeps no state between calls (compile/stateless.ts): it is loaded into the context
   * such filters share (bringing it up costs its bytecode, not a context), and such filters called in a row on the
   * same event text read one decoded, frozen copy of it.
   */
  load(id: string, filterModule: WebAssembly.Module, shared = false): LoadResult {
    this.unload(id);
    let length: number;
    try {
      const info = readFilterModuleInfo(filterModule);
      if (this.engineVersion !== undefined && info.engineVersion !== this.engineVersion) {
        throw new Error(
          `filter module was compiled for engine ${info.engineVersion.slice(0, 12)}, this is ${this.engineVersion.slice(0, 12)}`,
        );
      }
      length = info.bytecodeLength;
    } catch (e) {
      const message = e instanceof Error ? e.message : String(e);
      this.filters.set(id, {
        module: filterModule,
        length: 0,
        shared,
        handle: -1,
        linkable: false,
        error: message,
      });
      return { ok: false, message };
    }
    const entry: Loaded = { module: filterModule, length, shared, handle: -1, linkable: true };
    this.filters.set(id, entry);
    try {
      this.link(entry);
    } catch (e) {
      if (!isTrap(e)) throw e;
      entry.linkable = false;
      this.restart(); // links every other filter again
      entry.error = `engine trap while loading: ${e.message}`;
    }
    return entry.error === undefined ? { ok: true } : { ok: false, message: entry.error };
  }

  unload(id: string): boolean {
    const entry = this.filters.get(id);
    if (!entry) return false;
    this.filters.delete(id);
    if (entry.handle >= 0) {
      try {
        this.ex.filter_free(entry.handle);
      } catch (e) {
        if (!isTrap(e)) throw e;
        this.restart();
      }
    }
    return true;
  }

  has(id: string): boolean {
    return this.filters.has(id);
  }

  /** Runs filter `id` on one event. Throws only if `id` was never loaded. */
  evaluate(id: string, eventJson: string, limits: Limits): FilterOutcome {
    const entry = this.filters.get(id);
    if (!entry) throw new Error(`filter ${id} is not loaded`);
    if (entry.handle < 0)
      return { kind: "threw", fuelUsed: 0, message: `filter failed to load: ${entry.error ?? "?"}` };
    try {
      if (!this.event.place(eventJson)) {
        return {
          kind: "host-error",
          fuelUsed: 0,
          message: `the engine's memory cannot take an event of ${eventJson.length} characters`,
        };
      }
      const rc = entry.shared
        ? this.ex.eval_shared(
            entry.handle,
            this.event.ptr,
            this.event.length,
            this.event.flags,
            this.#sharedSeq(eventJson),
            limits.fuel,
            limits.memoryBytes,
            limits.deadlineMs,
          )
        : this.ex.eval(
            entry.handle,
            this.event.ptr,
            this.event.length,
            this.event.flags,
            limits.fuel,
            limits.memoryBytes,
            limits.deadlineMs,
          );
      const fuelUsed = this.ex.out_fuel();
      const kind = OUTCOME_KIND[rc];
      if (kind === undefined) {
        return {
          kind: "threw",
          fuelUsed,
          message: `engine: ${rc === R_INVALID ? this.outText() : `unknown outcome ${rc}`}`,
        };
      }
      if (kind === "match" || kind === "no-match") return { kind, fuelUsed };
      const message = this.outText();
      this.ex.out_clear();
      return { kind, fuelUsed, message };
    } catch (e) {
      if (!isTrap(e)) throw e;
      // A trap while the event was decoded is the event's (or the engine's) doing, never the filter's.
      const inEvent = this.trapPhase() === PHASE_EVENT;
      this.restart();
      return { kind: inEvent ? "host-error" : "trap", fuelUsed: 0, message: `engine trap: ${e.message}` };
    }
  }

  /** Bytes filter `id` holds in the engine (its context, its globals); undefined if it is not linked. */
  filterBytes(id: string): number | undefined {
    const entry = this.filters.get(id);
    if (!entry || entry.handle < 0) return undefined;
    const bytes = this.ex.filter_used(entry.handle);
    return bytes < 0 ? undefined : bytes;
  }

  stats(): SandboxStats {
    return {
      filters: this.filters.size,
      heapBytes: this.ex.heap_used(),
      campaignsBytes: this.ex.campaigns_used(),
      memoryBytes: this.ex.memory.buffer.byteLength,
      restarts: this.restarts,
      memoryResets: this.ex.memory_resets(),
    };
  }

  /** What the engine wrote to stdout/stderr (normally nothing; QuickJS assertion messages). */
  engineOutput(): string {
    return this.wasi.output();
  }

  // ---- internals

  #sharedSeq(eventJson: string): number {
    if (eventJson !== this.#sharedJson) {
      this.#sharedJson = eventJson;
      this.#sharedNumber++;
    }
    return this.#sharedNumber;
  }

  private instantiate(): void {
    this.wasi = createWasiStubs();
    const instance = new WebAssembly.Instance(this.module, engineImports(this.module, this.wasi));
    this.ex = instance.exports as unknown as EngineExports;
    this.wasi.bind(this.ex.memory);
    this.ex._initialize();
    const rc = this.ex.init(this.campaignsMemoryBytes, EVENT_MEMORY_BYTES);
    if (rc !== 0) throw new Error(`engine init failed (${rc}): ${this.outText()}`);
    this.event = new EventSlot(this.ex);
    this.#sharedJson = undefined;
  }

  /** New instance; every loaded filter is linked again. A filter whose loading traps is left out. */
  private restart(): void {
    this.restarts++;
    for (;;) {
      this.instantiate();
      for (const entry of this.filters.values()) entry.handle = -1;
      let trapped = false;
      for (const entry of this.filters.values()) {
        if (!entry.linkable) continue;
        delete entry.error;
        try {
          this.link(entry);
        } catch (e) {
          if (!isTrap(e)) throw e;
          entry.linkable = false;
          entry.error = `engine trap while loading: ${e.message}`;
          trapped = true;
          break;
        }
      }
      if (!trapped) return;
    }
  }

  /** Instantiates the filter module against the engine memory, then lets the engine load the bytecode. */
  private link(entry: Loaded): void {
    const ptr = this.alloc(entry.length);
    let instance: WebAssembly.Instance;
    try {
      instance = new WebAssembly.Instance(entry.module, {
        env: { memory: this.ex.memory, base: new WebAssembly.Global({ value: "i32", mutable: false }, ptr) },
      });
    } catch (e) {
      this.ex.dealloc(ptr);
      if (isTrap(e) && !(e instanceof WebAssembly.RuntimeError)) throw e;
      entry.error = `cannot link filter module: ${e instanceof Error ? e.message : String(e)}`;
      return;
    }
    const length = instance.exports["length"];
    if (!(length instanceof WebAssembly.Global) || length.value !== entry.length) {
      this.ex.dealloc(ptr);
      entry.error = "filter module: exported length does not match its metadata";
      return;
    }
    const { fuel, memoryBytes, deadlineMs } = this.loadLimits;
    const h = this.ex.filter_load(ptr, entry.length, fuel, memoryBytes, deadlineMs, entry.shared ? 1 : 0);
    if (h < 0) {
      entry.error = this.outText();
      this.ex.out_clear();
      return;
    }
    entry.handle = h;
  }

  private alloc(n: number): number {
    const ptr = this.ex.alloc(n) >>> 0;
    if (ptr === 0) throw new WebAssembly.RuntimeError(`engine cannot allocate ${n} bytes`);
    return ptr;
  }

  /** What the engine was doing when it trapped; 0 if the instance cannot say. */
  private trapPhase(): number {
    try {
      return this.ex.trap_phase();
    } catch {
      return 0;
    }
  }

  private outBytes(): Uint8Array {
    const ptr = this.ex.out_ptr() >>> 0;
    if (ptr === 0) return new Uint8Array(0);
    return new Uint8Array(this.ex.memory.buffer, ptr, this.ex.out_len() >>> 0);
  }

  private outText(): string {
    return decoder.decode(this.outBytes());
  }
}
