// Probe: what a linked filter costs in a sandbox, kept versus unloaded. `node dist/bench/soak/sandbox-retention.js`
// links 2,000 filters of distinct sources into one sandbox, as a worker does for campaign versions it sees,
// once keeping them all and once unloading each after its next-but-five successor, and prints the QuickJS
// heap and the linear memory.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FilterCompiler } from "../../src/compile/filter-compiler.js";
import { loadEngineModule } from "../../src/sandbox/engine-module.js";
import { Sandbox } from "../../src/sandbox/sandbox.js";
import { table, type Row } from "../lib/report.js";

const FILTERS = 2_000;
const dir = mkdtempSync(join(tmpdir(), "rtcrm-retention-"));
const engine = loadEngineModule();
const compiler = new FilterCompiler(engine, dir);
const event = JSON.stringify({ data: { level: 5, items: [{ qty: 3 }] }, market: "de" });
const limits = { fuel: 1_000_000, memoryBytes: 16 << 20, deadlineMs: 1_000 };
const mib = (bytes: number) => bytes / 2 ** 20;
const rows: Row[] = [];
for (const mode of ["keep", "unload"] as const) {
  const sandbox = new Sandbox(engine);
  for (let i = 1; i <= FILTERS; i++) {
    const compiled = compiler.compileSync(
      `function(event) { /* ${mode} ${i} */ return event.data.level >= ${i % 200} }`,
    );
    sandbox.load(`f${i}`, compiled.module);
    sandbox.evaluate(`f${i}`, event, limits);
    if (mode === "unload" && i > 5) sandbox.unload(`f${i - 5}`);
    if (i % 500 === 0) {
      const s = sandbox.stats();
      rows.push({
        mode,
        "filters linked so far": i.toLocaleString("en-US"),
        "filters held": s.filters.toLocaleString("en-US"),
        "QuickJS heap MiB": mib(s.heapBytes),
        "linear memory MiB": mib(s.memoryBytes),
        "KB per held filter": mode === "keep" ? s.heapBytes / 1024 / s.filters : "",
      });
    }
  }
}
rmSync(dir, { recursive: true, force: true });
process.stdout.write(table("Filters linked into one sandbox: kept, or unloaded", rows) + "\n");
