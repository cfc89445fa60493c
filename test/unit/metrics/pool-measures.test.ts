// What the evaluation pool measures for the metrics: each filter call's time, and the workers' busy time.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseCampaign } from "../../../src/campaigns/campaign.js";
import { FilterCompiler } from "../../../src/compile/filter-compiler.js";
import type { FilterOutcome, Outcome } from "../../../src/evaluation/outcome.js";
import { EvaluatorPool } from "../../../src/pool/evaluator-pool.js";
import type { FilterRef } from "../../../src/pool/protocol.js";
import { loadEngineModule } from "../../../src/sandbox/engine-module.js";
import { SEED_EVENT_JSON, SEED_NOW } from "../../fixtures/seed.js";

const engine = loadEngineModule();
const compiler = new FilterCompiler(engine, join(mkdtempSync(join(tmpdir(), "rtcrm-measures-")), "fc"));

function ref(id: number, filter: string, extra: Record<string, unknown> = {}): FilterRef {
  const parsed = parseCampaign({
    campaign_id: id,
    enabled: true,
    game: "foe",
    event_name: "fight",
    filter,
    ...extra,
  });
  assert.ok(parsed.ok);
  const compiled = compiler.compileSync(filter);
  return { campaign: parsed.campaign, ...compiled, fuel: 20_000, memoryBytes: 8 << 20, deadlineMs: 1_000 };
}

test("every filter call's time comes back on its outcome; outcomes without a call have none", async (t) => {
  const pool = new EvaluatorPool({
    engine,
    workers: 1,
    watchdogMs: 30_000,
    quarantine: { after: 3, windowMs: 60_000 },
  });
  t.after(() => pool.close());
  const filters = [
    ref(1, "function(e) { return e.getData().get('result') === 'loss' }"),
    ref(2, "function(e) { throw new Error('boom') }"),
    ref(3, "function(e) { while (true) {} }"),
    ref(4, "(e) => true", { enabled: false }),
  ];
  const events = Array.from({ length: 20 }, () => ({
    json: SEED_EVENT_JSON,
    game: "foe",
    eventName: "fight",
    nowMs: SEED_NOW,
    candidates: [0, 1, 2, 3],
  }));
  const rows = await pool.evaluate({ filters, events });
  const byCampaign = (j: number): Outcome[] => rows.map((r) => r[j] as Outcome);
  assert.deepEqual(
    [0, 1, 2, 3].map((j) => byCampaign(j)[0]?.kind),
    ["match", "threw", "out-of-fuel", "skipped"],
  );
  // The endless loop is stopped three times, then the worker calls it no more (quarantine by outcome).
  const calls = [...byCampaign(0), ...byCampaign(1), ...byCampaign(2).slice(0, 3)] as FilterOutcome[];
  for (const o of calls) {
    assert.equal(typeof o.micros, "number");
    assert.ok((o.micros as number) > 0 && Number.isFinite(o.micros));
  }
  const skipped = byCampaign(2).slice(3);
  assert.deepEqual(new Set(skipped.map((o) => o.kind)), new Set(["quarantined"]));
  for (const o of [...skipped, ...byCampaign(3)]) assert.equal("micros" in o, false);
});

test("busy time grows while the workers hold a batch and stays put while they are idle", async (t) => {
  const pool = new EvaluatorPool({ engine, workers: 1, watchdogMs: 30_000 });
  t.after(() => pool.close());
  assert.equal(pool.busyTimeMs(), 0);
  // A filter that spins through most of a large fuel budget keeps the worker busy for a measurable while.
  const slow = {
    ...ref(5, "function(e) { var s = 0; for (var i = 0; i < 200000; i++) s += i; return s > 0 }"),
    fuel: 5_000_000,
  };
  const event = { json: SEED_EVENT_JSON, game: "foe", eventName: "fight", nowMs: SEED_NOW, candidates: [0] };
  const running = pool.evaluate({ filters: [slow], events: [event, event, event] });
  const during = pool.busyTimeMs();
  const rows = await running;
  assert.equal(rows.flat()[0]?.kind, "match");
  const after = pool.busyTimeMs();
  assert.ok(after > during, `busy ${after} ms after the batch, ${during} ms while it ran`);
  const sumMicros = rows.flat().reduce((n, o) => n + ((o as FilterOutcome).micros ?? 0), 0);
  assert.ok(after >= sumMicros / 1000, "the workers were busy at least as long as the calls took");
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(pool.busyTimeMs(), after, "idle time is not busy time");
});
