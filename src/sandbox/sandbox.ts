// One QuickJS-in-WebAssembly engine instance (one per worker thread) and the filters loaded into it.
//
// Outcomes are values: evaluate() never throws for anything a filter or an event does. If the wasm
// instance itself traps (a QuickJS bug, a host stack overflow), the instance is thrown away, a new
// one is made, every loaded filter is linked into it again, and that one evaluation reports
// `engine trap: ...`.
import type { FilterOutcome } from "../evaluation/outcome.js";
import {
  R_BAD_EVENT,
  R_INVALID,
  R_MATCH,
  R_NO_MATCH,
  R_OUT_OF_FUEL,
  R_OUT_OF_MEMORY,
  R_STACK_OVERFLOW,
  R_THREW,
  type EngineExports,
} from "./abi.js";
import { tagBigIntegers } from "./big-integers.js";
import type { EngineModule } from "./engine-module.js";
import { readFilterModuleInfo } from "./filter-module.js";
import { EngineExit, createWasiStubs, enosys, type WasiStubs } from "./wasi-stubs.js";

export type { FilterOutcome } from "../evaluation/outcome.js";

export interface Limits {
  /** Interrupt polls allowed: 1 fuel = one JS function call or one loop iteration (backward jump). */
  readonly fuel: number;
  /** Bytes the engine heap may grow by during the call. */
  readonly memoryBytes: number;
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
}

export interface SandboxStats {
  readonly filters: number;
  /** Bytes QuickJS has allocated (all contexts). */
  readonly heapBytes: number;
  /** Size of the wasm linear memory (never shrinks). */
  readonly memoryBytes: number;
  /** How often the instance was recreated after a trap. */
  readonly restarts: number;
}

export const DEFAULT_LOAD_LIMITS: Limits = { fuel: 1_000_000, memoryBytes: 16 * 1024 * 1024 };

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
    this.instantiate();
  }

  /** Compiles a filter source (an anonymous `function(event) {...}`) to engine bytecode. */
  compile(source: string): CompileResult {
    try {
      const src = encoder.encode(source);
      const ptr = this.alloc(src.length);
      new Uint8Array(this.ex.memory.buffer, ptr, src.length).set(src);
      const rc = this.ex.compile(ptr, src.length, this.loadLimits.fuel, this.loadLimits.memoryBytes);
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
      this.writeEvent(eventJson);
      const rc = this.ex.eval(
        entry.handle,
        this.eventPtr,
        this.eventLen,
        this.eventFlags,
        limits.fuel,
        limits.memoryBytes,
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
      const message = `engine trap: ${e.message}`;
      this.restart();
      return { kind: /stack/i.test(e.message) ? "stack-overflow" : "threw", fuelUsed: 0, message };
    }
  }

  stats(): SandboxStats {
    return {
      filters: this.filters.size,
      heapBytes: this.ex.heap_used(),
      memoryBytes: this.ex.memory.buffer.byteLength,
      restarts: this.restarts,
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
      if (imp.module !== "wasi_snapshot_preview1" || imp.kind !== "function") {
        throw new Error(`engine imports ${imp.module}.${imp.name}, which the host does not provide`);
      }
      wasiImports[imp.name] = this.wasi.imports[imp.name] ?? enosys;
    }
    const instance = new WebAssembly.Instance(this.module, { wasi_snapshot_preview1: wasiImports });
    this.ex = instance.exports as unknown as EngineExports;
    this.wasi.bind(this.ex.memory);
    this.ex._initialize();
    const rc = this.ex.init();
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
    const h = this.ex.filter_load(ptr, entry.length, this.loadLimits.fuel, this.loadLimits.memoryBytes);
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

  private writeEvent(json: string): void {
    if (json === this.eventJson) return;
    this.eventJson = undefined;
    const { json: text, tagged } = tagBigIntegers(json);
    const max = text.length * 3 + 1;
    if (max > this.eventCap) {
      if (this.eventPtr) this.ex.dealloc(this.eventPtr);
      this.eventPtr = 0;
      const cap = Math.max(max, 4096);
      this.eventPtr = this.alloc(cap);
      this.eventCap = cap;
    }
    const view = new Uint8Array(this.ex.memory.buffer, this.eventPtr, this.eventCap);
    const { written } = encoder.encodeInto(text, view);
    view[written] = 0; // JS_ParseJSON needs a NUL after the text
    this.eventLen = written;
    this.eventFlags = tagged ? 1 : 0;
    this.eventJson = json;
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
