// A filter that keeps memory in its globals event after event is started afresh once what it keeps
// passes the memory budget of one call: one hoarding campaign cannot fill the engine's memory.
import { test } from "node:test";
import assert from "node:assert/strict";
import { EVENT, loadFilter, newSandbox, SEED_FILTER } from "./helpers.js";

test("what a filter keeps across calls is bounded by its memory budget; its globals reset when it passes it", () => {
  const sandbox = newSandbox();
  const hoarder = loadFilter(
    sandbox,
    "function(e) { globalThis.n = (globalThis.n || 0) + 1; (globalThis.keep = globalThis.keep || []).push('x'.repeat(100000) + globalThis.n); return globalThis.n > 300 }",
  );
  const seed = loadFilter(sandbox, SEED_FILTER);
  const limits = { fuel: 1_000_000, memoryBytes: 2 * 1024 * 1024 };
  const heapBefore = sandbox.stats().heapBytes;
  let matches = 0;
  for (let i = 0; i < 500; i++) {
    const out = sandbox.evaluate(hoarder, EVENT, limits);
    assert.ok(out.kind === "match" || out.kind === "no-match", JSON.stringify(out));
    if (out.kind === "match") matches++;
  }
  // Without the bound it would keep 500 strings of 100 KB (50 MB) and count to 500.
  assert.equal(matches, 0, "the counter was reset before reaching 300");
  assert.ok(
    sandbox.stats().heapBytes - heapBefore < 8 * 1024 * 1024,
    `heap grew by ${sandbox.stats().heapBytes - heapBefore}`,
  );
  assert.equal(sandbox.evaluate(seed, EVENT, limits).kind, "match", "other filters are unaffected");
});
