// Worker-thread entry of the evaluation pool: one sandbox per thread, the filters it holds (filter-registry.ts,
// evictions reported back), batches evaluated by the BatchEvaluator.
import { getHeapStatistics } from "node:v8";
import { threadId } from "node:worker_threads";
import { workerData } from "piscina";
import { Quarantine } from "../campaigns/quarantine.js";
import { Sandbox } from "../sandbox/sandbox.js";
import { BatchEvaluator, type PlannedRoute } from "./batch-evaluator.js";
import { FilterRegistry } from "./filter-registry.js";
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
const filters = new FilterRegistry(sandbox, init.maxLoadedFilters);
const evaluator = new BatchEvaluator(filters.call, quarantine);

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

/** Route id -> the route's filters and plan, least recently used first (at most MAX_ROUTES after a task). */
const routes = new Map<number, PlannedRoute>();
/** versionKey -> ids of the kept routes holding it: unloading a filter lets its routes go. */
const routesOf = new Map<string, Set<number>>();
/**
 * Routes kept per worker. A route is one list per (game, event_name) and version of the campaign set: a few hundred
 * are current; older ones serve only batches built before a change.
 */
const MAX_ROUTES = 4_096;
let evictedRoutes: number[] = [];

function forgetRoute(id: number): void {
  const route = routes.get(id);
  if (!route) return;
  routes.delete(id);
  for (const ref of route.filters) routesOf.get(ref.campaign.versionKey)?.delete(id);
  evictedRoutes.push(id);
}

filters.onDrop((key) => {
  for (const id of routesOf.get(key) ?? []) forgetRoute(id);
  routesOf.delete(key);
});

function keepRoute(id: number, route: PlannedRoute): void {
  routes.set(id, route);
  for (const ref of route.filters) {
    const key = ref.campaign.versionKey;
    let ids = routesOf.get(key);
    if (!ids) routesOf.set(key, (ids = new Set()));
    ids.add(id);
  }
}

function finish(evicted: string[]): Pick<BatchResult, "evicted" | "evictedRoutes"> {
  const kept = filters.trim(evicted);
  while (routes.size > MAX_ROUTES) forgetRoute(routes.keys().next().value as number);
  const gone = evictedRoutes;
  evictedRoutes = [];
  return { evicted: kept, ...(gone.length > 0 ? { evictedRoutes: gone } : {}) };
}

export default function evaluateBatch(task: WireTask | LoadTask): BatchResult {
  if ("load" in task) {
    const evicted: string[] = [];
    for (const ref of task.load) {
      filters.register(ref);
      // Filters only the sandbox can answer are linked ahead of their first batch; predicate filters on need.
      if (ref.predicate === null) filters.link(ref);
    }
    return { threadId, ...finish(evicted), ...memoryReport() };
  }
  for (const key of task.quarantined ?? []) quarantine.remember(key, "quarantined by the engine");
  const evicted: string[] = [];
  const planned: PlannedRoute[] = [];
  const missing: string[] = [];
  const missingRoutes: number[] = [];
  for (const r of task.routes) {
    if (typeof r === "number") {
      const route = routes.get(r);
      if (!route) {
        missingRoutes.push(r);
        continue;
      }
      routes.delete(r); // least recently used first
      routes.set(r, route);
      planned.push(route);
      continue;
    }
    const refs: FilterRef[] = [];
    for (const f of r.filters) {
      const ref = filters.resolve(f);
      if (ref) refs.push(ref);
      else missing.push(f as string);
    }
    const route = evaluator.plan(refs);
    planned.push(route);
    if (refs.length === r.filters.length) keepRoute(r.id, route);
  }
  if (missing.length > 0 || missingRoutes.length > 0) {
    for (const key of task.drop ?? []) if (filters.has(key)) filters.drop(key, evicted);
    return {
      threadId,
      ...finish(evicted),
      ...(missing.length > 0 ? { missing } : {}),
      ...(missingRoutes.length > 0 ? { missingRoutes } : {}),
    };
  }
  const outcomes = evaluator.evaluate(planned, task.events);
  for (const key of task.drop ?? []) if (filters.has(key)) filters.drop(key, evicted);
  return { outcomes, threadId, ...finish(evicted), ...memoryReport() };
}
