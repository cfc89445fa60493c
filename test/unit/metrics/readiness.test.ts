// Readiness: campaigns read (start resolved) and Kafka reachable according to recent statistics.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Readiness } from "../../../src/metrics/readiness.js";

const up = { lags: [], brokers: [{ name: "b/1", state: "UP" }] };
const down = { lags: [], brokers: [{ name: "b/1", state: "TRY_CONNECT" }] };

test("starting until start resolved, then waiting for Kafka statistics, then ready", () => {
  let now = 1_000;
  const r = new Readiness(7_000, () => now);
  let report = r.report();
  assert.equal(report.ready, false);
  assert.equal(report.status, "starting");
  assert.equal(report.campaigns_read, false);
  assert.equal(report.kafka_reachable, false);
  assert.equal(report.missing.length, 2);
  assert.match(report.missing[0] ?? "", /campaign topic is not yet read to its end/);
  assert.match(report.missing[1] ?? "", /kafka: no statistics/);

  r.markStarted();
  report = r.report();
  assert.equal(report.status, "kafka-unreachable");
  assert.deepEqual(report.missing, ["kafka: no statistics from the events consumer yet"]);

  r.kafkaStats(up);
  now += 2_000;
  report = r.report();
  assert.deepEqual(report, {
    ready: true,
    status: "ready",
    campaigns_read: true,
    kafka_reachable: true,
    missing: [],
  });
});

test("no broker up, or statistics gone stale, makes it unready; fresh statistics make it ready again", () => {
  let now = 0;
  const r = new Readiness(7_000, () => now);
  r.markStarted();
  r.kafkaStats(down);
  assert.deepEqual(r.report().missing, ["kafka: no broker connection is up (b/1 TRY_CONNECT)"]);
  r.kafkaStats(up);
  assert.equal(r.report().ready, true);
  now = 7_001;
  assert.equal(r.report().status, "kafka-unreachable");
  assert.match(r.report().missing[0] ?? "", /no statistics from the events consumer for 7 s/);
  r.kafkaStats(up);
  assert.equal(r.report().ready, true);
});

test("stopping is reported over everything else", () => {
  const r = new Readiness(7_000, () => 0);
  r.markStarted();
  r.kafkaStats(up);
  r.markStopping();
  const report = r.report();
  assert.equal(report.ready, false);
  assert.equal(report.status, "stopping");
  assert.deepEqual(report.missing, ["the engine is stopping"]);
});
