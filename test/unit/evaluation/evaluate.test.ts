// Each rule of SEED.md's evaluation table, with a test that fails when the rule is broken.
import { test } from "node:test";
import assert from "node:assert/strict";
import { parseCampaign, parseInstant, type Campaign } from "../../../src/campaigns/campaign.js";
import { evaluateCampaign, evaluationInstant, skipReason } from "../../../src/evaluation/evaluate.js";
import type { FilterOutcome } from "../../../src/evaluation/outcome.js";
import { SEED_CAMPAIGN_JSON, SEED_NOW } from "../../fixtures/seed.js";

function campaign(over: Record<string, unknown> = {}): Campaign {
  const parsed = parseCampaign({ ...(JSON.parse(SEED_CAMPAIGN_JSON) as object), ...over });
  assert.ok(parsed.ok, parsed.ok ? "" : parsed.reasons.join());
  return parsed.campaign;
}
const event = { game: "foe", event_name: "fight" };
const matches = (): FilterOutcome => ({ kind: "match", fuelUsed: 1 });
const start = Date.parse("2023-09-01T10:00:00Z");
const end = Date.parse("2023-12-01T10:00:00Z");

test("all rules pass: the filter decides", () => {
  let called = 0;
  const out = evaluateCampaign(campaign(), event, SEED_NOW, () => {
    called++;
    return matches();
  });
  assert.deepEqual(out, { kind: "match", fuelUsed: 1 });
  assert.equal(called, 1);
});

test("1. a disabled campaign is skipped and its filter not called", () => {
  const out = evaluateCampaign(campaign({ enabled: false }), event, SEED_NOW, () =>
    assert.fail("filter called"),
  );
  assert.deepEqual(out, { kind: "skipped", reason: "disabled" });
});

test("2. game must be equal, case-sensitive", () => {
  assert.equal(skipReason(campaign(), { ...event, game: "FOE" }, SEED_NOW), "other-game");
  assert.equal(skipReason(campaign(), { ...event, game: "elvenar" }, SEED_NOW), "other-game");
});

test("3. event_name must be equal, case-sensitive", () => {
  assert.equal(skipReason(campaign(), { ...event, event_name: "Fight" }, SEED_NOW), "other-event-name");
});

test("4. now must be strictly after start_date", () => {
  assert.equal(skipReason(campaign(), event, start), "not-started");
  assert.equal(skipReason(campaign(), event, start - 1), "not-started");
  assert.equal(skipReason(campaign(), event, start + 1), null);
});

test("5. now must be strictly before end_date", () => {
  assert.equal(skipReason(campaign(), event, end), "ended");
  assert.equal(skipReason(campaign(), event, end + 1), "ended");
  assert.equal(skipReason(campaign(), event, end - 1), null);
});

test("a missing date is unbounded on that side", () => {
  assert.equal(skipReason(campaign({ start_date: undefined }), event, 0), null);
  assert.equal(skipReason(campaign({ end_date: null }), event, Date.parse("2999-01-01T00:00:00Z")), null);
  assert.equal(skipReason(campaign({ start_date: null, end_date: null }), event, -1e15), null);
});

test("6. only the filter's match is a match; its other outcomes pass through as values", () => {
  for (const kind of ["no-match", "threw", "out-of-fuel", "out-of-memory", "stack-overflow"] as const) {
    const out = evaluateCampaign(campaign(), event, SEED_NOW, () => ({ kind, fuelUsed: 0 }));
    assert.equal(out.kind, kind);
  }
});

test("the evaluation instant: processing time, or the event's created_at", () => {
  assert.equal(
    evaluationInstant("processing-time", { created_at: "2020-01-01T00:00:00Z" }, 42, parseInstant),
    42,
  );
  assert.equal(
    evaluationInstant("created-at", { created_at: "2020-01-01T00:00:00Z" }, 42, parseInstant),
    Date.parse("2020-01-01T00:00:00Z"),
  );
  assert.equal(evaluationInstant("created-at", {}, 42, parseInstant), null);
  assert.equal(evaluationInstant("created-at", { created_at: "soon" }, 42, parseInstant), null);
});
