// Broker restart: the broker stops in the middle of a stream and starts again. The engine reports the
// outage, waits, resumes, and loses nothing. The broker is one of this test's own (never the shared one).
import { test } from "node:test";
import assert from "node:assert/strict";
import { TestBroker } from "../helpers/broker.js";
import { engineFixture } from "../helpers/engine-process.js";
import { consumeUntil, produce, useBootstrap } from "../helpers/kafka.js";
import { checkTriggers, makeStream, putCampaigns, waitForAll } from "./scenario.js";

for (const delivery of ["at-least-once", "exactly-once"] as const) {
  test(`${delivery}: the broker stops mid-stream and starts again`, async (t) => {
    const broker = new TestBroker(9193);
    await broker.startFresh();
    useBootstrap(broker.bootstrap);
    t.after(() => broker.remove());
    const { topics, start } = await engineFixture(
      t,
      `broker-restart-${delivery}`,
      { delivery, batch_size: 64, commit_interval_ms: 200 },
      3,
    );
    const stream = makeStream(4000, 3);
    await putCampaigns(topics.campaign_topic, stream.campaigns);
    const engine = await start();
    const half = stream.events.length / 2;
    await produce(topics.event_topic, stream.events.slice(0, half));
    await consumeUntil([topics.trigger_topic], (r) => r.length > 500);

    await broker.stop();
    await engine.waitForLog(/Kafka unreachable|brokers? (are )?down|Connection refused/i, 120_000);
    await new Promise((r) => setTimeout(r, 3_000));
    assert.equal(engine.child.exitCode, null, "the engine exited while the broker was down");
    await broker.start();

    await produce(topics.event_topic, stream.events.slice(half));
    await waitForAll(topics.trigger_topic, stream.expected);
    assert.equal(await engine.stop(), 0);
    await checkTriggers(t, `broker restart, ${delivery}`, topics.trigger_topic, stream, {
      exactlyOnce: delivery === "exactly-once",
    });
  });
}
