import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FilterCompiler } from "../../src/compile/filter-compiler.js";
import { loadEngineModule } from "../../src/sandbox/engine-module.js";
import { Sandbox } from "../../src/sandbox/sandbox.js";
import { buildFilterModule } from "../../src/sandbox/filter-module.js";
import { SEED_EVENT_JSON } from "../../test/fixtures/seed.js";

const mode = process.argv[2] ?? "compile";
const n = Number(process.argv[3] ?? 8000);
const engine = loadEngineModule();
const rss = (): number => Math.round(Number(/VmRSS:\s+(\d+)/.exec(readFileSync("/proc/self/status", "utf8"))?.[1] ?? 0) / 1024);
const g = (globalThis as { gc?: () => void }).gc;
const src = (i: number) => `/* v${i} */ (e) => e.data.result === 'loss' && ${i} >= 0`;
const compiler = new FilterCompiler(engine, join(mkdtempSync(join(tmpdir(), "rtcrm-split-")), "fc"));
const sb = new Sandbox(engine);
const sb2 = new Sandbox(engine);
const fixed = compiler.compileSync(src(0));
const bc = (sb.compile(src(0)) as { bytecode: Uint8Array }).bytecode;
for (let i = 0; i <= n; i++) {
  if (mode === "compile") { compiler.compileSync(src(i)); compiler.forget(src(i)); }
  else if (mode === "sbcompile") { sb.compile(src(i)); }
  else if (mode === "module") { new WebAssembly.Module(buildFilterModule(bc, { engineVersion: engine.version, sourceSha256: String(i).padStart(64, "0") })); }
  else if (mode === "loadsame") { sb2.load("k" + i, fixed.module); sb2.evaluate("k" + i, SEED_EVENT_JSON, { fuel: 1e6, memoryBytes: 16 << 20 }); sb2.unload("k" + i); }
  else if (mode === "loadnew") { const c = compiler.compileSync(src(i)); compiler.forget(src(i)); sb2.load("k" + i, c.module); sb2.evaluate("k" + i, SEED_EVENT_JSON, { fuel: 1e6, memoryBytes: 16 << 20 }); sb2.unload("k" + i); }
  if (i % 1000 === 0) { g?.(); const s = sb.stats(), s2 = sb2.stats(); const h = process.memoryUsage();
    console.log(i, "rss", rss(), "heapUsed", Math.round(h.heapUsed / 1048576), "ext", Math.round(h.external / 1048576), "ab", Math.round(h.arrayBuffers/1048576), "sb q", Math.round(s.heapBytes / 1024), "K mem", s.memoryBytes >> 20, "M sb2 q", Math.round(s2.heapBytes / 1024), "K mem", s2.memoryBytes >> 20); }
}
