import { test } from "node:test";
import assert from "node:assert/strict";
import {
  campaignCounters,
  exposedCounts,
  noCounters,
  parseMetricsText,
  parseSampleLine,
} from "../../../src/ui/prometheus-text.js";

test("sample lines: labels with escapes, values, timestamps; comments and junk are no samples", () => {
  assert.deepEqual(parseSampleLine('rtcrm_campaign_matches_total{campaign_id="4711"} 3'), {
    name: "rtcrm_campaign_matches_total",
    labels: { campaign_id: "4711" },
    value: 3,
  });
  assert.deepEqual(parseSampleLine('m{a="x \\"y\\" \\\\ z\\nw",b="2",} 1.5e3 1700000000000'), {
    name: "m",
    labels: { a: 'x "y" \\ z\nw', b: "2" },
    value: 1500,
  });
  assert.deepEqual(parseSampleLine("up 1"), { name: "up", labels: {}, value: 1 });
  assert.equal(parseSampleLine('h_bucket{le="+Inf"} +Inf')?.value, Infinity);
  assert.ok(Number.isNaN(parseSampleLine("x NaN")?.value));
  for (const line of [
    "# HELP m help",
    "# TYPE m counter",
    "",
    "   ",
    'm{a="open 1',
    "m{a=1} 2",
    "m",
    "m abc",
    '{a="1"} 2',
  ])
    assert.equal(parseSampleLine(line), null, line);
});

test("per-campaign counters: matches, errors by kind, fuel; instances added up; other metrics ignored", () => {
  const engineA = [
    "# HELP rtcrm_campaign_matches_total matches",
    "# TYPE rtcrm_campaign_matches_total counter",
    'rtcrm_campaign_matches_total{campaign_id="4711"} 2',
    'rtcrm_campaign_matches_total{campaign_id="1"} 5',
    'rtcrm_campaign_errors_total{campaign_id="4711",kind="threw"} 1',
    'rtcrm_campaign_errors_total{campaign_id="4711",kind="watchdog"} 1',
    'rtcrm_campaign_fuel_exhausted_total{campaign_id="1"} 7',
    'rtcrm_events_total{topic="e"} 99',
    'rtcrm_campaign_matches_total{campaign_id="not-a-number"} 1',
    "rtcrm_campaign_matches_total 4",
  ].join("\n");
  const engineB = [
    'rtcrm_campaign_matches_total{campaign_id="4711"} 3',
    'rtcrm_campaign_errors_total{campaign_id="4711",kind="threw"} 2',
  ].join("\n");
  const counters = campaignCounters([...parseMetricsText(engineA), ...parseMetricsText(engineB)]);
  assert.deepEqual(Object.fromEntries(counters), {
    4711: { ...noCounters(), matches: 5, errors: 4, errorsByKind: { threw: 3, watchdog: 1 } },
    1: { ...noCounters(), matches: 5, fuelExhausted: 7 },
  });
});

test("delivery-rule counters: triggers, capped (campaign and global caps added up), held out, expired", () => {
  const engineA = [
    'rtcrm_campaign_matches_total{campaign_id="4711"} 10',
    'rtcrm_campaign_triggers_total{campaign_id="4711"} 4',
    'rtcrm_campaign_capped_total{campaign_id="4711",cap="campaign"} 3',
    'rtcrm_campaign_capped_total{campaign_id="4711",cap="global"} 1',
    'rtcrm_campaign_held_out_total{campaign_id="4711"} 1',
    'rtcrm_campaign_expired_total{campaign_id="4711"} 1',
    'rtcrm_campaign_triggers_total{campaign_id="7"} 2',
  ].join("\n");
  const engineB = [
    'rtcrm_campaign_triggers_total{campaign_id="4711"} 1',
    'rtcrm_campaign_capped_total{campaign_id="4711",cap="global"} 2',
    'rtcrm_campaign_held_out_total{campaign_id="7"} 5',
  ].join("\n");
  const counters = campaignCounters([...parseMetricsText(engineA), ...parseMetricsText(engineB)]);
  assert.deepEqual(Object.fromEntries(counters), {
    4711: {
      ...noCounters(),
      matches: 10,
      triggers: 5,
      capped: 6,
      cappedBy: { campaign: 3, global: 3 },
      heldOut: 1,
      expired: 1,
    },
    7: { ...noCounters(), triggers: 2, heldOut: 5 },
  });
});

test("exposed counts: by TYPE line or sample; an engine before delivery rules exposes none of theirs", () => {
  const before = [
    "# HELP rtcrm_campaign_matches_total Events a campaign matched",
    "# TYPE rtcrm_campaign_matches_total counter",
    'rtcrm_campaign_matches_total{campaign_id="4711"} 2',
    "# TYPE rtcrm_campaign_errors_total counter",
    "# HELP rtcrm_campaign_triggers_total a HELP line alone says nothing",
    "rtcrm_triggers_produced_total 2",
  ].join("\n");
  assert.deepEqual([...exposedCounts(before)].sort(), ["errors", "matches"]);
  const after = [
    "# TYPE rtcrm_campaign_capped_total counter",
    'rtcrm_campaign_expired_total{campaign_id="1"} 0',
  ].join("\n");
  assert.deepEqual([...exposedCounts(after)].sort(), ["capped", "expired"]);
});
