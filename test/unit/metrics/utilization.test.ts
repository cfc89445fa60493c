// The workers' busy share between scrapes.
import { test } from "node:test";
import assert from "node:assert/strict";
import { UtilizationMeter } from "../../../src/metrics/utilization.js";

test("busy share since the previous reading, over all workers, clamped to 0..1", () => {
  const meter = new UtilizationMeter(0, 0);
  assert.equal(meter.read(2_000, 1_000, 1), 0.5); // 1 s busy of 2 s, one worker
  assert.equal(meter.read(4_000, 1_000 + 3_000, 2), 0.75); // 3 s busy of 2 workers x 2 s
  assert.equal(meter.read(5_000, 4_000, 2), 0); // idle
  assert.equal(meter.read(6_000, 9_000, 1), 1); // more busy time than wall time (clock skew): 1
});

test("readings closer than the minimum window repeat the last value and keep the window open", () => {
  const meter = new UtilizationMeter(0, 0, 1_000);
  assert.equal(meter.read(500, 500, 1), 0, "before any window: 0");
  assert.equal(meter.read(1_000, 600, 1), 0.6);
  assert.equal(meter.read(1_200, 800, 1), 0.6, "200 ms later: the previous value");
  assert.equal(meter.read(2_000, 1_000, 1), 0.4, "the window runs from the last full reading");
});
