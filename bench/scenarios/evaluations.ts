// Scenario (no Kafka): what one worker does per event with 20, 2,000 and 10,000 templated campaigns
// (bench/workload/templates.ts), with shared calls, the host's interpreter and the index turned on one after the
// other: (event, campaign) pairs routed, visited, interpreted, sandbox calls, shared calls, and events/s of one
// thread. Every configuration must find the same matches as the first, which calls every campaign's filter in
// the sandbox. RTCRM_BENCH_EVAL_COUNTS="10000" and RTCRM_BENCH_EVAL_ONLY="+ index" narrow it (for a profile).
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CampaignSet } from "../../src/campaigns/campaign-set.js";
import { Quarantine } from "../../src/campaigns/quarantine.js";
import { FilterCompiler } from "../../src/compile/filter-compiler.js";
import {
  BatchEvaluator,
  type BatchEvaluatorOptions,
  type PlannedRoute,
} from "../../src/pool/batch-evaluator.js";
import { FilterRegistry } from "../../src/pool/filter-registry.js";
import type { FilterRef } from "../../src/pool/protocol.js";
import { addCounts, encodeEvents, noCounts } from "../../src/pool/wire.js";
import { loadEngineModule } from "../../src/sandbox/engine-module.js";
import { Sandbox } from "../../src/sandbox/sandbox.js";
import { progress, type Row } from "../lib/report.js";
import { generateEvents } from "../workload/generator.js";
import { generateTemplatedCampaigns, templatedRecord } from "../workload/templates.js";

const CONFIGS: { name: string; options: BatchEvaluatorOptions }[] = [
  { name: "every campaign called", options: { indexed: false, interpreted: false, shared: false } },
  { name: "+ shared calls", options: { indexed: false, interpreted: false, shared: true } },
  { name: "+ interpreter", options: { indexed: false, interpreted: true, shared: true } },
  { name: "+ index", options: { indexed: true, interpreted: true, shared: true } },
];
const BATCH = 256;

export interface EvaluationsRow {
  campaigns: number;
  config: string;
  events: number;
  routedPerEvent: number;
  visitedPerEvent: number;
  interpretedPerEvent: number;
  sandboxCallsPerEvent: number;
  sharedPerEvent: number;
  matchesPerEvent: number;
  eventsPerSec: number;
}

async function activeCampaigns(count: number): Promise<CampaignSet> {
  const engine = loadEngineModule();
  const compiler = new FilterCompiler(engine, mkdtempSync(join(tmpdir(), "rtcrm-probe-")));
  const set = new CampaignSet({
    compiler,
    limitsFor: () => ({ fuel: 1_000_000, memoryBytes: 16 << 20, deadlineMs: 1_000 }),
  });
  for (const c of generateTemplatedCampaigns(3, count)) {
    const value = new TextEncoder().encode(templatedRecord(c));
    const status = await set.apply({ key: String(c.campaign_id), value, source: "probe" });
    if (status.status !== "accepted")
      throw new Error(`campaign ${c.campaign_id}: ${status.reasons?.join("; ")}`);
  }
  return set;
}

function measure(
  set: CampaignSet,
  count: number,
  events: number,
  config: (typeof CONFIGS)[number],
): {
  row: EvaluationsRow;
  matches: string[];
} {
  const registry = new FilterRegistry(new Sandbox(loadEngineModule()), 1_000_000);
  const evaluator = new BatchEvaluator(
    registry.call,
    new Quarantine({ after: 3, windowMs: 60_000 }),
    config.options,
  );
  const nowMs = Date.now();
  const all = [...generateEvents(11, events)];
  const counts = noCounts();
  const matches: string[] = [];
  const plans = new Map<readonly FilterRef[], PlannedRoute>();
  let ms = 0;
  for (let at = 0; at < all.length; at += BATCH) {
    const slice = all.slice(at, at + BATCH);
    // As a worker keeps them: each route planned once, when it is first sent.
    const routes: PlannedRoute[] = [];
    const routeIndex = new Map<readonly FilterRef[], number>();
    const batch = slice.map((e) => ({
      json: e.json,
      game: e.game,
      eventName: e.eventName,
      nowMs,
      route: set.route(e.game, e.eventName),
    }));
    const wire = encodeEvents(batch, (route) => {
      let i = routeIndex.get(route);
      if (i === undefined) {
        let kept = plans.get(route);
        if (!kept) {
          for (const f of route) registry.register(f);
          plans.set(route, (kept = evaluator.plan(route)));
        }
        routeIndex.set(route, (i = routes.push(kept) - 1));
      }
      return i;
    });
    const started = performance.now();
    const out = evaluator.evaluate(routes, wire);
    ms += performance.now() - started;
    addCounts(counts, out.counts);
    for (let r = 0; r < out.events.length; r++) {
      if (out.kinds[r] !== 0) continue; // 0: match
      const e = batch[out.events[r] as number];
      const campaign = e?.route[out.candidates[r] as number];
      matches.push(`${at + (out.events[r] as number)}:${campaign?.campaign.campaignId}`);
    }
  }
  const per = (n: number): number => Math.round((n / events) * 100) / 100;
  return {
    matches: matches.sort(),
    row: {
      campaigns: count,
      config: config.name,
      events,
      routedPerEvent: per(counts.routed),
      visitedPerEvent: per(counts.routed - counts.indexed),
      interpretedPerEvent: per(counts.interpreted),
      sandboxCallsPerEvent: per(counts.sandboxCalls),
      sharedPerEvent: per(counts.shared),
      matchesPerEvent: per(matches.length),
      eventsPerSec: Math.round(events / (ms / 1000)),
    },
  };
}

export async function runEvaluations(quick: boolean): Promise<{ rows: Row[]; results: EvaluationsRow[] }> {
  const events = quick ? 2_000 : 20_000;
  const results: EvaluationsRow[] = [];
  const counts = (process.env["RTCRM_BENCH_EVAL_COUNTS"] ?? "20,2000,10000").split(",").map(Number);
  const only = process.env["RTCRM_BENCH_EVAL_ONLY"];
  for (const count of counts) {
    progress(`evaluations: ${count} campaigns`);
    const set = await activeCampaigns(count);
    let reference: { events: number; matches: string } | null = null;
    for (const config of CONFIGS.filter((c) => only === undefined || c.name === only)) {
      // Calling every campaign in the sandbox is slow with thousands: fewer events for that reference.
      const n = config.options.shared === false && count > 20 ? Math.min(events, 1_000) : events;
      const { row, matches } = measure(set, count, n, config);
      const firstOf = (limit: number): string =>
        matches.filter((m) => Number(m.slice(0, m.indexOf(":"))) < limit).join(",");
      if (reference === null) reference = { events: n, matches: firstOf(n) };
      else if (firstOf(reference.events) !== reference.matches)
        throw new Error(
          `${count} campaigns, ${config.name}: matches differ from the run that calls every filter`,
        );
      results.push(row);
    }
  }
  const rows: Row[] = results.map((r) => ({
    campaigns: r.campaigns,
    evaluation: r.config,
    events: r.events,
    "routed/event": r.routedPerEvent,
    "visited/event": r.visitedPerEvent,
    "interpreted/event": r.interpretedPerEvent,
    "sandbox calls/event": r.sandboxCallsPerEvent,
    "shared/event": r.sharedPerEvent,
    "matches/event": r.matchesPerEvent,
    "events/s (one thread)": r.eventsPerSec,
  }));
  return { rows, results };
}
