// The worker pool with real worker threads and the real sandbox: batches, hot updates, a crashed worker,
// and a stuck worker stopped by the watchdog, each without losing a batch.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { parseCampaign } from "../../../src/campaigns/campaign.js";
import { FilterCompiler } from "../../../src/compile/filter-compiler.js";
import { EvaluatorPool } from "../../../src/pool/evaluator-pool.js";
import type { BatchEvent, FilterRef } from "../../../src/pool/protocol.js";
import { loadEngineModule } from "../../../src/sandbox/engine-module.js";
import { SEED_EVENT_JSON, SEED_NOW } from "../../fixtures/seed.js";

const engine = loadEngineModule();
const compiler = new FilterCompiler(engine, join(mkdtempSync(join(tmpdir(), "rtcrm-pool-")), "fc"));

function ref(id: number, filter: string, fuel = 1_000_000): FilterRef {
  const parsed = parseCampaign({ campaign_id: id, enabled: true, game: "foe", event_name: "fight", filter });
  assert.ok(parsed.ok);
  const compiled = compiler.compileSync(filter);
  return {
    campaign: parsed.campaign,
    module: compiled.module,
    access: compiled.access,
    accessKey: compiled.accessKey,
    fuel,
    memoryBytes: 8 << 20,
    deadlineMs: 1_000,
  };
}

function ev(result: string, candidates: number[]): BatchEvent {
  const json = SEED_EVENT_JSON.replace('"result":"loss"', `"result":"${result}"`);
  return { json, game: "foe", eventName: "fight", nowMs: SEED_NOW, candidates };
}

const kinds = (rows: { kind: string }[][]) => rows.map((r) => r.map((o) => o.kind));

test("batches are evaluated in the workers, outcome per event and candidate", async (t) => {
  const pool = new EvaluatorPool({ engine, workers: 2, watchdogMs: 30_000 });
  t.after(() => pool.close());
  const filters = [
    ref(1, "function(e) { return e.getData().get('result') === 'loss' }"),
    ref(2, "(e) => e.data.result === 'win'"),
  ];
  const events = Array.from({ length: 200 }, (_, i) => ev(i % 2 ? "win" : "loss", [0, 1]));
  const results = await Promise.all([
    pool.evaluate({ filters, events }),
    pool.evaluate({ filters, events: events.slice(0, 3) }),
  ]);
  assert.deepEqual(kinds(results[1]), [
    ["match", "no-match"],
    ["no-match", "match"],
    ["match", "no-match"],
  ]);
  assert.equal(results[0].length, 200);
  assert.equal(results[0].flat().filter((o) => o.kind === "match").length, 200);
});

test("a new version of a campaign replaces the old one in running workers", async (t) => {
  const pool = new EvaluatorPool({ engine, workers: 1, watchdogMs: 30_000 });
  t.after(() => pool.close());
  const v1 = ref(7, "(e) => e.data.result === 'loss'");
  const v2 = ref(7, "(e) => e.data.result === 'win'");
  assert.deepEqual(kinds(await pool.evaluate({ filters: [v1], events: [ev("loss", [0])] })), [["match"]]);
  assert.deepEqual(kinds(await pool.evaluate({ filters: [v2], events: [ev("loss", [0])] })), [["no-match"]]);
  assert.deepEqual(kinds(await pool.evaluate({ filters: [v2], events: [ev("win", [0])] })), [["match"]]);
});

test("a retired filter (its campaign left the set) is unloaded by the worker with its next batch", async (t) => {
  const pool = new EvaluatorPool({ engine, workers: 1, watchdogMs: 30_000 });
  t.after(() => pool.close());
  const [a, b] = [ref(11, "(e) => e.data.result === 'loss'"), ref(12, "(e) => e.data.result === 'win'")];
  await pool.evaluate({ filters: [a, b], events: [ev("loss", [0, 1])] });
  assert.equal(pool.loadedFilters, 2);
  pool.retire(a.campaign.versionKey);
  assert.equal(pool.loadedFilters, 2, "nothing changes before the worker's next batch");
  assert.deepEqual(kinds(await pool.evaluate({ filters: [b], events: [ev("win", [0])] })), [["match"]]);
  assert.equal(pool.loadedFilters, 1, "the worker reported the retired filter unloaded");
  // Needed again after all (a batch built before the deletion): it is sent whole and still answers.
  assert.deepEqual(kinds(await pool.evaluate({ filters: [a], events: [ev("loss", [0])] })), [["match"]]);
});

test("a filter whose campaign left the set, sent again by a batch built before, is unloaded after that batch", async (t) => {
  const current = new Set<string>();
  const pool = new EvaluatorPool({
    engine,
    workers: 1,
    watchdogMs: 30_000,
    isCurrent: (ref) => current.has(ref.campaign.versionKey),
  });
  t.after(() => pool.close());
  const [a, b] = [ref(31, "(e) => e.data.result === 'loss'"), ref(32, "(e) => e.data.result === 'win'")];
  current.add(a.campaign.versionKey).add(b.campaign.versionKey);
  await pool.evaluate({ filters: [a, b], events: [ev("loss", [0, 1])] });
  current.delete(a.campaign.versionKey);
  pool.retire(a.campaign.versionKey);
  await pool.evaluate({ filters: [b], events: [ev("win", [0])] });
  assert.equal(pool.loadedFilters, 1, "retired and unloaded");
  // Stale batches, built while `a` was still in the set: it answers as before, and does not stay.
  for (let i = 0; i < 3; i++) {
    assert.deepEqual(kinds(await pool.evaluate({ filters: [a, b], events: [ev("loss", [0, 1])] })), [
      ["match", "no-match"],
    ]);
    assert.equal(pool.loadedFilters, 1, `after stale batch ${i + 1}`);
  }
  await sleep(1_100); // a worker reports its memory at most once a second
  await pool.evaluate({ filters: [b], events: [ev("win", [0])] });
  assert.equal(pool.memory()[0]?.filters, 1, "the worker holds only the current filter");
});

test("each worker reports its heap and sandbox memory with its results", async (t) => {
  const pool = new EvaluatorPool({ engine, workers: 2, watchdogMs: 30_000 });
  t.after(() => pool.close());
  assert.deepEqual(pool.memory(), [], "nothing before the first result");
  const filters = [ref(21, "(e) => e.data.result === 'loss'"), ref(22, "(e) => e.data.result === 'win'")];
  await Promise.all([
    pool.evaluate({ filters, events: [ev("loss", [0, 1])] }),
    pool.evaluate({ filters: filters.slice(0, 1), events: [ev("loss", [0])] }),
  ]);
  const reports = pool.memory();
  assert.equal(reports.length, 2, "one per worker");
  assert.deepEqual(reports.map((m) => m.filters).sort(), [1, 2], "the filters each worker linked");
  for (const m of reports) {
    assert.ok(m.heapUsedBytes > 0 && m.heapUsedBytes <= m.heapTotalBytes, JSON.stringify(m));
    assert.ok(m.sandboxHeapBytes > 0 && m.sandboxHeapBytes < m.sandboxMemoryBytes, JSON.stringify(m));
  }
});

test("a worker that holds fewer filters than a batch needs unloads and gets them again, answering the same", async (t) => {
  const pool = new EvaluatorPool({ engine, workers: 1, watchdogMs: 30_000, maxLoadedFilters: 2 });
  t.after(() => pool.close());
  const filters = [1, 2, 3, 4].map((id) => ref(id, `(e) => e.data.result === 'loss' && ${id} % 2 === 1`));
  for (let round = 0; round < 3; round++) {
    assert.deepEqual(
      kinds(await pool.evaluate({ filters, events: [ev("loss", [0, 1, 2, 3]), ev("win", [3, 2])] })),
      [
        ["match", "no-match", "match", "no-match"],
        ["no-match", "no-match"],
      ],
    );
    assert.deepEqual(
      kinds(await pool.evaluate({ filters: [filters[2] as FilterRef], events: [ev("loss", [0])] })),
      [["match"]],
    );
  }
});

test("a worker that dies during a batch is replaced and the batch is evaluated again", async (t) => {
  const pool = new EvaluatorPool({ engine, workers: 1, watchdogMs: 60_000 });
  t.after(() => pool.close());
  // A filter that runs long enough (fuel-bounded) for the worker to be killed while it works.
  const slow = ref(
    1,
    "function(e) { var s = 0; for (var i = 0; i < 3e6; i++) s += i; return e.data.result === 'loss' }",
    1e9,
  );
  const pending = pool.evaluate({ filters: [slow], events: [ev("loss", [0]), ev("win", [0])] });
  let running = false;
  // Wait until the batch is inside the worker, then terminate that thread from outside.
  while (!running) {
    await new Promise((r) => setTimeout(r, 5));
    running = pool.running > 0;
  }
  // The loop takes far longer than this pause (tens of millions of interpreted iterations per event).
  await new Promise((r) => setTimeout(r, 100));
  await pool.terminateWorkerForTest();
  assert.deepEqual(kinds(await pending), [["match"], ["no-match"]]);
  assert.ok(pool.stats.workerFailures >= 1, JSON.stringify(pool.stats));
});

test("a stuck batch is stopped by the watchdog: the pair at fault gets 'watchdog', the rest their answers", async (t) => {
  const pool = new EvaluatorPool({ engine, workers: 1, watchdogMs: 300 });
  t.after(() => pool.close());
  // Fuel so large it cannot stop the loop before the watchdog does.
  const stuck = ref(
    1,
    "function(e) { if (e.data.result === 'stuck') { while (true) {} } return true }",
    1e12,
  );
  const fine = ref(2, "(e) => e.data.result === 'loss'");
  const rows = await pool.evaluate({
    filters: [stuck, fine],
    events: [ev("loss", [0, 1]), ev("stuck", [0, 1]), ev("win", [1])],
  });
  assert.deepEqual(kinds(rows), [["match", "match"], ["watchdog", "no-match"], ["no-match"]]);
  assert.ok(pool.stats.watchdogKills >= 1);
  // The pool goes on.
  assert.deepEqual(kinds(await pool.evaluate({ filters: [fine], events: [ev("loss", [0])] })), [["match"]]);
});

test("close() is idempotent and later batches are refused", async () => {
  const pool = new EvaluatorPool({ engine, workers: 1, watchdogMs: 1000 });
  await pool.close();
  await pool.close();
  await assert.rejects(pool.evaluate({ filters: [], events: [] }), /closed/);
});

test("two versions of one campaign in batches in flight together: each batch gets its own version's outcomes", async (t) => {
  // A worker holds one version per campaign: linking one version unloads the other, so a batch in flight with the
  // other one may find it gone; the pool then sends it again with its filters whole. (The soak, where this stalled
  // the engine, is the test that found it; this one holds the outcomes right while versions interleave.)
  const pool = new EvaluatorPool({ engine, workers: 1, watchdogMs: 30_000 });
  t.after(() => pool.close());
  const v1 = [ref(7, "(e) => e.data.result === 'loss'")];
  const v2 = [ref(7, "(e) => e.data.result === 'win'")];
  const failures: unknown[] = [];
  pool.on("worker-failure", (error) => failures.push(error));
  const events = [ev("loss", [0]), ev("win", [0])];
  const rounds = await Promise.all(
    Array.from({ length: 40 }, (_, i) => pool.evaluate({ filters: i % 2 ? v2 : v1, events })),
  );
  for (const [i, rows] of rounds.entries())
    assert.deepEqual(
      kinds(rows),
      i % 2 ? [["no-match"], ["match"]] : [["match"], ["no-match"]],
      `batch ${i}`,
    );
  assert.deepEqual(failures, []);
  assert.equal(pool.stats.isolatedRuns, 0);
});
