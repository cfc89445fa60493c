// A player's delivery-rule state: its bytes in the store and on the changelog (round trip, size, refusal of bytes
// that are not a state), and expiry of what no cap needs any more.
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { NO_RULES, type DeliveryRules, type FrequencyCap } from "../../../src/campaigns/delivery-rules.js";
import {
  decodeState,
  emptyState,
  encodeState,
  expire,
  isEmpty,
  windowed,
  type CampaignHistory,
  type PlayerState,
} from "../../../src/rules/player-state.js";

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const T0 = Date.UTC(2026, 0, 1);
/** The largest instant a Date holds (year 275760). */
const MAX_DATE_MS = 8.64e15;

const cap = (max: number, periodMs: number | null = null): FrequencyCap => ({
  max,
  periodMs,
  period: periodMs === null ? null : `PT${periodMs / 1000}S`,
});

function state(
  campaigns: [number, CampaignHistory][],
  global: number[] = [],
  sources: [number, number][] = [],
): PlayerState {
  return { sources: new Map(sources), campaigns: new Map(campaigns), global };
}

const roundTrip = (s: PlayerState): PlayerState => decodeState(encodeState(s));

test("round trip: empty, lifetime counts, period times, the global times, negative ids, large timestamps", () => {
  for (const s of [
    emptyState(),
    state([[1, { count: 1, times: [] }]]),
    state(
      [[1, { count: 1, times: [] }]],
      [],
      [
        [0, 0],
        [11, 9_007_199_254_740],
      ],
    ),
    state([[4711, { count: 0, times: [T0 - HOUR, T0 - MINUTE, T0] }]], [T0 - 2 * DAY, T0]),
    state([
      [-1, { count: 3, times: [] }],
      [-4711, { count: 0, times: [T0] }],
      [0, { count: 7, times: [] }],
      [Number.MAX_SAFE_INTEGER, { count: Number.MAX_SAFE_INTEGER, times: [] }],
      [Number.MIN_SAFE_INTEGER, { count: 1, times: [] }],
      [-(2 ** 52) - 1, { count: 1, times: [] }],
    ]),
    state([[5, { count: 0, times: [0, 1, MAX_DATE_MS - 1] }]], [MAX_DATE_MS]),
    state([[5, { count: 0, times: [Number.MAX_SAFE_INTEGER] }]], [0]),
    state([], [T0, T0, T0]),
    // Before 1970 (a created_at clock replaying old events): distances to the newest stay non-negative.
    state([[6, { count: 0, times: [-50 * 365 * DAY, -5] }]], [-1]),
  ]) {
    assert.deepEqual(roundTrip(s), s);
  }
});

test("round trip keeps the campaigns' order and the times' order", () => {
  const s = state([
    [9, { count: 0, times: [T0 + 5, T0 + 1] }],
    [2, { count: 1, times: [] }],
    [7, { count: 0, times: [T0] }],
  ]);
  const back = roundTrip(s);
  assert.deepEqual([...back.campaigns.keys()], [9, 2, 7]);
  assert.deepEqual(back.campaigns.get(9)?.times, [T0 + 5, T0 + 1]);
});

/** A state as the rules leave it: ids any safe integer, counts >= 0, times instants from 1970 to Date's end. */
const arbitraryState: fc.Arbitrary<PlayerState> = fc
  .record({
    campaigns: fc.uniqueArray(
      fc.tuple(
        fc.maxSafeInteger(),
        fc.record(
          {
            count: fc.oneof(fc.nat(10), fc.maxSafeNat()),
            times: fc.array(fc.integer({ min: 0, max: MAX_DATE_MS }), { maxLength: 5 }),
          },
          { noNullPrototype: true },
        ),
      ),
      { selector: ([id]) => id, maxLength: 8 },
    ),
    global: fc.array(fc.integer({ min: 0, max: MAX_DATE_MS }), { maxLength: 6 }),
  })
  .map(({ campaigns, global }) => state(campaigns, global));

test("property: decode(encode(state)) is the state, and encode is a function of the state", () => {
  fc.assert(
    fc.property(arbitraryState, (s) => {
      const bytes = encodeState(s);
      assert.deepEqual(decodeState(bytes), s);
      assert.deepEqual(encodeState(decodeState(bytes)), bytes);
    }),
    { numRuns: 2000 },
  );
});

test("property: a state's bytes cut short, or with a byte more, are refused with a RangeError", () => {
  fc.assert(
    fc.property(arbitraryState, fc.nat(), (s, cut) => {
      const bytes = encodeState(s);
      assert.throws(() => decodeState(bytes.subarray(0, cut % bytes.length)), RangeError);
      assert.throws(() => decodeState(Buffer.concat([bytes, Buffer.from([0])])), RangeError);
    }),
    { numRuns: 500 },
  );
});

test("bytes of another version or of no state are refused", () => {
  const bytes = encodeState(state([[1, { count: 1, times: [] }]]));
  const other = Buffer.from(bytes);
  other[0] = 3;
  assert.throws(() => decodeState(other), /player state of unknown version 3/);
  assert.throws(() => decodeState(new Uint8Array(0)), /ends in the middle of a number/);
  assert.throws(
    () => decodeState(Buffer.from([1, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 1])),
    RangeError,
  );
});

test("size: one capped campaign with one time is under 20 bytes; ten campaigns of three times well under 100", () => {
  // With the last event decided in one partition of the events topic (a million records in: 4 bytes).
  const one = encodeState(state([[4711, { count: 0, times: [T0] }]], [], [[2, 1_000_000]]));
  assert.ok(one.length <= 100, `${one.length} bytes`);
  assert.ok(one.length <= 20, `${one.length} bytes (about 19 expected)`);
  const lifetime = encodeState(state([[4711, { count: 1, times: [] }]], [], [[2, 1_000_000]]));
  assert.ok(lifetime.length <= 14, `${lifetime.length} bytes for a once-per-player cap`);
  const busy = encodeState(
    state(
      Array.from({ length: 10 }, (_, i): [number, CampaignHistory] => [
        1000 + i,
        { count: 0, times: [T0 - 3 * HOUR, T0 - HOUR, T0 - i * MINUTE] },
      ]),
      [T0 - 5 * HOUR, T0 - 2 * HOUR, T0],
    ),
  );
  assert.ok(busy.length <= 100 * 10, `${busy.length} bytes for 10 campaigns`);
  // Each time is a varint of its distance to the newest: 4 bytes for hours back.
  assert.ok(busy.length / 10 <= 20, `${busy.length / 10} bytes per campaign with 3 times each`);
});

test("windowed keeps the times inside the period at the clock, at most max, the newest", () => {
  const hourly = cap(2, HOUR);
  assert.deepEqual(windowed([T0 - HOUR, T0 - HOUR + 1, T0 - 1], hourly, T0), [T0 - HOUR + 1, T0 - 1]);
  assert.deepEqual(windowed([T0 - 3, T0 - 2, T0 - 1], hourly, T0), [T0 - 2, T0 - 1]);
  assert.deepEqual(windowed([1, 2, 3], cap(2), T0), [2, 3], "without a period only max bounds them");
  assert.deepEqual(windowed([], hourly, T0), []);
});

test("expire drops times no period needs, campaigns gone or no longer capped, and keeps lifetime counts", () => {
  const rules = new Map<number, DeliveryRules>([
    [1, { ...NO_RULES, frequencyCap: cap(2, HOUR) }],
    [2, { ...NO_RULES, frequencyCap: cap(1) }],
    [3, { ...NO_RULES, frequencyCap: cap(3, DAY) }],
    // 4 is gone; 5 has lost its cap.
    [5, { ...NO_RULES, holdoutPercent: 10 }],
  ]);
  const s = state(
    [
      [1, { count: 0, times: [T0 - 2 * HOUR, T0 - 30 * MINUTE] }],
      [2, { count: 1, times: [] }],
      [3, { count: 0, times: [T0 - 2 * DAY] }],
      [4, { count: 0, times: [T0] }],
      [5, { count: 2, times: [] }],
    ],
    [T0 - 2 * DAY, T0 - HOUR],
  );
  assert.equal(
    expire(s, T0, (id) => rules.get(id), cap(3, DAY)),
    true,
  );
  assert.deepEqual(
    s,
    state(
      [
        [1, { count: 0, times: [T0 - 30 * MINUTE] }],
        [2, { count: 1, times: [] }],
      ],
      [T0 - HOUR],
    ),
  );
  // Nothing more to drop at the same instant: unchanged, and it says so.
  assert.equal(
    expire(s, T0, (id) => rules.get(id), cap(3, DAY)),
    false,
  );
  // Later: the period's times are gone, the lifetime count stays; without a global cap its times go too.
  assert.equal(
    expire(s, T0 + DAY, (id) => rules.get(id), null),
    true,
  );
  assert.deepEqual(s, state([[2, { count: 1, times: [] }]]));
  assert.equal(isEmpty(s), false);
  // The campaign deleted: nothing is left, and an empty state is written as a tombstone by the engine.
  assert.equal(
    expire(s, T0 + DAY, () => undefined, null),
    true,
  );
  assert.equal(isEmpty(s), true);
});

test("expire after a cap changed from a period to the lifetime, and back, keeps only what the new cap reads", () => {
  const s = state([
    [1, { count: 0, times: [T0 - MINUTE] }],
    [2, { count: 4, times: [] }],
  ]);
  const lifetime = { ...NO_RULES, frequencyCap: cap(1) };
  const hourly = { ...NO_RULES, frequencyCap: cap(1, HOUR) };
  const changed = expire(s, T0, (id) => (id === 1 ? lifetime : hourly), null);
  assert.equal(changed, true);
  // 1's times mean nothing to a lifetime count (0): dropped. 2's count means nothing to a period: dropped.
  assert.deepEqual(s, emptyState());
});
