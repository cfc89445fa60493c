// Returning the native memory of filter modules that are no longer used.
//
// Each WebAssembly.Module holds about 10 KB of native memory (V8's compiled module), freed only when the
// collector finds its JS object dead. The collector does not count that memory, and the threads that drop
// modules (the main thread, which compiles them; the workers, which unload them) allocate little JS, so it
// can run rarely: under campaign churn the process grew by ~90 MiB before collections caught up
// (bench/probes/filter-churn-memory.ts; BENCHMARKS.md, "Soak"). So each thread counts the modules it drops
// and runs a full collection after every RECLAIM_EVERY of them (6-9 ms each in a small process here), for at most
// RECLAIM_EVERY × 10 KB of memory waiting per thread.
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";

/** Dropped filter modules per thread between two collections. */
export const RECLAIM_EVERY = 100;

type Collect = () => void;

let pending = 0;
let collect: Collect | null | undefined;
let collections = 0;

/** The collector's entry point: `gc` when node runs with --expose-gc, otherwise exposed in a new context. */
function collector(): Collect | null {
  const exposed = (globalThis as { gc?: unknown }).gc;
  if (typeof exposed === "function") return exposed as Collect;
  try {
    setFlagsFromString("--expose-gc");
    const fn: unknown = runInNewContext("gc");
    setFlagsFromString("--no-expose-gc"); // contexts made later (and their code) do not get it
    return typeof fn === "function" ? (fn as Collect) : null;
  } catch {
    return null; // a runtime without the flag: memory then waits for the collector's own schedule
  }
}

/** This thread stopped using `count` filter modules; a collection runs once RECLAIM_EVERY have added up. */
export function modulesDropped(count = 1): void {
  pending += count;
  if (pending < RECLAIM_EVERY) return;
  pending = 0;
  collect ??= collector();
  if (!collect) return;
  collect();
  collections++;
}

/** Collections run by this thread so far (for tests and the probe). */
export function reclaimCollections(): number {
  return collections;
}
