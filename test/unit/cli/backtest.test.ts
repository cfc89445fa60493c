// `rtcrm backtest` on small files, against expectations computed without it: plain TypeScript for simple
// filters, and the pure rules with an in-process sandbox (test/helpers/expected.ts) for the generated workload.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
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

const MAIN = fileURLToPath(new URL("../../../src/cli/main.js", import.meta.url));

/**
 * `n` foe/fight events as JSON Lines, one second apart; short, so that one chunk of the file holds many of them
 * (the reader takes 64 KiB at a time, and lines of one chunk come without a turn of the event loop).
 */
function fightEvents(n: number): string {
  let out = "";
  for (let i = 0; i < n; i++) {
    const createdAt = new Date(Date.UTC(2026, 0, 1) + i * 1000).toISOString();
    out += `{"game":"foe","event_name":"fight","created_at":"${createdAt}"}\n`;
  }
  return out;
}

/** Campaign 1 matches every foe/fight event; campaign 2's filter never returns. */
const TRUE_AND_LOOPING = JSON.stringify([
  { campaign_id: 1, enabled: true, game: "foe", event_name: "fight", filter: "function(e) { return true }" },
  { campaign_id: 2, enabled: true, game: "foe", event_name: "fight", filter: "function(e) { for (;;) {} }" },
]);

/** Campaign 7 matches every foe/fight event. */
const ALWAYS_TRUE = JSON.stringify([
  { campaign_id: 7, enabled: true, game: "foe", event_name: "fight", filter: "function(e) { return true }" },
]);

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
  // Campaign 5 must run out of fuel on every event: a deadline far beyond what its fuel takes keeps a loaded
  // machine from turning some of its calls into timeouts.
  const config = tempFile("config.json", JSON.stringify({ call_deadline_ms: 60_000 }));

  const { code, stdout, stderr } = await cli([
    "backtest",
    "--campaigns",
    campaignsFile,
    "--events",
    events,
    "--json",
    "--config",
    config,
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
  const campaigns = tempFile("c.json", ALWAYS_TRUE);
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

// Needs the engine that enforces call_deadline_ms: without it, campaign 2's first call runs until its 10^12
// units of fuel are spent (hours), and the test fails at its timeout.
test(
  "calls stopped at the call deadline count as failed filter calls, by kind",
  { timeout: 120_000 },
  async () => {
    const events = tempFile("events.jsonl", fightEvents(5));
    const campaigns = tempFile("c.json", TRUE_AND_LOOPING);
    const config = tempFile(
      "config.json",
      JSON.stringify({ fuel_per_evaluation: 1e12, call_deadline_ms: 5 }),
    );
    const { code, stdout, stderr } = await cli([
      "backtest",
      "--campaigns",
      campaigns,
      "--events",
      events,
      "--config",
      config,
    ]);
    assert.equal(code, 0, stderr);
    assert.match(stdout, /\n +1 {2}foe +fight +5 +0 +5 +0 +0\n/);
    assert.match(stdout, /\n +2 {2}foe +fight +5 +0 +0 +0 +5\n/);
    assert.match(stdout, /\ncampaign 2: filter failed on timeout 5 \(no match, as in the engine\)\n/);
  },
);

test("on SIGINT or SIGTERM it reads no further event, prints what it did to stderr marked as interrupted, and exits 130 or 143", async () => {
  const events = tempFile("events.jsonl", fightEvents(50));
  const campaigns = tempFile("c.json", ALWAYS_TRUE);

  // The "signal" comes with the first trigger: the event after it is not evaluated.
  const sigint = new AbortController();
  const stopped = await cli(["backtest", "--campaigns", campaigns, "--events", events, "--triggers"], {
    signal: sigint.signal,
    onStdout: () => sigint.abort("SIGINT"),
  });
  assert.equal(stopped.code, 130, stopped.stderr);
  assert.equal(stopped.stdout.trimEnd().split("\n").length, 1, "the one trigger written before the signal");
  assert.match(stopped.stderr, /^interrupted by SIGINT: the counts below are those of the first 1 events\n/);
  assert.match(
    stopped.stderr,
    /events\.jsonl: 1 events, 0 malformed, 1 evaluated against at least one campaign; 1 triggers/,
  );
  assert.match(stopped.stderr, /\n +7 {2}foe +fight +1 +0 +1 +0 +0\n/);

  // With --json, stdout gets nothing: a partial report must not pass for a complete one.
  const sigterm = new AbortController();
  sigterm.abort("SIGTERM");
  const json = await cli(["backtest", "--campaigns", campaigns, "--events", events, "--json"], {
    signal: sigterm.signal,
  });
  assert.equal(json.code, 143, json.stderr);
  assert.equal(json.stdout, "");
  assert.match(json.stderr, /^interrupted by SIGTERM: the counts below are those of the first 0 events\n/);

  // Not interrupted: the whole file, exit code 0.
  const whole = await cli(["backtest", "--campaigns", campaigns, "--events", events]);
  assert.equal(whole.code, 0, whole.stderr);
  assert.match(whole.stdout, /^\S+events\.jsonl: 50 events, 0 malformed, 50 evaluated/);
});

// Needs the engine that enforces call_deadline_ms: without it, the first call of the looping filter (10^12 units
// of fuel) never gives the event loop a turn, the SIGTERM handler never runs, and the child is killed at the bound.
test(
  "the built rtcrm backtest stops on SIGTERM while a filter loops, prints the interrupted summary and exits 143",
  { timeout: 120_000 },
  async () => {
    const events = tempFile("events.jsonl", fightEvents(5_000));
    const campaigns = tempFile("c.json", TRUE_AND_LOOPING);
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("RTCRM_")));
    const child = spawn(
      process.execPath,
      [MAIN, "backtest", "--campaigns", campaigns, "--events", events, "--triggers"],
      { stdio: ["ignore", "pipe", "pipe"], env: { ...env, RTCRM_FUEL_PER_EVALUATION: "1000000000000" } },
    );
    let stderr = "";
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on("close", (code) => resolve(code)));
    // SIGTERM after its first trigger (campaign 1, first event), or after a while if none comes.
    await new Promise<void>((resolve) => {
      const wait = setTimeout(resolve, 10_000);
      child.stdout.once("data", () => {
        clearTimeout(wait);
        resolve();
      });
    });
    child.stdout.resume();
    child.kill("SIGTERM");
    // Only proves that it exits at all: it should at the next event, within about one call deadline. Without
    // turns of the event loop it would take the rest of the file's chunk (some 800 calls of 50 ms).
    const bound = setTimeout(() => child.kill("SIGKILL"), 20_000);
    const code = await exited;
    clearTimeout(bound);
    assert.equal(code, 143, `exit code (null: killed at the bound); stderr:\n${stderr}`);
    const read = Number(
      /^interrupted by SIGTERM: the counts below are those of the first (\d+) events\n/.exec(stderr)?.[1],
    );
    assert.ok(read >= 1 && read < 5_000, stderr);
    assert.match(stderr, /CAMPAIGN +GAME +EVENT_NAME +EVENTS +OUT_OF_WINDOW +MATCHES +NO_MATCH +FAILED\n/);
    assert.match(stderr, new RegExp(`\\n +2  foe +fight +${read} +0 +0 +0 +${read}\\n`));
    assert.match(stderr, new RegExp(`\\ncampaign 2: filter failed on timeout ${read} `));
  },
);
