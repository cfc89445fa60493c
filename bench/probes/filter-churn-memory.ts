// Probe behind the soak's memory finding (BENCHMARKS.md, "Soak"): the process's RSS while campaigns come and
// go. Each step writes a new campaign with a filter of its own, evaluates it once in a one-worker pool, and
// deletes the previous one the way the engine does (compiler cache forgotten, the worker told to unload it).
// Run: npm run build && node dist/bench/probes/filter-churn-memory.js [campaigns=8000] [--keep]
// (--keep: deleted campaigns are never retired, as before the fix: every filter stays loaded in the worker.)
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseCampaign } from "../../src/campaigns/campaign.js";
import { FilterCompiler } from "../../src/compile/filter-compiler.js";
import { EvaluatorPool } from "../../src/pool/evaluator-pool.js";
import type { BatchEvent, FilterRef } from "../../src/pool/protocol.js";
import { loadEngineModule } from "../../src/sandbox/engine-module.js";
import { SEED_EVENT_JSON, SEED_NOW } from "../../test/fixtures/seed.js";
import { filterRef } from "../../test/helpers/filter-ref.js";

const keep = process.argv.includes("--keep");
const campaigns = Number(process.argv.slice(2).find((a) => /^\d+$/.test(a)) ?? 8000);
const engine = loadEngineModule();
const compiler = new FilterCompiler(engine, join(mkdtempSync(join(tmpdir(), "rtcrm-churn-")), "fc"));
const pool = new EvaluatorPool({ engine, workers: 1, watchdogMs: 30_000 });
const rssMiB = (): number =>
  Math.round(Number(/VmRSS:\s+(\d+)/.exec(readFileSync("/proc/self/status", "utf8"))?.[1] ?? 0) / 1024);

function campaign(i: number): FilterRef {
  const filter = `/* v${i} */ (e) => e.data.result === 'loss' && ${i} >= 0`;
  const parsed = parseCampaign({
    campaign_id: i + 1,
    enabled: true,
    game: "foe",
    event_name: "fight",
    filter,
  });
  if (!parsed.ok) throw new Error(parsed.reasons.join("; "));
  const compiled = compiler.compileSync(filter);
  if (!keep) compiler.forget(filter);
  return {
    ...filterRef(parsed.campaign, compiled, { fuel: 1_000_000, memoryBytes: 16 << 20, deadlineMs: 1_000 }),
    // The filter is a predicate, which a worker answers without linking it into the sandbox: the probe measures
    // filters linked into the sandbox, so it is sent as a filter outside the subset would be.
    predicate: null,
  };
}

/** 50 events of the route `route` (one array, shared by its events as the campaign set hands it out). */
const eventsOf = (route: readonly FilterRef[]): BatchEvent[] =>
  Array.from({ length: 50 }, () => ({
    json: SEED_EVENT_JSON,
    game: "foe",
    eventName: "fight",
    nowMs: SEED_NOW,
    route,
  }));
console.log(
  `campaigns (${keep ? "deleted ones kept" : "deleted ones retired"})  RSS MiB  filters loaded in the worker`,
);
let previous: FilterRef | undefined;
for (let i = 0; i <= campaigns; i++) {
  const current = campaign(i);
  // A new campaign, a new route array (as after a change of the campaign set).
  await pool.evaluate({ events: eventsOf([current]) });
  if (!keep && previous) pool.retire(previous.campaign.versionKey);
  previous = current;
  if (i % 1000 === 0)
    console.log(`${String(i).padStart(8)}  ${String(rssMiB()).padStart(7)}  ${pool.loadedFilters}`);
}
await pool.close();
