import { test } from "node:test";
import assert from "node:assert/strict";
import { parseCampaign, parseInstant } from "../../../src/campaigns/campaign.js";
import { SEED_CAMPAIGN_JSON } from "../../fixtures/seed.js";

const seed = JSON.parse(SEED_CAMPAIGN_JSON) as Record<string, unknown>;

function reasons(record: unknown): string[] {
  const parsed = parseCampaign(record);
  assert.equal(parsed.ok, false, "expected a rejection");
  return parsed.ok ? [] : parsed.reasons;
}

test("the seed campaign is accepted and serialised exactly as in the seed's trigger", () => {
  const parsed = parseCampaign(seed);
  assert.ok(parsed.ok);
  assert.equal(parsed.campaign.json, SEED_CAMPAIGN_JSON);
  assert.equal(parsed.campaign.startMs, Date.parse("2023-09-01T10:00:00Z"));
  assert.equal(parsed.campaign.versionKey.length, 64);
});

test("missing dates are accepted as unbounded and written as null", () => {
  const { start_date: _s, end_date: _e, ...rest } = seed;
  const parsed = parseCampaign(rest);
  assert.ok(parsed.ok);
  assert.equal(parsed.campaign.startMs, null);
  assert.equal(parsed.campaign.endMs, null);
  assert.match(parsed.campaign.json, /"start_date":null,"end_date":null/);
});

test("every problem of a bad campaign is reported, each naming the field", () => {
  const r = reasons({
    campaign_id: "x",
    enabled: "yes",
    game: "",
    start_date: "2023-02-30T00:00:00Z",
    end_date: 5,
    colour: 1,
  });
  const text = r.join("\n");
  for (const field of [
    "colour",
    "campaign_id",
    "enabled",
    "game",
    "event_name",
    "filter",
    "start_date",
    "end_date",
  ]) {
    assert.match(text, new RegExp(field), `no reason names ${field}`);
  }
});

test("a campaign that is not an object is rejected", () => {
  for (const v of [null, 42, "x", [seed]]) assert.match(reasons(v).join(), /JSON object/);
});

test("an end before the start is rejected", () => {
  assert.match(
    reasons({ ...seed, end_date: "2023-08-01T00:00:00Z" }).join(),
    /end_date must be after start_date/,
  );
});

test("the same content gives the same version key; any change gives another", () => {
  const a = parseCampaign(seed);
  const b = parseCampaign({ ...seed });
  const c = parseCampaign({ ...seed, enabled: false });
  assert.ok(a.ok && b.ok && c.ok);
  assert.equal(a.campaign.versionKey, b.campaign.versionKey);
  assert.notEqual(a.campaign.versionKey, c.campaign.versionKey);
});

test("instants: zones, fractions, and impossible dates", () => {
  assert.equal(parseInstant("2023-09-01T10:00:00.00Z"), Date.parse("2023-09-01T10:00:00Z"));
  assert.equal(parseInstant("2023-09-01T12:00:00+02:00"), Date.parse("2023-09-01T10:00:00Z"));
  assert.equal(parseInstant("2023-09-01T10:00Z"), Date.parse("2023-09-01T10:00:00Z"));
  for (const bad of [
    "2023-09-01",
    "2023-09-01T10:00:00",
    "2023-02-30T00:00:00Z",
    "2023-13-01T00:00:00Z",
    "yesterday",
    "2023-09-01T24:00:00Z",
  ]) {
    assert.equal(parseInstant(bad), null, bad);
  }
});
