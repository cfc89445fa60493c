// At-least-once under crashes: the engine is killed with SIGKILL at several points of a stream and restarted
// each time; afterwards every expected trigger (from the pure evaluation function) is on the trigger topic.
// Duplicates are allowed in this delivery mode: they are counted, and each carries its twin's trigger id.
import { test } from "node:test";
import assert from "node:assert/strict";
import { SEED_EVENT_JSON } from "../fixtures/seed.js";
import { engineFixture } from "../helpers/engine-process.js";
import { Reference } from "../helpers/expected.js";
import { consumeUntil, produce, triggerKey, type Received } from "../helpers/kafka.js";

const DAY = 86_400_000;

test("SIGKILL at 5 points of a stream, restarting each time: no trigger is missing", async (t) => {
  // A dead member leaves the group after the session timeout: keep it short so that restarts rebalance fast.
  const { topics, start } = await engineFixture(
    t,
    "crash",
    {
      batch_size: 64,
      commit_interval_ms: 500,
      kafka: { "session.timeout.ms": 6000, "heartbeat.interval.ms": 1000 },
    },
    3,
  );
  const window = {
    start_date: new Date(Date.now() - DAY).toISOString(),
    end_date: new Date(Date.now() + DAY).toISOString(),
  };
  const campaigns = [
    {
      campaign_id: 1,
      enabled: true,
      game: "foe",
      event_name: "fight",
      ...window,
      filter: "function(e) { return e.getData().get('n') % 2 === 0 }",
    },
    {
      campaign_id: 2,
      enabled: true,
      game: "foe",
      event_name: "fight",
      ...window,
      filter: "(e) => e.data.n % 3 === 0",
    },
  ];
  await produce(
    topics.campaign_topic,
    campaigns.map((c) => ({ key: String(c.campaign_id), value: JSON.stringify(c) })),
  );
  const total = 6000;
  const events = Array.from({ length: total }, (_, n) => ({
    partition: n % 3,
    value: JSON.stringify({
      ...(JSON.parse(SEED_EVENT_JSON) as object),
      event_id: `ev-${n}`,
      player_id: n,
      data: { n },
    }),
  }));
  const reference = new Reference(campaigns);
  const now = Date.now();
  const expected = new Set(
    events.flatMap((e, n) => reference.matches(e.value, now).map((id) => `${id}:ev-${n}`)),
  );
  const key = triggerKey;

  const chunk = total / 6;
  let kills = 0;
  for (let k = 0; k < 6; k++) {
    await produce(topics.event_topic, events.slice(k * chunk, (k + 1) * chunk));
    const engine = await start();
    if (k === 5) break;
    // Kill once this chunk is partly processed: some triggers of it are out, its offsets partly committed.
    const seenBefore = k * chunk * 0.8;
    await consumeUntil([topics.trigger_topic], (r) => r.length > seenBefore);
    engine.child.kill("SIGKILL");
    await engine.exited;
    kills++;
  }
  const found = new Set<string>();
  let scanned = 0;
  const got = await consumeUntil(
    [topics.trigger_topic],
    (r) => {
      for (; scanned < r.length; scanned++) {
        const k = key(r[scanned] as Received);
        if (expected.has(k)) found.add(k);
      }
      return found.size === expected.size;
    },
    180_000,
  );
  const byKey = new Map<string, Set<string>>();
  for (const r of got)
    byKey.set(key(r), (byKey.get(key(r)) ?? new Set()).add(r.headers["rtcrm-trigger-id"] ?? ""));
  const missing = [...expected].filter((k) => !byKey.has(k));
  const unexpected = [...byKey.keys()].filter((k) => !expected.has(k));
  const duplicates = got.length - byKey.size;
  t.diagnostic(
    `kills ${kills}, events ${total}, triggers expected ${expected.size}, found ${byKey.size}, missing ${missing.length}, duplicates ${duplicates}`,
  );
  assert.equal(kills, 5);
  assert.deepEqual(missing, []);
  assert.deepEqual(unexpected, []);
  for (const [k, ids] of byKey) assert.equal(ids.size, 1, `${k}: duplicates carry different trigger ids`);
});
