// `rtcrm backtest` with delivery rules: caps, holdouts, variants and the global cap applied from empty state with
// each event's created_at as the clock, against expectations computed here without decide(); triggers carrying
// their variant as the engine writes them; campaigns without rules as before.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { parseCampaign, type Campaign } from "../../../src/campaigns/campaign.js";
import { triggerHeaders, triggerValueBytes } from "../../../src/triggers/trigger.js";
import { cli, tempFile } from "./run-cli.js";

interface Tally {
  campaign_id: number;
  matches: number;
  rules_apply: boolean;
  triggers: number;
  capped: { campaign: number; global: number };
  held_out: number;
  expired: number;
  no_player: number;
}

interface Report {
  events: { read: number; malformed: number; evaluated: number; triggers: number };
  campaigns: Tally[];
  delivery_rules: {
    global_frequency_cap: { max: number; period: string | null } | null;
    events_without_player: number;
  };
  triggers?: { key: string | null; headers: Record<string, string>; value: { variant?: string } }[];
}

const MINUTE = 60_000;
const T0 = Date.UTC(2026, 0, 1);
const ALWAYS = "function(e) { return true }";
const LOSS = "function(e) { return e.getData().get('result') === 'loss' }";

const base = (id: number, over: Record<string, unknown> = {}, filter = ALWAYS) => ({
  campaign_id: id,
  enabled: true,
  game: "foe",
  event_name: "fight",
  filter,
  ...over,
});

interface Ev {
  player: string | null;
  at: number;
  result: string;
}

/** `n` foe/fight events, one a minute, of `players` players in turn; every third a win. */
function events(n: number, players: number): Ev[] {
  return Array.from({ length: n }, (_, i) => ({
    player: `p${i % players}`,
    at: T0 + i * MINUTE,
    result: i % 3 === 2 ? "win" : "loss",
  }));
}

function line(e: Ev): string {
  return JSON.stringify({
    game: "foe",
    event_name: "fight",
    ...(e.player === null ? {} : { player_id: e.player }),
    created_at: new Date(e.at).toISOString(),
    data: { result: e.result },
  });
}

/** The holdout as documented (README): the first 4 bytes of sha-256("holdout", id, player) under the percent. */
function heldOut(id: number, player: string, percent: number): boolean {
  const digest = createHash("sha256").update(`holdout\u0000${id}\u0000${player}`).digest();
  return (digest.readUInt32BE(0) / 2 ** 32) * 100 < percent;
}

async function run(campaigns: object[], evs: Ev[], config: object = {}, ...extra: string[]) {
  const result = await cli([
    "backtest",
    "--campaigns",
    tempFile("campaigns.json", JSON.stringify(campaigns)),
    "--events",
    tempFile("events.jsonl", evs.map(line).join("\n") + "\n"),
    "--config",
    tempFile("config.json", JSON.stringify(config)),
    ...extra,
  ]);
  return result;
}

async function report(campaigns: object[], evs: Ev[], config: object = {}, ...extra: string[]) {
  const { code, stdout, stderr } = await run(campaigns, evs, config, "--json", ...extra);
  assert.equal(code, 0, stderr);
  const r = JSON.parse(stdout) as Report;
  for (const c of r.campaigns) {
    const decided = c.triggers + c.capped.campaign + c.capped.global + c.held_out + c.expired + c.no_player;
    assert.equal(decided, c.matches, `campaign ${c.campaign_id}: every match has one outcome`);
  }
  return r;
}

const byId = (r: Report) => new Map(r.campaigns.map((c) => [c.campaign_id, c]));

test("caps per player from empty state: once, N per rolling period, with holdouts counted against the cap", async () => {
  const evs = events(600, 7);
  const campaigns = [
    base(1, { frequency_cap: { max: 1 } }, LOSS),
    base(2, { frequency_cap: { max: 3, period: "PT1H" } }),
    base(3, { frequency_cap: { max: 2, period: "PT2H" }, holdout_percent: 40 }),
    base(4, {}, LOSS),
  ];
  const r = byId(await report(campaigns, evs));

  // Expectations without decide(): per campaign and player, the trigger (and holdout) times so far.
  const expect = (
    id: number,
    max: number,
    periodMs: number | null,
    percent: number,
    matches: (e: Ev) => boolean,
  ) => {
    const times = new Map<string, number[]>();
    const out = { triggers: 0, capped: 0, held_out: 0 };
    for (const e of evs.filter(matches)) {
      const player = e.player as string;
      const mine = times.get(player) ?? [];
      const inPeriod = mine.filter((t) => periodMs === null || t > e.at - periodMs);
      if (inPeriod.length >= max) out.capped++;
      else {
        if (heldOut(id, player, percent)) out.held_out++;
        else out.triggers++;
        mine.push(e.at);
        times.set(player, mine);
      }
    }
    return out;
  };
  const loss = (e: Ev) => e.result === "loss";
  const all = () => true;
  for (const [id, expected] of [
    [1, expect(1, 1, null, 0, loss)],
    [2, expect(2, 3, 60 * MINUTE, 0, all)],
    [3, expect(3, 2, 120 * MINUTE, 40, all)],
  ] as const) {
    const got = r.get(id);
    assert.deepEqual(
      { triggers: got?.triggers, capped: got?.capped.campaign, held_out: got?.held_out },
      expected,
      `campaign ${id}`,
    );
    assert.equal(got?.rules_apply, true);
  }
  assert.equal(r.get(1)?.triggers, 7, "once per player: one each of 7 players");
  assert.ok((r.get(3)?.held_out ?? 0) > 0 && (r.get(3)?.triggers ?? 0) > 0, "players on both sides");
  // Without rules, as before: every match triggers.
  const plain = r.get(4);
  assert.deepEqual(
    { rules_apply: plain?.rules_apply, triggers: plain?.triggers, capped: plain?.capped },
    { rules_apply: false, triggers: evs.filter(loss).length, capped: { campaign: 0, global: 0 } },
  );
});

test("the global cap of the configuration: priorities first, ties to the lower id, campaigns without rules too", async () => {
  // One player, an event every 10 minutes for 3 hours; at most 2 triggers per player per hour over all campaigns.
  const evs = Array.from({ length: 18 }, (_, i): Ev => ({
    player: "solo",
    at: T0 + i * 10 * MINUTE,
    result: "loss",
  }));
  const campaigns = [
    base(10),
    base(11, { priority: 5 }),
    base(12, { priority: 5, frequency_cap: { max: 1 } }),
    base(13, { priority: -1 }),
  ];
  const r = await report(campaigns, evs, { global_frequency_cap: { max: 2, period: "PT1H" } });
  assert.deepEqual(r.delivery_rules.global_frequency_cap, { max: 2, period: "PT1H" });
  const got = byId(r);
  // 00:00: 11 and 12 (priority 5, the lower id first); the hour is then spent until 01:00, and 12 capped by its
  // own cap for good. 01:00 and 02:00: 11 (priority 5), then 10 (priority 0, above 13's -1).
  assert.equal(got.get(12)?.triggers, 1);
  assert.equal(got.get(12)?.capped.campaign, 17);
  assert.equal(got.get(11)?.triggers, 3, "00:00, 01:00, 02:00");
  assert.equal(got.get(10)?.triggers, 2, "01:00 and 02:00, after 11");
  assert.equal(got.get(13)?.triggers, 0, "the lowest priority never gets a slot");
  assert.equal(got.get(10)?.rules_apply, true, "a global cap applies to every campaign");
  assert.equal(got.get(13)?.capped.global, 18);
  assert.equal(r.events.triggers, 6, "2 per hour for 3 hours");
});

test("variants: each trigger carries the player's variant in its value and headers, byte for byte the engine's", async () => {
  const evs = events(120, 40);
  const ab = base(7, {
    variants: [
      { name: "A", weight: 1 },
      { name: "B", weight: 3 },
    ],
  });
  const campaigns = [ab, base(8, {}, LOSS)];
  const { code, stdout, stderr } = await run(campaigns, evs, { event_topic: "recorded" }, "--triggers");
  assert.equal(code, 0, stderr);
  const parsed = parseCampaign(ab);
  assert.ok(parsed.ok);
  const campaign: Campaign = parsed.campaign;
  const lines = stdout.trimEnd().split("\n");
  const variantOf = new Map<string, string>();
  let withVariant = 0;
  for (const text of lines) {
    const t = JSON.parse(text) as NonNullable<Report["triggers"]>[number];
    const offset = Number(t.headers["rtcrm-source"]?.split("/")[2]);
    const source = { topic: "recorded", partition: 0, offset };
    if (t.headers["rtcrm-campaign-id"] === "8") {
      assert.equal(t.value.variant, undefined, "a campaign without variants has none");
      assert.equal(t.headers["rtcrm-variant"], undefined);
      continue;
    }
    withVariant++;
    const variant = t.value.variant as string;
    assert.ok(variant === "A" || variant === "B");
    assert.deepEqual(t.headers, triggerHeaders(source, campaign, variant));
    const event = line(evs[offset] as Ev);
    const expected = triggerValueBytes(campaign, Buffer.from(event), variant).toString();
    assert.ok(expected.endsWith(`,"variant":"${variant}"}`));
    assert.ok(text.endsWith(`,"value":${expected}}`), "the value is the engine's bytes");
    // A player's variant is the same on every trigger.
    const player = t.key as string;
    assert.equal(variantOf.get(player) ?? variant, variant, `player ${player}`);
    variantOf.set(player, variant);
  }
  assert.equal(withVariant, 120, "variants alone cap nothing");
  const shares = [...variantOf.values()];
  assert.ok(shares.includes("A") && shares.includes("B"), "40 players fall in both variants");
});

test("matches with rules on events without a player_id trigger nothing and are said; the rest trigger", async () => {
  const evs: Ev[] = [
    { player: "p1", at: T0, result: "loss" },
    { player: null, at: T0 + MINUTE, result: "loss" },
    { player: null, at: T0 + 2 * MINUTE, result: "win" },
  ];
  const campaigns = [base(1, { frequency_cap: { max: 5 } }), base(2), base(3, { holdout_percent: 0 })];
  const r = await report(campaigns, evs);
  const got = byId(r);
  assert.equal(r.delivery_rules.events_without_player, 2);
  assert.deepEqual([got.get(1)?.triggers, got.get(1)?.no_player], [1, 2]);
  assert.deepEqual([got.get(2)?.triggers, got.get(2)?.no_player], [3, 0], "no rules: triggers, key null");
  assert.deepEqual([got.get(3)?.triggers, got.get(3)?.rules_apply], [3, false], "0 % holdout is no rule");

  const text = await run(campaigns, evs);
  assert.equal(text.code, 0);
  assert.match(
    text.stdout,
    /\n2 events without a player_id matched campaigns with delivery rules \(1\): those matches trigger nothing \(the engine sends such events to the dead-letter topic\)\n$/,
  );
});

test("the table gains TRIGGERS, CAPPED, CAPPED_GLOBAL, HELD_OUT and EXPIRED only when rules apply", async () => {
  const evs = events(30, 3);
  const withRules = await run([base(1, { frequency_cap: { max: 2 } }), base(2)], evs, {
    global_frequency_cap: { max: 4 },
  });
  assert.equal(withRules.code, 0, withRules.stderr);
  assert.match(
    withRules.stdout,
    /\ndelivery rules applied from empty state, at each event's created_at; global_frequency_cap: at most 4 triggers per player in all\n/,
  );
  assert.match(
    withRules.stdout,
    /\nCAMPAIGN +GAME +EVENT_NAME +EVENTS +OUT_OF_WINDOW +MATCHES +NO_MATCH +FAILED +TRIGGERS +CAPPED +CAPPED_GLOBAL +HELD_OUT +EXPIRED\n/,
  );
  // 3 players: campaign 1 twice each (6), capped 24; campaign 2 the two slots each left (6), 24 capped globally.
  assert.match(withRules.stdout, /\n +1 {2}foe +fight +30 +0 +30 +0 +0 +6 +24 +0 +0 +0\n/);
  assert.match(withRules.stdout, /\n +2 {2}foe +fight +30 +0 +30 +0 +0 +6 +0 +24 +0 +0\n/);
  assert.match(withRules.stdout, /; 12 triggers \(time basis/);

  const without = await run([base(2)], evs);
  assert.match(
    without.stdout,
    /\nCAMPAIGN +GAME +EVENT_NAME +EVENTS +OUT_OF_WINDOW +MATCHES +NO_MATCH +FAILED\n/,
  );
  assert.doesNotMatch(without.stdout, /delivery rules|TRIGGERS/);
  const plain = await report([base(2)], evs);
  assert.equal(plain.delivery_rules.global_frequency_cap, null);
});

test("max_event_age expires nothing: the clock is each event's created_at, as the engine's with created-at", async () => {
  const r = await report([base(1, { max_event_age: "PT1S" })], events(20, 2));
  assert.deepEqual([byId(r).get(1)?.triggers, byId(r).get(1)?.expired], [20, 0]);
});

test("the same files give the same report and triggers on every run", async () => {
  const evs = events(300, 11);
  const campaigns = [
    base(1, { frequency_cap: { max: 2, period: "PT30M" }, holdout_percent: 25 }),
    base(2, {
      variants: [
        { name: "X", weight: 2 },
        { name: "Y", weight: 1 },
      ],
      priority: 2,
    }),
  ];
  const config = { global_frequency_cap: { max: 3, period: "PT1H" } };
  const first = await run(campaigns, evs, config, "--json", "--triggers");
  const second = await run(campaigns, evs, config, "--json", "--triggers");
  assert.equal(first.code, 0, first.stderr);
  assert.equal(second.stdout, first.stdout);
});

test("a global cap in the configuration that is not valid stops the backtest with the configuration's exit code", async () => {
  const { code, stderr } = await run([base(1)], events(3, 1), {
    global_frequency_cap: { max: 0, period: "P1M" },
  });
  assert.equal(code, 2);
  assert.match(stderr, /global_frequency_cap\.max must be an integer of at least 1, got 0/);
  assert.match(stderr, /global_frequency_cap\.period must be an ISO-8601 duration/);
});
