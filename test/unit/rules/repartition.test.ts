// A match sent through the repartition topic comes back as the same match: the player, created_at, where the event
// was read and the campaign versions that matched (even when one has been replaced since), the event byte for byte;
// a record that is not one gets a reason.
import { test } from "node:test";
import assert from "node:assert/strict";
import { parseCampaign, type Campaign } from "../../../src/campaigns/campaign.js";
import type { ConsumedRecord } from "../../../src/kafka/event-consumer.js";
import type { RuledMatch } from "../../../src/rules/delivery-stage.js";
import { candidateRecord, playerPartition, readCandidate } from "../../../src/rules/repartition.js";
import { campaign as campaignRecord } from "../../helpers/campaigns.js";

function campaign(id: number, over: Record<string, unknown> = {}): Campaign {
  const parsed = parseCampaign(campaignRecord(id, "function(e) { return true }", over));
  assert.ok(parsed.ok);
  return parsed.campaign;
}

/** The record as a consumer would get it back. */
function consumed(match: RuledMatch, partitions: number): ConsumedRecord {
  const out = candidateRecord("repartition", partitions, match);
  return {
    topic: out.topic,
    partition: out.partition ?? -1,
    offset: 7,
    key: typeof out.key === "string" ? Buffer.from(out.key) : out.key,
    value: out.value,
    size: out.value?.length ?? 0,
    headers: out.headers.map((h) =>
      Object.fromEntries(Object.entries(h).map(([k, v]) => [k, Buffer.from(String(v))])),
    ),
  } as ConsumedRecord;
}

test("a repartitioned match reads back as the match it was", () => {
  const event = Buffer.from('{"game":"foe","event_name":"fight","player_id":"p-1","note":"é  spaced"}');
  const match: RuledMatch = {
    playerId: "p-1",
    createdMs: 1_764_560_000_123,
    campaigns: [campaign(1, { frequency_cap: { max: 1 } }), campaign(-2, { holdout_percent: 12.5 })],
    source: { topic: "events/with/slashes", partition: 4, offset: 9_007_199_254_740 },
    event,
  };
  const m = consumed(match, 6);
  assert.equal(m.partition, playerPartition("p-1", 6));
  const read = readCandidate(m);
  assert.ok("match" in read, JSON.stringify(read));
  assert.equal(read.match.playerId, "p-1");
  assert.equal(read.match.createdMs, match.createdMs);
  assert.deepEqual(read.match.source, match.source);
  assert.ok(Buffer.from(read.match.event).equals(event), "the event byte for byte");
  assert.deepEqual(
    read.match.campaigns.map((c) => [c.campaignId, c.versionKey, c.rules]),
    match.campaigns.map((c) => [c.campaignId, c.versionKey, c.rules]),
  );

  const noTime = readCandidate(consumed({ ...match, createdMs: null }, 6));
  assert.ok("match" in noTime);
  assert.equal(noTime.match.createdMs, null);
});

test("a player always lands in the same partition, and players spread over all of them", () => {
  const counts = new Array<number>(6).fill(0);
  for (let i = 0; i < 6_000; i++) {
    const p = playerPartition(`player-${i}`, 6);
    assert.equal(p, playerPartition(`player-${i}`, 6));
    counts[p]! += 1;
  }
  // 1,000 expected each; binomial standard deviation about 29.
  for (const n of counts) assert.ok(n > 850 && n < 1_150, `${counts.join(", ")}`);
});

test("a record that is not a repartitioned match gets a reason", () => {
  const base = consumed(
    {
      playerId: "p",
      createdMs: null,
      campaigns: [campaign(1)],
      source: { topic: "t", partition: 0, offset: 1 },
      event: Buffer.from("{}"),
    },
    3,
  );
  const reasonOf = (m: ConsumedRecord): string => {
    const read = readCandidate(m);
    assert.ok("reason" in read);
    return read.reason;
  };
  assert.match(reasonOf({ ...base, value: Buffer.from('{"not":"a match"}') }), /value layout unknown/);
  assert.match(reasonOf({ ...base, key: null }), /value layout unknown/);
  const value = Buffer.from(base.value!);
  const jsonStart = 33 + value.readUInt32BE(21) + value.readUInt32BE(25);
  // The campaigns' JSON replaced by as many bytes of something else.
  value.fill(0x20, jsonStart, jsonStart + value.readUInt32BE(29));
  value.write('[{"campaign_id":"x"}]', jsonStart);
  assert.match(reasonOf({ ...base, value }), /not hold a list of valid campaigns/);
});
