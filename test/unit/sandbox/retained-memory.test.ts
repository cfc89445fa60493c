// Memory per campaign: what a filter keeps between calls counts against its own budget, and passing it stops that
// filter alone (out-of-memory; its globals are reset). All filters of a worker together stay under the worker's
// total: before a call that could pass it, the filters holding the most are reset, so that no call fails because of
// what others hold. The event is decoded into memory of its own, which no filter can take.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Sandbox } from "../../../src/sandbox/index.js";
import { EVENT, engine, loadFilter, newSandbox, SEED_FILTER } from "./helpers.js";

const MiB = 1024 * 1024;
/** Keeps one more string of about 100 KB in its globals at every call; matches once it has kept 300 of them. */
const HOARDER =
  "function(e) { globalThis.n = (globalThis.n || 0) + 1; (globalThis.keep = globalThis.keep || []).push('x'.repeat(100000) + globalThis.n); return globalThis.n > 300 }";

test("what a filter keeps counts against its own budget; passing it stops that filter alone and resets its globals", () => {
  const sandbox = newSandbox();
  const hoarder = loadFilter(sandbox, HOARDER);
  const seed = loadFilter(sandbox, SEED_FILTER);
  const limits = { fuel: 1_000_000, memoryBytes: 2 * MiB, deadlineMs: 0 };
  const kinds = new Set<string>();
  for (let i = 0; i < 100; i++) {
    const out = sandbox.evaluate(hoarder, EVENT, limits);
    kinds.add(out.kind);
    assert.ok(["no-match", "out-of-memory"].includes(out.kind), JSON.stringify(out));
    assert.ok((sandbox.filterBytes(hoarder) ?? 0) <= limits.memoryBytes, "never holds more than its budget");
    assert.equal(sandbox.evaluate(seed, EVENT, limits).kind, "match", "other filters are unaffected");
  }
  // Without the budget it would keep 100 strings of 100 KB (10 MB) and count on; with it, it starts afresh.
  assert.deepEqual([...kinds].sort(), ["no-match", "out-of-memory"]);
  assert.ok(sandbox.stats().campaignsBytes < 4 * MiB, `filters hold ${sandbox.stats().campaignsBytes} bytes`);
});

test("filters that together would pass the worker's total are reset, largest first; the others' calls never fail", () => {
  const total = 8 * MiB;
  const sandbox = new Sandbox(engine, { campaignsMemoryBytes: total });
  const limits = { fuel: 1_000_000, memoryBytes: 2 * MiB, deadlineMs: 0 };
  // Six hoarders that each stop short of their own budget (15 strings, about 1.5 MB): 9 MB together.
  const capped = HOARDER.replace(
    "return globalThis.n > 300",
    "if (globalThis.n >= 15) globalThis.keep.shift(); return false",
  );
  const hoarders = Array.from({ length: 6 }, () => loadFilter(sandbox, capped));
  const seed = loadFilter(sandbox, SEED_FILTER);
  for (let round = 0; round < 40; round++) {
    for (const h of hoarders) {
      const out = sandbox.evaluate(h, EVENT, limits);
      assert.equal(out.kind, "no-match", JSON.stringify(out));
      assert.ok(sandbox.stats().campaignsBytes <= total, `${sandbox.stats().campaignsBytes} > ${total}`);
    }
    assert.equal(sandbox.evaluate(seed, EVENT, limits).kind, "match");
  }
  assert.ok(sandbox.stats().memoryResets > 0, "some hoarders were reset to make room");
});

test("the event is decoded into memory no filter can take: a large event still reaches a filter beside hoarders", () => {
  const sandbox = new Sandbox(engine, { campaignsMemoryBytes: 8 * MiB });
  const limits = { fuel: 1_000_000, memoryBytes: 4 * MiB, deadlineMs: 0 };
  const hoarder = loadFilter(
    sandbox,
    HOARDER.replace(
      "return globalThis.n > 300",
      "if (globalThis.n >= 35) globalThis.keep.shift(); return false",
    ),
  );
  for (let i = 0; i < 40; i++) sandbox.evaluate(hoarder, EVENT, limits);
  const big = JSON.stringify({
    game: "foe",
    event_name: "fight",
    data: {
      result: "loss",
      blob: "y".repeat(2 * MiB),
      items: Array.from({ length: 20_000 }, (_, i) => ({ i })),
    },
  });
  const reader = loadFilter(
    sandbox,
    "function(e) { return e.data.items.length === 20000 && e.data.result === 'loss' }",
  );
  assert.equal(sandbox.evaluate(reader, big, limits).kind, "match");
  assert.equal(sandbox.stats().restarts, 0, "no engine trap");
});
