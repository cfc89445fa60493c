// The pool's wire format: events and outcomes come back out of their columns as they went in; an event names its
// route by index into the task's routes (a route's filters cross once, never with each event); outcomes are sparse
// (only the pairs reported), with the batch's counts beside them.
import { test } from "node:test";
import assert from "node:assert/strict";
import type { FilterOutcome } from "../../../src/evaluation/outcome.js";
import type { BatchEvent, FilterRef } from "../../../src/pool/protocol.js";
import {
  addCounts,
  decodeOutcomes,
  encodeEvents,
  noCounts,
  OutcomeWriter,
  type EvaluationCounts,
  type WireOutcomes,
} from "../../../src/pool/wire.js";

/** A stand-in for campaign `id`'s filter: the columns read only the identity of a route's array, not its filters. */
const stub = (id: number): FilterRef =>
  ({ campaign: { campaignId: id, versionKey: `v${id}` } }) as unknown as FilterRef;

/** Indexes routes in the order the events first name them, by the array's identity (as the pool does). */
function indexer(): { routes: (readonly FilterRef[])[]; index: (route: readonly FilterRef[]) => number } {
  const routes: (readonly FilterRef[])[] = [];
  const seen = new Map<readonly FilterRef[], number>();
  return {
    routes,
    index: (route) => {
      let i = seen.get(route);
      if (i === undefined) seen.set(route, (i = routes.push(route) - 1));
      return i;
    },
  };
}

const events: BatchEvent[] = [
  {
    json: '{"game":"foe","event_name":"fight"}',
    game: "foe",
    eventName: "fight",
    nowMs: 1,
    route: [stub(1), stub(3)],
  },
  { json: '{"game":"foe","event_name":"buy"}', game: "foe", eventName: "buy", nowMs: 2, route: [] },
  {
    json: '{"game":"foe","event_name":"fight"}',
    game: "foe",
    eventName: "fight",
    nowMs: 3,
    route: [stub(2)],
  },
];

const COUNTS: EvaluationCounts = {
  routed: 9,
  indexed: 1,
  skipped: 2,
  interpreted: 3,
  sandboxCalls: 2,
  shared: 0,
  quarantined: 1,
};

test("events: texts, distinct heads, instants and each event's route index", () => {
  const { routes, index } = indexer();
  const wire = encodeEvents(events, index);
  assert.deepEqual(
    wire.texts,
    events.map((e) => e.json),
  );
  assert.deepEqual(wire.heads, ["foe", "fight", "foe", "buy"]);
  assert.deepEqual([...wire.headOf], [0, 1, 0]);
  assert.deepEqual([...wire.nowMs], [1, 2, 3]);
  // Three different route arrays: three routes, the empty one included.
  assert.deepEqual([...wire.routeOf], [0, 1, 2]);
  assert.equal(routes.length, 3);
  for (const [i, e] of events.entries())
    assert.equal(routes[wire.routeOf[i] as number], e.route, `event ${i}`);
  // Only the columns cross with the events: no route, no filter.
  assert.deepEqual(Object.keys(wire).sort(), ["headOf", "heads", "nowMs", "routeOf", "texts"]);
});

test("events of one route name the same route index on the wire", () => {
  // The batch builder gives the events of one route the same array: the task holds it once.
  const fight = [stub(1), stub(2), stub(3)];
  const buy = [stub(4)];
  const routed: BatchEvent[] = [fight, buy, fight, fight, buy].map((route, i) => ({
    json: `{"n":${i}}`,
    game: "foe",
    eventName: route === fight ? "fight" : "buy",
    nowMs: i,
    route,
  }));
  const { routes, index } = indexer();
  const wire = encodeEvents(routed, index);
  assert.deepEqual(routes, [fight, buy], "each route once");
  assert.equal(routes[0], fight);
  assert.equal(routes[1], buy);
  assert.deepEqual([...wire.routeOf], [0, 1, 0, 0, 1]);
  // The index is whatever the task gives the route (here the task lists buy first).
  const listed = encodeEvents(routed, (route) => (route === buy ? 0 : 1));
  assert.deepEqual([...listed.routeOf], [1, 0, 1, 1, 0]);
  // A new array for the same campaigns (the route after a campaign change) is another route.
  const fightAgain = [...fight];
  const { routes: again, index: indexAgain } = indexer();
  const changed = encodeEvents([...routed, { ...(routed[0] as BatchEvent), route: fightAgain }], indexAgain);
  assert.deepEqual([...changed.routeOf], [0, 1, 0, 0, 1, 2]);
  assert.equal(again[2], fightAgain);
  // It crosses the thread boundary as it is (structured clone), and still reads the same.
  const cloned = structuredClone(wire);
  assert.ok(cloned.routeOf instanceof Int32Array);
  assert.deepEqual([...cloned.routeOf], [0, 1, 0, 0, 1]);
  assert.deepEqual(cloned.texts, wire.texts);
});

test("outcomes: every kind, message and call time come back at their event and candidate, with the counts", () => {
  const sent: [event: number, candidate: number, outcome: FilterOutcome, micros: number][] = [
    [0, 0, { kind: "match", fuelUsed: 12 }, 3.5],
    [0, 1, { kind: "no-match", fuelUsed: 7 }, 2.25],
    [0, 3, { kind: "match", fuelUsed: 0 }, Number.NaN],
    [2, 0, { kind: "quarantined", fuelUsed: 0, message: "stopped 3 times" }, Number.NaN],
    [2, 2, { kind: "threw", fuelUsed: 4, message: "boom" }, 1.5],
  ];
  const writer = new OutcomeWriter();
  for (const [event, candidate, outcome, micros] of sent) writer.add(event, candidate, outcome, micros);
  // As a worker's result crosses to the main thread.
  const wire = structuredClone(writer.finish(COUNTS)) as WireOutcomes;
  assert.deepEqual(wire.counts, COUNTS);
  const rows = decodeOutcomes(wire, 4);
  assert.deepEqual(rows, [
    [
      { candidate: 0, outcome: { kind: "match", fuelUsed: 12, micros: 3.5 } },
      { candidate: 1, outcome: { kind: "no-match", fuelUsed: 7, micros: 2.25 } },
      // No call timed: no `micros` at all.
      { candidate: 3, outcome: { kind: "match", fuelUsed: 0 } },
    ],
    [],
    [
      { candidate: 0, outcome: { kind: "quarantined", fuelUsed: 0, message: "stopped 3 times" } },
      { candidate: 2, outcome: { kind: "threw", fuelUsed: 4, message: "boom", micros: 1.5 } },
    ],
    [],
  ]);
  assert.equal("micros" in (rows[0]?.[2]?.outcome ?? {}), false);
});

test("decodeOutcomes gives an empty row to every event with nothing reported", () => {
  const empty = decodeOutcomes(new OutcomeWriter().finish(noCounts()), 3);
  assert.deepEqual(empty, [[], [], []]);
  const writer = new OutcomeWriter();
  writer.add(1, 0, { kind: "match", fuelUsed: 1 }, 1);
  const rows = decodeOutcomes(writer.finish(noCounts()), 3);
  assert.deepEqual(
    rows.map((r) => r.length),
    [0, 1, 0],
  );
  assert.deepEqual(decodeOutcomes(new OutcomeWriter().finish(noCounts()), 0), []);
});

test("counts: noCounts is all zero, and addCounts sums every field", () => {
  const total = noCounts();
  assert.deepEqual(total, {
    routed: 0,
    indexed: 0,
    skipped: 0,
    interpreted: 0,
    sandboxCalls: 0,
    shared: 0,
    quarantined: 0,
  });
  addCounts(total, COUNTS);
  addCounts(total, { ...COUNTS, shared: 5 });
  assert.deepEqual(total, {
    routed: 18,
    indexed: 2,
    skipped: 4,
    interpreted: 6,
    sandboxCalls: 4,
    shared: 5,
    quarantined: 2,
  });
  assert.notEqual(noCounts(), noCounts(), "a fresh object each time");
});
