// Scenario (no Kafka): what bringing a campaign up in a worker costs, and what the filters of 10,000 campaigns cost
// to compile at ingest. A filter that may keep state gets a QuickJS context of its own on its first call; a filter
// proved stateless (compile/stateless.ts) is loaded into the context stateless filters share. Each row is the
// median over rounds of (time to load `count` distinct filters and call each once) / count, in a fresh sandbox.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FilterCompiler } from "../../src/compile/filter-compiler.js";
import { loadEngineModule } from "../../src/sandbox/engine-module.js";
import { Sandbox } from "../../src/sandbox/sandbox.js";
import { progress, type Row } from "../lib/report.js";
import { generateEvents } from "../workload/generator.js";

export interface BringUpResult {
  /** "own context" or "shared context". */
  mode: string;
  filters: number;
  /** Milliseconds per campaign: load plus first call, median of the rounds. */
  msPerCampaign: number;
  /** Bytes of QuickJS heap per campaign after the first calls. */
  heapBytesPerCampaign: number;
}

export interface CompileResult {
  filters: number;
  coldMsPerFilter: number;
  warmMsPerFilter: number;
}

function median(xs: number[]): number {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
}

export function runBringUp(quick: boolean): {
  rows: Row[];
  bringUp: BringUpResult[];
  compile: CompileResult;
} {
  const count = quick ? 200 : 1_000;
  const rounds = quick ? 3 : 5;
  const engine = loadEngineModule();
  const dir = mkdtempSync(join(tmpdir(), "rtcrm-bring-up-"));
  // Distinct sources of one template (a loop: outside the predicate subset, stateless): as many artefacts.
  const sources = Array.from(
    { length: count },
    (_, i) =>
      `function(event) { let n = 0; for (const it of event.getData().get('items')) if (it.qty > ${i}) n++; return n >= 2; }`,
  );
  progress(`bring-up: compiling ${count} filters`);
  const coldCompiler = new FilterCompiler(engine, dir);
  coldCompiler.sandbox(); // made once per process: not a filter's cost
  let t = performance.now();
  const compiled = sources.map((s) => coldCompiler.compileSync(s));
  const coldMs = (performance.now() - t) / count;
  const warmCompiler = new FilterCompiler(engine, dir);
  t = performance.now();
  for (const s of sources) warmCompiler.compileSync(s);
  const warmMs = (performance.now() - t) / count;
  if (!compiled.every((c) => c.stateless))
    throw new Error("bring-up: the template is expected to be stateless");

  const event = [...generateEvents(3, 1)][0]?.json as string;
  const limits = { fuel: 1_000_000, memoryBytes: 16 << 20, deadlineMs: 1_000 };
  const bringUp: BringUpResult[] = [];
  for (const [mode, shared] of [
    ["own context", false],
    ["shared context", true],
  ] as const) {
    progress(`bring-up: ${count} campaigns, ${mode}`);
    const times: number[] = [];
    let heap = 0;
    for (let r = 0; r < rounds; r++) {
      const sandbox = new Sandbox(engine);
      // The shared context itself is made once per worker, by its first filter: not a campaign's cost.
      sandbox.load("warm-up", compiled[0]!.module, shared);
      sandbox.evaluate("warm-up", event, limits);
      const before = sandbox.stats().heapBytes;
      t = performance.now();
      for (const [i, c] of compiled.entries()) {
        sandbox.load(`f${i}`, c.module, shared);
        sandbox.evaluate(`f${i}`, event, limits);
      }
      times.push((performance.now() - t) / count);
      heap = (sandbox.stats().heapBytes - before) / count;
    }
    bringUp.push({
      mode,
      filters: count,
      msPerCampaign: median(times),
      heapBytesPerCampaign: Math.round(heap),
    });
  }
  const rows: Row[] = [
    ...bringUp.map((b) => ({
      "bring-up": b.mode,
      campaigns: b.filters,
      "ms per campaign (load + first call)": b.msPerCampaign,
      "heap bytes per campaign": b.heapBytesPerCampaign,
    })),
    {
      "bring-up": "compile at ingest (distinct sources)",
      campaigns: count,
      "ms per campaign (load + first call)": `cold ${coldMs.toFixed(3)}, cached artefact ${warmMs.toFixed(3)}`,
      "heap bytes per campaign": "",
    },
  ];
  return { rows, bringUp, compile: { filters: count, coldMsPerFilter: coldMs, warmMsPerFilter: warmMs } };
}
