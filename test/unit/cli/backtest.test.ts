// `rtcrm backtest` on small files, against expectations computed without it: plain TypeScript for simple
// filters, and the pure rules with an in-process sandbox (test/helpers/expected.ts) for the generated workload.
import { test } from "node:test";
import assert from "node:assert/strict";
import { parseCampaign } from "../../../src/campaigns/campaign.js";
import { triggerId, triggerValue } from "../../../src/triggers/trigger.js";
import { campaignRecord, generateCampaigns, generateEvents } from "../../../bench/workload/generator.js";
import { Reference } from "../../helpers/expected.js";
import { cli, tempFile } from "./run-cli.js";

interface Report {
  events: { read: number; malformed: number; evaluated: number; triggers: number };
  malformed: { line: number; reason: string }[];
  campaigns: { campaign_id: number; candidates: number; matches: number; outcomes: Record<string, number> }[];
  rejected: { line: number; campaign_id: number | null; reasons: string[] }[];
  triggers?: {
    key: string | null;
    headers: Record<string, string>;
    value: { campaign: { campaign_id: number }; event: { event_id: string } };
  }[];
}

interface Ev {
  game: string;
  event_name: string;
  created_at: string;
  event_id: string;
  data: { result: string; level: number };
}

const MALFORMED = [
  "not json",
  '{"game":"foe"}',
  '{"game":"foe","event_name":"fight","created_at":"yesterday"}',
  "[1,2]",
];

test("per-campaign matches equal plain TypeScript on the same events; malformed events are counted, not fatal", async () => {
  const lines = [...generateEvents(11, 600)].map((e) => e.json);
  // Malformed records among the good ones, at known lines; a blank line is no record.
  lines.splice(3, 0, ...MALFORMED);
  lines.splice(10, 0, "");
  const events = tempFile("events.jsonl", lines.join("\n") + "\n");
  const windowStart = "2026-01-01T00:00:01Z";
  const windowEnd = "2026-01-01T00:00:04Z";
  const campaigns = [
    {
      campaign_id: 1,
      enabled: true,
      game: "foe",
      event_name: "fight",
      start_date: windowStart,
      end_date: windowEnd,
      filter: "function(event) { return event.getData().get('result') === 'loss' }",
    },
    // Written twice: as on the topic, the later record wins.
    { campaign_id: 2, enabled: true, game: "foe", event_name: "fight", filter: "(e) => e.data.level > 10" },
    {
      campaign_id: 3,
      enabled: false,
      game: "foe",
      event_name: "login",
      filter: "function(e) { return true }",
    },
    {
      campaign_id: 4,
      enabled: true,
      game: "foe",
      event_name: "login",
      filter: "function(e) { return e.data.nothing.here }",
    },
    {
      campaign_id: 5,
      enabled: true,
      game: "foe",
      event_name: "logout",
      filter: "function(e) { for (;;) {} }",
    },
    { campaign_id: 2, enabled: true, game: "foe", event_name: "fight", filter: "(e) => e.data.level > 100" },
  ];
  const campaignsFile = tempFile("campaigns.jsonl", campaigns.map((c) => JSON.stringify(c)).join("\n"));

  const { code, stdout, stderr } = await cli([
    "backtest",
    "--campaigns",
    campaignsFile,
    "--events",
    events,
    "--json",
  ]);
  assert.equal(code, 0, stderr);
  const report = JSON.parse(stdout) as Report;

  const good = lines.filter((l) => l.includes("schema_version")).map((l) => JSON.parse(l) as Ev);
  const at = (e: Ev) => Date.parse(e.created_at);
  const of = (game: string, name: string) => good.filter((e) => e.game === game && e.event_name === name);
  const fights = of("foe", "fight");
  const expected = new Map([
    [
      1,
      fights.filter(
        (e) => at(e) > Date.parse(windowStart) && at(e) < Date.parse(windowEnd) && e.data.result === "loss",
      ).length,
    ],
    [2, fights.filter((e) => e.data.level > 100).length],
    [3, 0],
    [4, 0],
    [5, 0],
  ]);
  assert.ok(
    (expected.get(1) ?? 0) > 0 && (expected.get(2) ?? 0) > 0,
    "the workload gives both campaigns matches",
  );
  assert.deepEqual(new Map(report.campaigns.map((c) => [c.campaign_id, c.matches])), expected);

  const byId = new Map(report.campaigns.map((c) => [c.campaign_id, c]));
  assert.equal(byId.get(1)?.candidates, fights.length);
  const outside = fights.filter(
    (e) => !(at(e) > Date.parse(windowStart) && at(e) < Date.parse(windowEnd)),
  ).length;
  assert.equal((byId.get(1)?.outcomes["not-started"] ?? 0) + (byId.get(1)?.outcomes["ended"] ?? 0), outside);
  assert.equal(byId.get(3)?.outcomes.disabled, of("foe", "login").length);
  assert.equal(byId.get(4)?.outcomes.threw, of("foe", "login").length);
  assert.equal(byId.get(5)?.outcomes["out-of-fuel"], of("foe", "logout").length);

  assert.deepEqual(report.events, {
    read: 604,
    malformed: 4,
    evaluated: good.filter((e) => e.game === "foe" && ["fight", "login", "logout"].includes(e.event_name))
      .length,
    triggers: (expected.get(1) ?? 0) + (expected.get(2) ?? 0),
  });
  assert.deepEqual(
    report.malformed.map((m) => m.line),
    [4, 5, 6, 7],
  );
  assert.match(report.malformed[0]?.reason ?? "", /^not valid JSON/);
  assert.equal(report.malformed[1]?.reason, "event_name is missing");
  assert.match(report.malformed[2]?.reason ?? "", /created_at is missing or not an ISO-8601 instant/);
  assert.match(report.malformed[3]?.reason ?? "", /not a JSON object but an array/);
  assert.deepEqual(report.rejected, []);
});

test("--triggers gives the engine's records: the trigger set of the pure rules, keys, values and ids", async () => {
  const lines = [...generateEvents(5, 800)].map((e) => e.json);
  lines.splice(100, 0, "{}");
  const events = tempFile("events.jsonl", lines.join("\n") + "\n");
  const generated = generateCampaigns(9, 10);
  const records = generated.map((c) => JSON.parse(campaignRecord(c)) as Record<string, unknown>);
  const campaignsFile = tempFile("campaigns.json", JSON.stringify(records));
  const config = tempFile("config.json", JSON.stringify({ event_topic: "recorded-events" }));

  const { code, stdout, stderr } = await cli([
    "backtest",
    "--campaigns",
    campaignsFile,
    "--events",
    events,
    "--triggers",
    "--json",
    "--config",
    config,
  ]);
  assert.equal(code, 0, stderr);
  const report = JSON.parse(stdout) as Report;

  const reference = new Reference(records);
  const expected: string[] = [];
  for (const line of lines) {
    const e = JSON.parse(line) as Partial<Ev>;
    if (e.created_at === undefined) continue;
    for (const id of reference.matches(line, Date.parse(e.created_at))) expected.push(`${id}:${e.event_id}`);
  }
  const got = (report.triggers ?? []).map(
    (t) => `${t.headers["rtcrm-campaign-id"]}:${t.value.event.event_id}`,
  );
  assert.ok(expected.length > 50, `the workload gives triggers (${expected.length})`);
  assert.deepEqual([...got].sort(), [...expected].sort());
  assert.equal(report.events.triggers, expected.length);

  // Each record as the engine writes it: key = player id, value byte for byte, id from the event's offset.
  const versions = new Map(
    records.map((r) => {
      const parsed = parseCampaign(r);
      assert.ok(parsed.ok);
      return [parsed.campaign.campaignId, parsed.campaign] as const;
    }),
  );
  const raw = stdout.slice(stdout.indexOf('"triggers": ['));
  for (const [i, t] of (report.triggers ?? []).entries()) {
    const offset = Number(t.headers["rtcrm-source"]?.split("/")[2]);
    const line = lines[offset] as string;
    const campaign = versions.get(t.value.campaign.campaign_id);
    assert.ok(campaign);
    assert.equal(t.key, String((JSON.parse(line) as { player_id: number }).player_id));
    assert.equal(t.headers["rtcrm-source"], `recorded-events/0/${offset}`);
    assert.equal(
      t.headers["rtcrm-trigger-id"],
      triggerId({ topic: "recorded-events", partition: 0, offset }, campaign.versionKey),
    );
    if (i < 20)
      assert.ok(raw.includes(`"value":${triggerValue(campaign.json, line)}`), "value is the engine's bytes");
  }
});

test("without --json the summary is a table; with --triggers the triggers own stdout as JSON lines", async () => {
  const lines = [...generateEvents(3, 200)].map((e) => e.json);
  const events = tempFile("events.jsonl", lines.join("\n"));
  const campaigns = tempFile(
    "c.json",
    JSON.stringify([
      {
        campaign_id: 7,
        enabled: true,
        game: "foe",
        event_name: "fight",
        filter: "function(e) { return true }",
      },
    ]),
  );
  const fights = lines.filter((l) => l.includes('"game":"foe"') && l.includes('"event_name":"fight"')).length;

  const plain = await cli(["backtest", "--campaigns", campaigns, "--events", events]);
  assert.equal(plain.code, 0);
  assert.match(
    plain.stdout,
    new RegExp(
      `^${events}: 200 events, 0 malformed, ${fights} evaluated against at least one campaign; ${fights} triggers`,
    ),
  );
  assert.match(
    plain.stdout,
    /CAMPAIGN +GAME +EVENT_NAME +EVENTS +OUT_OF_WINDOW +MATCHES +NO_MATCH +FAILED\n/,
  );
  assert.match(plain.stdout, new RegExp(`\\n +7  foe +fight +${fights} +0 +${fights} +0 +0\\n`));

  const streamed = await cli(["backtest", "--campaigns", campaigns, "--events", events, "--triggers"]);
  assert.equal(streamed.code, 0);
  const out = streamed.stdout.trimEnd().split("\n");
  assert.equal(out.length, fights);
  for (const l of out)
    assert.equal((JSON.parse(l) as { headers: Record<string, string> }).headers["rtcrm-campaign-id"], "7");
  assert.match(streamed.stderr, /CAMPAIGN +GAME/);

  // Events can come from stdin.
  const piped = await cli(["backtest", "--campaigns", campaigns, "--events", "-"], {
    stdin: lines.join("\n"),
  });
  assert.equal(piped.stdout, plain.stdout.replace(events, "<stdin>"));
});

test("campaigns the engine would reject are reported with their reasons, the rest evaluated, and the exit code is 1", async () => {
  const events = tempFile("events.jsonl", [...generateEvents(3, 50)].map((e) => e.json).join("\n"));
  const campaigns = tempFile(
    "c.jsonl",
    [
      {
        campaign_id: 1,
        enabled: true,
        game: "foe",
        event_name: "fight",
        filter: "function(e) { return true }",
      },
      {
        campaign_id: 2,
        enabled: true,
        game: "foe",
        event_name: "fight",
        filter: "function(e) { return require('fs') }",
      },
      { campaign_id: 3, enabled: true, event_name: "fight", filter: "function(e) { return true }" },
    ]
      .map((c) => JSON.stringify(c))
      .join("\n"),
  );
  const { code, stdout, stderr } = await cli([
    "backtest",
    "--campaigns",
    campaigns,
    "--events",
    events,
    "--json",
  ]);
  assert.equal(code, 1);
  const report = JSON.parse(stdout) as Report;
  assert.deepEqual(
    report.campaigns.map((c) => c.campaign_id),
    [1],
  );
  assert.deepEqual(
    report.rejected.map((r) => [r.line, r.campaign_id]),
    [
      [2, 2],
      [3, 3],
    ],
  );
  assert.match(
    stderr,
    /c.jsonl:2: campaign 2 rejected, as the engine would: filter: require is not available.*\(line 1, column 22\)/,
  );
  assert.match(
    stderr,
    /c.jsonl:3: campaign 3 rejected, as the engine would: game must be a non-empty string/,
  );

  const notJson = tempFile("c.json", "{ nope");
  const broken = await cli(["backtest", "--campaigns", notJson, "--events", events]);
  assert.equal(broken.code, 1);
  assert.match(broken.stderr, /c.json:1: not valid JSON/);
});
