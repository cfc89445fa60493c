// `rtcrm` as a child process against the real broker: campaign put/get/list/delete on a fresh campaign topic,
// event send and triggers tail with a running engine, `rtcrm run`, and the backtest against the engine: the same
// events give the same matches offline as through Kafka.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { campaignRecord, generateCampaigns, generateEvents } from "../../bench/workload/generator.js";
import { waitCommitted } from "../../bench/lib/kafka.js";
import { SEED_CAMPAIGN_JSON, SEED_EVENT_JSON } from "../fixtures/seed.js";
import {
  createEngineTopics,
  deleteEngineTopics,
  engineFixture,
  engineSetup,
} from "../helpers/engine-process.js";
import { produce, readToEnd, within } from "../helpers/kafka.js";
import { CLI_MAIN as MAIN, cleanEnv, rtcrm as runCli } from "../helpers/cli-process.js";

const DAY = 86_400_000;

/** `rtcrm args...` with `stdin` piped in. */
const rtcrm = (args: string[], stdin = "", timeoutMs = 120_000) => runCli(args, { stdin, timeoutMs });

const around = (now = Date.now()) => ({
  start_date: new Date(now - DAY).toISOString(),
  end_date: new Date(now + DAY).toISOString(),
});

test("campaign put, get, list and delete round-trip through a fresh campaign topic", async (t) => {
  const { topics, configPath, dir } = engineSetup("cli-crud");
  await createEngineTopics(topics);
  t.after(() => deleteEngineTopics(topics));
  const cfg = ["--config", configPath];

  const empty = await rtcrm(["campaign", "list", ...cfg]);
  assert.equal(empty.code, 0, empty.stderr);
  assert.equal(empty.stdout, "");
  assert.match(empty.stderr, new RegExp(`no campaigns on ${topics.campaign_topic}`));

  const seed = JSON.parse(SEED_CAMPAIGN_JSON) as Record<string, unknown>;
  const one = join(dir, "one.json");
  writeFileSync(one, JSON.stringify(seed, null, 2));
  const put = await rtcrm(["campaign", "put", one, ...cfg]);
  assert.equal(put.code, 0, put.stderr);
  assert.equal(put.stdout, `campaign 4711 written to ${topics.campaign_topic} (partition 0, offset 0)\n`);

  // Two more from stdin as JSON Lines, then a new version of 4711.
  const more = [4712, 4713]
    .map((id) => JSON.stringify({ ...seed, campaign_id: id, game: `game-${id}` }))
    .join("\n");
  assert.equal((await rtcrm(["campaign", "put", "-", ...cfg], more)).code, 0);
  const v2 = { ...seed, enabled: false, filter: "function(event) { return event.getMarket() === 'de' }" };
  assert.equal((await rtcrm(["campaign", "put", "-", ...cfg], JSON.stringify(v2))).code, 0);

  // An invalid campaign writes nothing and says why, with the filter position.
  const invalid = await rtcrm(
    ["campaign", "put", "-", ...cfg],
    JSON.stringify({ ...seed, campaign_id: 4714, filter: "function(event) { return fetch('x') }" }),
  );
  assert.equal(invalid.code, 1);
  assert.match(
    invalid.stderr,
    /^<stdin>:1:26: filter: fetch is not available: a filter cannot use the network\n/,
  );

  const got = await rtcrm(["campaign", "get", "4711", ...cfg]);
  assert.equal(got.code, 0, got.stderr);
  assert.deepEqual(JSON.parse(got.stdout), v2);

  const deleted = await rtcrm(["campaign", "delete", "4712", ...cfg]);
  assert.equal(deleted.code, 0, deleted.stderr);
  assert.equal(deleted.stdout, `campaign 4712 deleted (tombstone written to ${topics.campaign_topic})\n`);
  const gone = await rtcrm(["campaign", "get", "4712", ...cfg]);
  assert.equal(gone.code, 1);
  assert.match(
    gone.stderr,
    /campaign 4712 is not on test-cli-crud-.*-campaigns \(never written, or deleted\)/,
  );

  const listed = await rtcrm(["campaign", "list", "--json", ...cfg]);
  assert.equal(listed.code, 0, listed.stderr);
  assert.deepEqual(JSON.parse(listed.stdout), [v2, { ...seed, campaign_id: 4713, game: "game-4713" }]);
  const tableOut = await rtcrm(["campaign", "list", ...cfg]);
  assert.equal(tableOut.code, 0);
  const rows = tableOut.stdout.trimEnd().split("\n");
  assert.match(rows[0] ?? "", /^ +ID +ENABLED +GAME +EVENT_NAME +START +END +FILTER$/);
  assert.match(
    rows[1] ?? "",
    /^4711 +false +foe +fight +2023-09-01T10:00:00.00Z +2023-12-01T10:00:00.00Z +function\(event\)/,
  );
  assert.match(rows[2] ?? "", /^4713 +true +game-4713 +fight/);
  assert.equal(rows.length, 3);

  // On the topic itself: keyed by campaign id, the delete a tombstone, the invalid one absent.
  const records = await readToEnd(topics.campaign_topic);
  assert.deepEqual(
    records.map((r) => [
      r.key,
      r.value === null ? null : (JSON.parse(r.value) as { campaign_id: number }).campaign_id,
    ]),
    [
      ["4711", 4711],
      ["4712", 4712],
      ["4713", 4713],
      ["4711", 4711],
      ["4712", null],
    ],
  );
});

test("event send and triggers tail with a running engine; campaign put --wait reports the engine's verdict", async (t) => {
  const { topics, configPath, dir, start } = await engineFixture(t, "cli-tail");
  const cfg = ["--config", configPath];
  await start();

  const campaign = { ...(JSON.parse(SEED_CAMPAIGN_JSON) as object), ...around() };
  const put = await rtcrm(["campaign", "put", "--wait", "-", ...cfg], JSON.stringify(campaign));
  assert.equal(put.code, 0, put.stderr);
  assert.match(put.stdout, /\ncampaign 4711 accepted by the engine\n$/);

  // The tail is positioned (it says so on stderr) before anything is sent, and ends after two triggers.
  const tail = spawn(process.execPath, [MAIN, "triggers", "tail", "--max", "2", ...cfg], { env: cleanEnv() });
  t.after(() => {
    if (tail.exitCode === null) tail.kill("SIGKILL");
  });
  let tailOut = "";
  let tailErr = "";
  tail.stdout.on("data", (d: Buffer) => (tailOut += d.toString()));
  const tailExit = new Promise<number | null>((resolve) => tail.on("close", resolve));
  await within(
    60_000,
    "tail to start",
    new Promise<void>((resolve) =>
      tail.stderr.on("data", (d: Buffer) => {
        tailErr += d.toString();
        if (tailErr.includes("following")) resolve();
      }),
    ),
  );

  const sent = await rtcrm(["event", "send", "--json", SEED_EVENT_JSON, ...cfg]);
  assert.equal(sent.code, 0, sent.stderr);
  assert.equal(sent.stdout, `sent 1 event to ${topics.event_topic} (partition 0, offset 0)\n`);
  // A file of JSON Lines: a win (no trigger) and a loss in market pl (a trigger).
  const seedEvent = JSON.parse(SEED_EVENT_JSON) as Record<string, unknown>;
  const lines = [
    { ...seedEvent, event_id: "win", data: { result: "win" } },
    { ...seedEvent, event_id: "loss", player_id: 777, market: "pl" },
  ];
  const file = join(dir, "events.jsonl");
  writeFileSync(file, lines.map((l) => JSON.stringify(l)).join("\n") + "\n");
  const sentFile = await rtcrm(["event", "send", file, ...cfg]);
  assert.equal(sentFile.code, 0, sentFile.stderr);
  assert.equal(sentFile.stdout, `sent 2 events to ${topics.event_topic} (partitions 0)\n`);

  assert.equal(await within(60_000, "tail to end after --max 2", tailExit), 0);
  assert.equal(
    tailOut,
    "Trigger campaign 4711 for player 12345 in game foe and market de!\n" +
      "Trigger campaign 4711 for player 777 in game foe and market pl!\n",
  );

  // --raw from the beginning: the records as the engine wrote them.
  const raw = await rtcrm(["triggers", "tail", "--from-beginning", "--raw", "--max", "2", ...cfg]);
  assert.equal(raw.code, 0, raw.stderr);
  assert.equal(
    raw.stdout,
    `{"campaign":${JSON.stringify(campaign)},"event":${SEED_EVENT_JSON}}\n` +
      `{"campaign":${JSON.stringify(campaign)},"event":${JSON.stringify(lines[1])}}\n`,
  );

  // An event file with a line that is not an object sends nothing.
  const bad = join(dir, "bad.jsonl");
  writeFileSync(bad, `${SEED_EVENT_JSON}\n[1]\nnope\n`);
  const refused = await rtcrm(["event", "send", bad, ...cfg]);
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /bad.jsonl:2: an event must be a JSON object\n.*bad.jsonl:3: not valid JSON/s);
  assert.equal((await readToEnd(topics.event_topic)).length, 3);
});

test("rtcrm run starts the engine and stops it cleanly on SIGTERM; a bad configuration exits 2", async (t) => {
  const { configPath } = await engineFixture(t, "cli-run");
  const child = spawn(process.execPath, [MAIN, "run", "--config", configPath], { env: cleanEnv() });
  t.after(() => {
    if (child.exitCode === null) child.kill("SIGKILL");
  });
  let log = "";
  const exited = new Promise<number | null>((resolve) => child.on("close", resolve));
  await within(
    90_000,
    "engine started",
    new Promise<void>((resolve) =>
      child.stderr.on("data", (d: Buffer) => {
        log += d.toString();
        if (log.includes('"msg":"engine started"')) resolve();
      }),
    ),
  );
  child.kill("SIGTERM");
  assert.equal(await within(60_000, "rtcrm run to exit", exited), 0, log.slice(-2000));
  assert.match(log, /"msg":"stopped cleanly"/);

  const bad = await rtcrm(["run", "--config", "/nonexistent/config.json"]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /\/nonexistent\/config.json: cannot be read \(ENOENT\)/);
});

test("rtcrm backtest on a generated events file gives the same matches and triggers as the engine through Kafka", async (t) => {
  const { topics, config, configPath, dir, start } = await engineFixture(t, "cli-backtest", {
    time_basis: "created-at",
  });

  // 3,000 events over 30 s of created_at, malformed records among them; 40 generated campaigns, one more whose
  // window covers a third of the events, and a disabled one.
  const lines = [...generateEvents(20260101, 3000)].map((e) => e.json);
  lines.splice(17, 0, "not json");
  lines.splice(400, 0, '{"game":"foe","event_name":"fight","created_at":"last tuesday"}');
  lines.splice(1200, 0, '{"event_name":"fight"}');
  const campaigns: Record<string, unknown>[] = generateCampaigns(77, 40).map(
    (c) => JSON.parse(campaignRecord(c)) as Record<string, unknown>,
  );
  campaigns.push({
    campaign_id: 900,
    enabled: true,
    game: "foe",
    event_name: "fight",
    start_date: "2026-01-01T00:00:10Z",
    end_date: "2026-01-01T00:00:20Z",
    filter: "function(event) { return true }",
  });
  campaigns.push({ ...campaigns[0], campaign_id: 901, enabled: false });
  const eventsFile = join(dir, "events.jsonl");
  const campaignsFile = join(dir, "campaigns.json");
  writeFileSync(eventsFile, lines.join("\n") + "\n");
  writeFileSync(campaignsFile, JSON.stringify(campaigns, null, 2));

  const cfg = ["--config", configPath];
  const offline = await rtcrm([
    "backtest",
    "--campaigns",
    campaignsFile,
    "--events",
    eventsFile,
    "--json",
    ...cfg,
  ]);
  assert.equal(offline.code, 0, offline.stderr);
  const report = JSON.parse(offline.stdout) as {
    events: { read: number; malformed: number; triggers: number };
    campaigns: { campaign_id: number; matches: number }[];
  };
  assert.equal(report.events.read, lines.length);
  assert.equal(report.events.malformed, 3);
  const window = report.campaigns.find((c) => c.campaign_id === 900);
  assert.ok(
    window && window.matches > 0 && window.matches < 1000,
    `window campaign matched ${window?.matches}`,
  );

  // The engine: campaigns through the CLI, events in file order to the one partition of the events topic.
  await start();
  const put = await rtcrm(["campaign", "put", "--wait", campaignsFile, ...cfg]);
  assert.equal(put.code, 0, put.stderr + put.stdout);
  assert.equal(put.stdout.match(/accepted by the engine/g)?.length, campaigns.length);
  await produce(
    topics.event_topic,
    lines.map((value) => ({ value, partition: 0 })),
  );
  await waitCommitted(config.kafka_group_id, topics.event_topic, new Map([[0, lines.length]]), 300_000);
  // Offsets are committed only after every trigger of an event is acknowledged: the topic is complete now.
  const triggers = await readToEnd(topics.trigger_topic);
  const deadLetters = await readToEnd(topics.dead_letter_topic);

  const perCampaign = new Map<number, number>();
  for (const r of triggers) {
    const id = Number(r.headers["rtcrm-campaign-id"]);
    perCampaign.set(id, (perCampaign.get(id) ?? 0) + 1);
  }
  const expectedPerCampaign = new Map(
    report.campaigns.filter((c) => c.matches > 0).map((c) => [c.campaign_id, c.matches]),
  );
  assert.ok(report.events.triggers > 500, `the workload gives triggers (${report.events.triggers})`);
  assert.deepEqual(new Map([...perCampaign].sort((a, b) => a[0] - b[0])), expectedPerCampaign);

  // Trigger by trigger: the same id, key and value bytes (from the JSON lines of --triggers, value kept raw).
  const lined = await rtcrm([
    "backtest",
    "--campaigns",
    campaignsFile,
    "--events",
    eventsFile,
    "--triggers",
    ...cfg,
  ]);
  assert.equal(lined.code, 0, lined.stderr);
  const offlineSet = lined.stdout
    .trimEnd()
    .split("\n")
    .map((line) => {
      const { key, headers } = JSON.parse(line) as { key: string | null; headers: Record<string, string> };
      return `${headers["rtcrm-trigger-id"]} ${key} ${line.slice(line.indexOf(',"value":') + 9, -1)}`;
    })
    .sort();
  const engineSet = triggers.map((r) => `${r.headers["rtcrm-trigger-id"]} ${r.key} ${r.value}`).sort();
  assert.equal(offlineSet.length, report.events.triggers);
  assert.deepEqual(engineSet, offlineSet);
  assert.equal(deadLetters.length, report.events.malformed);
});

test("rtcrm backtest with delivery rules gives the engine's triggers, holdouts and dead letters (created-at clock)", async (t) => {
  // Events keyed by player in one partition: each is done once its player's state is written, so the committed
  // offset says when the engine has finished; the clock of both is each event's created_at.
  const { topics, config, configPath, dir, start } = await engineFixture(t, "cli-backtest-rules", {
    time_basis: "created-at",
    events_keyed_by_player: true,
    global_frequency_cap: { max: 4, period: "PT1H" },
  });
  // 40 players, an event every 10 s for a bit over 4 hours, some without a player_id, one malformed.
  const t0 = Date.UTC(2026, 0, 1);
  const records: { key: string | null; value: string }[] = [];
  for (let i = 0; i < 1500; i++) {
    const player = i % 97 === 5 ? null : `player-${(i * 7) % 40}`;
    const event = {
      game: "foe",
      event_name: "fight",
      ...(player === null ? {} : { player_id: player }),
      created_at: new Date(t0 + i * 10_000).toISOString(),
      data: { result: i % 4 === 0 ? "win" : "loss" },
    };
    records.push({ key: player, value: JSON.stringify(event) });
  }
  records.splice(300, 0, { key: null, value: "not json" });
  const always = "function(e) { return true }";
  const loss = "function(e) { return e.getData().get('result') === 'loss' }";
  const base = { enabled: true, game: "foe", event_name: "fight" };
  const campaigns = [
    { ...base, campaign_id: 1, filter: loss, frequency_cap: { max: 1 }, priority: 9 },
    {
      ...base,
      campaign_id: 2,
      filter: always,
      frequency_cap: { max: 2, period: "PT30M" },
      variants: [
        { name: "A", weight: 1 },
        { name: "B", weight: 2 },
      ],
    },
    { ...base, campaign_id: 3, filter: loss, holdout_percent: 30, priority: 2 },
    { ...base, campaign_id: 4, filter: always, max_event_age: "PT1M", priority: 1 },
    { ...base, campaign_id: 5, filter: loss },
  ];
  const eventsFile = join(dir, "events.jsonl");
  const campaignsFile = join(dir, "campaigns.json");
  writeFileSync(eventsFile, records.map((r) => r.value).join("\n") + "\n");
  writeFileSync(campaignsFile, JSON.stringify(campaigns, null, 2));

  const cfg = ["--config", configPath];
  const offline = await rtcrm([
    "backtest",
    "--campaigns",
    campaignsFile,
    "--events",
    eventsFile,
    "--json",
    ...cfg,
  ]);
  assert.equal(offline.code, 0, offline.stderr);
  const report = JSON.parse(offline.stdout) as {
    events: { malformed: number; triggers: number };
    campaigns: {
      campaign_id: number;
      triggers: number;
      held_out: number;
      capped: { campaign: number; global: number };
    }[];
    delivery_rules: { events_without_player: number };
  };
  const total = (f: (c: (typeof report.campaigns)[number]) => number) =>
    report.campaigns.reduce((n, c) => n + f(c), 0);
  assert.ok(total((c) => c.held_out) > 0, "some players are held out");
  assert.ok(total((c) => c.capped.campaign) > 0 && total((c) => c.capped.global) > 0, "both caps bite");

  await start();
  const put = await rtcrm(["campaign", "put", "--wait", campaignsFile, ...cfg]);
  assert.equal(put.code, 0, put.stderr + put.stdout);
  await produce(
    topics.event_topic,
    records.map((r) => ({ ...r, partition: 0 })),
  );
  await waitCommitted(config.kafka_group_id, topics.event_topic, new Map([[0, records.length]]), 300_000);
  const triggers = await readToEnd(topics.trigger_topic);
  const holdouts = await readToEnd(topics.holdout_topic);
  const deadLetters = await readToEnd(topics.dead_letter_topic);

  const lined = await rtcrm([
    "backtest",
    "--campaigns",
    campaignsFile,
    "--events",
    eventsFile,
    "--triggers",
    ...cfg,
  ]);
  assert.equal(lined.code, 0, lined.stderr);
  const offlineSet = lined.stdout
    .trimEnd()
    .split("\n")
    .map((line) => {
      const { key, headers } = JSON.parse(line) as { key: string | null; headers: Record<string, string> };
      const variant = headers["rtcrm-variant"] ?? "-";
      return `${headers["rtcrm-trigger-id"]} ${key} ${variant} ${line.slice(line.indexOf(',"value":') + 9, -1)}`;
    })
    .sort();
  const engineSet = triggers
    .map((r) => `${r.headers["rtcrm-trigger-id"]} ${r.key} ${r.headers["rtcrm-variant"] ?? "-"} ${r.value}`)
    .sort();
  assert.equal(offlineSet.length, report.events.triggers);
  assert.deepEqual(engineSet, offlineSet);
  assert.ok(
    engineSet.some((line) => line.includes(',"variant":"B"}')),
    "variants travel in the value",
  );
  const heldOut = new Map(report.campaigns.map((c) => [c.campaign_id, c.held_out]));
  const engineHeldOut = new Map(report.campaigns.map((c) => [c.campaign_id, 0]));
  for (const r of holdouts) {
    const id = Number(r.headers["rtcrm-campaign-id"]);
    engineHeldOut.set(id, (engineHeldOut.get(id) ?? 0) + 1);
  }
  assert.deepEqual(engineHeldOut, heldOut);
  assert.equal(deadLetters.length, report.events.malformed + report.delivery_rules.events_without_player);
});

test("campaign list reads the topic as the engine does: last record per id, tombstones remove, bad records shown", async (t) => {
  const { topics, configPath } = engineSetup("cli-list");
  await createEngineTopics(topics);
  t.after(() => deleteEngineTopics(topics));
  const seed = JSON.parse(SEED_CAMPAIGN_JSON) as Record<string, unknown>;
  await produce(topics.campaign_topic, [
    { key: "5", value: "not json" },
    { key: "6", value: JSON.stringify({ ...seed, campaign_id: 6, enabled: false }) },
    { key: "6", value: JSON.stringify({ ...seed, campaign_id: 6 }) },
    { key: "7", value: JSON.stringify({ ...seed, campaign_id: 7 }) },
    { key: "8", value: JSON.stringify({ ...seed, campaign_id: 8, start_date: "soon" }) },
    { key: "7", value: null },
    {
      key: "9",
      value: JSON.stringify({ ...seed, campaign_id: 9, filter: "function(e) { return eval('1') }" }),
    },
    { key: "10", value: JSON.stringify({ ...seed, campaign_id: 11 }) },
  ]);
  const listed = await rtcrm(["campaign", "list", "--config", configPath]);
  assert.equal(listed.code, 0, listed.stderr);
  const rows = listed.stdout.trimEnd().split("\n").slice(1);
  assert.equal(rows.length, 5);
  assert.match(
    rows[0] ?? "",
    /^ +5 +- +- +- +- +- +INVALID: a campaign must be a JSON object, got the string "not json"$/,
  );
  assert.match(rows[1] ?? "", /^ +6 +true +foe +fight /);
  assert.match(rows[2] ?? "", /^ +8 +- .*INVALID: start_date must be an ISO-8601 instant/);
  assert.match(
    rows[3] ?? "",
    /^ +9 +- .*INVALID: filter: eval is not available: eval is not allowed in a filter \(line 1, column 22\)$/,
  );
  assert.match(rows[4] ?? "", /^ *10 +- .*INVALID: the record key "10" is not its campaign_id 11$/);
});
