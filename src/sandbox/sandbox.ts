// One QuickJS-in-WebAssembly engine instance (one per worker thread) and the filters loaded into it.
//
// Outcomes are values: evaluate() never throws for anything a filter or an event does. If the wasm
// instance itself traps (a QuickJS bug, a host stack overflow), the instance is thrown away, a new
// one is made, every loaded filter is linked into it again, and that one evaluation reports `trap`
// when it happened in the filter's call, or `host-error` when it happened while the event was decoded
// (not the filter's fault).
import type { FilterOutcome } from "../evaluation/outcome.js";
import {
  PHASE_EVENT,
  R_BAD_EVENT,
  R_HOST,
  R_INVALID,
  R_MATCH,
  R_NO_MATCH,
  R_OUT_OF_FUEL,
  R_OUT_OF_MEMORY,
  R_STACK_OVERFLOW,
  R_THREW,
  R_TIMEOUT,
  type EngineExports,
} from "./abi.js";
import { tagBigIntegers } from "./big-integers.js";
import type { EngineModule } from "./engine-module.js";
import { readFilterModuleInfo } from "./filter-module.js";
import { EngineExit, createWasiStubs, enosys, type WasiStubs } from "./wasi-stubs.js";

export type { FilterOutcome } from "../evaluation/outcome.js";

export interface Limits {
  /** Fuel of the call: 1 unit = one interrupt poll, and built-ins charge for their work (README, Limits). */
  readonly fuel: number;
  /** Bytes the filter may hold in the engine: its context, what it keeps between calls, what the call allocates. */
  readonly memoryBytes: number;
  /** Wall-clock limit of the call in milliseconds, checked inside the sandbox (outcome `timeout`); 0: none. */
  readonly deadlineMs: number;
}

export type CompileResult =
  | { readonly ok: true; readonly bytecode: Uint8Array }
  | { readonly ok: false; readonly message: string; readonly line?: number };

export type LoadResult = { readonly ok: true } | { readonly ok: false; readonly message: string };

export interface SandboxOptions {
  /** If set, filter modules made for another engine build are refused. */
  readonly engineVersion?: string;
  /** Limits for a filter's top-level code (run at load, and by compile() to check it gives a function). */
  readonly loadLimits?: Limits;
  /** Memory all filters of this sandbox may hold together (config worker_memory_limit_bytes). */
  readonly campaignsMemoryBytes?: number;
}

export interface SandboxStats {
  readonly filters: number;
  /** Bytes QuickJS has allocated (all contexts, the engine's own included). */
  readonly heapBytes: number;
  /** Bytes the filters hold together (their contexts, their globals). */
  readonly campaignsBytes: number;
  /** Size of the wasm linear memory (never shrinks). */
  readonly memoryBytes: number;
  /** How often the instance was recreated after a trap. */
  readonly restarts: number;
  /** Filter contexts dropped (their globals lost) to make room for another filter's call. */
  readonly memoryResets: number;
}

export const DEFAULT_LOAD_LIMITS: Limits = {
  fuel: 1_000_000,
  memoryBytes: 16 * 1024 * 1024,
  deadlineMs: 1_000,
};
export const DEFAULT_CAMPAIGNS_MEMORY_BYTES = 512 * 1024 * 1024;
/**
 * Memory an event may take while it is decoded for a call, apart from what filters hold, so that no filter can
 * make decoding fail. Kafka's default record limit is 1 MB; decoded, a JSON event takes a few times its size.
 */
export const EVENT_MEMORY_BYTES = 64 * 1024 * 1024;

interface Loaded {
  readonly module: WebAssembly.Module;
  readonly length: number;
  /** Engine handle, or -1 when loading failed (then `error` says why). */
  handle: number;
  /** False for modules that are not valid filter modules or whose loading trapped the engine. */
  linkable: boolean;
  error?: string;
}

const KIND: Record<number, FilterOutcome["kind"]> = {
  [R_MATCH]: "match",
  [R_NO_MATCH]: "no-match",
  [R_THREW]: "threw",
  [R_OUT_OF_FUEL]: "out-of-fuel",
  [R_OUT_OF_MEMORY]: "out-of-memory",
  [R_STACK_OVERFLOW]: "stack-overflow",
  [R_BAD_EVENT]: "bad-event",
  [R_TIMEOUT]: "timeout",
  [R_HOST]: "host-error",
};

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
  // the last event written to engine memory (one event is usually evaluated by several filters)
  private eventJson: string | undefined;
  private eventPtr = 0;
  private eventCap = 0;
  private eventLen = 0;
  private eventFlags = 0;

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

  /** Compiles a filter source (an anonymous `function(event) {...}`) to engine bytecode. */
  compile(source: string): CompileResult {
    try {
      const src = encoder.encode(source);
      const ptr = this.alloc(src.length);
      new Uint8Array(this.ex.memory.buffer, ptr, src.length).set(src);
      const { fuel, memoryBytes, deadlineMs } = this.loadLimits;
      const rc = this.ex.compile(ptr, src.length, fuel, memoryBytes, deadlineMs);
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
   */
  load(id: string, filterModule: WebAssembly.Module): LoadResult {
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
      this.filters.set(id, { module: filterModule, length: 0, handle: -1, linkable: false, error: message });
      return { ok: false, message };
    }
    const entry: Loaded = { module: filterModule, length, handle: -1, linkable: true };
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
      if (!this.writeEvent(eventJson)) {
        return {
          kind: "host-error",
          fuelUsed: 0,
          message: `the engine's memory cannot take an event of ${eventJson.length} characters`,
        };
      }
      const rc = this.ex.eval(
        entry.handle,
        this.eventPtr,
        this.eventLen,
        this.eventFlags,
        limits.fuel,
        limits.memoryBytes,
        limits.deadlineMs,
      );
      const fuelUsed = this.ex.out_fuel();
      const kind = KIND[rc];
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

  private instantiate(): void {
    this.wasi = createWasiStubs();
    const wasiImports: Record<string, (...args: never[]) => unknown> = {};
    for (const imp of WebAssembly.Module.imports(this.module)) {
      if (imp.module === "rtcrm" && imp.name === "now") continue;
      if (imp.module !== "wasi_snapshot_preview1" || imp.kind !== "function") {
        throw new Error(`engine imports ${imp.module}.${imp.name}, which the host does not provide`);
      }
      wasiImports[imp.name] = this.wasi.imports[imp.name] ?? enosys;
    }
    const instance = new WebAssembly.Instance(this.module, {
      wasi_snapshot_preview1: wasiImports,
      // The call deadline's clock: the engine's interrupt handler reads it (filters still see Date.now() === 0).
      rtcrm: { now: () => performance.now() },
    });
    this.ex = instance.exports as unknown as EngineExports;
    this.wasi.bind(this.ex.memory);
    this.ex._initialize();
    const rc = this.ex.init(this.campaignsMemoryBytes, EVENT_MEMORY_BYTES);
    if (rc !== 0) throw new Error(`engine init failed (${rc}): ${this.outText()}`);
    this.eventJson = undefined;
    this.eventPtr = 0;
    this.eventCap = 0;
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
    const h = this.ex.filter_load(ptr, entry.length, fuel, memoryBytes, deadlineMs);
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

  /** Places the event in engine memory; false when the engine's memory cannot take it. */
  private writeEvent(json: string): boolean {
    if (json === this.eventJson) return true;
    this.eventJson = undefined;
    const { json: text, tagged } = tagBigIntegers(json);
    const max = text.length * 3 + 1;
    if (max > this.eventCap) {
      if (this.eventPtr) this.ex.dealloc(this.eventPtr);
      this.eventCap = 0;
      const cap = Math.max(max, 4096);
      this.eventPtr = this.ex.alloc(cap) >>> 0;
      if (this.eventPtr === 0) return false;
      this.eventCap = cap;
    }
    const view = new Uint8Array(this.ex.memory.buffer, this.eventPtr, this.eventCap);
    const { written } = encoder.encodeInto(text, view);
    view[written] = 0; // JS_ParseJSON needs a NUL after the text
    this.eventLen = written;
    this.eventFlags = tagged ? 1 : 0;
    this.eventJson = json;
    return true;
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
