// The hostile corpus (test/fixtures/hostile-corpus.ts): every probe, at the engine's default fuel and memory limits,
// ends with its documented outcome, in a sandbox on a worker thread like the engine's, which stays healthy and is
// never restarted. The deadline is set far off here so that outcomes do not depend on this machine's speed (the
// benchmark measures the times at the default deadline); the deadline itself is tested below. Fuel per call is
// reported in the test's diagnostics.
import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { defaults } from "../../../src/config/config.js";
import { HOSTILE_CORPUS } from "../../fixtures/hostile-corpus.js";
import { SandboxThread } from "../../helpers/sandbox-thread.js";

const config = defaults();
const LIMITS = {
  fuel: config.fuel_per_evaluation,
  memoryBytes: config.memory_limit_bytes,
  deadlineMs: 600_000,
};
const EVENT = '{"game":"foe","event_name":"fight","player_id":1,"data":{"result":"loss"}}';

const thread = new SandboxThread();
after(() => thread.close());

describe("hostile corpus at the default limits", () => {
  for (const probe of HOSTILE_CORPUS) {
    it(`${probe.family}: ${probe.name} -> ${probe.outcome}`, async (t) => {
      const result = await thread.run({ source: probe.source, limits: LIMITS, times: 1 }, EVENT);
      const [outcome] = result.outcomes;
      assert.ok(outcome);
      t.diagnostic(
        `fuel ${outcome.fuelUsed} (${outcome.kind}${outcome.message ? `: ${outcome.message}` : ""})`,
      );
      assert.equal(outcome.kind, probe.outcome, JSON.stringify(outcome));
      if (probe.outcome === "out-of-fuel") assert.ok(outcome.fuelUsed > LIMITS.fuel);
      else assert.ok(outcome.fuelUsed <= LIMITS.fuel || probe.outcome !== "match");
      assert.equal(result.restarts, 0, "the engine instance never trapped");
      assert.ok(result.healthy, "the seed filter still answers in the same sandbox");
    });
  }
});

describe("the call deadline", () => {
  const huge = { ...LIMITS, fuel: 1e12, deadlineMs: 20 };
  for (const [name, source] of [
    ["an endless loop", "function(e) { for (;;) {} }"],
    [
      "a search in a loop",
      "function(e) { var h = 'a'.repeat(4e6), n = 'a'.repeat(2e6) + 'b'; for (;;) h.includes(n) }",
    ],
    ["sorting in a loop", "function(e) { var t = new Float64Array(1e6); for (;;) t.sort() }"],
  ] as const) {
    it(`ends ${name} with fuel to spare as timeout`, async () => {
      const result = await thread.run({ source, limits: huge, times: 2 }, EVENT);
      for (const outcome of result.outcomes) {
        assert.equal(outcome.kind, "timeout", JSON.stringify(outcome));
        assert.match(outcome.message ?? "", /deadline of 20 ms passed/);
      }
      assert.ok(result.healthy);
      assert.equal(result.restarts, 0);
    });
  }

  it("does not touch calls that finish in time", async () => {
    const result = await thread.run(
      { source: "function(e) { return e.getData().get('result') === 'loss' }", limits: huge, times: 3 },
      EVENT,
    );
    assert.deepEqual(
      result.outcomes.map((o) => o.kind),
      ["match", "match", "match"],
    );
  });
});
