import { test } from "node:test";
import assert from "node:assert/strict";
import { campaignCounters, parseMetricsText, parseSampleLine } from "../../../src/ui/prometheus-text.js";

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
    4711: { matches: 5, errors: 4, errorsByKind: { threw: 3, watchdog: 1 }, fuelExhausted: 0 },
    1: { matches: 5, errors: 0, errorsByKind: {}, fuelExhausted: 7 },
  });
});
