import { test, type TestContext } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import {
  MetricsPoller,
  combineReadings,
  readInstances,
  type MetricsState,
} from "../../../src/ui/metrics-poller.js";
import { noCounters } from "../../../src/ui/prometheus-text.js";
import { TriggerRate } from "../../../src/ui/trigger-rate.js";

/** An engine's /metrics that answers whatever `body()` says at the time of the request. */
async function fakeEngine(t: TestContext, body: () => string | null): Promise<string> {
  const server = createServer((_req, res) => {
    const text = body();
    if (text === null) res.writeHead(500).end("down");
    else res.writeHead(200, { "content-type": "text/plain; version=0.0.4" }).end(text);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/metrics`;
}

const exposition = (id: number, c: { matches: number; triggers: number; capped?: number }) =>
  [
    "# TYPE rtcrm_campaign_matches_total counter",
    `rtcrm_campaign_matches_total{campaign_id="${id}"} ${c.matches}`,
    "# TYPE rtcrm_campaign_triggers_total counter",
    `rtcrm_campaign_triggers_total{campaign_id="${id}"} ${c.triggers}`,
    "# TYPE rtcrm_campaign_capped_total counter",
    `rtcrm_campaign_capped_total{campaign_id="${id}",cap="campaign"} ${c.capped ?? 0}`,
  ].join("\n");

test("every engine read on its own, then added up; one that fails is named and the others still count", async (t) => {
  const a = await fakeEngine(t, () => exposition(4711, { matches: 3, triggers: 2, capped: 1 }));
  const b = await fakeEngine(t, () => exposition(4711, { matches: 4, triggers: 1 }));
  const down = await fakeEngine(t, () => null);
  const readings = await readInstances([a, b, down]);
  assert.deepEqual(
    readings.map((r) => r.ok),
    [true, true, false],
  );
  const state = combineReadings([a, b, down], readings, new TriggerRate().series(0));
  assert.equal(state.available, false);
  assert.equal(state.problem, `engine metrics not readable: ${down}: HTTP 500`);
  assert.deepEqual(state.exposed, ["capped", "matches", "triggers"]);
  assert.deepEqual(state.campaigns, {
    4711: { ...noCounters(), matches: 7, triggers: 3, capped: 1, cappedBy: { campaign: 1 } },
  });
});

test("the poller: triggers per bucket from successive polls, pushed to the page as they change", async (t) => {
  let triggers = 5;
  const url = await fakeEngine(t, () => exposition(4711, { matches: triggers, triggers }));
  const states: MetricsState[] = [];
  const poller = new MetricsPoller({
    urls: [url],
    intervalMs: 20,
    rateBucketMs: 60_000,
    rateBuckets: 30,
    onChange: (s) => states.push(s),
  });
  t.after(() => poller.stop());
  assert.equal(poller.state.triggerRate.observed, 0);
  poller.start();
  const until = async (what: string, ok: (s: MetricsState) => boolean): Promise<MetricsState> => {
    for (const deadline = Date.now() + 10_000; Date.now() < deadline;) {
      if (ok(poller.state)) return poller.state;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    assert.fail(`timed out waiting for ${what}: ${JSON.stringify(poller.state)}`);
  };
  // The 5 counted before the first poll are not in the chart.
  const first = await until("the first poll", (s) => s.available);
  assert.equal(first.campaigns["4711"]?.triggers, 5);
  assert.deepEqual(first.triggerRate.campaigns, {});
  triggers = 8;
  const later = await until("the increase", (s) => s.campaigns["4711"]?.triggers === 8);
  const points = later.triggerRate.campaigns["4711"] ?? [];
  assert.equal(points.length, later.triggerRate.observed);
  assert.equal(
    points.reduce((x, y) => x + y, 0),
    3,
  );
  // Nothing changed between the later polls: nothing more was pushed.
  const pushed = states.length;
  await new Promise((resolve) => setTimeout(resolve, 100));
  assert.ok(states.length <= pushed + 1, `${states.length - pushed} pushes without a change`);
});
