// Crashes: the engine is killed with SIGKILL at several points of a stream and restarted each time; then
// the trigger topic is checked against the expected triggers (from the pure evaluation function).
// At-least-once: none missing, duplicates counted (each with its twin's trigger id). Exactly-once: each
// expected trigger exactly once, as a read_committed consumer sees the topic.
import { test } from "node:test";
import assert from "node:assert/strict";
import { engineFixture } from "../helpers/engine-process.js";
import { consumeUntil, produce } from "../helpers/kafka.js";
import { checkTriggers, makeStream, putCampaigns, waitForAll } from "./scenario.js";

for (const delivery of ["at-least-once", "exactly-once"] as const) {
  test(`${delivery}: SIGKILL at 5 points of a stream, restarting each time`, async (t) => {
    // A dead member leaves the group after the session timeout: keep it short so that restarts rebalance fast.
    const { topics, start } = await engineFixture(
      t,
      `crash-${delivery}`,
      {
        delivery,
        batch_size: 64,
        commit_interval_ms: 200,
        kafka: { "session.timeout.ms": 6000, "heartbeat.interval.ms": 1000 },
      },
      3,
    );
    const stream = makeStream(6000, 3);
    await putCampaigns(topics.campaign_topic, stream.campaigns);
    const chunk = stream.events.length / 6;
    let kills = 0;
    let engine;
    for (let k = 0; k < 6; k++) {
      await produce(topics.event_topic, stream.events.slice(k * chunk, (k + 1) * chunk));
      engine = await start();
      if (k === 5) break;
      // Kill once this chunk is partly processed: some of its triggers are out, its offsets partly committed.
      const seenBefore = k * chunk * 0.8;
      await consumeUntil([topics.trigger_topic], (r) => r.length > seenBefore);
      engine.child.kill("SIGKILL");
      await engine.exited;
      kills++;
    }
    await waitForAll(topics.trigger_topic, stream.expected);
    assert.equal(await engine?.stop(), 0);
    assert.equal(kills, 5);
    await checkTriggers(t, `crash recovery, ${delivery}, ${kills} kills`, topics.trigger_topic, stream, {
      exactlyOnce: delivery === "exactly-once",
    });
  });
}
