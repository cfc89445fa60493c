import { test } from "node:test";
import assert from "node:assert/strict";
import { TriggerRate } from "../../../src/ui/trigger-rate.js";

const MIN = 60_000;
/** 10:00 of some day, on a minute boundary, so that bucket arithmetic below is easy to read. */
const T0 = Date.UTC(2025, 0, 1, 10, 0, 0);
const totals = (entries: [number, number][]) => new Map(entries);

test("per minute: the increase between readings lands in the minute of the later one; the first is a baseline", () => {
  const rate = new TriggerRate({ bucketMs: MIN, buckets: 5 });
  assert.deepEqual(rate.series(T0), { bucketMs: MIN, buckets: 5, end: T0 + MIN, observed: 0, campaigns: {} });
  // The engine had counted 40 before the UI looked: none of them is in the chart.
  rate.observe("a", T0 + 1_000, totals([[4711, 40]]));
  assert.deepEqual(rate.series(T0 + 2_000).campaigns, {});
  assert.equal(rate.series(T0 + 2_000).observed, 1);
  rate.observe("a", T0 + 3_000, totals([[4711, 42]]));
  rate.observe("a", T0 + MIN + 1_000, totals([[4711, 43]]));
  rate.observe("a", T0 + 2 * MIN + 1_000, totals([[4711, 43]]));
  const s = rate.series(T0 + 2 * MIN + 2_000);
  assert.equal(s.observed, 3);
  assert.equal(s.end, T0 + 3 * MIN);
  assert.deepEqual(s.campaigns, { 4711: [2, 1, 0] });
});

test("a campaign an engine did not list before counts from 0; a lower total is a restarted engine", () => {
  const rate = new TriggerRate({ bucketMs: MIN, buckets: 5 });
  rate.observe("a", T0, totals([[1, 5]]));
  rate.observe(
    "a",
    T0 + 1_000,
    totals([
      [1, 5],
      [2, 3],
    ]),
  );
  // Restarted: 1 counted since the restart, all of it new.
  rate.observe("a", T0 + MIN, totals([[1, 1]]));
  // Campaign 2 is back after the restart with 2: counted from 0 again.
  rate.observe(
    "a",
    T0 + MIN + 1_000,
    totals([
      [1, 1],
      [2, 2],
    ]),
  );
  assert.deepEqual(rate.series(T0 + MIN + 2_000).campaigns, { 1: [0, 1], 2: [3, 2] });
});

test("several engines: each its own baseline and increases, added up; an engine that fails a poll keeps its last totals", () => {
  const rate = new TriggerRate({ bucketMs: MIN, buckets: 5 });
  rate.observe("a", T0, totals([[1, 10]]));
  rate.observe("b", T0, totals([[1, 100]]));
  rate.observe("a", T0 + 1_000, totals([[1, 11]]));
  rate.observe("b", T0 + 1_000, totals([[1, 103]]));
  // b misses the polls of the next minute (not observed), then answers with what it counted meanwhile.
  rate.observe("a", T0 + MIN, totals([[1, 12]]));
  rate.observe("b", T0 + 2 * MIN, totals([[1, 105]]));
  assert.deepEqual(rate.series(T0 + 2 * MIN).campaigns, { 1: [4, 1, 2] });
});

test("the window: at most `buckets` points, older increases dropped, and campaigns with none left go", () => {
  const rate = new TriggerRate({ bucketMs: MIN, buckets: 3 });
  rate.observe(
    "a",
    T0,
    totals([
      [1, 0],
      [2, 0],
    ]),
  );
  rate.observe(
    "a",
    T0 + 1_000,
    totals([
      [1, 1],
      [2, 5],
    ]),
  );
  rate.observe(
    "a",
    T0 + 3 * MIN,
    totals([
      [1, 2],
      [2, 5],
    ]),
  );
  const s = rate.series(T0 + 3 * MIN);
  assert.equal(s.observed, 3);
  assert.deepEqual(s.campaigns, { 1: [0, 0, 1] });
  assert.deepEqual(rate.series(T0 + 10 * MIN).campaigns, {});
});
