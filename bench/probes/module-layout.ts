// Probe behind the choice of per-filter modules linked against one shared engine module (README, "Design"):
// what a self-contained module per filter (engine + bytecode, the other Javy layout) would cost next to it.
// Run: npm run build && node dist/bench/probes/module-layout.js
import { readFileSync } from "node:fs";
import { buildFilterModule } from "../../src/sandbox/filter-module.js";
import { loadEngineModule } from "../../src/sandbox/engine-module.js";
import { Sandbox } from "../../src/sandbox/sandbox.js";

const engine = loadEngineModule();
const engineBytes = readFileSync(engine.path);
const sandbox = new Sandbox(engine);
const compiled = sandbox.compile("function(event) { return event.getData().get('result') === 'loss' }");
if (!compiled.ok) throw new Error(compiled.message);
const filterBytes = buildFilterModule(compiled.bytecode, { engineVersion: engine.version });

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
}
function time(fn: () => void, runs: number): number {
  const out: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = process.hrtime.bigint();
    fn();
    out.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  return median(out);
}

const engineCompileMs = time(() => new WebAssembly.Module(engineBytes), 7);
// What a filter costs to bring up in each layout: a whole engine instance (runtime, prelude) per filter,
// or one more context in the shared instance.
const engineInstanceMs = time(() => new Sandbox(engine), 7);
let n = 0;
const linkMs = time(() => sandbox.load(`probe-${n++}`, new WebAssembly.Module(filterBytes)), 51);
for (let i = 0; i < n; i++) sandbox.unload(`probe-${i}`);
const filterCompileMs = time(() => new WebAssembly.Module(filterBytes), 51);
const before = sandbox.stats().memoryBytes;
const instanceMemory = new Sandbox(engine).stats().memoryBytes;
for (let i = 0; i < 200; i++) {
  const m = new WebAssembly.Module(filterBytes);
  sandbox.load(`f${i}`, m);
}
const after = sandbox.stats();
console.log(
  JSON.stringify(
    {
      engineModuleBytes: engineBytes.length,
      filterModuleBytes: filterBytes.length,
      compileMs: { selfContainedPerFilter: engineCompileMs, perFilterLinked: filterCompileMs },
      bringUpMs: { engineInstancePerFilter: engineInstanceMs, linkIntoSharedInstance: linkMs },
      linearMemoryOfOneEngineInstanceBytes: instanceMemory,
      sharedInstance: {
        filtersLoaded: after.filters,
        heapBytes: after.heapBytes,
        memoryBytesBefore: before,
        memoryBytesAfter: after.memoryBytes,
      },
    },
    null,
    2,
  ),
);
