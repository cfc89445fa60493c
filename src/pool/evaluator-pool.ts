// The evaluation workers, as the engine sees them: batches in, outcomes out.
// Workers are stateful (their filters stay loaded), so each is a one-thread piscina pool of its own, a "lane":
// the main thread knows what every worker holds and sends a filter whole only the first time, then by key.
// A batch never fails because of a filter: a crashed or stuck worker is replaced and the batch is
// re-evaluated, isolating the (event, campaign) pair at fault, which alone gets a "watchdog" or "threw" outcome.
import { EventEmitter } from "node:events";
import { availableParallelism } from "node:os";
import { fileURLToPath } from "node:url";
import { Piscina } from "piscina";
import { ErrorCodes, RtcrmError, errorMessage } from "../errors.js";
import type { FilterOutcome, Outcome } from "../evaluation/outcome.js";
import type { EngineModule } from "../sandbox/engine-module.js";
import { DEFAULT_CAMPAIGNS_MEMORY_BYTES } from "../sandbox/limits.js";
import {
  type BatchEvent,
  type BatchResult,
  type BatchTask,
  type FilterRef,
  type LoadTask,
  type WireTask,
  type WorkerInit,
  type WorkerMemory,
} from "./protocol.js";
import { Lane, LANE_DEPTH } from "./lane.js";
import { decodeOutcomes, encodeEvents } from "./wire.js";

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
  /**
   * Whether a campaign version is quarantined: a batch built before its quarantine (queued, or re-sent) skips its
   * calls, which then give outcome "quarantined". Default: none is.
   */
  readonly isQuarantined?: (versionKey: string) => boolean;
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
  readonly #lanes: Lane[];
  readonly #watchdogMs: number;
  readonly #isCurrent: (ref: FilterRef) => boolean;
  readonly #isQuarantined: (versionKey: string) => boolean;
  #closed = false;

  constructor(options: EvaluatorPoolOptions) {
    super();
    this.workers = options.workers ?? defaultWorkerCount();
    this.#watchdogMs = options.watchdogMs;
    this.#isCurrent = options.isCurrent ?? (() => true);
    this.#isQuarantined = options.isQuarantined ?? (() => false);
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

  /** Outcomes per event and candidate. Rejects only when the pool is closed. */
  async evaluate(task: BatchTask): Promise<Outcome[][]> {
    this.stats.batches++;
    try {
      return await this.#run(task);
    } catch (error) {
      if (this.#closed) throw error;
      this.#countFailure(error);
      return this.#isolate(task);
    }
  }

  async #isolate(task: BatchTask): Promise<Outcome[][]> {
    const rows: Outcome[][] = [];
    for (const event of task.events) {
      this.stats.isolatedRuns++;
      try {
        const single = await this.#run({ filters: task.filters, events: [event] });
        rows.push(single[0] ?? []);
        continue;
      } catch (error) {
        if (this.#closed) throw error;
        this.#countFailure(error);
      }
      rows.push(await this.#isolateCandidates(task, event));
    }
    return rows;
  }

  async #isolateCandidates(task: BatchTask, event: BatchEvent): Promise<Outcome[]> {
    const row: Outcome[] = [];
    for (const candidate of event.candidates) {
      this.stats.isolatedRuns++;
      try {
        const single = await this.#run({
          filters: task.filters,
          events: [{ ...event, candidates: [candidate] }],
        });
        row.push(single[0]?.[0] ?? failure("threw", "no outcome returned"));
      } catch (error) {
        if (this.#closed) throw error;
        this.#countFailure(error);
        row.push(
          isAbort(error)
            ? failure("watchdog", `no answer within ${this.#watchdogMs} ms; the worker was restarted`)
            : failure("threw", `the worker failed: ${errorMessage(error)}`),
        );
      }
    }
    return row;
  }

  #countFailure(error: unknown): void {
    if (isAbort(error)) this.stats.watchdogKills++;
    else this.stats.workerFailures++;
    this.emit("worker-failure", error);
  }

  async #run(task: BatchTask): Promise<Outcome[][]> {
    if (this.#closed) throw new RtcrmError(ErrorCodes.POOL_CLOSED, "the evaluation pool is closed");
    const lane = this.#lanes.reduce((a, b) => (b.load < a.load ? b : a));
    await lane.acquire();
    try {
      let result;
      try {
        result = await this.#send(lane, task);
      } catch (error) {
        // The worker may be a new one (crash, watchdog): the next task sends every filter whole again.
        lane.known.clear();
        lane.retired.clear();
        throw error;
      }
      // The worker no longer holds some filters it was sent before (another batch in flight replaced or dropped
      // them): send this batch again with every filter whole, which no batch before or after it can undo.
      if (result.missing) result = await this.#send(lane, task, true);
      if (!result.outcomes)
        throw new RtcrmError(
          ErrorCodes.POOL_TASK_FAILED,
          `a worker returned no outcomes${result.missing ? ` (filters lost: ${result.missing.join(", ")})` : ""}`,
        );
      return decodeOutcomes(result.outcomes, task.events);
    } finally {
      if (lane.release()) this.emit("idle");
    }
  }

  /** Sends `task`: filters the worker holds by key, others linked first; or, `whole`, every filter in the batch. */
  async #send(lane: Lane, task: BatchTask, whole = false): Promise<BatchResult> {
    const fresh = whole ? [] : task.filters.filter((ref) => !lane.known.has(ref.campaign.versionKey));
    if (fresh.length > 0) {
      // Linking new filters first, under a deadline of its own (per filter), keeps it off the batch's watchdog.
      const loaded = await lane.post(
        { load: fresh },
        this.#watchdogMs + fresh.length * LINK_DEADLINE_PER_FILTER_MS,
      );
      this.#learn(lane, fresh);
      for (const key of loaded.evicted) lane.known.delete(key);
      if (loaded.memory) lane.memory = loaded.memory;
    }
    const filters = task.filters.map((ref) => {
      const key = ref.campaign.versionKey;
      return !whole && lane.known.has(key) ? key : ref;
    });
    const drop = lane.retired.size > 0 ? [...lane.retired] : undefined;
    // Told once: a batch posted behind this one sends them whole should it still need them.
    for (const key of drop ?? []) {
      lane.retired.delete(key);
      lane.known.delete(key);
    }
    const quarantined = task.filters
      .map((ref) => ref.campaign.versionKey)
      .filter((key) => this.#isQuarantined(key));
    const result = await lane.post(
      {
        filters,
        events: encodeEvents(task.events),
        ...(drop ? { drop } : {}),
        ...(quarantined.length > 0 ? { quarantined } : {}),
      },
      this.#watchdogMs,
    );
    // Filters sent whole are held by the worker now: known, so that their campaign's retirement unloads them.
    if (whole) this.#learn(lane, task.filters, new Set(drop));
    for (const key of result.evicted) lane.known.delete(key);
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

function isAbort(error: unknown): boolean {
  return error instanceof Error && (error.name === "AbortError" || error.name === "TimeoutError");
}

function failure(kind: FilterOutcome["kind"], message: string): FilterOutcome {
  return { kind, fuelUsed: 0, message };
}
