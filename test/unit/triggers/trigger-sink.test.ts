// The trigger sink with an output that records what it is given (no Kafka): one trigger per match, made of the
// event's bytes as received; an event is done at once without a match, or once all its records are acknowledged;
// a trigger Kafka refuses dead-letters its event; the work of a revoked partition moves nothing. The sink is given
// each event's reported pairs only (matches, failures, timed no-matches: see pool/wire.ts); every other campaign of
// the event's route did not match, and is neither triggered nor published.
import { test } from "node:test";
import assert from "node:assert/strict";
import type { ActiveCampaign } from "../../../src/campaigns/campaign-set.js";
import { parseCampaign } from "../../../src/campaigns/campaign.js";
import { defaults } from "../../../src/config/config.js";
import type { FilterOutcome } from "../../../src/evaluation/outcome.js";
import type { Ack, OutRecord } from "../../../src/kafka/acking-producer.js";
import { createLogger } from "../../../src/logging/logger.js";
import { Assignments, type PartitionAssignment } from "../../../src/offsets/assignments.js";
import type { RecordOutput } from "../../../src/offsets/committer.js";
import type { Evaluated } from "../../../src/pool/wire.js";
import { Telemetry } from "../../../src/telemetry.js";
import {
  HEADER_CAMPAIGN_ID,
  HEADER_SOURCE,
  HEADER_TRIGGER_ID,
  triggerId,
} from "../../../src/triggers/trigger.js";
import {
  DLQ_HEADERS,
  TriggerSink,
  type EvaluatedEvent,
  type SourceRecord,
} from "../../../src/triggers/trigger-sink.js";
import { campaign } from "../../helpers/campaigns.js";
import { activeCampaign } from "../../helpers/filter-ref.js";

const EVENTS = "events";
const TRIGGERS = "triggers";
const DLQ = "dead-letters";
const EMPTY_MODULE = new WebAssembly.Module(Uint8Array.of(0, 0x61, 0x73, 0x6d, 1, 0, 0, 0));

const MATCH: FilterOutcome = { kind: "match", fuelUsed: 10 };
/** A no-match is reported only from a timed sandbox call. */
const NO_MATCH: FilterOutcome = { kind: "no-match", fuelUsed: 10, micros: 4 };
const THREW: FilterOutcome = { kind: "threw", fuelUsed: 3, message: "boom" };

/** The reported pair of the campaign at `candidate` in its event's list. */
const at = (candidate: number, outcome: FilterOutcome): Evaluated => ({ candidate, outcome });

function active(id: number): ActiveCampaign {
  const parsed = parseCampaign(campaign(id, `event.getData().get('n') == ${id}`));
  assert.ok(parsed.ok, JSON.stringify(parsed));
  // Never compiled or called here (the sink reads only the campaign): no predicate, not shared.
  return activeCampaign(
    parsed.campaign,
    {
      module: EMPTY_MODULE,
      hash: `artefact-${id}`,
      access: null,
      accessKey: "",
      predicate: null,
      stateless: false,
    },
    { fuel: 1_000, memoryBytes: 1 << 20, deadlineMs: 100 },
  );
}

/** An output that keeps each record with its acknowledgement, for the test to give. */
class RecordingOutput implements RecordOutput {
  readonly sent: { record: OutRecord; ack: Ack }[] = [];
  send(record: OutRecord, ack: Ack): void {
    this.sent.push({ record, ack });
  }
}

function sink() {
  const output = new RecordingOutput();
  const telemetry = new Telemetry();
  const published: { outcomes: [number, string][]; triggered: number[]; deadLetters: string[] } = {
    outcomes: [],
    triggered: [],
    deadLetters: [],
  };
  telemetry.on("outcome", (a, o) => published.outcomes.push([a.campaign.campaignId, o.kind]));
  telemetry.on("triggered", (n) => published.triggered.push(n));
  telemetry.on("deadLetter", (reason) => published.deadLetters.push(reason));
  const logged: { level: string; msg: string }[] = [];
  const log = createLogger("warn", {}, (line) =>
    logged.push(JSON.parse(line) as { level: string; msg: string }),
  );
  const config = { ...defaults(), event_topic: EVENTS, trigger_topic: TRIGGERS, dead_letter_topic: DLQ };
  return { sink: new TriggerSink(config, output, telemetry, log), output, published, logged };
}

/** Partition 0 of the events topic with `offsets` fetched (tracked). */
function assigned(...offsets: number[]): PartitionAssignment {
  const assignments = new Assignments();
  const p = assignments.add(EVENTS, 0);
  for (const o of offsets) assert.ok(p.offsets.track(o));
  return p;
}

function record(offset: number, value: Buffer, over: Partial<SourceRecord> = {}): SourceRecord {
  return { topic: EVENTS, partition: 0, offset, key: null, value, headers: undefined, ...over };
}

function evaluated(
  offset: number,
  text: string | Buffer,
  campaigns: ActiveCampaign[],
  playerKey: string | null = "player-1",
): EvaluatedEvent {
  return {
    playerKey,
    createdAt: null,
    campaigns,
    record: record(offset, Buffer.isBuffer(text) ? text : Buffer.from(text)),
  };
}

/** Each header object's single entry, in order. */
const headerList = (r: OutRecord): [string, string][] =>
  r.headers.flatMap((h) => Object.entries(h).map(([k, v]): [string, string] => [k, String(v)]));

const expectedValue = (c: ActiveCampaign, eventText: string): Buffer =>
  Buffer.from(`{"campaign":${c.campaign.json},"event":${eventText}}`);

test("one trigger per match, made of the campaign and the event's bytes; reported outcomes and the count published", () => {
  const { sink: s, output, published } = sink();
  const [c1, c2, c3] = [active(1), active(2), active(3)] as [ActiveCampaign, ActiveCampaign, ActiveCampaign];
  // Whitespace, key order, escapes and number spelling as a producer wrote them: copied, never re-encoded.
  const e10 = ' {"game":"foe", "event_name" :"fight","data":{"n":1.50,"s":"d\\u00e9","t":"日本"}}\n';
  const e13 = '{"event_name":"fight","game":"foe","player_id":12345678901234567890}';
  const p = assigned(10, 11, 12, 13);
  s.emit(
    p,
    [
      evaluated(10, e10, [c1, c2, c3]),
      evaluated(11, "{}", [c1]),
      evaluated(12, "{}", [c2, c3]),
      evaluated(13, e13, [c1, c2], null),
    ],
    // Offset 11's campaign and 12's first did not match without a call of their own (or were skipped): not reported.
    [[at(0, MATCH), at(1, NO_MATCH), at(2, MATCH)], [], [at(1, THREW)], [at(0, MATCH), at(1, MATCH)]],
  );

  const expected = [
    { offset: 10, c: c1, text: e10, key: "player-1" },
    { offset: 10, c: c3, text: e10, key: "player-1" },
    { offset: 13, c: c1, text: e13, key: null },
    { offset: 13, c: c2, text: e13, key: null },
  ];
  assert.equal(output.sent.length, expected.length, "one trigger per match, in event order");
  for (const [i, { offset, c, text, key }] of expected.entries()) {
    const { record: r } = output.sent[i]!;
    assert.equal(r.topic, TRIGGERS);
    assert.equal(r.key, key);
    assert.ok(r.value?.equals(expectedValue(c, text)), `trigger ${i}: ${String(r.value)}`);
    const source = { topic: EVENTS, partition: 0, offset };
    assert.deepEqual(headerList(r), [
      [HEADER_TRIGGER_ID, triggerId(source, c.campaign.versionKey)],
      [HEADER_CAMPAIGN_ID, String(c.campaign.campaignId)],
      [HEADER_SOURCE, `${EVENTS}/0/${offset}`],
    ]);
    assert.match(headerList(r)[0]![1], /^[0-9a-f]{32}$/);
  }
  assert.notEqual(
    headerList(output.sent[0]!.record)[0]![1],
    headerList(output.sent[1]!.record)[0]![1],
    "one event, two campaigns: two trigger ids",
  );

  // Only the reported pairs: each with its campaign, found by its position in the event's campaigns.
  assert.deepEqual(published.outcomes, [
    [1, "match"],
    [2, "no-match"],
    [3, "match"],
    [3, "threw"],
    [1, "match"],
    [2, "match"],
  ]);
  assert.deepEqual(published.triggered, [4]);

  // 11 and 12 had no match: done at once, but held behind the unfinished 10.
  assert.equal(p.offsets.committable, null);
  output.sent[1]!.ack(null);
  assert.equal(p.offsets.committable, null, "10 waits for its other trigger");
  output.sent[0]!.ack(null);
  assert.equal(p.offsets.committable, 13, "10 done, and 11 and 12 were already: 10..12 committable");
  assert.equal(p.offsets.inFlight, 1);
  output.sent[3]!.ack(null);
  assert.equal(p.offsets.committable, 13);
  output.sent[2]!.ack(null);
  assert.equal(p.offsets.committable, 14);
  assert.equal(p.offsets.inFlight, 0);
  assert.equal(output.sent.length, expected.length, "nothing else sent");
});

test("a batch without a match sends nothing, publishes no trigger count, and is done at once", () => {
  const { sink: s, output, published } = sink();
  const p = assigned(0, 1, 2);
  s.emit(
    p,
    [evaluated(0, "{}", [active(1)]), evaluated(1, "{}", []), evaluated(2, "{}", [active(1), active(2)])],
    // Offset 2: neither campaign reported (no-matches without a call of their own).
    [[at(0, NO_MATCH)], [], []],
  );
  assert.deepEqual(output.sent, []);
  assert.deepEqual(published.triggered, []);
  assert.deepEqual(published.outcomes, [[1, "no-match"]], "only the reported pair");
  assert.equal(p.offsets.committable, 3);
});

test("a refused trigger dead-letters its event with the reason; the event is done once the dead letter is written", () => {
  const { sink: s, output, published } = sink();
  const text = '{"game":"foe","event_name":"fight"}';
  const p = assigned(5, 6);
  const key = Buffer.from("player-7");
  const headers = [{ "x-origin": "upstream" }];
  s.emit(
    p,
    [
      {
        playerKey: "player-7",
        createdAt: null,
        campaigns: [active(1), active(2)],
        record: record(5, Buffer.from(text), { key, headers }),
      },
      evaluated(6, "{}", [active(1)]),
    ],
    [[at(0, MATCH), at(1, MATCH)], []],
  );
  assert.equal(output.sent.length, 2);
  output.sent[0]!.ack(new Error("Broker: Message size too large"));
  assert.equal(output.sent.length, 2, "nothing more until every trigger of the event is answered");
  assert.equal(p.offsets.committable, null);
  output.sent[1]!.ack(null);

  const reason = "a trigger was refused by Kafka (campaign 1: Broker: Message size too large)";
  assert.equal(output.sent.length, 3);
  const dead = output.sent[2]!.record;
  assert.equal(dead.topic, DLQ);
  assert.deepEqual(dead.key, key);
  assert.equal(String(dead.value), text, "the event as consumed");
  assert.deepEqual(headerList(dead), [
    ["x-origin", "upstream"],
    [DLQ_HEADERS.reason, reason],
    [DLQ_HEADERS.topic, EVENTS],
    [DLQ_HEADERS.partition, "0"],
    [DLQ_HEADERS.offset, "5"],
  ]);
  assert.deepEqual(published.deadLetters, [reason]);
  assert.equal(p.offsets.committable, null, "not done before the dead letter is acknowledged");
  output.sent[2]!.ack(null);
  assert.equal(p.offsets.committable, 7);
});

test("a dead letter Kafka refuses too is logged and its event done; an empty key stays empty", () => {
  const { sink: s, output, published, logged } = sink();
  const p = assigned(3);
  s.deadLetter(p, record(3, Buffer.from("not json"), { key: Buffer.alloc(0) }), "not valid JSON");
  assert.equal(output.sent.length, 1);
  assert.equal(output.sent[0]!.record.key, "", "an empty Buffer would be sent as no key");
  assert.deepEqual(published.deadLetters, ["not valid JSON"]);
  output.sent[0]!.ack(new Error("Broker: Message size too large"));
  assert.equal(p.offsets.committable, 4, "nowhere is left to put it: it is skipped");
  assert.deepEqual(
    logged.map((l) => [l.level, l.msg]),
    [["error", "dead-letter record refused by Kafka; the event is skipped"]],
  );
});

test("a revoked assignment gets nothing sent and no offsets moved", () => {
  const { sink: s, output, published } = sink();
  const assignments = new Assignments();
  const p = assignments.add(EVENTS, 0);
  for (const o of [0, 1]) p.offsets.track(o);
  assignments.revoke(EVENTS, 0);
  s.emit(
    p,
    [evaluated(0, "{}", [active(1)]), evaluated(1, "{}", [active(1)])],
    [[at(0, MATCH)], [at(0, NO_MATCH)]],
  );
  s.deadLetter(p, record(0, Buffer.from("{}")), "any reason");
  assert.deepEqual(published.outcomes, [], "nothing published for a revoked partition");
  assert.deepEqual(output.sent, []);
  assert.deepEqual(published.triggered, []);
  assert.deepEqual(published.deadLetters, []);
  assert.equal(p.offsets.committable, null, "not even the event without a match");
  assert.equal(p.offsets.inFlight, 2);
});

test("acknowledgements that come after the revoke move no offsets and dead-letter nothing", () => {
  const { sink: s, output, published } = sink();
  const assignments = new Assignments();
  const p = assignments.add(EVENTS, 0);
  for (const o of [0, 1, 2]) p.offsets.track(o);
  s.emit(
    p,
    [evaluated(0, "{}", [active(1)]), evaluated(1, "{}", [active(1)])],
    [[at(0, MATCH)], [at(0, MATCH)]],
  );
  s.deadLetter(p, record(2, Buffer.from("x")), "not valid JSON");
  assert.equal(output.sent.length, 3);
  assignments.revoke(EVENTS, 0);
  output.sent[0]!.ack(null);
  output.sent[1]!.ack(new Error("Broker: Message size too large"));
  output.sent[2]!.ack(null);
  assert.equal(output.sent.length, 3, "the refused trigger's event is not dead-lettered by the old owner");
  assert.deepEqual(published.deadLetters, ["not valid JSON"]);
  assert.equal(p.offsets.committable, null);
  assert.equal(p.offsets.inFlight, 3);
});

test("a leading UTF-8 byte-order mark is not copied into the trigger; the dead letter keeps the bytes as consumed", () => {
  const { sink: s, output } = sink();
  const text = '{"game":"foe","event_name":"fight","bom":"\uFEFF"}';
  const bom = Buffer.from([0xef, 0xbb, 0xbf]);
  const value = Buffer.concat([bom, Buffer.from(text)]);
  const c = active(1);
  const p = assigned(0, 1);
  s.emit(p, [evaluated(0, value, [c])], [[at(0, MATCH)]]);
  const trigger = output.sent[0]!.record.value ?? Buffer.alloc(0);
  assert.ok(trigger.equals(expectedValue(c, text)), trigger.toString());
  assert.deepEqual(
    JSON.parse(trigger.toString()).event,
    JSON.parse(text),
    "valid JSON, the event's text inside",
  );
  assert.ok(value.subarray(0, 3).equals(bom), "the consumed record is left as it was");

  s.deadLetter(p, record(1, value), "any reason");
  assert.ok(output.sent[1]!.record.value?.equals(value));
});
