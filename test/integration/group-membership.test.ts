// Static group membership end to end: a restarted engine takes its partition back without the group waiting for
// the killed one's session; a second engine under the same group_instance_id fences the first, which stops with
// exit code 1 and RTCRM_KAFKA_FENCED_INSTANCE; a graceful stop leaves the group, so the other member takes over.
import { test } from "node:test";
import assert from "node:assert/strict";
import { engineFixture } from "../helpers/engine-process.js";

const HOLDS_PARTITIONS = /"msg":"partitions assigned".*"partitions":\[\d/;

test("two engines with one group_instance_id: the first is fenced and exits 1, naming the setting", async (t) => {
  const { start } = await engineFixture(t, "fenced", {}, 1);
  const first = await start({ RTCRM_GROUP_INSTANCE_ID: "same" });
  await first.waitForLog(HOLDS_PARTITIONS);
  const second = await start({ RTCRM_GROUP_INSTANCE_ID: "same" });
  await second.waitForLog(HOLDS_PARTITIONS);
  assert.equal(await first.exited, 1);
  const fatal = await first.waitForLog(/"msg":"engine cannot go on/);
  assert.match(fatal, /"code":"RTCRM_KAFKA_FENCED_INSTANCE"/);
  assert.match(fatal, /own group_instance_id/);
  assert.equal(await second.stop(), 0);
});

test("a static member killed and restarted takes its partition back; a stopped one leaves the group", async (t) => {
  // A session timeout far beyond the test: only static membership and leaving make these hand-overs.
  const { start } = await engineFixture(t, "static", { session_timeout_ms: 120_000 }, 1);
  const a = await start({ RTCRM_GROUP_INSTANCE_ID: "a" });
  await a.waitForLog(HOLDS_PARTITIONS);
  a.child.kill("SIGKILL");
  await a.exited;
  const restarted = await start({ RTCRM_GROUP_INSTANCE_ID: "a" });
  await restarted.waitForLog(HOLDS_PARTITIONS, 30_000);

  const b = await start({ RTCRM_GROUP_INSTANCE_ID: "b" });
  await b.waitForLog(/"msg":"partitions assigned"/);
  const from = b.lines.length;
  assert.equal(await restarted.stop(), 0);
  await restarted.waitForLog(/"msg":"left the consumer group"/);
  await b.waitForLog(HOLDS_PARTITIONS, 30_000, from);
  assert.equal(await b.stop(), 0);
});
