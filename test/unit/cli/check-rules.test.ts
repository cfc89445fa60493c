// `rtcrm campaign check` and checkCampaign on the delivery-rule fields: the engine's own validation (parseCampaign),
// one line per problem naming the field and what to write instead, and the rules of a valid campaign in words.
import { test } from "node:test";
import assert from "node:assert/strict";
import { parseCampaign } from "../../../src/campaigns/campaign.js";
import { NO_RULES } from "../../../src/campaigns/delivery-rules.js";
import { checkCampaign, rulesText } from "../../../src/client/check-campaign.js";
import { SEED_CAMPAIGN_JSON } from "../../fixtures/seed.js";
import { cli, tempFile } from "./run-cli.js";

const seed = JSON.parse(SEED_CAMPAIGN_JSON) as Record<string, unknown>;
const campaign = (over: Record<string, unknown>) => JSON.stringify({ ...seed, ...over }, null, 2);
const DURATION = "an ISO-8601 duration such as PT10M, PT24H, P1D or P2W (no months or years)";

const BAD_RULES = {
  frequency_cap: { max: -1, period: "1 day" },
  holdout_percent: 120,
  variants: [
    { name: "A", weight: 0 },
    { name: "A", weight: 50 },
  ],
  max_event_age: "P1M",
  priority: 1.5,
};

test("checkCampaign reports exactly the engine's reasons for bad rule fields, as campaign problems", () => {
  const result = checkCampaign(campaign(BAD_RULES));
  assert.ok(!result.ok);
  const engine = parseCampaign({ ...seed, ...BAD_RULES });
  assert.ok(!engine.ok);
  assert.deepEqual(
    result.problems,
    engine.reasons.map((message) => ({ where: "campaign", message })),
  );
  assert.deepEqual(
    result.problems.map((p) => p.message),
    [
      "frequency_cap.max must be an integer of at least 1, got -1",
      `frequency_cap.period must be ${DURATION}, got "1 day"`,
      "holdout_percent must be a number from 0 to 100, got 120",
      "variants[0].weight must be a positive number, got 0",
      'variants[1].name "A" is used twice',
      `max_event_age must be ${DURATION}, got "P1M"`,
      "priority must be an integer, got 1.5",
    ],
  );
});

test("rule problems are listed with the filter's, so one check shows everything", () => {
  const result = checkCampaign(campaign({ holdout_percent: -5, filter: "function(e) { return eval('1') }" }));
  assert.ok(!result.ok);
  assert.deepEqual(
    result.problems.map((p) => [p.where, p.message.slice(0, 40)]),
    [
      ["campaign", "holdout_percent must be a number from 0 "],
      ["filter", "filter: eval is not available: eval is n"],
    ],
  );
});

test("rtcrm campaign check prints one FILE: line per rule problem and exits 1", async () => {
  const bad = tempFile(
    "rules.json",
    campaign({ ...BAD_RULES, frequency_cap: { max: 0, period: "PT24H", per: 1 } }),
  );
  const { code, stdout } = await cli(["campaign", "check", bad]);
  assert.equal(code, 1);
  assert.equal(
    stdout,
    [
      `${bad}: frequency_cap has unknown field(s) per; it has max and period`,
      `${bad}: frequency_cap.max must be an integer of at least 1, got 0`,
      `${bad}: holdout_percent must be a number from 0 to 100, got 120`,
      `${bad}: variants[0].weight must be a positive number, got 0`,
      `${bad}: variants[1].name "A" is used twice`,
      `${bad}: max_event_age must be ${DURATION}, got "P1M"`,
      `${bad}: priority must be an integer, got 1.5`,
      "",
    ].join("\n"),
  );

  // A misspelt rule field is an unknown field, and the message lists the ones there are.
  const typo = await cli(["campaign", "check", "-"], { stdin: campaign({ frequencycap: { max: 1 } }) });
  assert.equal(typo.code, 1);
  assert.match(
    typo.stdout,
    /^<stdin>: unknown field\(s\) frequencycap; a campaign has .*, filter, frequency_cap, holdout_percent, variants, max_event_age, priority\n$/,
  );
});

test("rtcrm campaign check of a valid campaign with rules says how it read them; without rules, as before", async () => {
  const good = tempFile(
    "good.json",
    campaign({
      frequency_cap: { max: 2, period: "PT24H" },
      holdout_percent: 10,
      variants: [
        { name: "control", weight: 1 },
        { name: "offer", weight: 2 },
      ],
      max_event_age: "PT10M",
      priority: 5,
    }),
  );
  const { code, stdout } = await cli(["campaign", "check", good]);
  assert.equal(code, 0, stdout);
  assert.equal(
    stdout,
    `${good}: campaign 4711 (foe/fight) is valid; its filter compiles and runs within the limits on an example event\n` +
      `${good}: delivery rules: at most 2 triggers per player within any rolling period of 1 day; ` +
      "10 % of players held out (no trigger); variants control 33.3 %, offer 66.7 %; " +
      "an event older than 10 minutes triggers nothing; priority 5 (for the engine's global_frequency_cap)\n",
  );

  const plain = tempFile("plain.json", SEED_CAMPAIGN_JSON);
  const seedRun = await cli(["campaign", "check", plain]);
  assert.equal(seedRun.stdout.split("\n").length, 2, "one line: no rules to describe");
});

test("rulesText: each rule in words, lengths of time as written out", () => {
  assert.equal(rulesText(NO_RULES), null);
  assert.equal(rulesText({ ...NO_RULES, holdoutPercent: 0, priority: 0 }), null);
  assert.equal(
    rulesText({ ...NO_RULES, frequencyCap: { max: 1, periodMs: null, period: null } }),
    "at most 1 trigger per player over the campaign's lifetime",
  );
  const parsed = parseCampaign({
    ...seed,
    frequency_cap: { max: 3, period: "P2W" },
    max_event_age: "P1DT1H30M0.5S",
    priority: -2,
  });
  assert.ok(parsed.ok);
  assert.equal(
    rulesText(parsed.campaign.rules),
    "at most 3 triggers per player within any rolling period of 2 weeks; " +
      "an event older than 1 day 1 hour 30 minutes 0.5 seconds triggers nothing; " +
      "priority -2 (for the engine's global_frequency_cap)",
  );
  assert.equal(
    rulesText({ ...NO_RULES, frequencyCap: { max: 5, periodMs: 1000, period: "PT1S" } }),
    "at most 5 triggers per player within any rolling period of 1 second",
  );
});
