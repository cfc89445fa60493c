// The per-campaign tallies filled on the hot path.
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  CampaignTallies,
  ERROR_KINDS,
  EVALUATION_BUCKETS_SECONDS,
} from "../../../src/metrics/campaign-tallies.js";

test("matches, fuel exhaustion and each error kind are counted per campaign; skipped outcomes nowhere", () => {
  const tallies = new CampaignTallies();
  tallies.record(1, { kind: "match", fuelUsed: 10, micros: 3 });
  tallies.record(1, { kind: "match", fuelUsed: 10, micros: 4 });
  tallies.record(1, { kind: "no-match", fuelUsed: 10, micros: 5 });
  tallies.record(1, { kind: "out-of-fuel", fuelUsed: 100, micros: 80 });
  for (const kind of ERROR_KINDS) tallies.record(2, { kind, fuelUsed: 0, message: "x" });
  tallies.record(2, { kind: "threw", fuelUsed: 0, message: "again", micros: 7 });
  tallies.record(3, { kind: "skipped", reason: "ended" });

  const one = tallies.get(1);
  assert.ok(one);
  assert.equal(one.matches, 2);
  assert.equal(one.fuelExhausted, 1);
  assert.deepEqual([...one.errors], new Array(ERROR_KINDS.length).fill(0));
  const two = tallies.get(2);
  assert.ok(two);
  assert.deepEqual([...two.errors], [2, ...new Array(ERROR_KINDS.length - 1).fill(1)]);
  assert.equal(ERROR_KINDS[0], "threw");
  assert.equal(two.matches, 0);
  assert.equal(tallies.get(3), undefined, "a campaign only skipped has no tally");
});

test("timed calls land in the first bucket whose bound they do not exceed; untimed ones are not timed", () => {
  const tallies = new CampaignTallies();
  const boundMicros = EVALUATION_BUCKETS_SECONDS.map((s) => s * 1e6);
  tallies.record(9, { kind: "no-match", fuelUsed: 1, micros: boundMicros[0]! }); // on the bound: bucket 0
  tallies.record(9, { kind: "no-match", fuelUsed: 1, micros: boundMicros[0]! + 0.5 }); // bucket 1
  tallies.record(9, { kind: "match", fuelUsed: 1, micros: boundMicros.at(-1)! * 2 }); // above all: overflow slot
  tallies.record(9, { kind: "watchdog", fuelUsed: 0, message: "no answer" }); // no micros
  const t = tallies.get(9);
  assert.ok(t);
  assert.equal(t.timedCalls, 3);
  assert.equal(t.buckets[0], 1);
  assert.equal(t.buckets[1], 1);
  assert.equal(t.buckets[boundMicros.length], 1);
  assert.equal(
    t.buckets.reduce((a, b) => a + b, 0),
    3,
  );
  assert.equal(t.sumMicros, boundMicros[0]! * 2 + 0.5 + boundMicros.at(-1)! * 2);
  assert.equal(t.errors[ERROR_KINDS.indexOf("watchdog")], 1);
});
