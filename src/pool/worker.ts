// Worker-thread entry of the evaluation pool: one sandbox per thread, filters loaded on first use
// and kept (least recently used unloaded past a bound), batches evaluated with the pure rules.
import { threadId } from "node:worker_threads";
import { workerData } from "piscina";
import { evaluateCampaign } from "../evaluation/evaluate.js";
import type { Outcome } from "../evaluation/outcome.js";
import { Sandbox } from "../sandbox/sandbox.js";
import { EventView } from "./event-view.js";
import type { BatchResult, BatchTask, FilterRef, WorkerInit } from "./protocol.js";

const init = workerData as WorkerInit;
const sandbox = new Sandbox(init.engineModule, { engineVersion: init.engineVersion });
/** versionKey -> last use; insertion order is refreshed on use, so the first key is the least recently used. */
const loaded = new Map<string, true>();
/** campaignId -> loaded versionKey: a new version of a campaign replaces the old one at once. */
const versionOf = new Map<number, string>();

function ensureLoaded(ref: FilterRef): void {
  const key = ref.campaign.versionKey;
  if (loaded.has(key)) {
    loaded.delete(key);
    loaded.set(key, true);
    return;
  }
  const previous = versionOf.get(ref.campaign.campaignId);
  if (previous !== undefined && previous !== key) unload(previous);
  sandbox.load(key, ref.module);
  loaded.set(key, true);
  versionOf.set(ref.campaign.campaignId, key);
  while (loaded.size > init.maxLoadedFilters) {
    const oldest = loaded.keys().next().value as string;
    unload(oldest);
  }
}

function unload(key: string): void {
  sandbox.unload(key);
  loaded.delete(key);
  for (const [id, k] of versionOf) if (k === key) versionOf.delete(id);
}

export default function evaluateBatch(task: BatchTask): BatchResult {
  const outcomes: Outcome[][] = [];
  for (const event of task.events) {
    const row: Outcome[] = [];
    const view = new EventView(event.json);
    const head = { game: event.game, event_name: event.eventName };
    for (const index of event.candidates) {
      const ref = task.filters[index];
      if (!ref) throw new Error(`batch refers to filter ${index} of ${task.filters.length}`);
      row.push(
        evaluateCampaign(ref.campaign, head, event.nowMs, () => {
          ensureLoaded(ref);
          return sandbox.evaluate(ref.campaign.versionKey, view.for(ref), {
            fuel: ref.fuel,
            memoryBytes: ref.memoryBytes,
          });
        }),
      );
    }
    outcomes.push(row);
  }
  return { outcomes, threadId };
}
