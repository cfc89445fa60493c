// The evaluation workers, as the engine sees them: batches in, outcomes out.
// Workers are stateful (their filters stay loaded), so each is a one-thread piscina pool of its own, a "lane":
// the main thread knows what every worker holds and sends a filter whole only the first time, then by key.
// A batch never fails because of a filter: a crashed or stuck worker is replaced and the batch is
// re-evaluated, isolating the (event, campaign) pair at fault, which alone gets a "watchdog" or "threw" outcome.
import { EventEmitter } from "node:events";
import { availableParallelism } from "node:os";
import { fileURLToPath } from "node:url";
import { Piscina } from "piscina";
import { ErrorCodes, RtcrmError } from "../errors.js";
import type { EngineModule } from "../sandbox/engine-module.js";
import { DEFAULT_CAMPAIGNS_MEMORY_BYTES } from "../sandbox/limits.js";
import {
  type BatchResult,
  type BatchTask,
  type FilterRef,
  type LoadTask,
  type WireTask,
  type WorkerInit,
  type WorkerMemory,
} from "./protocol.js";
import { isAbort, isolate } from "./isolation.js";
import { Lane, LANE_DEPTH } from "./lane.js";
import { RouteIds } from "./route-plan.js";
import {
  addCounts,
  decodeOutcomes,
  encodeEvents,
  noCounts,
  type EvaluatedBatch,
  type EvaluationCounts,
} from "./wire.js";

export type { EvaluatedBatch } from "./wire.js";

export interface EvaluatorPoolOptions {
  readonly engine: EngineModule;
  /** Worker threads; default: cores minus one, at least one. */
  readonly workers?: number;
  /** A batch running longer than this is stopped by terminating its worker (the last line of defence after fuel). */
  readonly watchdogMs: number;
  readonly maxLoadedFilters?: number;
  /**
   * Whether a filter's campaign version is still in the set. A batch built before its campaign left still
   * carries it: a worker that no longer holds it links it again for that batch, and, when this says the
   * version is gone, unloads it right after. (Without it such a filter stayed loaded: the soak found 0.5
   * filters a second kept this way, 46 KB each.) Default: every filter is current.
   */
  readonly isCurrent?: (ref: FilterRef) => boolean;
  /** The quarantine rule, which the workers apply within a batch too (WorkerInit.quarantine). */
  readonly quarantine?: { readonly after: number; readonly windowMs: number };
  /** Memory all filters of one worker may hold together. */
  readonly campaignsMemoryBytes?: number;
}

export interface PoolStats {
  batches: number;
  workerFailures: number;
  watchdogKills: number;
  isolatedRuns: number;
}

/** Deadline added per filter to a link task (linking one takes about a millisecond). */
const LINK_DEADLINE_PER_FILTER_MS = 50;

export function defaultWorkerCount(): number {
  return Math.max(1, availableParallelism() - 1);
}

export class EvaluatorPool extends EventEmitter {
  readonly workers: number;
  readonly stats: PoolStats = { batches: 0, workerFailures: 0, watchdogKills: 0, isolatedRuns: 0 };
  /** What the workers did with the (event, campaign) pairs of every batch so far. */
  readonly counts: EvaluationCounts = noCounts();
  readonly #lanes: Lane[];
  readonly #watchdogMs: number;
  readonly #isCurrent: (ref: FilterRef) => boolean;
  readonly #routeIds = new RouteIds();
  /** Every version quarantined so far: a new worker (after a crash) is told them all. */
  readonly #quarantined = new Set<string>();
  #closed = false;

  constructor(options: EvaluatorPoolOptions) {
    super();
    this.workers = options.workers ?? defaultWorkerCount();
    this.#watchdogMs = options.watchdogMs;
    this.#isCurrent = options.isCurrent ?? (() => true);
    const workerData: WorkerInit = {
      engineModule: options.engine.module,
      engineVersion: options.engine.version,
      maxLoadedFilters: options.maxLoadedFilters ?? 20_000,
      campaignsMemoryBytes: options.campaignsMemoryBytes ?? DEFAULT_CAMPAIGNS_MEMORY_BYTES,
      quarantine: options.quarantine ?? { after: 3, windowMs: 60_000 },
    };
    this.#lanes = Array.from(
      { length: this.workers },
      () =>
        new Lane(
          new Piscina<WireTask | LoadTask, BatchResult>({
            filename: fileURLToPath(new URL("./worker.js", import.meta.url)),
            minThreads: 1,
            maxThreads: 1,
            idleTimeout: Number.POSITIVE_INFINITY,
            // Admission is ours (LANE_DEPTH batches per lane); the watchdog is armed when a task starts (Lane.post).
            concurrentTasksPerWorker: LANE_DEPTH,
            maxQueue: LANE_DEPTH,
            // QuickJS's own stack check measures its C stack; deeply nested JSON/eval inside QuickJS uses more
            // of V8's native stack than that, and 16 MB keeps those cases inside the sandbox's own limit.
            resourceLimits: { stackSizeMb: 16 },
            workerData,
          }),
        ),
    );
  }

  get queued(): number {
    return this.#lanes.reduce((n, l) => n + l.queued, 0);
  }

  /**
   * Whether a worker has nothing to do: a batch sent now starts at once. While none has, a caller gains by
   * gathering more events into its next batch (the pool emits "idle" when a worker becomes free).
   */
  get hasIdleWorker(): boolean {
    return this.#lanes.some((l) => l.posted === 0);
  }

  /** Filters loaded in the workers, summed over workers (as the workers last reported). */
  get loadedFilters(): number {
    return this.#lanes.reduce((n, l) => n + l.known.size, 0);
  }

  /** Each worker's memory as it last reported it (workers that have not reported yet are left out). */
  memory(): WorkerMemory[] {
    return this.#lanes.flatMap((l) => (l.memory ? [l.memory] : []));
  }

  get running(): number {
    return this.#lanes.filter((l) => l.running).length;
  }

  get utilization(): number {
    return this.#lanes.reduce((n, l) => n + l.pool.utilization, 0) / this.#lanes.length;
  }

  /**
   * Milliseconds the workers have spent holding a task since the pool started, summed over workers, the running
   * tasks included up to now: the difference of two readings over their interval times `workers` is the busy
   * share (piscina's own utilization averages over the pool's whole life, which hides a recent change).
   */
  busyTimeMs(now = performance.now()): number {
    let ms = 0;
    for (const lane of this.#lanes) ms += lane.busyMs + (lane.running ? now - lane.busySince : 0);
    return ms;
  }

  /**
   * The campaign version `versionKey` left the set: workers holding its filter unload it with their next
   * batch. Without this, deleted campaigns stay loaded until the least-recently-used bound (one QuickJS
   * context each, about 46 KB).
   */
  retire(versionKey: string): void {
    for (const lane of this.#lanes) if (lane.known.has(versionKey)) lane.retired.add(versionKey);
  }

  /**
   * Campaign version `versionKey` is quarantined: every worker is told with its next batch, so that batches built
   * before (queued, re-sent, or whose routes the worker keeps) skip its calls, which give outcome "quarantined".
   */
  quarantine(versionKey: string): void {
    this.#quarantined.add(versionKey);
    for (const lane of this.#lanes) lane.quarantined.add(versionKey);
  }

  /** The reported pairs of each event (see EvaluatedBatch). Rejects only when the pool is closed. */
  async evaluate(task: BatchTask): Promise<EvaluatedBatch> {
    this.stats.batches++;
    let batch: EvaluatedBatch;
    try {
      batch = await this.#run(task);
    } catch (error) {
      if (this.#closed) throw error;
      this.#countFailure(error);
      batch = await isolate(task, {
        run: (t) => this.#run(t),
        failed: (e) => {
          if (this.#closed) throw e;
          this.#countFailure(e);
        },
        counted: () => this.stats.isolatedRuns++,
        watchdogMs: this.#watchdogMs,
      });
    }
    addCounts(this.counts, batch.counts);
    return batch;
  }

  #countFailure(error: unknown): void {
    if (isAbort(error)) this.stats.watchdogKills++;
    else this.stats.workerFailures++;
    this.emit("worker-failure", error);
  }

  async #run(task: BatchTask): Promise<EvaluatedBatch> {
    if (this.#closed) throw new RtcrmError(ErrorCodes.POOL_CLOSED, "the evaluation pool is closed");
    const lane = this.#lanes.reduce((a, b) => (b.load < a.load ? b : a));
    await lane.acquire();
    try {
      let result;
      try {
        result = await this.#send(lane, task);
      } catch (error) {
        // The worker may be a new one (crash, watchdog): the next task sends every route and filter whole again.
        this.#newWorker(lane);
        throw error;
      }
      this.#noticeReplacement(lane, result.threadId);
      // The worker no longer holds some routes or filters it was sent before (another batch in flight replaced
      // or dropped them): send this batch again with everything whole, which no batch before or after it can undo.
      if (result.missing || result.missingRoutes) result = await this.#send(lane, task, true);
      if (!result.outcomes)
        throw new RtcrmError(
          ErrorCodes.POOL_TASK_FAILED,
          `a worker returned no outcomes${result.missing ? ` (filters lost: ${result.missing.join(", ")})` : ""}`,
        );
      return { rows: decodeOutcomes(result.outcomes, task.events.length), counts: result.outcomes.counts };
    } finally {
      if (lane.release()) this.emit("idle");
    }
  }

  /** A result from another thread than the last: the worker was replaced (even while idle) and holds nothing. */
  #noticeReplacement(lane: Lane, threadId: number): void {
    if (lane.threadId !== undefined && lane.threadId !== threadId) this.#newWorker(lane);
    lane.threadId = threadId;
  }

  /** The lane's worker holds nothing (it is new): it is told every quarantine again with its next task. */
  #newWorker(lane: Lane): void {
    lane.forget();
    for (const key of this.#quarantined) lane.quarantined.add(key);
  }

  /**
   * Sends `task`: routes the worker holds by id; others whole, with the filters it holds by key and the others
   * linked first. `whole`: every route and filter of the batch whole.
   */
  async #send(lane: Lane, task: BatchTask, whole = false): Promise<BatchResult> {
    const routes: (readonly FilterRef[])[] = [];
    const index = new Map<readonly FilterRef[], number>();
    const routeIndex = (route: readonly FilterRef[]): number => {
      let i = index.get(route);
      if (i === undefined) index.set(route, (i = routes.push(route) - 1));
      return i;
    };
    const events = encodeEvents(task.events, routeIndex);
    const ids = routes.map((route) => this.#routeIds.of(route));
    const sentWhole = routes.filter((_, i) => whole || !lane.routes.has(ids[i] as number));
    const fresh = whole
      ? []
      : [...new Set(sentWhole.flat())].filter((ref) => !lane.known.has(ref.campaign.versionKey));
    if (fresh.length > 0) {
      // Linking new filters first, under a deadline of its own (per filter), keeps it off the batch's watchdog.
      const loaded = await lane.post(
        { load: fresh },
        this.#watchdogMs + fresh.length * LINK_DEADLINE_PER_FILTER_MS,
      );
      this.#learn(lane, fresh);
      for (const key of loaded.evicted) lane.known.delete(key);
      for (const id of loaded.evictedRoutes ?? []) lane.routes.delete(id);
      if (loaded.memory) lane.memory = loaded.memory;
    }
    const wireRoutes = routes.map((route, i) => {
      const id = ids[i] as number;
      if (!whole && lane.routes.has(id)) return id;
      const filters = route.map((ref) => {
        const key = ref.campaign.versionKey;
        return !whole && lane.known.has(key) ? key : ref;
      });
      return { id, filters };
    });
    const drop = lane.retired.size > 0 ? [...lane.retired] : undefined;
    // Told once: a batch posted behind this one sends them whole should it still need them.
    for (const key of drop ?? []) {
      lane.retired.delete(key);
      lane.known.delete(key);
    }
    const quarantined = lane.quarantined.size > 0 ? [...lane.quarantined] : undefined;
    lane.quarantined.clear();
    const result = await lane.post(
      {
        routes: wireRoutes,
        events,
        ...(drop ? { drop } : {}),
        ...(quarantined ? { quarantined } : {}),
      },
      this.#watchdogMs,
    );
    // Routes and filters sent whole are held by the worker now (a filter is known, so that its campaign's
    // retirement unloads it), but for what it let go during the task.
    if (whole) this.#learn(lane, [...new Set(routes.flat())], new Set(drop));
    if (!result.missing && !result.missingRoutes)
      for (const [i, route] of wireRoutes.entries())
        if (typeof route !== "number") lane.routes.add(ids[i] as number);
    for (const key of result.evicted) lane.known.delete(key);
    for (const id of result.evictedRoutes ?? []) lane.routes.delete(id);
    if (result.memory) lane.memory = result.memory;
    return result;
  }

  /** The worker holds `refs` now (but for those it unloads after the task): the pool knows them. */
  #learn(lane: Lane, refs: readonly FilterRef[], unloaded: ReadonlySet<string> = new Set()): void {
    for (const ref of refs) {
      const key = ref.campaign.versionKey;
      if (unloaded.has(key)) continue;
      lane.known.add(key);
      if (!this.#isCurrent(ref)) lane.retired.add(key);
    }
  }

  /** Terminates one worker thread from outside, as a crash would (tests of the recovery path). */
  async terminateWorkerForTest(): Promise<void> {
    const thread = this.#lanes[0]?.pool.threads[0];
    if (thread) await thread.terminate();
  }

  /** Finishes running batches, then stops the workers; past `timeoutMs` the workers are terminated. Idempotent. */
  async close(timeoutMs = 10_000): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<"timeout">((resolve) => {
      timer = setTimeout(() => resolve("timeout"), timeoutMs);
    });
    try {
      const closing = Promise.all(this.#lanes.map((l) => l.pool.close())).then(() => "closed" as const);
      const result = await Promise.race([closing, deadline]);
      if (result === "timeout") await Promise.all(this.#lanes.map((l) => l.pool.destroy()));
    } finally {
      clearTimeout(timer);
    }
  }
}
