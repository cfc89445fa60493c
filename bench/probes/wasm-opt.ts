// Probe behind the wasm-opt decision (README, "Dependencies"; BENCHMARKS.md, "wasm-opt on the engine module
// (issue 14)"): the engine as wasm/build.sh links it against the same module run through binaryen's wasm-opt.
// Each run is a process of its own with RTCRM_ENGINE_WASM set; for each variant the rounds run the baseline and
// the variant one after the other (which goes first alternates), so a slower moment of a shared machine hits
// both runs of a pair.
// Run: npm run build:ts && node dist/bench/probes/wasm-opt.js [--pairs=5] [--quick] [--out=DIR] BASE.wasm VARIANT...
//   VARIANT: a .wasm file, or wasm-opt options ("-O3 --converge"): BASE is optimised into DIR (default: the
//   directory of BASE) with them and the features the engine uses, and the time wasm-opt took is recorded.
//   binaryen is not a dependency (it was not kept): `npm install --no-save binaryen@132.0.0` first.
//   Copy BASE out of wasm/build/ first: scenario 1 also runs an rtcrm-engine-unmetered.wasm it finds beside it.
// One run: RTCRM_ENGINE_WASM=x.wasm node dist/bench/probes/wasm-opt.js --one [--quick] (prints one JSON line)
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, statSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { machine } from "../lib/machine.js";
import { runFilterEval } from "../scenarios/filter-eval.js";
import { engineWasmPath, loadEngineModule } from "../../src/sandbox/engine-module.js";
import { Sandbox } from "../../src/sandbox/sandbox.js";
import type { FilterKind } from "../workload/generator.js";

/** The features clang emits for the engine (-mbulk-memory); wasm-opt may use no others. */
const WASM_OPT_FEATURES = [
  "--mvp-features",
  "--enable-sign-ext",
  "--enable-mutable-globals",
  "--enable-bulk-memory",
];

interface Run {
  engine: string;
  bytes: number;
  /** The first `new WebAssembly.Module` of these bytes in the process (later ones may hit V8's module cache). */
  compileMs: number;
  /** The first `new Sandbox(engine)` in the process (functions compiled lazily on their first call). */
  firstSandboxMs: number;
  /** Median of the next 5. */
  sandboxMs: number;
  /** Sandboxed evaluations per second and per V8 evaluation, by filter kind (bench/scenarios/filter-eval.ts). */
  sandboxPerSec: Record<FilterKind, number>;
  ratioSandboxV8: Record<FilterKind, number>;
}

function ms(fn: () => void): number {
  const t = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - t) / 1e6;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

function one(quick: boolean): Run {
  const path = engineWasmPath();
  const bytes = readFileSync(path);
  const compileMs = ms(() => new WebAssembly.Module(bytes));
  const engine = loadEngineModule(path);
  const firstSandboxMs = ms(() => new Sandbox(engine));
  const sandboxMs = median(Array.from({ length: 5 }, () => ms(() => new Sandbox(engine))));
  const { results } = runFilterEval(quick);
  const byKind = (f: (r: (typeof results)[number]) => number) =>
    Object.fromEntries(results.map((r) => [r.kind, f(r)])) as Record<FilterKind, number>;
  return {
    engine: path,
    bytes: bytes.length,
    compileMs,
    firstSandboxMs,
    sandboxMs,
    sandboxPerSec: byKind((r) => r.sandboxPerSec),
    ratioSandboxV8: byKind((r) => r.ratioSandboxV8),
  };
}

function runChild(engine: string, quick: boolean): Run {
  const args = [fileURLToPath(import.meta.url), "--one", ...(quick ? ["--quick"] : [])];
  const child = spawnSync(process.execPath, args, {
    env: { ...process.env, RTCRM_ENGINE_WASM: engine },
    encoding: "utf8",
    maxBuffer: 16 << 20,
  });
  if (child.status !== 0) throw new Error(`run with ${engine} failed (${child.status}):\n${child.stderr}`);
  return JSON.parse(child.stdout.trim().split("\n").pop() as string) as Run;
}

/** Optimises `base` with wasm-opt `options` into `dir`; the output path and the seconds wasm-opt took. */
function optimise(base: string, options: string, dir: string): { path: string; seconds: number } {
  const flags = options.split(/\s+/).filter((f) => f.length > 0);
  const name = `${basename(base, ".wasm")}${flags.map((f) => f.replace(/^-+/, "-")).join("")}.wasm`;
  const path = join(dir, name);
  const wasmOpt = fileURLToPath(new URL("../../../node_modules/binaryen/bin/wasm-opt", import.meta.url));
  if (!existsSync(wasmOpt)) throw new Error(`${wasmOpt} not found: npm install --no-save binaryen@132.0.0`);
  const t = process.hrtime.bigint();
  const r = spawnSync(process.execPath, [wasmOpt, base, ...WASM_OPT_FEATURES, ...flags, "-o", path], {
    encoding: "utf8",
  });
  const seconds = Number(process.hrtime.bigint() - t) / 1e9;
  if (r.status !== 0) throw new Error(`wasm-opt ${options} failed (${r.status}):\n${r.stderr}`);
  // It must still be a module this host compiles and the sandbox instantiates.
  new Sandbox(new WebAssembly.Module(readFileSync(path)));
  return { path, seconds };
}

type Metric =
  "compileMs" | "firstSandboxMs" | "sandboxMs" | `${"sandboxPerSec" | "ratioSandboxV8"}.${FilterKind}`;

function metric(run: Run, m: Metric): number {
  const [group, kind] = m.split(".") as [keyof Run, FilterKind | undefined];
  const v = run[group];
  return typeof v === "number" ? v : (v as Record<FilterKind, number>)[kind as FilterKind];
}

function driver(argv: string[], quick: boolean): void {
  const opt = (name: string) => argv.find((a) => a.startsWith(`--${name}=`))?.split("=")[1];
  const pairs = Number(opt("pairs") ?? 5);
  const positional = argv.filter((a) => !/^--(pairs|out|quick)\b/.test(a));
  const [base, ...specs] = positional;
  if (!base || specs.length === 0)
    throw new Error("usage: wasm-opt.js [--pairs=N] [--quick] [--out=DIR] BASE VARIANT...");
  const dir = opt("out") ?? dirname(base);
  const variants = specs.map((spec) => {
    if (spec.endsWith(".wasm")) return { spec, path: spec, wasmOptSeconds: null as number | null };
    process.stderr.write(`wasm-opt ${spec} ...\n`);
    const { path, seconds } = optimise(base, spec, dir);
    return { spec, path, wasmOptSeconds: seconds };
  });
  const runs = new Map<string, { base: Run; variant: Run }[]>(variants.map((v) => [v.spec, []]));
  for (let round = 0; round < pairs; round++) {
    for (const v of variants) {
      process.stderr.write(`round ${round + 1}/${pairs}: ${v.spec}\n`);
      const baseFirst = round % 2 === 0;
      const first = runChild(baseFirst ? base : v.path, quick);
      const second = runChild(baseFirst ? v.path : base, quick);
      runs.get(v.spec)?.push(baseFirst ? { base: first, variant: second } : { base: second, variant: first });
    }
  }
  const metrics: Metric[] = ["compileMs", "firstSandboxMs", "sandboxMs"];
  for (const kind of ["simple", "moderate", "heavy"] as const)
    metrics.push(`sandboxPerSec.${kind}`, `ratioSandboxV8.${kind}`);
  const summary = variants.map((v) => {
    const ps = runs.get(v.spec) ?? [];
    const perMetric = Object.fromEntries(
      metrics.map((m) => {
        const ratios = ps.map((p) => metric(p.variant, m) / metric(p.base, m));
        return [
          m,
          {
            base: median(ps.map((p) => metric(p.base, m))),
            variant: median(ps.map((p) => metric(p.variant, m))),
            // variant / baseline within each pair: the median and the spread
            ratio: median(ratios),
            ratioMin: Math.min(...ratios),
            ratioMax: Math.max(...ratios),
          },
        ];
      }),
    );
    return {
      variant: v.spec,
      path: v.path,
      bytes: statSync(v.path).size,
      baseBytes: statSync(base).size,
      wasmOptSeconds: v.wasmOptSeconds,
      pairs: ps.length,
      ...perMetric,
    };
  });
  const raw = Object.fromEntries([...runs].map(([spec, ps]) => [spec, ps]));
  console.log(JSON.stringify({ machine: machine(), quick, pairs, summary, raw }, null, 2));
}

const argv = process.argv.slice(2);
const quick = argv.includes("--quick");
if (argv.includes("--one")) console.log(JSON.stringify(one(quick)));
else driver(argv, quick);
