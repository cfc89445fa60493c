// The engine end to end on the real broker: the seed walkthrough, live campaign changes, bad input,
// a stop in the middle of a stream, and per-partition order. The engine runs as its own process.
import { test } from "node:test";
import assert from "node:assert/strict";
import { SEED_CAMPAIGN_JSON, SEED_EVENT_JSON } from "../fixtures/seed.js";
import { consumeUntil, produce, triggerKey, type Received } from "../helpers/kafka.js";
import { engineFixture } from "../helpers/engine-process.js";
import { Reference } from "../helpers/expected.js";
import { around, campaign } from "../helpers/campaigns.js";

function event(
  over: Record<string, unknown> = {},
  data: Record<string, unknown> = { result: "loss" },
): string {
  return JSON.stringify({ ...(JSON.parse(SEED_EVENT_JSON) as object), ...over, data });
}

const statusOf = (r: Received) =>
  JSON.parse(r.value ?? "null") as {
    campaign_id: number | null;
    status: string;
    reasons?: string[];
    source: string;
  };

/** Waits until the status topic holds `n` records. */
function statuses(topic: string, n: number): Promise<Received[]> {
  return consumeUntil([topic], (r) => r.length >= n);
}

test("the seed walkthrough: one campaign, one event, exactly one trigger shaped as in SEED.md", async (t) => {
  const { topics, start } = await engineFixture(t, "seed");

  const seedCampaign = { ...(JSON.parse(SEED_CAMPAIGN_JSON) as object), ...around() };
  await produce(topics.campaign_topic, [{ key: "4711", value: JSON.stringify(seedCampaign) }]);
  const engine = await start();
  await produce(topics.event_topic, [{ value: SEED_EVENT_JSON }]);

  const [trigger] = await consumeUntil([topics.trigger_topic], (r) => r.length >= 1);
  assert.ok(trigger);
  // Byte-identical in shape: the campaign as the seed serialises it, then the event as received.
  assert.equal(trigger.value, `{"campaign":${JSON.stringify(seedCampaign)},"event":${SEED_EVENT_JSON}}`);
  assert.equal(trigger.key, "12345");
  assert.match(trigger.headers["rtcrm-trigger-id"] ?? "", /^[0-9a-f]{32}$/);
  assert.equal(trigger.headers["rtcrm-campaign-id"], "4711");

  // A sentinel event matching nothing else proves no second trigger came for the seed event.
  await produce(topics.event_topic, [{ value: event({ event_id: "sentinel" }) }]);
  const all = await consumeUntil([topics.trigger_topic], (r) => r.length >= 2);
  assert.equal(all.filter((r) => r.value?.includes("7a8d0614-4e8e-4464-b439-36e31441a040")).length, 1);
  assert.equal(await engine.stop(), 0);
});

test("campaign updates, tombstones and campaigns added while running change what matches", async (t) => {
  const { topics, start } = await engineFixture(t, "live");
  // Campaign 1 marks the end of each step: it matches events whose data.step is "mark".
  const marker = campaign(1, "function(e) { return e.getData().get('step') === 'mark' }");
  const v1 = campaign(10, "function(e) { return e.getData().get('result') === 'loss' }");
  await produce(topics.campaign_topic, [
    { key: "1", value: JSON.stringify(marker) },
    { key: "10", value: JSON.stringify(v1) },
  ]);
  const engine = await start();

  const triggersAfter = async (events: string[], marks: number): Promise<Received[]> => {
    await produce(
      topics.event_topic,
      events.map((value) => ({ value })),
    );
    const all = await consumeUntil(
      [topics.trigger_topic],
      (r) => r.filter((x) => x.headers["rtcrm-campaign-id"] === "1").length >= marks,
    );
    return all.filter((x) => x.headers["rtcrm-campaign-id"] !== "1");
  };
  const ids = (rs: Received[]) => rs.map(triggerKey).sort();

  // Step 1: v1 matches losses.
  let found = await triggersAfter([event({ event_id: "a" }), event({ event_id: "m1" }, { step: "mark" })], 1);
  assert.deepEqual(ids(found), ["10:a"]);

  // Step 2: v2 replaces v1 (last write wins): wins match now, losses no longer.
  const v2 = campaign(10, "function(e) { return e.data.result === 'win' }");
  await produce(topics.campaign_topic, [{ key: "10", value: JSON.stringify(v2) }]);
  await statuses(topics.campaign_status_topic, 3);
  found = await triggersAfter(
    [
      event({ event_id: "b" }, { result: "win" }),
      event({ event_id: "c" }),
      event({ event_id: "m2" }, { step: "mark" }),
    ],
    2,
  );
  assert.deepEqual(ids(found), ["10:a", "10:b"]);

  // Step 3: a campaign added while running is active for the next events.
  await produce(topics.campaign_topic, [
    { key: "20", value: JSON.stringify(campaign(20, "(e) => e.player_id === 777")) },
  ]);
  await statuses(topics.campaign_status_topic, 4);
  found = await triggersAfter(
    [
      event({ event_id: "d", player_id: 777 }, { result: "win" }),
      event({ event_id: "m3" }, { step: "mark" }),
    ],
    3,
  );
  assert.deepEqual(ids(found), ["10:a", "10:b", "10:d", "20:d"]);

  // Step 4: a tombstone deletes campaign 10.
  await produce(topics.campaign_topic, [{ key: "10", value: null }]);
  const st = await statuses(topics.campaign_status_topic, 5);
  assert.deepEqual(
    st.map((r) => [statusOf(r).campaign_id, statusOf(r).status]),
    [
      [1, "accepted"],
      [10, "accepted"],
      [10, "accepted"],
      [20, "accepted"],
      [10, "deleted"],
    ],
  );
  found = await triggersAfter(
    [event({ event_id: "e" }, { result: "win" }), event({ event_id: "m4" }, { step: "mark" })],
    4,
  );
  assert.deepEqual(ids(found), ["10:a", "10:b", "10:d", "20:d"]);
  assert.equal(await engine.stop(), 0);
});

test("events written before the engine starts are evaluated against every campaign written before them", async (t) => {
  const { topics, start } = await engineFixture(t, "backlog");
  const campaigns = Array.from({ length: 5 }, (_, i) =>
    campaign(100 + i, `function(e) { return e.getData().get('n') % ${i + 2} === 0 }`),
  );
  await produce(
    topics.campaign_topic,
    campaigns.map((c) => ({ key: String(c.campaign_id), value: JSON.stringify(c) })),
  );
  const events = Array.from({ length: 60 }, (_, n) => event({ event_id: `ev-${n}` }, { n }));
  await produce(
    topics.event_topic,
    events.map((value) => ({ value })),
  );

  const reference = new Reference(campaigns);
  const now = Date.now();
  const expected = events.flatMap((e, n) => reference.matches(e, now).map((id) => `${id}:ev-${n}`)).sort();
  assert.ok(expected.length > 30, "the workload must match something");

  const engine = await start();
  const got = await consumeUntil([topics.trigger_topic], (r) => r.length >= expected.length);
  const ids = got.map(triggerKey).sort();
  assert.deepEqual(ids, expected);
  assert.equal(await engine.stop(), 0);
});

test("malformed events go to the dead-letter topic and invalid campaigns to the status topic, with reasons; valid records around them still trigger", async (t) => {
  const { topics, start } = await engineFixture(t, "bad-input");
  const good = campaign(1, "function(e) { return e.getData().get('result') === 'loss' }");
  const badCampaigns: { key: string | null; value: string; reason: RegExp }[] = [
    { key: "2", value: "{not json", reason: /not valid JSON/ },
    {
      key: "3",
      value: JSON.stringify({ ...campaign(3, "function(e){return true}"), enabled: "yes" }),
      reason: /enabled must be true or false/,
    },
    {
      key: "4",
      value: JSON.stringify(campaign(4, "function(e){return true}", { start_date: "2023-02-30T00:00:00Z" })),
      reason: /start_date must be an ISO-8601 instant/,
    },
    {
      key: "5",
      value: JSON.stringify(campaign(5, "function(e){return true}", { game: undefined })),
      reason: /game must be a non-empty string/,
    },
    {
      key: "6",
      value: JSON.stringify(campaign(6, "function(e){return true}", { event_name: 42 })),
      reason: /event_name must be a non-empty string/,
    },
    {
      key: "7",
      value: JSON.stringify(campaign(7, "function(e) {\n  return e.x ===;\n}")),
      reason: /filter: syntax error.*line 2, column 17/,
    },
    {
      key: "8",
      value: JSON.stringify(campaign(8, "function(e) { return require('fs') }")),
      reason: /require is not available/,
    },
    {
      key: "9",
      value: JSON.stringify(campaign(99, "function(e){return true}")),
      reason: /key 9 does not match campaign_id 99/,
    },
  ];
  await produce(topics.campaign_topic, [
    ...badCampaigns.slice(0, 4).map(({ key, value }) => ({ key, value })),
    { key: "1", value: JSON.stringify(good) },
    ...badCampaigns.slice(4).map(({ key, value }) => ({ key, value })),
  ]);
  const engine = await start();

  const badEvents: { value: string; reason: RegExp }[] = [
    { value: "not json at all", reason: /not valid JSON/ },
    { value: "[1,2,3]", reason: /not a JSON object but an array/ },
    { value: "42", reason: /not a JSON object but number/ },
    { value: JSON.stringify({ event_name: "fight", data: {} }), reason: /game is missing/ },
    { value: JSON.stringify({ game: "foe", event_name: 7, data: {} }), reason: /event_name is not a string/ },
  ];
  await produce(topics.event_topic, [
    { value: event({ event_id: "good-1" }) },
    ...badEvents.map(({ value }) => ({ value, key: "k", headers: { origin: "test" } })),
    { value: event({ event_id: "good-2" }) },
  ]);

  const dlq = await consumeUntil([topics.dead_letter_topic], (r) => r.length >= badEvents.length);
  for (const [i, bad] of badEvents.entries()) {
    const record = dlq.find((r) => Number(r.headers["rtcrm-dlq-source-offset"]) === i + 1);
    assert.ok(record, `no dead letter for offset ${i + 1}`);
    assert.equal(record.value, bad.value, "original bytes");
    assert.equal(record.key, "k");
    assert.equal(record.headers.origin, "test", "original headers kept");
    assert.equal(record.headers["rtcrm-dlq-source-topic"], topics.event_topic);
    assert.match(record.headers["rtcrm-dlq-reason"] ?? "", bad.reason);
  }

  const status = await statuses(topics.campaign_status_topic, badCampaigns.length + 1);
  for (const bad of badCampaigns) {
    const s = status
      .map(statusOf)
      .find((x) => x.status === "rejected" && x.reasons?.some((r) => bad.reason.test(r)));
    assert.ok(s, `no rejection matching ${bad.reason}: ${JSON.stringify(status.map(statusOf))}`);
  }
  assert.equal(status.map(statusOf).filter((s) => s.status === "accepted").length, 1);

  const triggers = await consumeUntil([topics.trigger_topic], (r) => r.length >= 2);
  assert.deepEqual(
    triggers
      .map((r) => (JSON.parse(r.value ?? "{}") as { event: { event_id: string } }).event.event_id)
      .sort(),
    ["good-1", "good-2"],
  );
  assert.equal(engine.child.exitCode, null, "the engine keeps running");
  assert.equal(await engine.stop(), 0);
});

test("a trigger Kafka refuses for good (over its size limit) sends its event to the dead letters; the partition goes on", async (t) => {
  const { topics, start } = await engineFixture(t, "oversized");
  // The trigger holds the campaign and the event: a 200 KB filter and an 850 KB event make it over 1 MB.
  const big = campaign(
    1,
    `function(e) { /* ${"x".repeat(200_000)} */ return e.getData().get('result') === 'loss' }`,
  );
  await produce(topics.campaign_topic, [{ key: "1", value: JSON.stringify(big) }]);
  const engine = await start();
  const huge = event({ event_id: "huge" }, { result: "loss", pad: "y".repeat(850_000) });
  await produce(topics.event_topic, [
    { value: event({ event_id: "before" }) },
    { value: huge, key: "k" },
    { value: event({ event_id: "after" }) },
  ]);
  const [dead] = await consumeUntil([topics.dead_letter_topic], (r) => r.length >= 1);
  assert.equal(dead?.headers["rtcrm-dlq-source-offset"], "1");
  assert.match(
    dead?.headers["rtcrm-dlq-reason"] ?? "",
    /trigger was refused by Kafka \(campaign 1: .*too large/i,
  );
  assert.equal(dead?.value, huge, "the original event");
  const triggers = await consumeUntil([topics.trigger_topic], (r) => r.length >= 2);
  assert.deepEqual(triggers.map((r) => triggerKey(r)).sort(), ["1:after", "1:before"]);
  assert.equal(await engine.stop(), 0, "nothing left unacknowledged");
});

test("SIGTERM in the middle of a stream, then a restart: every expected trigger is there, in per-partition order", async (t) => {
  const { topics, start } = await engineFixture(t, "restart", { batch_size: 50 }, 3);
  const campaigns = [
    campaign(1, "function(e) { return e.getData().get('n') % 3 === 0 }"),
    campaign(
      2,
      "function(e) { var s = 0; var xs = e.getData().get('xs'); for (var i = 0; i < xs.size(); i++) s += xs.get(i); return s % 2 === 1 }",
    ),
    campaign(3, "(e) => e.data.n % 5 === 0 && e.getMarket() === 'de'"),
  ];
  await produce(
    topics.campaign_topic,
    campaigns.map((c) => ({ key: String(c.campaign_id), value: JSON.stringify(c) })),
  );
  // One player per source partition: all triggers of a source partition land in one trigger partition,
  // where their order can be checked.
  const total = 3000;
  const events = Array.from({ length: total }, (_, n) => ({
    partition: n % 3,
    value: event({ event_id: `ev-${n}`, player_id: 1000 + (n % 3) }, { n, xs: [n % 7, n % 11, 1] }),
  }));
  const reference = new Reference(campaigns);
  const now = Date.now();
  const expected = new Set(
    events.flatMap((e, n) => reference.matches(e.value, now).map((id) => `${id}:ev-${n}`)),
  );
  // The stream keeps flowing around the stop: a third of it before the start, a third produced while the
  // engine is being stopped, the rest before the restart.
  const third = total / 3;
  await produce(topics.event_topic, events.slice(0, third));
  let engine = await start();
  await consumeUntil([topics.trigger_topic], (r) => r.length >= 50);
  const [, code] = await Promise.all([
    produce(topics.event_topic, events.slice(third, 2 * third)),
    engine.stop("SIGTERM"),
  ]);
  assert.equal(code, 0, "a graceful stop exits 0");
  await produce(topics.event_topic, events.slice(2 * third));
  engine = await start();
  const got = await consumeUntil(
    [topics.trigger_topic],
    (r) => new Set(r.map(triggerKey)).size >= expected.size,
    120_000,
  );
  const keys = got.map(triggerKey);
  const missing = [...expected].filter((k) => !keys.includes(k));
  const unexpected = keys.filter((k) => !expected.has(k));
  const duplicates = keys.length - new Set(keys).size;
  t.diagnostic(
    `events ${total}, triggers expected ${expected.size}, found ${new Set(keys).size}, missing ${missing.length}, duplicates ${duplicates}`,
  );
  assert.deepEqual(missing, []);
  assert.deepEqual(unexpected, []);
  // Duplicates after a graceful stop would mean uncommitted finished work; each would carry its twin's id.
  assert.equal(duplicates, 0);

  // Per source partition, triggers appear in source-offset order within their trigger partition.
  const byTriggerPartition = new Map<number, Received[]>();
  for (const r of got)
    byTriggerPartition.set(r.partition, [...(byTriggerPartition.get(r.partition) ?? []), r]);
  for (const records of byTriggerPartition.values()) {
    records.sort((a, b) => a.offset - b.offset);
    const last = new Map<string, number>();
    for (const r of records) {
      const [, sourcePartition, sourceOffset] = (r.headers["rtcrm-source"] ?? "").split("/").slice(-3);
      const offset = Number(sourceOffset);
      const prev = last.get(sourcePartition ?? "") ?? -1;
      assert.ok(offset >= prev, `source partition ${sourcePartition}: offset ${offset} after ${prev}`);
      last.set(sourcePartition ?? "", offset);
    }
  }
  assert.equal(await engine.stop(), 0);
});
