// One evaluation worker as the pool drives it: its one-thread piscina pool, what the worker holds, admission of
// at most LANE_DEPTH batches at a time, and the watchdog of each task armed when the worker starts it.
import type { Piscina } from "piscina";
import type { BatchResult, LoadTask, WireTask, WorkerMemory } from "./protocol.js";

/**
 * Batches posted to one worker before the first of them has returned. With one at a time the worker waited
 * for the main thread to take each result and post the next batch (idle 60% of a run at 26k events/s); with
 * two, the next batch is in the worker's queue when the current one ends.
 */
export const LANE_DEPTH = 2;

export class Lane {
  readonly known = new Set<string>();
  /** Known filters of campaigns that left the set: the next batch tells the worker to unload them. */
  readonly retired = new Set<string>();
  /** Ids of the routes the worker holds (their filters and plan): sent by id. */
  readonly routes = new Set<number>();
  /** The worker thread that answered last: another one means the worker was replaced and holds nothing. */
  threadId: number | undefined;
  /** Campaign versions quarantined since the last task: the next one tells the worker. */
  readonly quarantined = new Set<string>();
  /** What the worker last reported of its memory (undefined until its first result). */
  memory: WorkerMemory | undefined;
  /** Tasks posted to the worker and not yet returned (at most LANE_DEPTH). */
  posted = 0;
  /** Settles when the last task posted has returned: the worker starts the next one then. */
  #tail: Promise<void> = Promise.resolve();
  readonly #waiting: (() => void)[] = [];
  /** Time this lane held a task (sent, running or returning), finished spans only; and when the current one began. */
  busyMs = 0;
  busySince = 0;

  constructor(readonly pool: Piscina<WireTask | LoadTask, BatchResult>) {}

  /** The worker may be a new one (it crashed, or the watchdog replaced it): it holds nothing. */
  forget(): void {
    this.known.clear();
    this.retired.clear();
    this.routes.clear();
  }

  get running(): boolean {
    return this.posted > 0;
  }

  get load(): number {
    return this.posted + this.#waiting.length;
  }

  /** Batches waiting for admission. */
  get queued(): number {
    return this.#waiting.length;
  }

  /** Resolves when the lane admits one more batch. */
  acquire(): Promise<void> {
    if (this.posted < LANE_DEPTH) {
      if (this.posted++ === 0) this.busySince = performance.now();
      return Promise.resolve();
    }
    return new Promise((resolve) => this.#waiting.push(resolve));
  }

  /** A batch is done: the next waiting one is admitted. True when the lane is now idle. */
  release(): boolean {
    const next = this.#waiting.shift();
    if (next) {
      next();
      return false;
    }
    if (--this.posted > 0) return false;
    this.busyMs += performance.now() - this.busySince;
    return true;
  }

  /**
   * Posts `task` to the worker, with a watchdog of `timeoutMs` armed when the worker starts it (when the task
   * posted before it has returned), so that waiting behind another batch does not count.
   */
  post(task: WireTask | LoadTask, timeoutMs: number): Promise<BatchResult> {
    const controller = new AbortController();
    let settled = false;
    let timer: NodeJS.Timeout | undefined;
    void this.#tail.then(() => {
      if (!settled) timer = setTimeout(() => controller.abort(), timeoutMs);
    });
    const run = this.pool.run(task, { signal: controller.signal });
    const done = (): void => {
      settled = true;
      clearTimeout(timer);
    };
    this.#tail = run.then(done, done);
    return run;
  }
}
