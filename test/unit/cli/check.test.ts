// `rtcrm campaign check` and checkCampaign: every problem at once, filter problems with their line and column
// inside the filter's source, no Kafka.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { checkCampaign, type CheckLimits } from "../../../src/client/check-campaign.js";
import { FilterCompiler } from "../../../src/compile/filter-compiler.js";
import { defaults } from "../../../src/config/config.js";
import { loadEngineModule } from "../../../src/sandbox/engine-module.js";
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
  assert.equal(
    ok.stdout,
    `${good}: campaign 4711 (foe/fight) is valid; its filter compiles and runs within the limits on an example event\n`,
  );

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

/** The engine's default limits, with a deadline no loaded machine reaches: the fuel decides. */
const limits = (over: Partial<CheckLimits> = {}): CheckLimits => ({
  ...defaults(),
  call_deadline_ms: 60_000,
  ...over,
});

const RAN_OUT =
  "filter: ran out of fuel on the example event (fuel budget 1000): the engine would stop every such call and " +
  "quarantine the campaign; make the filter do less work per event, or raise fuel_per_evaluation or the " +
  "campaign's entry in fuel_overrides";

test("the filter runs once on an example event: a call the sandbox stops is a problem saying what to change", () => {
  const looping = checkCampaign(campaign({ filter: "function(e) { for (;;) {} }" }), {
    limits: limits({ fuel_per_evaluation: 1000 }),
  });
  assert.ok(!looping.ok);
  assert.deepEqual(looping.problems, [{ where: "filter", message: RAN_OUT }]);

  // The campaign's own fuel budget (fuel_overrides) is the one that applies.
  const overridden = checkCampaign(campaign({ filter: "function(e) { for (;;) {} }" }), {
    limits: limits({ fuel_per_evaluation: 1000, fuel_overrides: { "4711": 2000 } }),
  });
  assert.ok(!overridden.ok);
  assert.match(overridden.problems[0]?.message ?? "", /\(fuel budget 2000\)/);

  const greedy = checkCampaign(campaign({ filter: "function(e) { return 'x'.repeat(1e8).length > 0 }" }), {
    limits: limits({ memory_limit_bytes: 1024 * 1024 }),
  });
  assert.ok(!greedy.ok);
  assert.match(
    greedy.problems[0]?.message ?? "",
    /^filter: ran out of memory on the example event \(memory_limit_bytes 1048576\): .*raise memory_limit_bytes$/,
  );

  const deep = checkCampaign(campaign({ filter: "function f(e) { return f(e) }" }), { limits: limits() });
  assert.ok(!deep.ok);
  assert.match(deep.problems[0]?.message ?? "", /^filter: overflowed the stack on the example event/);

  // Listed with the other problems, as one check lists them all.
  const both = checkCampaign(campaign({ enabled: "yes", filter: "function(e) { for (;;) {} }" }), {
    limits: limits({ fuel_per_evaluation: 1000 }),
  });
  assert.ok(!both.ok);
  assert.deepEqual(
    both.problems.map((p) => p.where),
    ["campaign", "filter"],
  );
});

test("the example event has the campaign's game and event_name", () => {
  const filter =
    "function(e) { if (e.getGame() === 'elvenar' && e.getEventName() === 'login') { for (;;) {} } return true }";
  const options = { limits: limits({ fuel_per_evaluation: 1000 }) };
  assert.ok(checkCampaign(campaign({ filter }), options).ok, "on foe/fight it returns at once");
  const login = checkCampaign(campaign({ filter, game: "elvenar", event_name: "login" }), options);
  assert.ok(!login.ok);
  assert.deepEqual(login.problems, [{ where: "filter", message: RAN_OUT }]);
});

test("a filter that throws, does not match, or probes a host global with typeof is fine on the example event", () => {
  for (const filter of [
    "function(e) { return e.getData().get('nothing').deeper }",
    "function(e) { throw new Error('not for this event') }",
    "(e) => false",
    "(e) => typeof process === 'undefined' && typeof WebAssembly === 'undefined'",
  ]) {
    const result = checkCampaign(campaign({ filter }), { limits: limits({ fuel_per_evaluation: 1000 }) });
    assert.ok(result.ok, `${filter}: ${JSON.stringify(result)}`);
  }
});

test("runOnExample: false only compiles, as the engine's own checks do", () => {
  const result = checkCampaign(campaign({ filter: "function(e) { for (;;) {} }" }), {
    limits: limits({ fuel_per_evaluation: 1000 }),
    runOnExample: false,
  });
  assert.ok(result.ok);
});

test("the checks run in the compiler's one sandbox, and leave no filter loaded in it", () => {
  const compiler = new FilterCompiler(
    loadEngineModule(),
    join(mkdtempSync(join(tmpdir(), "rtcrm-check-")), "filters-compiled"),
  );
  const sandbox = compiler.sandbox();
  const options = { compiler, limits: limits({ fuel_per_evaluation: 1000 }) };
  const good = checkCampaign(campaign({}), options);
  assert.ok(good.ok);
  const looping = checkCampaign(campaign({ filter: "function(e) { for (;;) {} }" }), options);
  assert.ok(!looping.ok);
  assert.equal(compiler.sandbox(), sandbox);
  assert.equal(sandbox.has(`check-${good.filter.hash}`), false);
  assert.equal(sandbox.stats().filters, 0);
});

// Needs the engine that enforces call_deadline_ms: without it, the loop runs until its 10^12 units of fuel are
// spent (hours), and the test fails at its timeout.
test(
  "a filter past call_deadline_ms on the example event is a problem naming the setting",
  { timeout: 60_000 },
  () => {
    const result = checkCampaign(campaign({ filter: "function(e) { for (;;) {} }" }), {
      limits: limits({ fuel_per_evaluation: 1e12, call_deadline_ms: 20 }),
    });
    assert.ok(!result.ok);
    assert.deepEqual(result.problems, [
      {
        where: "filter",
        message:
          "filter: did not finish within the call deadline on the example event (call_deadline_ms 20): the engine " +
          "would stop every such call and quarantine the campaign; make the filter do less work per event, or " +
          "raise call_deadline_ms",
      },
    ]);
  },
);

test("rtcrm campaign check and put run the example under the configuration's limits; put then writes nothing", async () => {
  const path = tempFile("loop.json", campaign({ filter: "function(e) { for (;;) {} }" }));
  const env = { RTCRM_FUEL_PER_EVALUATION: "1000", RTCRM_CALL_DEADLINE_MS: "60000" };
  const checked = await cli(["campaign", "check", path], { env });
  assert.equal(checked.code, 1);
  assert.equal(checked.stdout, `${path}: ${RAN_OUT}\n`);

  // Refused before any Kafka client is made: no broker runs here.
  const put = await cli(["campaign", "put", path], { env });
  assert.equal(put.code, 1);
  assert.equal(put.stderr, `${path}: ${RAN_OUT}\n`);
  assert.equal(put.stdout, "");

  // `campaign check` reads the configuration as every command does.
  const misconfigured = await cli(["campaign", "check", path], { env: { RTCRM_CALL_DEADLINE_MS: "soon" } });
  assert.equal(misconfigured.code, 2);
  assert.match(misconfigured.stderr, /call_deadline_ms/);
});
