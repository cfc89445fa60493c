// A batch that failed in a worker (a crash, the watchdog) is evaluated again event by event, and an event that fails
// alone campaign by campaign, so that only the (event, campaign) pair at fault gets a "watchdog" or "threw" outcome.
import { errorMessage } from "../errors.js";
import type { FilterOutcome } from "../evaluation/outcome.js";
import type { BatchEvent, BatchTask } from "./protocol.js";
import { addCounts, noCounts, type EvaluatedBatch, type EvaluationCounts, type Evaluated } from "./wire.js";

export interface IsolationRuns {
  /** Runs a task in a worker; rejects when the worker fails. */
  run(task: BatchTask): Promise<EvaluatedBatch>;
  /** Takes a run's failure (rethrows it when the pool is closed). */
  failed(error: unknown): void;
  /** Counts each run made to isolate a failure. */
  counted(): void;
  readonly watchdogMs: number;
}

export function isAbort(error: unknown): boolean {
  return error instanceof Error && (error.name === "AbortError" || error.name === "TimeoutError");
}

export async function isolate(task: BatchTask, runs: IsolationRuns): Promise<EvaluatedBatch> {
  const rows: (readonly Evaluated[])[] = [];
  const counts = noCounts();
  for (const event of task.events) {
    runs.counted();
    try {
      const single = await runs.run({ events: [event] });
      rows.push(single.rows[0] ?? []);
      addCounts(counts, single.counts);
      continue;
    } catch (error) {
      runs.failed(error);
    }
    rows.push(await isolateCandidates(event, counts, runs));
  }
  return { rows, counts };
}

async function isolateCandidates(
  event: BatchEvent,
  counts: EvaluationCounts,
  runs: IsolationRuns,
): Promise<Evaluated[]> {
  const row: Evaluated[] = [];
  for (const [j, candidate] of event.route.entries()) {
    runs.counted();
    try {
      const single = await runs.run({ events: [{ ...event, route: [candidate] }] });
      addCounts(counts, single.counts);
      for (const e of single.rows[0] ?? []) row.push({ candidate: j, outcome: e.outcome });
    } catch (error) {
      runs.failed(error);
      row.push({
        candidate: j,
        outcome: isAbort(error)
          ? failure("watchdog", `no answer within ${runs.watchdogMs} ms; the worker was restarted`)
          : failure("threw", `the worker failed: ${errorMessage(error)}`),
      });
    }
  }
  return row;
}

function failure(kind: FilterOutcome["kind"], message: string): FilterOutcome {
  return { kind, fuelUsed: 0, message };
}
