// The registry as the telemetry channel and the engine's parts fill it: exact exposition of every engine metric.
import { test } from "node:test";
import assert from "node:assert/strict";
import type { ActiveCampaign } from "../../../src/campaigns/campaign-set.js";
import type { Outcome } from "../../../src/evaluation/outcome.js";
import {
  EngineMetrics,
  GONE_CAMPAIGN_SERIES_MS,
  METRIC_NAMES,
  type MeteredParts,
} from "../../../src/metrics/engine-metrics.js";
import type { WorkerMemory } from "../../../src/pool/protocol.js";
import { Telemetry } from "../../../src/telemetry.js";
import { sample, samples } from "./exposition.js";

const active = (campaignId: number) => ({ campaign: { campaignId } }) as unknown as ActiveCampaign;

function fakeParts(ids: number[]) {
  const pool = {
    workers: 2,
    queued: 0,
    busy: 0,
    busyTimeMs: () => pool.busy,
    reported: [] as WorkerMemory[],
    memory: () => pool.reported,
  };
  const campaigns = { size: ids.length, all: () => ids.map((id) => ({ campaign: { campaignId: id } })) };
  const parts: MeteredParts = { campaigns, pool };
  return { parts, pool };
}

test("before the engine started every metric is there, at zero, and unready", async () => {
  const metrics = new EngineMetrics({ processMetrics: false });
  const all = samples(await metrics.text());
  for (const name of [
    METRIC_NAMES.eventsConsumed,
    METRIC_NAMES.triggersProduced,
    METRIC_NAMES.deadLettered,
    METRIC_NAMES.poolQueueDepth,
    METRIC_NAMES.poolUtilization,
    METRIC_NAMES.poolWorkers,
    METRIC_NAMES.campaignsActive,
    `${METRIC_NAMES.commitLatencySeconds}_count`,
  ])
    assert.equal(sample(all, name), 0, name);
  assert.equal(metrics.readiness.report().status, "starting");
});

test("counters, per-campaign tallies, gauges and the evaluation histogram as Prometheus text", async () => {
  let clock = 1_000;
  const metrics = new EngineMetrics({ processMetrics: false, monotonic: () => clock });
  const { parts, pool } = fakeParts([1, 2, 3]);
  metrics.attach(parts);
  const telemetry = new Telemetry();
  metrics.subscribe(telemetry);
  telemetry.publish("consumed", 30);
  telemetry.publish("consumed", 10);
  for (let i = 0; i < 4; i++) telemetry.publish("deadLetter", "not valid JSON");
  telemetry.publish("triggered", 11);
  pool.queued = 3;
  const outcomes: [number, Outcome][] = [
    [1, { kind: "match", fuelUsed: 5, micros: 7 }],
    [1, { kind: "match", fuelUsed: 5, micros: 30 }],
    [1, { kind: "no-match", fuelUsed: 5, micros: 2_000 }],
    [1, { kind: "skipped", reason: "ended" }],
    [2, { kind: "threw", fuelUsed: 3, message: "boom", micros: 12 }],
    [2, { kind: "watchdog", fuelUsed: 0, message: "no answer" }],
    [3, { kind: "out-of-fuel", fuelUsed: 1_000, micros: 400 }],
    [77, { kind: "match", fuelUsed: 1, micros: 1 }], // deleted since: still reported
  ];
  for (const [id, outcome] of outcomes) telemetry.publish("outcome", active(id), outcome);
  telemetry.publish("committed", 12, []);
  const batch = {
    routed: 50,
    indexed: 30,
    skipped: 5,
    interpreted: 9,
    sandboxCalls: 4,
    shared: 2,
    quarantined: 0,
  };
  telemetry.publish("evaluations", batch);
  telemetry.publish("evaluations", { ...batch, quarantined: 1 });
  clock += 2_000;
  pool.busy = 1_000; // 1 s busy of 2 workers x 2 s

  const text = await metrics.text();
  const all = samples(text);
  // Each family is declared once and its samples follow its declaration, as the text format requires.
  const types = text.split("\n").filter((l) => l.startsWith("# TYPE "));
  assert.equal(new Set(types).size, types.length);
  for (const [name, type] of [
    [METRIC_NAMES.campaignMatches, "counter"],
    [METRIC_NAMES.campaignErrors, "counter"],
    [METRIC_NAMES.campaignFuelExhausted, "counter"],
    [METRIC_NAMES.campaignEvaluationSeconds, "histogram"],
  ] as const) {
    const declared = text.indexOf(`# TYPE ${name} ${type}\n`);
    assert.ok(declared >= 0, `${name} declared`);
    const lines = text.split("\n");
    const first = lines.findIndex((l) => l.startsWith(`${name}{`) || l.startsWith(`${name}_`));
    const last = lines.findLastIndex((l) => l.startsWith(`${name}{`) || l.startsWith(`${name}_`));
    const block = lines.slice(first, last + 1);
    assert.ok(
      block.every((l) => l.startsWith(name)),
      `${name}: samples contiguous`,
    );
    assert.equal(lines[first - 1], `# TYPE ${name} ${type}`);
  }
  const expect: Record<string, number> = {
    rtcrm_events_consumed_total: 40,
    rtcrm_triggers_produced_total: 11,
    rtcrm_dead_lettered_total: 4,
    'rtcrm_evaluation_pairs_total{path="routed"}': 100,
    'rtcrm_evaluation_pairs_total{path="indexed"}': 60,
    'rtcrm_evaluation_pairs_total{path="skipped"}': 10,
    'rtcrm_evaluation_pairs_total{path="interpreted"}': 18,
    'rtcrm_evaluation_pairs_total{path="sandbox"}': 8,
    'rtcrm_evaluation_pairs_total{path="shared"}': 4,
    'rtcrm_evaluation_pairs_total{path="quarantined"}': 1,
    'rtcrm_campaign_matches_total{campaign_id="1"}': 2,
    'rtcrm_campaign_matches_total{campaign_id="2"}': 0,
    'rtcrm_campaign_matches_total{campaign_id="3"}': 0,
    'rtcrm_campaign_matches_total{campaign_id="77"}': 1,
    'rtcrm_campaign_errors_total{campaign_id="2",kind="threw"}': 1,
    'rtcrm_campaign_errors_total{campaign_id="2",kind="watchdog"}': 1,
    'rtcrm_campaign_fuel_exhausted_total{campaign_id="3"}': 1,
    'rtcrm_campaign_fuel_exhausted_total{campaign_id="1"}': 0,
    'rtcrm_campaign_evaluation_seconds_bucket{campaign_id="1",le="0.000005"}': 0,
    'rtcrm_campaign_evaluation_seconds_bucket{campaign_id="1",le="0.00001"}': 1,
    'rtcrm_campaign_evaluation_seconds_bucket{campaign_id="1",le="0.00005"}': 2,
    'rtcrm_campaign_evaluation_seconds_bucket{campaign_id="1",le="0.001"}': 2,
    'rtcrm_campaign_evaluation_seconds_bucket{campaign_id="1",le="0.0025"}': 3,
    'rtcrm_campaign_evaluation_seconds_bucket{campaign_id="1",le="1"}': 3,
    'rtcrm_campaign_evaluation_seconds_bucket{campaign_id="1",le="+Inf"}': 3,
    'rtcrm_campaign_evaluation_seconds_count{campaign_id="1"}': 3,
    'rtcrm_campaign_evaluation_seconds_count{campaign_id="2"}': 1,
    'rtcrm_campaign_evaluation_seconds_count{campaign_id="3"}': 1,
    rtcrm_pool_queue_depth: 3,
    rtcrm_pool_workers: 2,
    rtcrm_pool_utilization: 0.25,
    rtcrm_campaigns_active: 3,
    'rtcrm_commit_latency_seconds_bucket{le="0.01"}': 0,
    'rtcrm_commit_latency_seconds_bucket{le="0.025"}': 1,
    rtcrm_commit_latency_seconds_count: 1,
  };
  for (const [key, value] of Object.entries(expect)) assert.equal(sample(all, key), value, key);
  assert.ok(
    Math.abs(sample(all, 'rtcrm_campaign_evaluation_seconds_sum{campaign_id="1"}') - 0.002037) < 1e-12,
  );
  assert.equal(all.has('rtcrm_campaign_errors_total{campaign_id="1",kind="threw"}'), false, "no zero errors");
  assert.equal(all.has('rtcrm_campaign_evaluation_seconds_count{campaign_id="2",le="+Inf"}'), false);
});

test("consumer statistics set the lag of assigned partitions, replace it on the next document, and feed readiness", async () => {
  const metrics = new EngineMetrics({ processMetrics: false });
  const telemetry = new Telemetry();
  metrics.subscribe(telemetry);
  const stats = (partitions: Record<string, number>, state = "UP") =>
    JSON.stringify({
      brokers: { "b:9093/1": { name: "b:9093/1", nodeid: 1, source: "learned", state } },
      topics: {
        ev: {
          topic: "ev",
          partitions: Object.fromEntries(
            Object.entries(partitions).map(([p, lag]) => [
              p,
              { partition: Number(p), desired: true, fetch_state: "active", consumer_lag: lag },
            ]),
          ),
        },
      },
    });
  telemetry.publish("clientStats", stats({ 0: 12, 1: 0 }));
  let all = samples(await metrics.text());
  assert.equal(sample(all, 'rtcrm_consumer_lag{topic="ev",partition="0"}'), 12);
  assert.equal(sample(all, 'rtcrm_consumer_lag{topic="ev",partition="1"}'), 0);
  // After a rebalance partition 0 is gone: its series goes with it.
  telemetry.publish("clientStats", stats({ 1: 3 }));
  all = samples(await metrics.text());
  assert.equal(all.has('rtcrm_consumer_lag{topic="ev",partition="0"}'), false);
  assert.equal(sample(all, 'rtcrm_consumer_lag{topic="ev",partition="1"}'), 3);

  metrics.readiness.markStarted();
  assert.equal(metrics.readiness.report().ready, true);
  telemetry.publish("clientStats", stats({ 1: 3 }, "DOWN"));
  assert.equal(metrics.readiness.report().status, "kafka-unreachable");
  telemetry.publish("clientStats", "{garbage");
  assert.equal(metrics.readiness.report().status, "kafka-unreachable", "a bad document changes nothing");
});

test("the default process metrics carry the rtcrm_ prefix", async () => {
  const metrics = new EngineMetrics();
  const names = [...samples(await metrics.text()).keys()];
  assert.ok(names.includes("rtcrm_process_cpu_user_seconds_total"), names.slice(0, 20).join(", "));
  assert.ok(names.some((n) => n.startsWith("rtcrm_nodejs_eventloop_lag_seconds")));
  assert.ok(names.every((n) => n.startsWith("rtcrm_")));
});

test("each worker's heap and sandbox memory, as the workers last reported it", async () => {
  const metrics = new EngineMetrics({ processMetrics: false });
  const { parts, pool } = fakeParts([]);
  metrics.attach(parts);
  const names = [
    METRIC_NAMES.workerHeapUsedBytes,
    METRIC_NAMES.workerHeapTotalBytes,
    METRIC_NAMES.sandboxMemoryBytes,
    METRIC_NAMES.sandboxHeapBytes,
    METRIC_NAMES.sandboxCampaignsBytes,
    METRIC_NAMES.sandboxMemoryResets,
    METRIC_NAMES.workerFilters,
  ];
  let all = samples(await metrics.text());
  for (const name of names) assert.equal(all.has(`${name}{worker="0"}`), false, "nothing before a report");

  const report = (n: number): WorkerMemory => ({
    heapUsedBytes: n + 1,
    heapTotalBytes: n + 2,
    sandboxMemoryBytes: n + 3,
    sandboxHeapBytes: n + 4,
    campaignsBytes: n + 5,
    memoryResets: n + 6,
    filters: n + 7,
  });
  pool.reported = [report(100), report(200)];
  all = samples(await metrics.text());
  names.forEach((name, k) => {
    assert.equal(sample(all, `${name}{worker="0"}`), 100 + k + 1, name);
    assert.equal(sample(all, `${name}{worker="1"}`), 200 + k + 1, name);
  });

  pool.reported = [report(300)];
  all = samples(await metrics.text());
  assert.equal(sample(all, `${METRIC_NAMES.sandboxMemoryBytes}{worker="0"}`), 303);
  assert.equal(
    all.has(`${METRIC_NAMES.sandboxMemoryBytes}{worker="1"}`),
    false,
    "a worker gone is not repeated",
  );
});

test("a campaign that left the set keeps its series for GONE_CAMPAIGN_SERIES_MS, then they go", async () => {
  let clock = 0;
  const metrics = new EngineMetrics({ processMetrics: false, monotonic: () => clock });
  const telemetry = new Telemetry();
  metrics.subscribe(telemetry);
  const ids = [1, 2];
  const { parts } = fakeParts(ids);
  metrics.attach(parts);
  for (const id of [1, 2])
    telemetry.publish("outcome", active(id), { kind: "match", fuelUsed: 1, micros: 3 });
  const matches = async (id: number) =>
    samples(await metrics.text()).get(`${METRIC_NAMES.campaignMatches}{campaign_id="${id}"}`);

  ids.splice(1, 1); // campaign 2 deleted
  assert.equal(await matches(2), 1, "its last count is still shown");
  clock += GONE_CAMPAIGN_SERIES_MS - 1;
  assert.equal(await matches(2), 1);
  clock += 1;
  assert.equal(await matches(2), undefined, "gone after the grace period");
  assert.equal(await matches(1), 1, "the active campaign stays");

  ids.push(2); // created again with the same id: counted afresh
  telemetry.publish("outcome", active(2), { kind: "match", fuelUsed: 1, micros: 3 });
  assert.equal(await matches(2), 1);
  clock += 10 * GONE_CAMPAIGN_SERIES_MS;
  assert.equal(await matches(2), 1, "an active campaign never expires");
});
