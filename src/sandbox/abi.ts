// The engine's wasm ABI (wasm/runtime.c), as the host sees it.

/** Outcome codes returned by the engine's `eval` export (enum in wasm/runtime.c). */
export const R_MATCH = 0;
export const R_NO_MATCH = 1;
export const R_THREW = 2;
export const R_OUT_OF_FUEL = 3;
export const R_OUT_OF_MEMORY = 4;
export const R_STACK_OVERFLOW = 5;
export const R_BAD_EVENT = 6;
export const R_INVALID = 7;

/** Exports of rtcrm-engine.wasm. Pointers and sizes are i32; fuel/memory go as f64. */
export interface EngineExports {
  readonly memory: WebAssembly.Memory;
  /** WASI reactor initialiser (libc constructors); must run first. */
  readonly _initialize: () => void;
  readonly init: () => number;
  readonly alloc: (n: number) => number;
  readonly dealloc: (ptr: number) => void;
  readonly out_ptr: () => number;
  readonly out_len: () => number;
  readonly out_line: () => number;
  readonly out_fuel: () => number;
  readonly out_clear: () => void;
  /** Source at ptr/len -> 0 (bytecode in out) or 1 (message in out, line in out_line). */
  readonly compile: (ptr: number, len: number, loadFuel: number, loadMemory: number) => number;
  /** Takes ownership of the alloc()ed bytecode. Handle >= 0, or -code with the message in out. */
  readonly filter_load: (ptr: number, len: number, loadFuel: number, loadMemory: number) => number;
  readonly filter_free: (handle: number) => void;
  /** Event JSON at ptr/len, NUL at ptr+len. flags bit 0: tagged big integers present. */
  readonly eval: (
    handle: number,
    ptr: number,
    len: number,
    flags: number,
    fuel: number,
    memory: number,
  ) => number;
  readonly heap_used: () => number;
  readonly gc: () => void;
}
