// Worker-thread entry of the evaluation pool: one sandbox per thread, filters kept by versionKey (least
// recently used unloaded past a bound, and reported back), batches evaluated with the pure rules.
import { getHeapStatistics } from "node:v8";
import { threadId } from "node:worker_threads";
import { workerData } from "piscina";
import { Quarantine } from "../campaigns/quarantine.js";
import { evaluateCampaign } from "../evaluation/evaluate.js";
import type { FilterOutcome } from "../evaluation/outcome.js";
import { modulesDropped } from "../sandbox/module-reclaim.js";
import { Sandbox } from "../sandbox/sandbox.js";
import { EventView } from "./event-view.js";
import { OutcomeWriter } from "./wire.js";
import {
  type BatchResult,
  type FilterRef,
  type LoadTask,
  type WireTask,
  type WorkerInit,
  type WorkerMemory,
} from "./protocol.js";

const init = workerData as WorkerInit;
const sandbox = new Sandbox(init.engineModule, {
  engineVersion: init.engineVersion,
  campaignsMemoryBytes: init.campaignsMemoryBytes,
});
/** The engine's rule, applied here as well: a version stopped too often is not called again, even in this batch. */
const quarantine = new Quarantine(init.quarantine);
/** versionKey -> filter; insertion order is refreshed on use, so the first key is the least recently used. */
const registry = new Map<string, FilterRef>();
/** versionKeys whose filter is linked into the sandbox (linking happens on first evaluation). */
const linked = new Set<string>();
/** campaignId -> versionKey: a new version of a campaign replaces the old one at once. */
const versionOf = new Map<number, string>();

function register(ref: FilterRef, evicted: string[]): void {
  const key = ref.campaign.versionKey;
  const previous = versionOf.get(ref.campaign.campaignId);
  if (previous !== undefined && previous !== key) drop(previous, evicted);
  registry.delete(key);
  registry.set(key, ref);
  versionOf.set(ref.campaign.campaignId, key);
}

/** After a task (never during one, which may need more filters than the bound): unload the least recently used. */
function trim(evicted: string[]): string[] {
  while (registry.size > init.maxLoadedFilters) drop(registry.keys().next().value as string, evicted);
  return evicted.filter((k) => !registry.has(k));
}

function drop(key: string, evicted: string[]): void {
  const ref = registry.get(key);
  if (ref && versionOf.get(ref.campaign.campaignId) === key) versionOf.delete(ref.campaign.campaignId);
  if (registry.delete(key)) modulesDropped();
  if (linked.delete(key)) sandbox.unload(key);
  evicted.push(key);
}

/** The filter a task names, or undefined when it names one by key that this worker does not hold. */
function resolve(filter: FilterRef | string, evicted: string[]): FilterRef | undefined {
  if (typeof filter !== "string") {
    register(filter, evicted);
    return filter;
  }
  const ref = registry.get(filter);
  if (!ref) return undefined;
  registry.delete(filter);
  registry.set(filter, ref);
  return ref;
}

function link(ref: FilterRef): void {
  const key = ref.campaign.versionKey;
  if (linked.has(key)) return;
  sandbox.load(key, ref.module);
  linked.add(key);
}

/** How often a result carries the worker's memory. */
const MEMORY_REPORT_MS = 1_000;
let memoryReportedAt = -Infinity;

/** The worker's memory when a report is due, else undefined. */
function memoryReport(): { memory: WorkerMemory } | undefined {
  const now = performance.now();
  if (now - memoryReportedAt < MEMORY_REPORT_MS) return undefined;
  memoryReportedAt = now;
  const heap = getHeapStatistics();
  const engine = sandbox.stats();
  return {
    memory: {
      heapUsedBytes: heap.used_heap_size,
      heapTotalBytes: heap.total_heap_size,
      sandboxMemoryBytes: engine.memoryBytes,
      sandboxHeapBytes: engine.heapBytes,
      campaignsBytes: engine.campaignsBytes,
      memoryResets: engine.memoryResets,
      filters: engine.filters,
    },
  };
}

export default function evaluateBatch(task: WireTask | LoadTask): BatchResult {
  if ("load" in task) {
    const evicted: string[] = [];
    for (const ref of task.load) {
      register(ref, evicted);
      link(ref);
    }
    return { threadId, evicted: trim(evicted), ...memoryReport() };
  }
  const evicted: string[] = [];
  const filters: FilterRef[] = [];
  const missing: string[] = [];
  for (const f of task.filters) {
    const ref = resolve(f, evicted);
    if (ref) filters.push(ref);
    else missing.push(f as string);
  }
  if (missing.length > 0) {
    for (const key of task.drop ?? []) if (registry.has(key)) drop(key, evicted);
    return { threadId, evicted: trim(evicted), missing };
  }
  for (const key of task.quarantined ?? []) quarantine.remember(key, "quarantined by the engine");
  const { texts, heads, headOf, nowMs, candidateEnds, candidates } = task.events;
  const writer = new OutcomeWriter(candidates.length);
  let c = 0;
  for (let i = 0; i < texts.length; i++) {
    const view = new EventView(texts[i] as string);
    const k = headOf[i] as number;
    const head = { game: heads[2 * k] as string, event_name: heads[2 * k + 1] as string };
    for (const end = candidateEnds[i] as number; c < end; c++) {
      const index = candidates[c] as number;
      const ref = filters[index];
      if (!ref) throw new Error(`batch refers to filter ${index} of ${filters.length}`);
      let took = Number.NaN;
      const outcome = evaluateCampaign(ref.campaign, head, nowMs[i] as number, (): FilterOutcome => {
        const key = ref.campaign.versionKey;
        const reason = quarantine.reason(key);
        if (reason !== undefined) return { kind: "quarantined", fuelUsed: 0, message: reason };
        link(ref);
        const input = view.for(ref);
        const started = performance.now();
        const result = sandbox.evaluate(key, input, {
          fuel: ref.fuel,
          memoryBytes: ref.memoryBytes,
          deadlineMs: ref.deadlineMs,
        });
        took = (performance.now() - started) * 1000;
        quarantine.strike(key, result);
        return result;
      });
      writer.add(outcome, took);
    }
  }
  for (const key of task.drop ?? []) if (registry.has(key)) drop(key, evicted);
  return { outcomes: writer.finish(), threadId, evicted: trim(evicted), ...memoryReport() };
}
