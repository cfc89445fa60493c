// Scale-out on Kafka: three engines in one consumer group share a 6-partition events topic. A campaign
// added mid-stream reaches every instance; one instance is killed and another added during the stream
// (the group rebalances); every event is evaluated and nothing is lost.
import { test } from "node:test";
import assert from "node:assert/strict";
import { engineFixture, type EngineProcess } from "../helpers/engine-process.js";
import { consumeUntil, produce } from "../helpers/kafka.js";
import {
  campaign,
  checkTriggers,
  concat,
  FIGHT_CAMPAIGNS,
  makeStream,
  putCampaigns,
  waitForAll,
} from "./scenario.js";

const PARTITIONS = 6;

for (const delivery of ["at-least-once", "exactly-once"] as const) {
  test(`${delivery}: 3 instances, one killed and one added mid-stream`, async (t) => {
    const { topics, start } = await engineFixture(
      t,
      `scale-${delivery}`,
      {
        delivery,
        batch_size: 64,
        commit_interval_ms: 200,
        kafka: { "session.timeout.ms": 6000, "heartbeat.interval.ms": 1000 },
      },
      PARTITIONS,
    );
    // Each instance its own transactional id (exactly-once), as separate hosts would have.
    const instance = (name: string): Promise<EngineProcess> =>
      start({ RTCRM_TRANSACTIONAL_ID: `scale-${name}` });

    const quest = campaign(3, "quest", "(e) => e.data.n % 5 === 0");
    const before = makeStream(3000, PARTITIONS, "a", FIGHT_CAMPAIGNS);
    const after = makeStream(3000, PARTITIONS, "b", [...FIGHT_CAMPAIGNS, quest], (n) =>
      n % 2 === 0 ? "fight" : "quest",
    );
    await putCampaigns(topics.campaign_topic, FIGHT_CAMPAIGNS);
    const engines = new Map<string, EngineProcess>();
    for (const name of ["A", "B", "C"]) engines.set(name, await instance(name));
    await produce(topics.event_topic, before.events);
    await consumeUntil([topics.trigger_topic], (r) => r.length > 500);

    // A campaign added while running reaches every instance.
    await putCampaigns(topics.campaign_topic, [quest]);
    for (const e of engines.values()) await e.waitForLog(/"msg":"campaign accepted".*"campaign_id":3\b/);

    const half = after.events.length / 2;
    await produce(topics.event_topic, after.events.slice(0, half));
    await consumeUntil([topics.trigger_topic], (r) => r.length > before.expected.size);
    const b = engines.get("B") as EngineProcess;
    b.child.kill("SIGKILL");
    await b.exited;
    engines.delete("B");
    engines.set("D", await instance("D"));
    await produce(topics.event_topic, after.events.slice(half));

    const all = concat(before, after);
    await waitForAll(topics.trigger_topic, all.expected);
    for (const [name, e] of engines) {
      const assigned = e.lines.some((l) => /"msg":"partitions assigned".*"partitions":\[\d/.test(l));
      assert.ok(assigned, `instance ${name} was never assigned a partition`);
      assert.equal(await e.stop(), 0, `instance ${name} did not stop cleanly`);
    }
    await checkTriggers(t, `scale-out 3 instances, ${delivery}`, topics.trigger_topic, all, {
      exactlyOnce: delivery === "exactly-once",
    });
  });
}
