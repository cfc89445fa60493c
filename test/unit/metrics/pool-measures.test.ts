// What the evaluation pool measures for the metrics: each filter call's time, and the workers' busy time.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseCampaign } from "../../../src/campaigns/campaign.js";
import { FilterCompiler } from "../../../src/compile/filter-compiler.js";
import type { FilterOutcome } from "../../../src/evaluation/outcome.js";
import { EvaluatorPool } from "../../../src/pool/evaluator-pool.js";
import type { FilterRef } from "../../../src/pool/protocol.js";
import { loadEngineModule } from "../../../src/sandbox/engine-module.js";
import { SEED_EVENT_JSON, SEED_NOW } from "../../fixtures/seed.js";
import { filterRef } from "../../helpers/filter-ref.js";

const engine = loadEngineModule();
const compiler = new FilterCompiler(engine, join(mkdtempSync(join(tmpdir(), "rtcrm-measures-")), "fc"));

function ref(id: number, filter: string, extra: Record<string, unknown> = {}, fuel = 20_000): FilterRef {
  const parsed = parseCampaign({
    campaign_id: id,
    enabled: true,
    game: "foe",
    event_name: "fight",
    filter,
    ...extra,
  });
  assert.ok(parsed.ok);
  return filterRef(parsed.campaign, compiler.compileSync(filter), {
    fuel,
    memoryBytes: 8 << 20,
    deadlineMs: 1_000,
  });
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
    // `slice`, a method the predicate subset does not model: a sandbox call every time.
    ref(1, "function(e) { return e.getData().get('result').slice(0) === 'loss' }"),
    ref(2, "function(e) { throw new Error('boom') }"),
    ref(3, "function(e) { while (true) {} }"),
    ref(4, "(e) => true", { enabled: false }),
    // A predicate filter: the host's interpreter answers it, without a call.
    ref(5, "function(e) { return e.getData().get('result') === 'loss' }"),
  ];
  assert.deepEqual(
    filters.map((f) => f.predicate !== null),
    [false, false, false, true, true],
  );
  // The events share one route: its filters cross to the worker once.
  const events = Array.from({ length: 20 }, () => ({
    json: SEED_EVENT_JSON,
    game: "foe",
    eventName: "fight",
    nowMs: SEED_NOW,
    route: filters,
  }));
  const { rows, counts } = await pool.evaluate({ events });
  /** Campaign j's reported outcome on each event; undefined where none was reported. */
  const byCampaign = (j: number): (FilterOutcome | undefined)[] =>
    rows.map((r) => r.find((e) => e.candidate === j)?.outcome);
  assert.deepEqual(
    [0, 1, 2, 3, 4].map((j) => byCampaign(j)[0]?.kind),
    ["match", "threw", "out-of-fuel", undefined, "match"],
  );
  // The disabled campaign is never reported, only counted as skipped.
  assert.deepEqual(byCampaign(3), new Array(20).fill(undefined));
  // The endless loop is stopped three times, then the worker calls it no more (quarantine by outcome).
  const calls = [...byCampaign(0), ...byCampaign(1), ...byCampaign(2).slice(0, 3)];
  assert.equal(calls.length, 43);
  for (const o of calls) {
    assert.equal(typeof o?.micros, "number", JSON.stringify(o));
    assert.ok((o?.micros as number) > 0 && Number.isFinite(o?.micros));
  }
  const quarantined = byCampaign(2).slice(3);
  assert.deepEqual(new Set(quarantined.map((o) => o?.kind)), new Set(["quarantined"]));
  const interpreted = byCampaign(4);
  assert.deepEqual(new Set(interpreted.map((o) => o?.kind)), new Set(["match"]));
  for (const o of [...quarantined, ...interpreted]) assert.equal(o !== undefined && "micros" in o, false);
  assert.deepEqual(counts, {
    routed: 100,
    indexed: 0,
    skipped: 20,
    interpreted: 20,
    sandboxCalls: 20 + 20 + 3,
    shared: 0,
    quarantined: 17,
  });
});

test("busy time grows while the workers hold a batch and stays put while they are idle", async (t) => {
  const pool = new EvaluatorPool({ engine, workers: 1, watchdogMs: 30_000 });
  t.after(() => pool.close());
  assert.equal(pool.busyTimeMs(), 0);
  // A filter that spins through most of a large fuel budget keeps the worker busy for a measurable while.
  const slow = ref(
    5,
    "function(e) { var s = 0; for (var i = 0; i < 200000; i++) s += i; return s > 0 }",
    {},
    5_000_000,
  );
  const event = { json: SEED_EVENT_JSON, game: "foe", eventName: "fight", nowMs: SEED_NOW, route: [slow] };
  const running = pool.evaluate({ events: [event, event, event] });
  const during = pool.busyTimeMs();
  const { rows } = await running;
  const outcomes = rows.flat().map((e) => e.outcome);
  assert.deepEqual(
    outcomes.map((o) => o.kind),
    ["match", "match", "match"],
    "a loop: a sandbox call for each event",
  );
  const after = pool.busyTimeMs();
  assert.ok(after > during, `busy ${after} ms after the batch, ${during} ms while it ran`);
  const sumMicros = outcomes.reduce((n, o) => n + (o.micros ?? 0), 0);
  assert.ok(after >= sumMicros / 1000, "the workers were busy at least as long as the calls took");
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(pool.busyTimeMs(), after, "idle time is not busy time");
});
