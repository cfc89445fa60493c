// Scenario 1, no Kafka: evaluations per second on one thread (= per worker) for each filter kind,
// sandboxed (metered, and with the fuel polls compiled out), next to the same filters unsandboxed in V8.
import { existsSync } from "node:fs";
import { join } from "node:path";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { FilterCompiler } from "../../src/compile/filter-compiler.js";
import { engineWasmPath, loadEngineModule, type EngineModule } from "../../src/sandbox/engine-module.js";
import { Sandbox } from "../../src/sandbox/sandbox.js";
import { readFileSync } from "node:fs";
import { engineVersionOf } from "../../src/sandbox/engine-module.js";
import { EventView } from "../../src/pool/event-view.js";
import { V8Reference } from "../lib/v8-reference.js";
import { progress, type Row } from "../lib/report.js";
import { FILTERS, generateEvents, type FilterKind } from "../workload/generator.js";

export interface FilterEvalResult {
  kind: FilterKind;
  filters: number;
  events: number;
  sandboxPerSec: number;
  unmeteredPerSec: number | null;
  v8PerSec: number;
  ratioSandboxV8: number;
  meteringOverhead: number | null;
}

function seconds(fn: () => void): number {
  const t = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - t) / 1e9;
}

function unmeteredEngine(): EngineModule | null {
  const path = join(engineWasmPath(), "..", "rtcrm-engine-unmetered.wasm");
  if (!existsSync(path)) return null;
  const bytes = readFileSync(path);
  return {
    module: new WebAssembly.Module(bytes),
    version: engineVersionOf(bytes),
    path,
    bytes: bytes.length,
  };
}

export function runFilterEval(quick: boolean): { rows: Row[]; results: FilterEvalResult[] } {
  const count = quick ? 3_000 : 20_000;
  const runs = quick ? 3 : 9;
  const events = [...generateEvents(1, count)].map((e) => e.json);
  const engine = loadEngineModule();
  const unmetered = unmeteredEngine();
  const dir = mkdtempSync(join(tmpdir(), "rtcrm-bench-"));
  const v8 = new V8Reference();
  const limits = { fuel: 10_000_000, memoryBytes: 16 << 20, deadlineMs: 1_000 };
  const results: FilterEvalResult[] = [];

  for (const kind of Object.keys(FILTERS) as FilterKind[]) {
    const sources = FILTERS[kind];
    progress(`filter evaluation: ${kind}`);
    const sandboxed = (eng: EngineModule): (() => void) => {
      const sandbox = new Sandbox(eng);
      const compiler = new FilterCompiler(eng, join(dir, eng.version.slice(0, 8)));
      const compiled = sources.map((s, i) => {
        const c = compiler.compileSync(s);
        sandbox.load(`f${i}`, c.module);
        return c;
      });
      // As in the workers: each event handed over as a view that gives each filter only what it reads.
      return () => {
        for (let i = 0; i < sources.length; i++) {
          const filter = compiled[i] as (typeof compiled)[number];
          for (const json of events) sandbox.evaluate(`f${i}`, new EventView(json).for(filter), limits);
        }
      };
    };
    // The same answers from both, or the comparison is meaningless.
    const sandboxForCheck = new Sandbox(engine);
    const checkCompiler = new FilterCompiler(engine, join(dir, "check"));
    for (const [i, s] of sources.entries()) {
      sandboxForCheck.load(`c${i}`, checkCompiler.compileSync(s).module);
      const inSandbox = events.filter(
        (json) => sandboxForCheck.evaluate(`c${i}`, json, limits).kind === "match",
      ).length;
      const inV8 = v8.countMatches(s, events);
      if (inSandbox !== inV8)
        throw new Error(`filter-eval: sandbox matched ${inSandbox}, V8 ${inV8} for ${s}`);
    }
    const variants: [string, () => void][] = [
      ["sandbox", sandboxed(engine)],
      ["v8", () => sources.forEach((s) => v8.countMatches(s, events))],
    ];
    if (unmetered) variants.push(["unmetered", sandboxed(unmetered)]);
    // Rounds interleave the variants, so that a slower moment of a shared machine hits all of them alike.
    const times = new Map<string, number[]>(variants.map(([name]) => [name, []]));
    for (const [, fn] of variants) fn(); // warm-up
    for (let r = 0; r < runs; r++) for (const [name, fn] of variants) times.get(name)?.push(seconds(fn));
    const perSec = (name: string): number | null => {
      const xs = times.get(name);
      if (!xs || xs.length === 0) return null;
      const sorted = [...xs].sort((a, b) => a - b);
      return (sources.length * events.length) / (sorted[Math.floor(sorted.length / 2)] as number);
    };
    const sandboxPerSec = perSec("sandbox") as number;
    const v8PerSec = perSec("v8") as number;
    const unmeteredPerSec = perSec("unmetered");
    results.push({
      kind,
      filters: sources.length,
      events: events.length,
      sandboxPerSec,
      unmeteredPerSec,
      v8PerSec,
      ratioSandboxV8: sandboxPerSec / v8PerSec,
      meteringOverhead: unmeteredPerSec === null ? null : 1 - sandboxPerSec / unmeteredPerSec,
    });
  }
  const rows = results.map((r) => ({
    "filter kind": r.kind,
    "sandboxed evals/s": r.sandboxPerSec,
    "V8 evals/s": r.v8PerSec,
    "sandboxed/V8": r.ratioSandboxV8,
    "without fuel polls evals/s": r.unmeteredPerSec ?? "n/a",
    "metering cost": r.meteringOverhead === null ? "n/a" : `${(r.meteringOverhead * 100).toFixed(1)}%`,
  }));
  return { rows, results };
}
