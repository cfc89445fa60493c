// The delivery-rule fields of a campaign record: every value refused with a reason that names the field and says
// what to write instead, ISO-8601 durations, and seed campaigns left exactly as they were.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { parseCampaign } from "../../../src/campaigns/campaign.js";
import {
  NO_RULES,
  hasRules,
  parseDeliveryRules,
  parseDuration,
  parseFrequencyCap,
} from "../../../src/campaigns/delivery-rules.js";
import { SEED_CAMPAIGN_JSON } from "../../fixtures/seed.js";

const seed = JSON.parse(SEED_CAMPAIGN_JSON) as Record<string, unknown>;
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** The reasons parseCampaign gives for the seed campaign with `over`; fails when it is accepted. */
function reasons(over: Record<string, unknown>): string[] {
  const parsed = parseCampaign({ ...seed, ...over });
  assert.ok(!parsed.ok, `expected ${JSON.stringify(over)} to be rejected`);
  assert.equal(parsed.campaignId, 4711, "the id is still reported with the reasons");
  return parsed.reasons;
}

/** The rules parseCampaign accepts for the seed campaign with `over`. */
function rules(over: Record<string, unknown>) {
  const parsed = parseCampaign({ ...seed, ...over });
  assert.ok(parsed.ok, parsed.ok ? "" : parsed.reasons.join("; "));
  return parsed.campaign.rules;
}

test("durations: PT10M, PT24H, P1D, P2W, PT0.5S and combinations in milliseconds", () => {
  assert.equal(parseDuration("PT10M"), 10 * MINUTE);
  assert.equal(parseDuration("PT24H"), DAY);
  assert.equal(parseDuration("P1D"), DAY);
  assert.equal(parseDuration("P2W"), 14 * DAY);
  assert.equal(parseDuration("PT0.5S"), 500);
  assert.equal(parseDuration("PT1S"), 1000);
  assert.equal(parseDuration("PT0.001S"), 1);
  assert.equal(parseDuration("P1DT2H30M15S"), DAY + 2 * HOUR + 30 * MINUTE + 15_000);
  assert.equal(parseDuration("PT90M"), 90 * MINUTE);
  assert.equal(parseDuration("P3650D"), 3650 * DAY, "ten years is the longest");
});

test("durations: months, years, words, zero, signs and malformed text are not durations", () => {
  for (const text of [
    "P1M", // a month: no fixed length
    "P1Y",
    "P1Y2M",
    "1 day",
    "24h",
    "PT24h",
    "p1d",
    "",
    "P",
    "PT",
    "P1DT",
    "PT0S",
    "P0D",
    "-PT1H",
    "PT-1H",
    "PT1.5H",
    "P1.5D",
    "PT0.0001S",
    "P1W2D", // weeks stand alone in ISO-8601
    "P3651D",
    "P99999999999999999999D",
    " PT1H",
    "PT1H ",
  ]) {
    assert.equal(parseDuration(text), null, JSON.stringify(text));
  }
});

test("a campaign without rule fields has no rules, and keeps the seed's JSON and version", () => {
  const parsed = parseCampaign(seed);
  assert.ok(parsed.ok);
  assert.deepEqual(parsed.campaign.rules, NO_RULES);
  assert.equal(hasRules(parsed.campaign.rules), false);
  assert.equal(parsed.campaign.json, SEED_CAMPAIGN_JSON);
  // The version parseCampaign gave before delivery rules existed (commit e6e7db9, run on the seed campaign).
  assert.equal(
    parsed.campaign.versionKey,
    "dae796a4b054974ef49756d4c3870cc80e8c85a8194ef25999562c77c8e8ce19",
  );
  assert.equal(parsed.campaign.versionKey, createHash("sha256").update(SEED_CAMPAIGN_JSON).digest("hex"));
});

test("rule fields written as null are no rules, and leave the JSON as without them", () => {
  const parsed = parseCampaign({
    ...seed,
    frequency_cap: null,
    holdout_percent: null,
    variants: null,
    max_event_age: null,
    priority: null,
  });
  assert.ok(parsed.ok);
  assert.deepEqual(parsed.campaign.rules, NO_RULES);
  assert.equal(parsed.campaign.json, SEED_CAMPAIGN_JSON);
});

test("every rule field parsed; the JSON gains them after the seed's fields, in a fixed order", () => {
  const parsed = parseCampaign({
    priority: 5,
    variants: [
      { name: "A", weight: 50 },
      { name: "B", weight: 50 },
    ],
    ...seed,
    max_event_age: "PT10M",
    holdout_percent: 12.5,
    frequency_cap: { max: 2, period: "PT24H" },
  });
  assert.ok(parsed.ok, parsed.ok ? "" : parsed.reasons.join("; "));
  const { rules: r, json } = parsed.campaign;
  assert.deepEqual(r, {
    frequencyCap: { max: 2, periodMs: DAY, period: "PT24H" },
    holdoutPercent: 12.5,
    variants: [
      { name: "A", weight: 50 },
      { name: "B", weight: 50 },
    ],
    maxEventAgeMs: 10 * MINUTE,
    priority: 5,
  });
  assert.equal(hasRules(r), true);
  assert.equal(
    json,
    SEED_CAMPAIGN_JSON.slice(0, -1) +
      ',"frequency_cap":{"max":2,"period":"PT24H"},"holdout_percent":12.5,' +
      '"variants":[{"name":"A","weight":50},{"name":"B","weight":50}],"max_event_age":"PT10M","priority":5}',
  );
  assert.notEqual(parsed.campaign.versionKey, createHash("sha256").update(SEED_CAMPAIGN_JSON).digest("hex"));
});

test("a cap without a period is a lifetime cap; priority alone asks for no per-player rules", () => {
  assert.deepEqual(rules({ frequency_cap: { max: 1 } }).frequencyCap, {
    max: 1,
    periodMs: null,
    period: null,
  });
  assert.deepEqual(rules({ frequency_cap: { max: 3, period: null } }).frequencyCap, {
    max: 3,
    periodMs: null,
    period: null,
  });
  const prioritised = rules({ priority: -3 });
  assert.equal(prioritised.priority, -3);
  assert.equal(hasRules(prioritised), false);
  assert.equal(hasRules(rules({ holdout_percent: 0 })), false, "0 % holds nobody out");
  assert.equal(hasRules(rules({ holdout_percent: 1 })), true);
  assert.equal(hasRules(rules({ max_event_age: "PT1M" })), true);
  assert.equal(hasRules(rules({ variants: [{ name: "only", weight: 1 }] })), true);
});

test("frequency_cap: a negative, zero, fractional or missing max is refused, saying what is wanted", () => {
  for (const [max, shown] of [
    [-1, "-1"],
    [0, "0"],
    [1.5, "1.5"],
    ["2", '"2"'],
    [undefined, "nothing"],
    [null, "null"],
    [2 ** 53, String(2 ** 53)],
  ] as const) {
    const r = reasons({ frequency_cap: max === undefined ? {} : { max } });
    assert.deepEqual(r, [`frequency_cap.max must be an integer of at least 1, got ${shown}`]);
  }
});

test("frequency_cap: an unknown duration is refused with examples of valid ones", () => {
  for (const period of ["P1M", "1 day", "PT0S", 86400, ""]) {
    assert.deepEqual(reasons({ frequency_cap: { max: 1, period } }), [
      `frequency_cap.period must be an ISO-8601 duration such as PT10M, PT24H, P1D or P2W (no months or years), got ${JSON.stringify(period)}`,
    ]);
  }
});

test("frequency_cap: not an object, or unknown fields, each with its reason; all problems at once", () => {
  assert.deepEqual(reasons({ frequency_cap: 1 }), [
    'frequency_cap must be an object such as {"max": 1, "period": "P1D"}, got 1',
  ]);
  assert.match(reasons({ frequency_cap: [1] })[0] ?? "", /^frequency_cap must be an object .*, got \[1\]$/);
  assert.deepEqual(reasons({ frequency_cap: { max: 0, period: "P1M", per: "player" } }), [
    "frequency_cap has unknown field(s) per; it has max and period",
    "frequency_cap.max must be an integer of at least 1, got 0",
    'frequency_cap.period must be an ISO-8601 duration such as PT10M, PT24H, P1D or P2W (no months or years), got "P1M"',
  ]);
});

test("holdout_percent: out of 0–100 or not a number is refused; the bounds themselves are fine", () => {
  for (const p of [-1, 100.5, 101, "10", true]) {
    assert.deepEqual(reasons({ holdout_percent: p }), [
      `holdout_percent must be a number from 0 to 100, got ${JSON.stringify(p)}`,
    ]);
  }
  assert.equal(rules({ holdout_percent: 0 }).holdoutPercent, 0);
  assert.equal(rules({ holdout_percent: 100 }).holdoutPercent, 100);
  assert.equal(rules({ holdout_percent: 0.5 }).holdoutPercent, 0.5);
});

test("variants: weights that are not positive numbers are refused, each by its index", () => {
  const r = reasons({
    variants: [
      { name: "A", weight: 0 },
      { name: "B", weight: -5 },
      { name: "C", weight: "50" },
      { name: "D" },
      { name: "E", weight: 1 },
    ],
  });
  assert.deepEqual(r, [
    "variants[0].weight must be a positive number, got 0",
    "variants[1].weight must be a positive number, got -5",
    'variants[2].weight must be a positive number, got "50"',
    "variants[3].weight must be a positive number, got nothing",
  ]);
});

test("variants: a name used twice, empty or too long is refused", () => {
  assert.deepEqual(
    reasons({
      variants: [
        { name: "A", weight: 1 },
        { name: "A", weight: 1 },
      ],
    }),
    ['variants[1].name "A" is used twice'],
  );
  const long = "x".repeat(65);
  assert.deepEqual(
    reasons({
      variants: [
        { name: " ", weight: 1 },
        { name: long, weight: 1 },
        { name: 7, weight: 1 },
      ],
    }),
    [0, 1, 2].map((i) => `variants[${i}].name must be a non-empty string of at most 64 characters`),
  );
  assert.equal(rules({ variants: [{ name: "x".repeat(64), weight: 1 }] }).variants?.length, 1);
});

test("variants: not a list, an empty list, too many, or entries that are not objects are refused", () => {
  for (const v of [{ name: "A", weight: 1 }, [], "A", 5]) {
    assert.match(reasons({ variants: v })[0] ?? "", /^variants must be a list of 1 to 100 objects such as/);
  }
  const many = Array.from({ length: 101 }, (_, i) => ({ name: `v${i}`, weight: 1 }));
  assert.match(reasons({ variants: many })[0] ?? "", /^variants must be a list of 1 to 100 objects/);
  assert.equal(rules({ variants: many.slice(0, 100) }).variants?.length, 100);
  assert.deepEqual(reasons({ variants: ["A", { name: "B", weight: 1, share: 2 }] }), [
    'variants[0] must be an object with name and weight, got "A"',
    "variants[1] has unknown field(s) share",
  ]);
});

test("max_event_age: an unknown duration is refused", () => {
  for (const age of ["P1M", "1 day", "10 minutes", 600, "PT0S"]) {
    assert.deepEqual(reasons({ max_event_age: age }), [
      `max_event_age must be an ISO-8601 duration such as PT10M, PT24H, P1D or P2W (no months or years), got ${JSON.stringify(age)}`,
    ]);
  }
  assert.equal(rules({ max_event_age: "PT0.5S" }).maxEventAgeMs, 500);
});

test("priority: not an integer is refused; negative and zero are fine", () => {
  for (const p of [1.5, "1", true, 2 ** 53, { high: true }]) {
    assert.deepEqual(reasons({ priority: p }), [`priority must be an integer, got ${JSON.stringify(p)}`]);
  }
  assert.equal(rules({ priority: 0 }).priority, 0);
  assert.equal(rules({ priority: -10 }).priority, -10);
});

test("every problem of the rules is listed together with the campaign's other problems", () => {
  const r = reasons({
    enabled: "yes",
    frequency_cap: { max: -1, period: "1 day" },
    holdout_percent: 150,
    variants: [
      { name: "A", weight: 0 },
      { name: "A", weight: 1 },
    ],
    max_event_age: "P1M",
    priority: 0.5,
  });
  assert.deepEqual(r, [
    'enabled must be true or false, got the string "yes"',
    "frequency_cap.max must be an integer of at least 1, got -1",
    'frequency_cap.period must be an ISO-8601 duration such as PT10M, PT24H, P1D or P2W (no months or years), got "1 day"',
    "holdout_percent must be a number from 0 to 100, got 150",
    "variants[0].weight must be a positive number, got 0",
    'variants[1].name "A" is used twice',
    'max_event_age must be an ISO-8601 duration such as PT10M, PT24H, P1D or P2W (no months or years), got "P1M"',
    "priority must be an integer, got 0.5",
  ]);
});

test("a long wrong value is quoted short in its reason", () => {
  const [reason] = reasons({ max_event_age: "P".repeat(500) });
  assert.ok(reason !== undefined && reason.length < 250, reason);
  assert.match(reason, /…$/);
});

test("parseFrequencyCap and parseDeliveryRules prefix reasons with the name given (the engine's global cap)", () => {
  const problems: string[] = [];
  assert.equal(parseFrequencyCap({ max: 0 }, "global_frequency_cap", problems), null);
  assert.deepEqual(problems, ["global_frequency_cap.max must be an integer of at least 1, got 0"]);
  assert.deepEqual(parseFrequencyCap({ max: 3, period: "P1D" }, "global_frequency_cap", []), {
    max: 3,
    periodMs: DAY,
    period: "P1D",
  });
  const none: string[] = [];
  assert.deepEqual(parseDeliveryRules({}, none), NO_RULES);
  assert.deepEqual(none, []);
});
