// What crosses the thread boundary between the main thread and the evaluation workers.
import type { Campaign } from "../campaigns/campaign.js";
import type { FieldAccess } from "../compile/field-access.js";
import type { Predicate } from "../compile/predicate.js";
import type { WireEvents, WireOutcomes } from "./wire.js";

/** A campaign version as a worker needs it: its rules, its compiled filter module and its limits. */
export interface FilterRef {
  readonly campaign: Campaign;
  /** Per-filter WebAssembly module (compiled once in the main thread; cloning shares the compiled code). */
  readonly module: WebAssembly.Module;
  readonly fuel: number;
  readonly memoryBytes: number;
  /** Wall-clock limit of one call, checked inside the sandbox. */
  readonly deadlineMs: number;
  /** The event fields the filter reads (null: the whole event); the worker hands it only those. */
  readonly access: FieldAccess;
  readonly accessKey: string;
  /** The filter as a predicate the host interprets (no sandbox call unless it cannot decide), or null. */
  readonly predicate: Predicate | null;
  /** Campaigns with the same key share one sandbox call per event (a stateless filter, same limits); or null. */
  readonly shareKey: string | null;
}

export interface BatchEvent {
  /** The event exactly as received (UTF-8 JSON text of one object). */
  readonly json: string;
  /** Parsed head for the rules before the filter. */
  readonly game: string;
  readonly eventName: string;
  /** The instant the date window is checked against (epoch ms). */
  readonly nowMs: number;
  /**
   * The campaigns routed to this event, in campaign-id order: the route's list as the campaign set handed it out
   * (one array per route and version of the set). A worker keeps a route it was sent, by the array's identity.
   */
  readonly route: readonly FilterRef[];
}

export interface BatchTask {
  readonly events: readonly BatchEvent[];
}

/**
 * A route as it crosses to a worker: whole (its id and its filters, each whole the first time the worker sees it,
 * else by versionKey) the first time, afterwards by its id alone. The worker keeps the route's evaluation plan.
 */
export interface WireRoute {
  readonly id: number;
  readonly filters: readonly (FilterRef | string)[];
}

/**
 * A task as it crosses to one worker: its routes (wire.ts events name them by index), each whole the first time
 * that worker sees it, afterwards by id alone (workers are stateful; a batch whose routes hold ten thousand
 * campaigns must not clone, resolve or plan them again).
 */
export interface WireTask {
  readonly routes: readonly (WireRoute | number)[];
  readonly events: WireEvents;
  /** versionKeys of campaigns that left the set: unloaded after this batch (their contexts hold memory). */
  readonly drop?: readonly string[];
  /** versionKeys quarantined since the previous task: their calls are skipped (outcome "quarantined"). */
  readonly quarantined?: readonly string[];
}

/**
 * Filters new to a worker, linked into its sandbox before the batch that needs them: linking takes about a
 * millisecond per filter, which must not count against the batch's watchdog.
 */
export interface LoadTask {
  readonly load: readonly FilterRef[];
}

/** What a worker returns for a task. */
export interface BatchResult {
  /** A batch's outcomes (none for a load task, or when filters were missing). */
  readonly outcomes?: WireOutcomes;
  readonly threadId: number;
  /** versionKeys the worker unloaded during the task: they must be sent whole again. */
  readonly evicted: readonly string[];
  /**
   * versionKeys, or route ids, the task named that the worker does not hold (it replaced or unloaded them): nothing
   * was evaluated, and the task must be sent again with its routes and filters whole.
   */
  readonly missing?: readonly string[];
  readonly missingRoutes?: readonly number[];
  /** Route ids the worker let go during the task (a filter of theirs was unloaded, or too many were kept). */
  readonly evictedRoutes?: readonly number[];
  /** The worker's memory, sent with at most one result a second (the pool keeps the latest). */
  readonly memory?: WorkerMemory;
}

/** Where a worker thread's memory is: its V8 heap and its sandbox (the QuickJS engine's WebAssembly memory). */
export interface WorkerMemory {
  /** V8 heap of the worker's isolate: in use, and reserved from the system. */
  readonly heapUsedBytes: number;
  readonly heapTotalBytes: number;
  /** The sandbox's WebAssembly memory (it grows, never shrinks), and what QuickJS has allocated in it. */
  readonly sandboxMemoryBytes: number;
  readonly sandboxHeapBytes: number;
  /** What the campaigns hold in the sandbox together, and how often one was reset to make room. */
  readonly campaignsBytes: number;
  readonly memoryResets: number;
  /** Filters loaded in the worker. */
  readonly filters: number;
}

export interface WorkerInit {
  readonly engineModule: WebAssembly.Module;
  /** Filter modules built for another engine version are refused. */
  readonly engineVersion: string;
  /** At most this many filters stay loaded in one worker; the least recently used are unloaded. */
  readonly maxLoadedFilters: number;
  /** Memory all filters of the worker may hold together (config worker_memory_limit_bytes). */
  readonly campaignsMemoryBytes: number;
  /**
   * The engine's quarantine rule, applied by the worker too, so that a filter stopped `after` times within a batch
   * is not called again for the rest of it (config quarantine_after, quarantine_window_ms).
   */
  readonly quarantine: { readonly after: number; readonly windowMs: number };
}
