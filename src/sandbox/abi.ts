// The engine's wasm ABI (wasm/runtime.c), as the host sees it.
import type { FilterOutcomeKind } from "../evaluation/outcome.js";

/** Outcome codes returned by the engine's `eval` export (enum in wasm/runtime.c). */
export const R_MATCH = 0;
export const R_NO_MATCH = 1;
export const R_THREW = 2;
export const R_OUT_OF_FUEL = 3;
export const R_OUT_OF_MEMORY = 4;
export const R_STACK_OVERFLOW = 5;
export const R_BAD_EVENT = 6;
export const R_INVALID = 7;
export const R_TIMEOUT = 8;
/** The engine could not serve the call for a reason that is not the filter's (the event's memory, the worker's). */
export const R_HOST = 9;

/** The outcome kind of each code `eval` returns for a call that ran (R_INVALID is the host's mistake). */
export const OUTCOME_KIND: Readonly<Record<number, FilterOutcomeKind>> = {
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

/** What the engine was doing (export `trap_phase`), read after a trap to know whom to blame. */
export const PHASE_EVENT = 1;

/** Exports of rtcrm-engine.wasm. Pointers and sizes are i32; fuel, memory and milliseconds go as f64. */
export interface EngineExports {
  readonly memory: WebAssembly.Memory;
  /** WASI reactor initialiser (libc constructors); must run first. */
  readonly _initialize: () => void;
  /** The memory all filters may hold together, and the memory an event may take while it is decoded. */
  readonly init: (campaignsBytes: number, eventBytes: number) => number;
  readonly alloc: (n: number) => number;
  readonly dealloc: (ptr: number) => void;
  readonly out_ptr: () => number;
  readonly out_len: () => number;
  readonly out_line: () => number;
  readonly out_fuel: () => number;
  readonly out_clear: () => void;
  /**
   * Source at ptr/len -> 0 (bytecode in out) or 1 (message in out, line in out_line). check 1: load it once in a
   * scratch context to prove it evaluates to a function (0: the host proved it is one function expression).
   */
  readonly compile: (
    ptr: number,
    len: number,
    loadFuel: number,
    loadMemory: number,
    loadDeadlineMs: number,
    check: number,
  ) => number;
  /**
   * Takes ownership of the alloc()ed bytecode. Handle >= 0, or -code with the message in out. shared 1: the filter
   * lives in the context stateless filters share (no context of its own).
   */
  readonly filter_load: (
    ptr: number,
    len: number,
    loadFuel: number,
    loadMemory: number,
    loadDeadlineMs: number,
    shared: number,
  ) => number;
  readonly filter_free: (handle: number) => void;
  /** Event JSON at ptr/len, NUL at ptr+len. flags bit 0: tagged big integers present. */
  readonly eval: (
    handle: number,
    ptr: number,
    len: number,
    flags: number,
    fuel: number,
    memory: number,
    deadlineMs: number,
  ) => number;
  /**
   * A shared filter on the event numbered `seq`: the event (ptr/len as for eval) is parsed, frozen and kept only
   * when seq differs from the previous call's.
   */
  readonly eval_shared: (
    handle: number,
    ptr: number,
    len: number,
    flags: number,
    seq: number,
    fuel: number,
    memory: number,
    deadlineMs: number,
  ) => number;
  readonly heap_used: () => number;
  /** Bytes all filters hold together. */
  readonly campaigns_used: () => number;
  /** Bytes filter `handle` holds (its context, its globals), -1 if no such filter. */
  readonly filter_used: (handle: number) => number;
  /** Contexts dropped to make room for another filter's call. */
  readonly memory_resets: () => number;
  readonly trap_phase: () => number;
  readonly gc: () => void;
}
