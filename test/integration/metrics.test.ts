// The engine's HTTP endpoints on the real engine and broker: exact counts for a known input, readiness during
// and after the start, and a port in use. The engine runs as its own process.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:net";
import { SEED_EVENT_JSON } from "../fixtures/seed.js";
import { EngineProcess, engineFixture, engineSetup } from "../helpers/engine-process.js";
import { consumeUntil, produce, within } from "../helpers/kafka.js";
import { sample, samples } from "../unit/metrics/exposition.js";
import { campaign } from "../helpers/campaigns.js";

const HOST = "127.0.0.1";

function event(n: number): string {
  return JSON.stringify({ ...(JSON.parse(SEED_EVENT_JSON) as object), event_id: `ev-${n}`, data: { n } });
}

/** A port nobody listens on right now. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, HOST, resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function get(port: number, path: string): Promise<{ status: number; body: string }> {
  const res = await fetch(`http://${HOST}:${port}${path}`, { signal: AbortSignal.timeout(10_000) });
  return { status: res.status, body: await res.text() };
}

/** Polls `path` until `done` accepts the answer; rejects with the last answer after `timeoutMs`. */
async function pollUntil(
  port: number,
  path: string,
  done: (r: { status: number; body: string }) => boolean,
  timeoutMs = 60_000,
): Promise<{ status: number; body: string }> {
  let last: { status: number; body: string } | undefined;
  const poll = async () => {
    for (;;) {
      last = await get(port, path).catch((error: unknown) => ({ status: 0, body: String(error) }));
      if (done(last)) return last;
      await new Promise((r) => setTimeout(r, 250));
    }
  };
  return within(timeoutMs, `${path} (last answer: ${JSON.stringify(last)})`, poll());
}

test("/metrics counts exactly what a known input did; /healthz and /readyz answer 200", async (t) => {
  const port = await freePort();
  const { topics, start } = await engineFixture(t, "metrics", {
    http_port: port,
    http_host: HOST,
    fuel_overrides: { "3": 20_000 },
  });
  await produce(
    topics.campaign_topic,
    [
      campaign(1, "function(e) { return e.getData().get('n') % 3 === 0 }"),
      campaign(2, "function(e) { throw new Error('boom') }"),
      campaign(3, "function(e) { while (true) {} }"),
      campaign(4, "(e) => true", { event_name: "login" }),
    ].map((c) => ({ key: String(c.campaign_id), value: JSON.stringify(c) })),
  );
  const engine = await start();

  // 31 valid events, n = 0..30 (campaign 1 matches 11 of them, n = 30 last), 4 malformed ones among them.
  // One partition: the trigger of the last event comes after every outcome before it was counted. Campaign 3 runs
  // out of fuel three times and is then quarantined (quarantine_after 3): it is not called again.
  const valid = Array.from({ length: 31 }, (_, n) => ({ value: event(n) }));
  const malformed = ["not json", "[1]", JSON.stringify({ game: "foe" }), JSON.stringify({ event_name: "x" })];
  await produce(topics.event_topic, [
    ...valid.slice(0, 10),
    ...malformed.slice(0, 2).map((value) => ({ value })),
    ...valid.slice(10, 20),
    ...malformed.slice(2).map((value) => ({ value })),
    ...valid.slice(20),
  ]);
  await consumeUntil([topics.trigger_topic], (r) => r.length >= 11);
  await consumeUntil([topics.dead_letter_topic], (r) => r.length >= 4);

  const all = samples((await get(port, "/metrics")).body);
  const expected: Record<string, number> = {
    rtcrm_events_consumed_total: 35,
    rtcrm_triggers_produced_total: 11,
    rtcrm_dead_lettered_total: 4,
    'rtcrm_campaign_matches_total{campaign_id="1"}': 11,
    'rtcrm_campaign_matches_total{campaign_id="2"}': 0,
    'rtcrm_campaign_matches_total{campaign_id="3"}': 0,
    'rtcrm_campaign_matches_total{campaign_id="4"}': 0,
    'rtcrm_campaign_errors_total{campaign_id="2",kind="threw"}': 31,
    'rtcrm_campaign_fuel_exhausted_total{campaign_id="1"}': 0,
    'rtcrm_campaign_fuel_exhausted_total{campaign_id="2"}': 0,
    'rtcrm_campaign_fuel_exhausted_total{campaign_id="3"}': 3,
    'rtcrm_campaign_evaluation_seconds_count{campaign_id="1"}': 31,
    'rtcrm_campaign_evaluation_seconds_count{campaign_id="2"}': 31,
    'rtcrm_campaign_evaluation_seconds_count{campaign_id="3"}': 3,
    'rtcrm_campaign_evaluation_seconds_bucket{campaign_id="1",le="+Inf"}': 31,
    rtcrm_campaigns_active: 3,
    rtcrm_pool_workers: 1,
    rtcrm_pool_queue_depth: 0,
  };
  for (const [key, value] of Object.entries(expected)) assert.equal(sample(all, key), value, key);
  const errorSeries = [...all.keys()].filter((k) => k.startsWith("rtcrm_campaign_errors_total{"));
  assert.deepEqual(errorSeries, ['rtcrm_campaign_errors_total{campaign_id="2",kind="threw"}']);
  assert.equal(all.has('rtcrm_campaign_evaluation_seconds_count{campaign_id="4"}'), false, "never called");
  assert.ok(sample(all, 'rtcrm_campaign_evaluation_seconds_sum{campaign_id="1"}') > 0);
  const utilization = sample(all, "rtcrm_pool_utilization");
  assert.ok(utilization >= 0 && utilization <= 1, `utilization ${utilization}`);
  assert.ok(sample(all, "rtcrm_process_cpu_user_seconds_total") > 0);

  const health = await get(port, "/healthz");
  assert.equal(health.status, 200);
  const ready = await pollUntil(port, "/readyz", (r) => r.status === 200);
  assert.deepEqual(JSON.parse(ready.body), {
    ready: true,
    status: "ready",
    campaigns_read: true,
    kafka_reachable: true,
    missing: [],
  });
  // Every event processed and committed: the statistics report partition 0 with no lag, after some commits.
  const lagKey = `rtcrm_consumer_lag{topic="${topics.event_topic}",partition="0"}`;
  const settled = await pollUntil(port, "/metrics", (r) => samples(r.body).get(lagKey) === 0);
  assert.ok(sample(samples(settled.body), "rtcrm_commit_latency_seconds_count") > 0);

  assert.equal(await engine.stop(), 0);
  await assert.rejects(get(port, "/healthz"), "the endpoints are closed with the engine");
});

test("while the engine cannot reach Kafka /healthz answers 200 and /readyz 503 'starting'; a stop still exits 0", async (t) => {
  const port = await freePort();
  // Nothing listens on port 1: the start retries with back-off and never finishes.
  const { configPath } = engineSetup("metrics-starting", {
    http_port: port,
    http_host: HOST,
    kafka_bootstrap_servers: `${HOST}:1`,
  });
  const engine = new EngineProcess(configPath);
  t.after(async () => {
    if (engine.child.exitCode === null && engine.child.signalCode === null) await engine.stop("SIGKILL");
  });
  await engine.waitForLog(/"msg":"http endpoints listening"/);

  const health = await get(port, "/healthz");
  assert.equal(health.status, 200);
  const ready = await get(port, "/readyz");
  assert.equal(ready.status, 503);
  const report = JSON.parse(ready.body) as { ready: boolean; status: string; missing: string[] };
  assert.equal(report.ready, false);
  assert.equal(report.status, "starting");
  assert.equal(report.missing.length, 2);
  assert.match(report.missing[0] ?? "", /campaign topic is not yet read to its end/);
  assert.match(report.missing[1] ?? "", /^kafka: /);
  assert.equal(engine.child.exitCode, null, "still starting");

  assert.equal(await engine.stop("SIGTERM"), 0);
});

test("an HTTP port in use stops the start with exit code 2 and says to change http_port", async (t) => {
  const taken = createServer();
  await new Promise<void>((resolve) => taken.listen(0, HOST, resolve));
  t.after(() => new Promise((resolve) => taken.close(resolve)));
  const { port } = taken.address() as { port: number };
  const { configPath } = engineSetup("metrics-port", { http_port: port, http_host: HOST });
  const engine = new EngineProcess(configPath);
  t.after(async () => {
    if (engine.child.exitCode === null && engine.child.signalCode === null) await engine.stop("SIGKILL");
  });
  assert.equal(await within(60_000, "engine exit", engine.exited), 2);
  assert.ok(
    engine.lines.some((l) =>
      /http_port: 127\.0\.0\.1:\d+ is already in use; set http_port to a free port/.test(l),
    ),
    engine.lines.join("\n"),
  );
});
