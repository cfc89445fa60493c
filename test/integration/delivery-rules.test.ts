// Delivery rules end to end on the real broker: caps per player (lifetime and per period), holdouts, variants,
// expiry, priorities under the global cap, in both partitionings of the state (events keyed by player, and unkeyed
// events repartitioned by player). The engine runs as its own process.
import { test } from "node:test";
import assert from "node:assert/strict";
import { SEED_EVENT_JSON } from "../fixtures/seed.js";
import { consumeUntil, produce, readToEnd, type Received } from "../helpers/kafka.js";
import { engineFixture } from "../helpers/engine-process.js";
import { campaign } from "../helpers/campaigns.js";
import { isHeldOut, pickVariant } from "../../src/rules/decide.js";

const LOSS = "function(e) { return e.getData().get('result') === 'loss' }";

function event(player: string, id: string, over: Record<string, unknown> = {}): string {
  return JSON.stringify({
    ...(JSON.parse(SEED_EVENT_JSON) as object),
    player_id: player,
    event_id: id,
    created_at: new Date().toISOString(),
    ...over,
    data: { result: "loss" },
  });
}

const countBy = (records: readonly Received[], key: (r: Received) => string): Record<string, number> => {
  const out: Record<string, number> = {};
  for (const r of records) out[key(r)] = (out[key(r)] ?? 0) + 1;
  return out;
};
const campaignOf = (r: Received): string => r.headers["rtcrm-campaign-id"] ?? "?";
const playerCampaign = (r: Received): string => `${r.key}/${campaignOf(r)}`;

for (const keyed of [false, true]) {
  const path = keyed ? "events keyed by player" : "unkeyed events, repartitioned by player";
  test(`${path}: once per player, N per period, expiry and variants; the rest as before`, async (t) => {
    const { topics, start } = await engineFixture(
      t,
      keyed ? "rules-keyed" : "rules-unkeyed",
      {
        events_keyed_by_player: keyed,
        new_topic_partitions: 3,
      },
      3,
    );
    await produce(topics.campaign_topic, [
      { key: "1", value: JSON.stringify(campaign(1, LOSS, { frequency_cap: { max: 1 } })) },
      {
        key: "2",
        value: JSON.stringify(campaign(2, LOSS, { frequency_cap: { max: 2, period: "PT1H" } })),
      },
      { key: "3", value: JSON.stringify(campaign(3, LOSS, { max_event_age: "PT10M" })) },
      {
        key: "4",
        value: JSON.stringify(
          campaign(4, LOSS, {
            variants: [
              { name: "A", weight: 1 },
              { name: "B", weight: 1 },
            ],
          }),
        ),
      },
      { key: "5", value: JSON.stringify(campaign(5, LOSS)) },
    ]);
    const engine = await start();
    const players = ["p1", "p2", "p3", "p4", "p5"];
    const old = new Date(Date.now() - 3_600_000).toISOString();
    const records = players.flatMap((p) =>
      [0, 1, 2, 3].map((i) => ({
        key: keyed ? p : null,
        value: event(p, `${p}-${i}`, i === 3 ? { created_at: old } : {}),
      })),
    );
    await produce(topics.event_topic, records);
    // 5 players: 1 + 2 + 3 (one old event each expires) + 4 + 4 triggers each.
    const expected = players.length * (1 + 2 + 3 + 4 + 4);
    await consumeUntil([topics.trigger_topic], (r) => r.length >= expected);
    assert.equal(await engine.stop(), 0);

    const triggers = await readToEnd(topics.trigger_topic);
    assert.equal(triggers.length, expected, "no trigger beyond the caps");
    const per = countBy(triggers, playerCampaign);
    for (const p of players) {
      assert.equal(per[`${p}/1`], 1, `${p}: once per player`);
      assert.equal(per[`${p}/2`], 2, `${p}: 2 per hour`);
      assert.equal(per[`${p}/3`], 3, `${p}: the old event expired`);
      assert.equal(per[`${p}/4`], 4);
      assert.equal(per[`${p}/5`], 4, `${p}: no rules, every match`);
    }
    for (const r of triggers.filter((x) => campaignOf(x) === "4")) {
      const variant = pickVariant(
        [
          { name: "A", weight: 1 },
          { name: "B", weight: 1 },
        ],
        4,
        r.key ?? "",
      );
      assert.equal(r.headers["rtcrm-variant"], variant);
      assert.equal((JSON.parse(r.value ?? "{}") as { variant?: string }).variant, variant);
      assert.ok(r.value?.endsWith(`,"variant":"${variant}"}`), "variant after campaign and event");
    }
    for (const r of triggers.filter((x) => campaignOf(x) === "5"))
      assert.ok(!("variant" in (JSON.parse(r.value ?? "{}") as object)), "seed-shaped trigger");
  });
}

test("holdout: players held out get a holdout record instead, the same ones after a restart", async (t) => {
  const { topics, start } = await engineFixture(t, "rules-holdout");
  await produce(topics.campaign_topic, [
    { key: "7", value: JSON.stringify(campaign(7, LOSS, { holdout_percent: 30 })) },
  ]);
  const players = Array.from({ length: 400 }, (_, i) => `h${i}`);
  const heldOut = players.filter((p) => isHeldOut(7, p, 30));
  // Binomial(400, 0.3): mean 120, standard deviation 9.2; 5 deviations either side.
  assert.ok(heldOut.length > 74 && heldOut.length < 166, `${heldOut.length} of 400 held out`);

  let engine = await start();
  await produce(
    topics.event_topic,
    players.map((p) => ({ value: event(p, `${p}-a`) })),
  );
  await consumeUntil([topics.trigger_topic, topics.holdout_topic], (r) => r.length >= players.length);
  assert.equal(await engine.stop(), 0);
  engine = await start();
  await produce(
    topics.event_topic,
    players.map((p) => ({ value: event(p, `${p}-b`) })),
  );
  await consumeUntil([topics.trigger_topic, topics.holdout_topic], (r) => r.length >= 2 * players.length);
  assert.equal(await engine.stop(), 0);

  const holdouts = await readToEnd(topics.holdout_topic);
  const triggers = await readToEnd(topics.trigger_topic);
  assert.deepEqual(
    [...new Set(holdouts.map((r) => r.key))].sort(),
    [...heldOut].sort(),
    "the hash decides, the same on both runs",
  );
  assert.equal(holdouts.length, 2 * heldOut.length);
  assert.equal(triggers.length, 2 * (players.length - heldOut.length));
  assert.ok(triggers.every((r) => !heldOut.includes(r.key ?? "")));
});

test("global cap: the higher priority wins when a player has less left than matches", async (t) => {
  const { topics, start } = await engineFixture(t, "rules-global", {
    global_frequency_cap: { max: 2, period: "P1D" },
  });
  await produce(topics.campaign_topic, [
    { key: "20", value: JSON.stringify(campaign(20, LOSS, { priority: 1 })) },
    { key: "21", value: JSON.stringify(campaign(21, LOSS, { priority: 5 })) },
    { key: "22", value: JSON.stringify(campaign(22, LOSS, { priority: 1 })) },
  ]);
  const engine = await start();
  await produce(topics.event_topic, [{ value: event("g1", "g1-a") }, { value: event("g1", "g1-b") }]);
  await consumeUntil([topics.trigger_topic], (r) => r.length >= 2);
  assert.equal(await engine.stop(), 0);
  const triggers = await readToEnd(topics.trigger_topic);
  // First event: 21 (priority 5), then 20 (priority 1, lower id than 22). Second event: nothing left.
  assert.deepEqual(triggers.map(campaignOf).sort(), ["20", "21"]);
});
