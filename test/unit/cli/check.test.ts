// `rtcrm campaign check` and checkCampaign: every problem at once, filter problems with their line and column
// inside the filter's source, no Kafka.
import { test } from "node:test";
import assert from "node:assert/strict";
import { checkCampaign } from "../../../src/client/check-campaign.js";
import { SEED_CAMPAIGN_JSON } from "../../fixtures/seed.js";
import { cli, tempFile } from "./run-cli.js";

const campaign = (over: Record<string, unknown>) =>
  JSON.stringify({ ...(JSON.parse(SEED_CAMPAIGN_JSON) as object), ...over }, null, 2);

test("the seed's campaign is valid", () => {
  const result = checkCampaign(SEED_CAMPAIGN_JSON);
  assert.ok(result.ok);
  assert.equal(result.campaign.campaignId, 4711);
  assert.match(result.filter.hash, /^[0-9a-f]{64}$/);
});

test("a syntax error in the filter carries its line and column inside the filter's source", () => {
  // Line 3, column 23 of the filter: the third '&'.
  const filter =
    "function(event) {\n  var r = event.getData().get('result');\n  return r === 'loss' &&& true\n}";
  const result = checkCampaign(campaign({ filter }));
  assert.equal(result.ok, false);
  assert.ok(!result.ok);
  assert.deepEqual(result.problems, [
    { where: "filter", message: "filter: syntax error: Unexpected token", line: 3, column: 25 },
  ]);
  assert.equal(filter.split("\n")[2]?.[24], "&");
});

test("forbidden globals are found with their position, and field problems are listed with them", () => {
  const result = checkCampaign(
    campaign({
      campaign_id: "4711",
      start_date: "2023-02-30T00:00:00Z",
      filter: "(e) =>\n  process.exit(1)",
    }),
  );
  assert.ok(!result.ok);
  assert.deepEqual(
    result.problems.map((p) => [p.where, p.line, p.column]),
    [
      ["campaign", undefined, undefined],
      ["campaign", undefined, undefined],
      ["filter", 2, 3],
    ],
  );
  assert.match(result.problems[0]?.message ?? "", /campaign_id must be an integer, got the string "4711"/);
  assert.match(result.problems[1]?.message ?? "", /start_date must be an ISO-8601 instant/);
  assert.match(
    result.problems[2]?.message ?? "",
    /process is not available: a filter cannot reach the host process/,
  );
});

test("JSON that does not parse is one problem with its position in the file", () => {
  const result = checkCampaign('{\n  "campaign_id": 1,\n}');
  assert.ok(!result.ok);
  assert.equal(result.problems.length, 1);
  assert.equal(result.problems[0]?.where, "json");
  assert.match(result.problems[0]?.message ?? "", /^not valid JSON: .*\(line 3, column 1 of the file\)$/);
  const empty = checkCampaign("  ");
  assert.ok(!empty.ok);
  assert.deepEqual(empty.problems, [
    { where: "json", message: "empty input: a campaign is one JSON object" },
  ]);
});

test("rtcrm campaign check prints FILE:LINE:COLUMN: for filter problems and exits 1; 0 when valid", async () => {
  const bad = tempFile(
    "bad.json",
    campaign({ enabled: "yes", filter: "function(event) {\n  return eval('1') === 1\n}" }),
  );
  const failed = await cli(["campaign", "check", bad]);
  assert.equal(failed.code, 1);
  assert.equal(
    failed.stdout,
    `${bad}: enabled must be true or false, got the string "yes"\n` +
      `${bad}:2:10: filter: eval is not available: eval is not allowed in a filter\n` +
      `(${bad}:LINE:COLUMN counts inside the filter's source text, the string value of "filter")\n`,
  );

  const good = tempFile("good.json", SEED_CAMPAIGN_JSON);
  const ok = await cli(["campaign", "check", good]);
  assert.equal(ok.code, 0);
  assert.equal(ok.stdout, `${good}: campaign 4711 (foe/fight) is valid; its filter compiles\n`);

  const stdin = await cli(["campaign", "check", "-"], {
    stdin: campaign({ filter: "function(e) { return e.x" }),
  });
  assert.equal(stdin.code, 1);
  assert.match(
    stdin.stdout,
    /^<stdin>:1:\d+: filter: Unexpected token: the filter must be exactly one function/,
  );
});

test("a filter that is more than one function is reported where the first one ends", async () => {
  const path = tempFile(
    "two.json",
    campaign({ filter: "function(e) { return true };\nfunction(e) { return false }" }),
  );
  const { code, stdout } = await cli(["campaign", "check", path]);
  assert.equal(code, 1);
  assert.match(stdout, new RegExp(`^${path}:1:28: filter: syntax error: Unexpected token\n`));
});
