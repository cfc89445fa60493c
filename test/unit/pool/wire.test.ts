// The pool's wire format: events and outcomes come back out of their columns as they went in.
import { test } from "node:test";
import assert from "node:assert/strict";
import type { Outcome } from "../../../src/evaluation/outcome.js";
import type { BatchEvent } from "../../../src/pool/protocol.js";
import { decodeOutcomes, encodeEvents, OutcomeWriter } from "../../../src/pool/wire.js";

const events: BatchEvent[] = [
  {
    json: '{"game":"foe","event_name":"fight"}',
    game: "foe",
    eventName: "fight",
    nowMs: 1,
    candidates: [0, 2],
  },
  { json: '{"game":"foe","event_name":"buy"}', game: "foe", eventName: "buy", nowMs: 2, candidates: [] },
  { json: '{"game":"foe","event_name":"fight"}', game: "foe", eventName: "fight", nowMs: 3, candidates: [1] },
];

test("events: texts, distinct heads, instants and each event's candidates in order", () => {
  const wire = encodeEvents(events);
  assert.deepEqual(
    wire.texts,
    events.map((e) => e.json),
  );
  assert.deepEqual(wire.heads, ["foe", "fight", "foe", "buy"]);
  assert.deepEqual([...wire.headOf], [0, 1, 0]);
  assert.deepEqual([...wire.nowMs], [1, 2, 3]);
  assert.deepEqual([...wire.candidateEnds], [2, 2, 3]);
  assert.deepEqual([...wire.candidates], [0, 2, 1]);
});

test("outcomes: every kind, message, skip reason and call time come back in their rows", () => {
  const sent: [Outcome, number][] = [
    [{ kind: "match", fuelUsed: 12, micros: 3.5 }, 3.5],
    [{ kind: "skipped", reason: "ended" }, Number.NaN],
    [{ kind: "quarantined", fuelUsed: 0, message: "stopped 3 times" }, Number.NaN],
  ];
  const writer = new OutcomeWriter(sent.length);
  for (const [outcome, micros] of sent) writer.add(outcome, micros);
  const rows = decodeOutcomes(writer.finish(), events);
  assert.deepEqual(rows, [[sent[0]?.[0], sent[1]?.[0]], [], [sent[2]?.[0]]]);
});
