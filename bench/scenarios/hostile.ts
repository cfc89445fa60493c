// Scenario "hostile neighbours": what the sandbox's bounds are worth. (a) The hostile corpus on a worker thread at
// the default limits: each probe's outcome, fuel and worst call time (after one warm-up pass; the cold pass is
// reported too). (b) Microseconds per fuel unit of each probe, measured at the margin (the time of a call with
// three times the fuel minus that of a call with the default fuel, over the fuel between them, deadline off), and
// their spread. (c) End to end: the engine with 20 campaigns and five hostile ones on the busiest route
// (foe/fight), as a ratio to the same run without them.
import { defaults } from "../../src/config/config.js";
import { HOSTILE_CORPUS, HOSTILE_NEIGHBOURS } from "../../test/fixtures/hostile-corpus.js";
import { SandboxThread } from "../../test/helpers/sandbox-thread.js";
import { progress, type Row } from "../lib/report.js";
import { campaignRecord, generateCampaigns } from "../workload/generator.js";
import { dropWorkload, prepareWorkload, runEngine, verify, type RunResult } from "./end-to-end.js";

const EVENT = '{"game":"foe","event_name":"fight","player_id":1,"data":{"result":"loss"}}';

export interface ProbeResult {
  readonly name: string;
  readonly family: string;
  readonly outcome: string;
  readonly fuel: number;
  readonly coldMs: number;
  readonly worstMs: number;
  /** Marginal nanoseconds per fuel unit; null when the probe does not spend its fuel (it ends another way). */
  readonly nsPerUnit: number | null;
}

export interface HostileResult {
  readonly probes: ProbeResult[];
  readonly worstCallMs: number;
  readonly spread: number;
  readonly baseline: RunResult;
  readonly hostile: RunResult;
  readonly ratio: number;
  readonly quarantined: number;
  readonly workerRestarts: number;
}

/** (a) and (b): the corpus on one worker thread. */
export async function runCorpus(quick: boolean): Promise<{ probes: ProbeResult[]; rows: Row[] }> {
  const config = defaults();
  const limits = {
    fuel: config.fuel_per_evaluation,
    memoryBytes: config.memory_limit_bytes,
    deadlineMs: config.call_deadline_ms,
  };
  const thread = new SandboxThread();
  const probes: ProbeResult[] = [];
  try {
    progress("hostile corpus: cold pass");
    const cold = new Map<string, number>();
    for (const p of HOSTILE_CORPUS) {
      const r = await thread.run({ source: p.source, limits, times: 1 }, EVENT);
      cold.set(p.name, r.outcomes[0]?.ms ?? Number.NaN);
    }
    const times = quick ? 2 : 3;
    for (const p of HOSTILE_CORPUS) {
      progress(`hostile corpus: ${p.name}`);
      const r = await thread.run({ source: p.source, limits, times }, EVENT);
      const last = r.outcomes.at(-1);
      // The margin: default fuel and three times as much, the deadline off, best of `times` each.
      const at = async (fuel: number) => {
        const m = await thread.run(
          { source: p.source, limits: { ...limits, fuel, deadlineMs: 0 }, times },
          EVENT,
        );
        return {
          ms: Math.min(...m.outcomes.map((o) => o.ms)),
          fuel: m.outcomes[0]?.fuelUsed ?? 0,
          spent: m.outcomes.every((o) => o.kind === "out-of-fuel"),
        };
      };
      const one = await at(limits.fuel);
      const three = await at(3 * limits.fuel);
      const marginal =
        one.spent && three.spent && three.fuel > one.fuel
          ? ((three.ms - one.ms) * 1e6) / (three.fuel - one.fuel)
          : null;
      probes.push({
        name: p.name,
        family: p.family,
        outcome: last?.kind ?? "?",
        fuel: last?.fuelUsed ?? 0,
        coldMs: cold.get(p.name) ?? Number.NaN,
        worstMs: Math.max(...r.outcomes.map((o) => o.ms)),
        nsPerUnit: marginal !== null && marginal > 0 ? marginal : null,
      });
    }
  } finally {
    await thread.close();
  }
  const rows = probes.map((p) => ({
    family: p.family,
    probe: p.name,
    outcome: p.outcome,
    fuel: p.fuel,
    "worst ms": p.worstMs,
    "cold ms": p.coldMs,
    "ns/unit": p.nsPerUnit ?? "",
  }));
  return { probes, rows };
}

/** (c): the engine with and without five hostile campaigns on foe/fight. */
export async function runNeighbours(events: number): Promise<{
  baseline: RunResult;
  hostile: RunResult;
  quarantined: number;
  workerRestarts: number;
}> {
  const normal = generateCampaigns(7, 20).map(campaignRecord);
  const hostileRecords = HOSTILE_NEIGHBOURS.map((p, i) =>
    JSON.stringify({
      campaign_id: 900 + i,
      enabled: true,
      game: "foe",
      event_name: "fight",
      start_date: "2020-01-01T00:00:00Z",
      end_date: "2099-01-01T00:00:00Z",
      filter: p.source,
    }),
  );
  const base = await prepareWorkload("hostile-base", events, normal.length, normal);
  let baseline: RunResult;
  try {
    baseline = await runEngine(base, {}, "hostile neighbours: without them");
    verify("engine without hostile campaigns", base, baseline);
  } finally {
    await dropWorkload(base);
  }
  const w = await prepareWorkload(
    "hostile",
    events,
    normal.length + 5,
    [...normal, ...hostileRecords],
    normal,
  );
  let quarantined = 0;
  let workerRestarts = 0;
  try {
    const hostile = await runEngine(w, {}, "hostile neighbours: with five", async (engine) => {
      quarantined = engine.lines.filter((l) => l.includes('"msg":"campaign quarantined"')).length;
      workerRestarts = engine.lines.filter((l) => l.includes("evaluation worker replaced")).length;
    });
    verify("engine with hostile campaigns", w, hostile);
    return { baseline, hostile, quarantined, workerRestarts };
  } finally {
    await dropWorkload(w);
  }
}

export function spreadOf(probes: readonly ProbeResult[]): number {
  const ns = probes.map((p) => p.nsPerUnit).filter((x): x is number => x !== null);
  return ns.length > 0 ? Math.max(...ns) / Math.min(...ns) : Number.NaN;
}
