// Hostile filters next to normal ones, through the real broker: five filters of the hostile corpus on the busiest
// route (foe/fight) beside normal campaigns. Every trigger of the normal campaigns arrives, nothing is lost, no
// evaluation worker is restarted; the hostile versions are quarantined by outcome, stay quarantined across a
// restart (the status topic carries it), and a new version of one lifts it.
import { test } from "node:test";
import assert from "node:assert/strict";
import { SEED_EVENT_JSON } from "../fixtures/seed.js";
import { HOSTILE_NEIGHBOURS } from "../fixtures/hostile-corpus.js";
import { consumeUntil, produce, triggerKey, type Received } from "../helpers/kafka.js";
import { engineFixture } from "../helpers/engine-process.js";
import { Reference } from "../helpers/expected.js";
import { campaign } from "../helpers/campaigns.js";

const event = (n: number, result: string, over: Record<string, unknown> = {}): string =>
  JSON.stringify({
    ...(JSON.parse(SEED_EVENT_JSON) as object),
    event_id: `ev-${n}`,
    ...over,
    data: { result, n },
  });

const statusRecord = (r: Received) =>
  JSON.parse(r.value ?? "null") as {
    campaign_id: number;
    status: string;
    reasons?: string[];
    version?: string;
  };

test("five hostile filters beside normal ones: every normal trigger arrives, no worker restarts, the hostile versions are quarantined and stay so after a restart", async (t) => {
  const { topics, start } = await engineFixture(t, "hostile");
  const normal = [
    campaign(1, "function(event) { return event.getData().get('result') === 'loss' }"),
    campaign(2, "function(e) { return e.getData().get('n') % 3 === 0 }"),
    campaign(3, "(e) => e.getEventName() === 'login'", { event_name: "login" }),
  ];
  const hostile = HOSTILE_NEIGHBOURS.map((probe, i) => campaign(100 + i, probe.source));
  await produce(
    topics.campaign_topic,
    [...normal, ...hostile].map((c) => ({ key: String(c.campaign_id), value: JSON.stringify(c) })),
  );
  const events = Array.from({ length: 240 }, (_, n) =>
    n % 8 === 7 ? event(n, "win", { event_name: "login" }) : event(n, n % 2 === 0 ? "loss" : "win"),
  );
  const reference = new Reference(normal);
  const expectedFor = (batch: string[]) =>
    batch.flatMap((e) => reference.matches(e, Date.now()).map((id) => `${id}:${JSON.parse(e).event_id}`));
  const first = events.slice(0, 120);
  const second = events.slice(120);

  let engine = await start();
  await produce(
    topics.event_topic,
    first.map((value) => ({ value })),
  );
  const expectedFirst = expectedFor(first).sort();
  assert.ok(expectedFirst.length > 80, "the workload must match something");
  const got = await consumeUntil([topics.trigger_topic], (r) => r.length >= expectedFirst.length, 120_000);
  assert.deepEqual(got.map(triggerKey).sort(), expectedFirst, "every normal trigger, and nothing else");

  const quarantined = await consumeUntil(
    [topics.campaign_status_topic],
    (r) =>
      new Set(
        r
          .map(statusRecord)
          .filter((s) => s.status === "quarantined")
          .map((s) => s.campaign_id),
      ).size >= 5,
  );
  for (const h of hostile) {
    const s = quarantined
      .map(statusRecord)
      .find((x) => x.campaign_id === h.campaign_id && x.status === "quarantined");
    assert.ok(s?.version, `campaign ${h.campaign_id} quarantined with its version`);
    assert.match(s.reasons?.[0] ?? "", /stopped 3 times within 60000 ms/);
  }
  assert.equal(
    engine.lines.filter((l) => l.includes("evaluation worker replaced")).length,
    0,
    "no worker was restarted",
  );
  assert.equal(await engine.stop(), 0);

  // A restart: the quarantine holds (read back from the status topic); the hostile filters are not called again.
  engine = await start();
  await produce(
    topics.event_topic,
    second.map((value) => ({ value })),
  );
  const expectedAll = [...expectedFirst, ...expectedFor(second)].sort();
  const all = await consumeUntil([topics.trigger_topic], (r) => r.length >= expectedAll.length, 120_000);
  assert.deepEqual(all.map(triggerKey).sort(), expectedAll);
  const again = await consumeUntil(
    [topics.campaign_status_topic],
    (r) =>
      r
        .map(statusRecord)
        .filter((s) => s.status === "quarantined" && /quarantined earlier/.test(s.reasons?.[0] ?? ""))
        .length >= 5,
  );
  assert.ok(again.length > 0);
  assert.equal(
    engine.lines.filter((l) => l.includes("campaign filter problem")).length,
    0,
    "no hostile filter was called after the restart",
  );

  // A new version of a quarantined campaign is evaluated again.
  const fixed = campaign(100, "function(e) { return e.getData().get('n') === 1000 }");
  await produce(topics.campaign_topic, [{ key: "100", value: JSON.stringify(fixed) }]);
  await consumeUntil(
    [topics.campaign_status_topic],
    (r) =>
      new Set(
        r
          .map(statusRecord)
          .filter((s) => s.campaign_id === 100 && s.status === "accepted")
          .map((s) => s.version),
      ).size >= 2,
  );
  await produce(topics.event_topic, [{ value: event(1000, "win") }]);
  const last = await consumeUntil([topics.trigger_topic], (r) => r.length >= expectedAll.length + 1, 60_000);
  assert.ok(last.map(triggerKey).includes("100:ev-1000"));
  assert.equal(engine.lines.filter((l) => l.includes("evaluation worker replaced")).length, 0);
  assert.equal(await engine.stop(), 0);
});
