// Dropped filter modules are collected after every RECLAIM_EVERY of them, rather than whenever the
// collector next runs on its own (their native memory is invisible to it: BENCHMARKS.md, "Soak").
import assert from "node:assert/strict";
import { setImmediate as nextTurn } from "node:timers/promises";
import { test } from "node:test";
import { buildFilterModule } from "../../../src/sandbox/filter-module.js";
import { RECLAIM_EVERY, modulesDropped, reclaimCollections } from "../../../src/sandbox/module-reclaim.js";

test("a full collection runs once RECLAIM_EVERY modules were dropped, and frees them", async () => {
  let freed = 0;
  const registry = new FinalizationRegistry<number>(() => freed++);
  const made = (): void => {
    for (let i = 0; i < RECLAIM_EVERY; i++) {
      const bytes = buildFilterModule(new Uint8Array(64).fill(i), { engineVersion: "test", n: i });
      registry.register(new WebAssembly.Module(bytes), i);
    }
  };
  made(); // the modules are unreachable once this returns

  const before = reclaimCollections();
  modulesDropped(RECLAIM_EVERY - 1);
  assert.equal(reclaimCollections(), before, "no collection before the threshold");
  modulesDropped();
  assert.equal(reclaimCollections(), before + 1, "one collection at the threshold");
  for (let turn = 0; turn < 100 && freed < RECLAIM_EVERY; turn++) await nextTurn();
  assert.equal(freed, RECLAIM_EVERY, "every dropped module was freed");

  modulesDropped(RECLAIM_EVERY - 1);
  assert.equal(reclaimCollections(), before + 1, "the count starts again after a collection");
});

test(
  "the collector is not left exposed to code that runs later",
  { skip: typeof (globalThis as { gc?: unknown }).gc === "function" ? "node runs with --expose-gc" : false },
  async () => {
    const { runInNewContext } = await import("node:vm");
    modulesDropped(RECLAIM_EVERY); // makes sure the collector was looked up in this process
    assert.equal(runInNewContext("typeof gc"), "undefined");
  },
);
