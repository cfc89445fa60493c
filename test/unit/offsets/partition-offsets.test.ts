// The per-partition checkpoint: only the offset after the last *contiguous* finished event may be committed.
import { test } from "node:test";
import assert from "node:assert/strict";
import { PartitionOffsets } from "../../../src/offsets/partition-offsets.js";

function tracked(...offsets: number[]): PartitionOffsets {
  const p = new PartitionOffsets();
  for (const o of offsets) assert.equal(p.track(o), true, `track(${o})`);
  return p;
}

test("nothing is committable before an event is finished", () => {
  const p = new PartitionOffsets();
  assert.equal(p.committable, null);
  assert.equal(p.toCommit(), null);
  assert.equal(p.inFlight, 0);
  p.track(0);
  assert.equal(p.committable, null);
  assert.equal(p.toCommit(), null);
  assert.equal(p.inFlight, 1);
});

test("the committable offset is the one after the last finished event, never past an unfinished one", () => {
  const p = tracked(10, 11, 12, 13);
  p.done(10);
  assert.equal(p.committable, 11);
  p.done(12);
  assert.equal(p.committable, 11, "11 is unfinished: 12 must not be committed past it");
  p.done(13);
  assert.equal(p.committable, 11);
  assert.equal(p.inFlight, 3, "12 and 13 stay in flight until 11 is done");
  p.done(11);
  assert.equal(p.committable, 14, "11 finished: everything up to 13 is committable at once");
  assert.equal(p.inFlight, 0);
});

test("events finished in reverse order commit only when the first one finishes", () => {
  const offsets = [5, 6, 7, 8, 9];
  const p = tracked(...offsets);
  for (const o of [...offsets].reverse().slice(0, -1)) {
    p.done(o);
    assert.equal(p.committable, null, `after done(${o})`);
  }
  p.done(5);
  assert.equal(p.committable, 10);
});

test("gaps in the offsets (compacted records, transaction markers) do not hold the commit back", () => {
  const p = tracked(3, 7, 8, 20);
  p.done(3);
  assert.equal(p.committable, 4);
  p.done(8);
  assert.equal(p.committable, 4, "7 is unfinished");
  p.done(7);
  assert.equal(p.committable, 9, "the gap 4..6 was never tracked, so nothing waits for it");
  p.done(20);
  assert.equal(p.committable, 21);
  assert.equal(p.inFlight, 0);
});

test("a record delivered twice, or an older one, is refused and tracked once", () => {
  const p = tracked(4, 5);
  assert.equal(p.track(5), false, "same offset again");
  assert.equal(p.track(4), false, "older than the newest tracked");
  assert.equal(p.track(1), false);
  assert.equal(p.inFlight, 2);
  p.done(4);
  p.done(5);
  assert.equal(p.committable, 6);
  assert.equal(p.track(5), false, "finished offsets are refused too");
  assert.equal(p.track(0), false);
  assert.equal(p.track(6), true);
  assert.equal(p.inFlight, 1);
});

test("the first offset tracked may be anywhere (a partition resumed from a committed offset)", () => {
  const p = new PartitionOffsets();
  assert.equal(p.track(1_000_000), true);
  p.done(1_000_000);
  assert.equal(p.committable, 1_000_001);
  assert.equal(p.track(999_999), false);
});

test("toCommit() offers each committable offset once; markCommitted(null) after a failed commit offers it again", () => {
  const p = tracked(0, 1, 2);
  p.done(0);
  assert.equal(p.toCommit(), 1);
  assert.equal(p.toCommit(), 1, "offering does not consume: only markCommitted does");
  p.markCommitted(1);
  assert.equal(p.lastCommitted, 1);
  assert.equal(p.toCommit(), null, "nothing new finished since the commit");
  assert.equal(p.committable, 1, "committable stays available for synchronous commits");

  p.done(1);
  assert.equal(p.toCommit(), 2);
  p.markCommitted(null);
  assert.equal(p.lastCommitted, null);
  assert.equal(p.toCommit(), 2, "the failed commit is repeated");
  p.markCommitted(2);
  assert.equal(p.toCommit(), null);

  p.markCommitted(null);
  assert.equal(p.toCommit(), 2, "forgetting the last commit offers the current offset again");
  p.done(2);
  assert.equal(p.toCommit(), 3);
});

test("a commit of an older offset confirmed late does not hide the newer committable offset", () => {
  const p = tracked(0, 1);
  p.done(0);
  const first = p.toCommit();
  assert.equal(first, 1);
  p.done(1);
  p.markCommitted(first);
  assert.equal(p.toCommit(), 2);
});

test("inFlight counts tracked events not yet finished, whatever their order", () => {
  const p = tracked(0, 2, 4, 6);
  assert.equal(p.inFlight, 4);
  p.done(4);
  assert.equal(p.inFlight, 4, "finished behind an unfinished one: still held");
  p.done(0);
  assert.equal(p.inFlight, 3);
  p.done(2);
  assert.equal(p.inFlight, 1, "0, 2 and 4 left together");
  p.track(7);
  assert.equal(p.inFlight, 2);
});

test("many offsets: the internal array is compacted past 1024 finished entries and nothing is lost", () => {
  const p = new PartitionOffsets();
  const n = 5_000;
  // Every other offset, as a partition with transaction markers between the records looks.
  const offsets = Array.from({ length: n }, (_, i) => 2 * i);
  for (const o of offsets) assert.equal(p.track(o), true);

  // Finish the first 3000 in a shuffled order within windows of 100: the commit moves window by window.
  for (let w = 0; w < 30; w++) {
    const window = offsets.slice(w * 100, (w + 1) * 100);
    for (const o of window.slice(1).reverse()) p.done(o);
    assert.equal(p.committable, w === 0 ? null : 2 * (w * 100 - 1) + 1, `window ${w} before its first`);
    p.done(window[0] as number);
    assert.equal(p.committable, 2 * ((w + 1) * 100 - 1) + 1, `window ${w} done`);
  }
  assert.equal(p.inFlight, n - 3000);

  // After compaction, duplicates and older offsets are still refused; the next offset is accepted.
  assert.equal(p.track(2 * (n - 1)), false);
  assert.equal(p.track(100), false);
  assert.equal(p.track(2 * 2999), false);

  for (const o of offsets.slice(3000)) p.done(o);
  assert.equal(p.inFlight, 0);
  assert.equal(p.committable, 2 * (n - 1) + 1);
  assert.equal(p.toCommit(), 2 * (n - 1) + 1);

  // Everything finished and compacted away: what was tracked before is still refused.
  assert.equal(p.track(2 * (n - 1)), false);
  assert.equal(p.track(0), false);
  assert.equal(p.track(2 * n), true);
  assert.equal(p.inFlight, 1);
  p.done(2 * n);
  assert.equal(p.committable, 2 * n + 1);
});

test("when one done() finishes everything and compaction empties the array, finished offsets stay refused", () => {
  const p = new PartitionOffsets();
  for (let o = 0; o < 2_000; o++) p.track(o);
  for (let o = 1; o < 2_000; o++) p.done(o);
  assert.equal(p.committable, null);
  p.done(0);
  assert.equal(p.committable, 2_000);
  assert.equal(p.inFlight, 0);
  assert.equal(p.track(1_999), false, "the newest finished offset");
  assert.equal(p.track(1_000), false);
  assert.equal(p.track(2_000), true);
});

test("compaction while events are still unfinished keeps their order and the refusal of older offsets", () => {
  const p = new PartitionOffsets();
  for (let o = 0; o < 3_000; o++) p.track(o);
  // 0..2499 finished (head far past 1024, more than half the array): the array is compacted.
  for (let o = 0; o < 2_500; o++) p.done(o);
  assert.equal(p.committable, 2_500);
  assert.equal(p.inFlight, 500);
  p.done(2_501);
  assert.equal(p.committable, 2_500, "2500 is unfinished");
  assert.equal(p.track(2_999), false);
  assert.equal(p.track(2_499), false);
  assert.equal(p.track(3_000), true);
  p.done(2_500);
  assert.equal(p.committable, 2_502);
  for (let o = 2_502; o <= 3_000; o++) p.done(o);
  assert.equal(p.committable, 3_001);
  assert.equal(p.inFlight, 0);
});
