// Probe behind the pool's wire format (src/pool/wire.ts): a batch of 256 events and its 512 outcomes posted
// through a MessagePort and received, as one object per event (with its candidate list) and per outcome (the format
// before) and in columns. The events share one route, as the batch builder makes them: in columns each event names
// it by index (its filters cross once per worker, then by id, and are not part of this measure); every outcome is a
// timed call, so all 512 are reported (the sparse format's most). Run: npm run build && node
// dist/bench/probes/wire-format.js
import { MessageChannel, receiveMessageOnPort } from "node:worker_threads";
import type { FilterOutcome } from "../../src/evaluation/outcome.js";
import type { BatchEvent, FilterRef } from "../../src/pool/protocol.js";
import {
  decodeOutcomes,
  encodeEvents,
  noCounts,
  OutcomeWriter,
  type WireOutcomes,
} from "../../src/pool/wire.js";

const EVENTS = 256;
const { port1, port2 } = new MessageChannel();
const text = JSON.stringify({
  event_id: "5b0c2f7e-8a51-4a77-9a0e-3c1d2b4e5f60",
  game: "foe",
  event_name: "fight",
  player_id: 123456,
  created_at: "2026-11-30T22:00:00Z",
  data: { result: "loss", level: 12, note: "x".repeat(400) },
});
// The route's two campaigns: stand-ins, since only the array's identity goes into the columns.
const route = [{}, {}] as unknown as readonly FilterRef[];
const events: BatchEvent[] = Array.from({ length: EVENTS }, (_, i) => ({
  json: `${text}${" ".repeat(i % 3)}`,
  game: "foe",
  eventName: "fight",
  nowMs: Date.now(),
  route,
}));
// The format before: each event an object with its candidates (positions into the batch's filters).
const candidates = [0, 1];
const eventObjects = events.map(({ json, game, eventName, nowMs }) => ({
  json,
  game,
  eventName,
  nowMs,
  candidates,
}));
const outcomes: FilterOutcome[][] = events.map(() => [
  { kind: "match", fuelUsed: 123, micros: 4.5 },
  { kind: "no-match", fuelUsed: 45, micros: 2.5 },
]);

function roundTrip(message: unknown, transfer: ArrayBuffer[] = []): unknown {
  port1.postMessage(message, transfer);
  return receiveMessageOnPort(port2)?.message;
}

function time(label: string, run: () => void): void {
  for (let i = 0; i < 300; i++) run();
  const rounds = 3_000;
  const started = performance.now();
  for (let i = 0; i < rounds; i++) run();
  const us = ((performance.now() - started) / rounds) * 1000;
  process.stdout.write(`${label.padEnd(44)} ${us.toFixed(1).padStart(7)} µs per batch\n`);
}

time("events as objects", () => roundTrip({ events: eventObjects }));
time("events in columns (encodeEvents)", () => roundTrip({ events: encodeEvents(events, () => 0) }));
time("outcomes as objects", () => roundTrip(outcomes));
time("outcomes in columns (OutcomeWriter, decode)", () => {
  const writer = new OutcomeWriter();
  for (const [i, row] of outcomes.entries())
    for (const [j, o] of row.entries()) writer.add(i, j, o, o.micros ?? NaN);
  decodeOutcomes(roundTrip(writer.finish(noCounts())) as WireOutcomes, EVENTS);
});
port1.close();
