// The piscina pool of evaluation workers, as the engine sees it: batches in, outcomes out.
// A batch never fails because of a filter: a crashed or stuck worker is replaced and the batch is
// re-evaluated, isolating the (event, campaign) pair at fault, which alone gets a "watchdog" or "threw" outcome.
import { EventEmitter } from "node:events";
import { availableParallelism } from "node:os";
import { fileURLToPath } from "node:url";
import { Piscina } from "piscina";
import { ErrorCodes, RtcrmError, errorMessage } from "../errors.js";
import type { FilterOutcome, Outcome } from "../evaluation/outcome.js";
import type { EngineModule } from "../sandbox/engine-module.js";
import type { BatchEvent, BatchResult, BatchTask, WorkerInit } from "./protocol.js";

export interface EvaluatorPoolOptions {
  readonly engine: EngineModule;
  /** Worker threads; default: cores minus one, at least one. */
  readonly workers?: number;
  /** A batch running longer than this is stopped by terminating its worker (the last line of defence after fuel). */
  readonly watchdogMs: number;
  /** Batches waiting for a worker beyond which `needsDrain` turns true. */
  readonly maxQueuedBatches?: number;
  readonly maxLoadedFilters?: number;
}

export interface PoolStats {
  batches: number;
  workerFailures: number;
  watchdogKills: number;
  isolatedRuns: number;
}

export function defaultWorkerCount(): number {
  return Math.max(1, availableParallelism() - 1);
}

export class EvaluatorPool extends EventEmitter {
  readonly workers: number;
  readonly stats: PoolStats = { batches: 0, workerFailures: 0, watchdogKills: 0, isolatedRuns: 0 };
  readonly #pool: Piscina<BatchTask, BatchResult>;
  readonly #watchdogMs: number;
  readonly #maxQueued: number;
  #running = 0;
  readonly #waiting: (() => void)[] = [];
  #closed = false;

  constructor(options: EvaluatorPoolOptions) {
    super();
    this.workers = options.workers ?? defaultWorkerCount();
    this.#watchdogMs = options.watchdogMs;
    this.#maxQueued = options.maxQueuedBatches ?? this.workers * 2;
    const workerData: WorkerInit = {
      engineModule: options.engine.module,
      engineVersion: options.engine.version,
      maxLoadedFilters: options.maxLoadedFilters ?? 20_000,
    };
    this.#pool = new Piscina<BatchTask, BatchResult>({
      filename: fileURLToPath(new URL("./worker.js", import.meta.url)),
      minThreads: this.workers,
      maxThreads: this.workers,
      idleTimeout: Number.POSITIVE_INFINITY,
      // Our own admission (#acquire) keeps at most one batch per worker inside piscina, so the watchdog
      // measures running time, not time spent queued.
      maxQueue: this.workers,
      // QuickJS's own stack check measures its C stack; deeply nested JSON/eval inside QuickJS uses more of
      // V8's native stack than that, and 16 MB keeps those cases inside the sandbox's own limit.
      resourceLimits: { stackSizeMb: 16 },
      workerData,
    });
  }

  /** True while more batches wait than the bound: the caller should pause its input until "drain". */
  get needsDrain(): boolean {
    return this.#waiting.length >= this.#maxQueued;
  }

  get queued(): number {
    return this.#waiting.length;
  }

  get running(): number {
    return this.#running;
  }

  get utilization(): number {
    return this.#pool.utilization;
  }

  /** Outcomes per event and candidate. Rejects only when the pool is closed. */
  async evaluate(task: BatchTask): Promise<Outcome[][]> {
    this.stats.batches++;
    try {
      return (await this.#run(task)).outcomes;
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
        rows.push(single.outcomes[0] ?? []);
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
        row.push(single.outcomes[0]?.[0] ?? failure("threw", "no outcome returned"));
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

  async #run(task: BatchTask): Promise<BatchResult> {
    await this.#acquire();
    try {
      return await this.#pool.run(task, { signal: AbortSignal.timeout(this.#watchdogMs) });
    } finally {
      this.#release();
    }
  }

  #acquire(): Promise<void> {
    if (this.#closed)
      return Promise.reject(new RtcrmError(ErrorCodes.POOL_CLOSED, "the evaluation pool is closed"));
    if (this.#running < this.workers) {
      this.#running++;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.#waiting.push(resolve));
  }

  #release(): void {
    const next = this.#waiting.shift();
    if (next) {
      next();
    } else {
      this.#running--;
    }
    if (this.#waiting.length === this.#maxQueued - 1) this.emit("drain");
  }

  /** Terminates one worker thread from outside, as a crash would (tests of the recovery path). */
  async terminateWorkerForTest(): Promise<void> {
    const thread = this.#pool.threads[0];
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
      const result = await Promise.race([this.#pool.close().then(() => "closed" as const), deadline]);
      if (result === "timeout") await this.#pool.destroy();
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
