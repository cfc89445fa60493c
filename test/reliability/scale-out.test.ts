// Scale-out on Kafka: three engines in one consumer group share a 6-partition events topic. A campaign
// added mid-stream reaches every instance; one instance is killed and another added during the stream
// (the group rebalances); every event is evaluated and nothing is lost. Static membership: a member killed and
// not restarted keeps its partitions until the session timeout, then the others take them; a member stopped
// with SIGTERM hands them over at once. The times are reported, not asserted.
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
const SESSION_TIMEOUT_MS = 6_000;
const HOLDS_PARTITIONS = /"msg":"partitions assigned".*"partitions":\[\d/;

/** Milliseconds from `since` (epoch ms) to the first line matching `re` any of `engines` logged after line `from`. */
function firstLogAfter(
  engines: readonly { engine: EngineProcess; from: number }[],
  re: RegExp,
  since: number,
): Promise<number> {
  return Promise.race(
    engines.map(async ({ engine, from }) => {
      const line = await engine.waitForLog(re, 60_000, from);
      return Date.parse((JSON.parse(line) as { time: string }).time) - since;
    }),
  );
}

for (const delivery of ["at-least-once", "exactly-once"] as const) {
  test(`${delivery}: 3 instances, one killed and one added mid-stream`, async (t) => {
    const { topics, start } = await engineFixture(
      t,
      `scale-${delivery}`,
      {
        delivery,
        batch_size: 64,
        commit_interval_ms: 200,
        // A dead member leaves the group after the session timeout: keep it short.
        session_timeout_ms: SESSION_TIMEOUT_MS,
      },
      PARTITIONS,
    );
    // Each instance its own transactional id (and so group_instance_id), as separate hosts would have.
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

for (const delivery of ["at-least-once", "exactly-once"] as const) {
  test(`${delivery}: a static member killed and not restarted; its partitions move after the session timeout`, async (t) => {
    const { topics, start, config } = await engineFixture(
      t,
      `static-${delivery}`,
      { delivery, batch_size: 64, commit_interval_ms: 200, session_timeout_ms: SESSION_TIMEOUT_MS },
      PARTITIONS,
    );
    const instance = (name: string): Promise<EngineProcess> =>
      start({
        RTCRM_GROUP_INSTANCE_ID: `${config.kafka_group_id}-${name}`,
        RTCRM_TRANSACTIONAL_ID: `${config.kafka_group_id}-${name}`,
      });
    const first = makeStream(1800, PARTITIONS, "s1");
    const second = makeStream(1800, PARTITIONS, "s2");
    await putCampaigns(topics.campaign_topic, FIGHT_CAMPAIGNS);
    const [a, b, c] = [await instance("A"), await instance("B"), await instance("C")] as const;
    for (const e of [a, b, c]) await e.waitForLog(HOLDS_PARTITIONS);
    await produce(topics.event_topic, first.events);
    await waitForAll(topics.trigger_topic, first.expected);

    // B dies for good: nobody reads its partitions until the group gives up on it.
    const survivors = [a, c].map((engine) => ({ engine, from: engine.lines.length }));
    const killedAt = Date.now();
    b.child.kill("SIGKILL");
    await b.exited;
    await produce(topics.event_topic, second.events);
    const takeover = await firstLogAfter(survivors, /"msg":"partitions assigned"/, killedAt);
    const all = concat(first, second);
    await waitForAll(topics.trigger_topic, all.expected);

    // C stops gracefully: it leaves the group, and A takes every partition at once.
    const fromA = a.lines.length;
    const stoppedAt = Date.now();
    const stopped = c.stop("SIGTERM");
    const handover = await firstLogAfter(
      [{ engine: a, from: fromA }],
      /"msg":"partitions assigned"/,
      stoppedAt,
    );
    assert.equal(await stopped, 0, "instance C did not stop cleanly");
    assert.equal(await a.stop(), 0, "instance A did not stop cleanly");

    const line =
      `static membership, ${delivery}: the killed member's partitions taken over ${takeover} ms after the ` +
      `SIGKILL (session_timeout_ms ${SESSION_TIMEOUT_MS}); the stopped member's ${handover} ms after its SIGTERM`;
    t.diagnostic(line);
    process.stdout.write(`# ${line}\n`);
    await checkTriggers(t, `static member killed, ${delivery}`, topics.trigger_topic, all, {
      exactlyOnce: delivery === "exactly-once",
    });
  });
}
