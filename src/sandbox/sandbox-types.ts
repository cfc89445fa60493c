// What the Sandbox (sandbox.ts) takes and gives, apart from outcomes (evaluation/outcome.ts).
import type { Limits } from "./limits.js";

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
