// The soak's memory verdict: growth that follows the backlog passes, growth over time at equal backlog fails.
import assert from "node:assert/strict";
import { test } from "node:test";
import { partialSlope, rssVerdict, type Sample } from "../../../bench/soak/samples.js";

function samples(rss: (t: number, lag: number) => number, lag: (t: number) => number): Sample[] {
  return Array.from({ length: 121 }, (_, i) => {
    const t = i * 5;
    return {
      t,
      rssMiB: rss(t, lag(t)),
      peakRssMiB: null,
      threads: null,
      engineCpuS: null,
      soakCpuS: 0,
      mainHeapMiB: null,
      mainExternalMiB: null,
      mainHeapTotalMiB: null,
      workerHeapTotalMiB: null,
      sandboxMiB: 2.4,
      lag: lag(t),
      sent: 0,
      triggersRead: 0,
      load1: 0,
    };
  });
}

// A backlog that swings and, over the run, grows: 5,000 to 45,000 events.
const swingingLag = (t: number): number => 5_000 + 30 * t + 10_000 * Math.sin(t / 17);

test("RSS that follows the lag (in-flight events) is flat at equal lag", () => {
  const v = rssVerdict(
    samples((_, lag) => 200 + lag / 1_000, swingingLag),
    120,
    600,
  );
  assert.ok(v.slopeMiBPerMin > 1, `the plain slope would fail: ${v.slopeMiBPerMin}`);
  assert.ok(Math.abs(v.growthAtEqualLagMiBPerMin) < 1e-6, String(v.growthAtEqualLagMiBPerMin));
  assert.ok(Math.abs(v.miBPerThousandLag - 1) < 1e-6, String(v.miBPerThousandLag));
  assert.ok(Math.abs(v.parts.sandbox) < 1e-9, "a flat sandbox has a zero slope");
  assert.equal(v.pass, true);
});

test("a leak of 2 MiB/min fails whatever the lag does", () => {
  const v = rssVerdict(
    samples((t, lag) => 200 + (2 * t) / 60 + lag / 1_000, swingingLag),
    120,
    600,
  );
  assert.ok(Math.abs(v.growthAtEqualLagMiBPerMin - 2) < 1e-6, String(v.growthAtEqualLagMiBPerMin));
  assert.equal(v.pass, false);
});

test("with a lag that never changes, the growth is the plain slope", () => {
  assert.equal(
    partialSlope([
      [0, 7, 1],
      [1, 7, 3],
      [2, 7, 5],
    ]),
    2,
  );
});
