// Runs filters in a sandbox on a worker thread of its own, with the native stack the engine's workers have
// (EvaluatorPool: resourceLimits.stackSizeMb 16; some deep recursion inside QuickJS needs more native stack than
// the main thread's), and answers with each call's outcome and wall-clock time. Used by the hostile-corpus test and
// the "hostile neighbours" benchmark.
import { Worker, isMainThread, parentPort, workerData } from "node:worker_threads";
import { fileURLToPath } from "node:url";
import type { FilterOutcome } from "../../src/evaluation/outcome.js";
import type { Limits } from "../../src/sandbox/limits.js";

export interface ThreadCall {
  readonly source: string;
  readonly limits: Limits;
  /** Calls of the filter in a row (each after the previous one's outcome). */
  readonly times: number;
}

export interface ThreadResult {
  readonly outcomes: (FilterOutcome & { readonly ms: number })[];
  /** The worker's sandbox after the calls: restarted by a trap? still answering correctly? */
  readonly restarts: number;
  readonly healthy: boolean;
}

interface Request {
  readonly id: number;
  readonly call: ThreadCall;
  readonly event: string;
}

/** A worker thread with one sandbox; calls are made one at a time, in order. */
export class SandboxThread {
  readonly #worker: Worker;
  readonly #pending = new Map<number, { resolve: (r: ThreadResult) => void; reject: (e: Error) => void }>();
  #next = 0;

  constructor(stackSizeMb = 16) {
    this.#worker = new Worker(fileURLToPath(import.meta.url), {
      workerData: { sandboxThread: true },
      resourceLimits: { stackSizeMb },
    });
    this.#worker.on("message", (m: { id: number; result: ThreadResult }) => {
      this.#pending.get(m.id)?.resolve(m.result);
      this.#pending.delete(m.id);
    });
    this.#worker.on("error", (error) => {
      for (const p of this.#pending.values()) p.reject(error);
      this.#pending.clear();
    });
  }

  run(call: ThreadCall, event: string): Promise<ThreadResult> {
    const id = this.#next++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      this.#worker.postMessage({ id, call, event } satisfies Request);
    });
  }

  async close(): Promise<void> {
    await this.#worker.terminate();
  }
}

if (!isMainThread && (workerData as { sandboxThread?: boolean } | null)?.sandboxThread) {
  const { Sandbox, compileFilterModule, loadEngineModule } = await import("../../src/sandbox/index.js");
  const engine = loadEngineModule();
  const sandbox = new Sandbox(engine);
  const seed = compileFilterModule(
    sandbox,
    "function(event) { return event.getData().get('result') === 'loss' }",
    engine,
  );
  if (!seed.ok) throw new Error(seed.message);
  sandbox.load("seed", seed.module);
  const seedEvent = '{"game":"foe","event_name":"fight","data":{"result":"loss"}}';
  parentPort?.on("message", ({ id, call, event }: Request) => {
    const compiled = compileFilterModule(sandbox, call.source, engine);
    if (!compiled.ok) throw new Error(`does not compile: ${compiled.message}`);
    sandbox.load("probe", compiled.module);
    const outcomes: ThreadResult["outcomes"] = [];
    for (let i = 0; i < call.times; i++) {
      const started = performance.now();
      const outcome = sandbox.evaluate("probe", event, call.limits);
      outcomes.push({ ...outcome, ms: performance.now() - started });
    }
    sandbox.unload("probe");
    const healthy = sandbox.evaluate("seed", seedEvent, call.limits).kind === "match";
    parentPort?.postMessage({ id, result: { outcomes, restarts: sandbox.stats().restarts, healthy } });
  });
}
