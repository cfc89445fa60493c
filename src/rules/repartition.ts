// Matches that need delivery rules, when events are not keyed by player: sent through the repartition topic to the
// partition of their player (sha-256 of the player id, so every instance agrees whatever the producers' partitioner),
// where the rules decide them against that partition's state. The record, keyed by the player, holds in its value
// what the rules need (created_at, where the event was read: trigger ids stay those of the event; the matched
// campaign versions as their JSON, so a version replaced meanwhile is still the one that matched) and then the
// event as consumed. No headers: this client converts each header on the main thread, and four of them (one with
// the campaigns' JSON) cost 25 µs per record, more than the rest of the record's way; the fixed fields are binary.
import * as crypto from "node:crypto";
import { parseCampaign, type Campaign } from "../campaigns/campaign.js";
import type { OutRecord } from "../kafka/acking-producer.js";
import type { ConsumedRecord } from "../kafka/event-consumer.js";
import type { RuledMatch } from "./delivery-stage.js";

/** First byte of a repartitioned match's value: its layout's version. */
const LAYOUT = 1;

/** sha-256 of `text`, as bytes (crypto.hash where Node has it: one call instead of a Hash object). */
export const sha256: (text: string) => Buffer =
  typeof crypto.hash === "function"
    ? (text) => crypto.hash("sha256", text, "buffer")
    : (text) => crypto.createHash("sha256").update(text).digest();

/** The state partition of a player, out of `partitions`. */
export function playerPartition(playerId: string, partitions: number): number {
  return sha256(playerId).readUInt32BE(0) % partitions;
}

/** The campaigns' JSON list as bytes, by their version keys (comma-separated); cleared when it grows past this. */
const JSON_CACHE_MAX = 10_000;
const jsonCache = new Map<string, Buffer>();

function campaignBytesOf(versions: string, campaigns: readonly Campaign[]): Buffer {
  let bytes = jsonCache.get(versions);
  if (!bytes) {
    bytes = Buffer.from(`[${campaigns.map((c) => c.json).join(",")}]`);
    if (jsonCache.size >= JSON_CACHE_MAX) jsonCache.clear();
    jsonCache.set(versions, bytes);
  }
  return bytes;
}

/** Bytes before the texts: layout, created ms, source partition and offset, and the three texts' lengths. */
const FIXED = 1 + 8 + 4 + 8 + 4 + 4 + 4;

/**
 * Value: the layout byte; created_at in epoch ms (NaN: none), the event's partition and offset; the lengths
 * (uint32) of the event's topic, of the version keys (comma-separated) and of the campaigns' JSON; the three
 * texts; the event's bytes.
 */
export function candidateRecord(topic: string, partitions: number, match: RuledMatch): OutRecord {
  const { source } = match;
  const versions = match.campaigns.map((c) => c.versionKey).join(",");
  const campaignBytes = campaignBytesOf(versions, match.campaigns);
  const topicLength = Buffer.byteLength(source.topic);
  const textsEnd = FIXED + topicLength + versions.length;
  const value = Buffer.allocUnsafe(textsEnd + campaignBytes.length + match.event.length);
  value.writeUInt8(LAYOUT, 0);
  value.writeDoubleBE(match.createdMs ?? NaN, 1);
  value.writeUInt32BE(source.partition, 9);
  value.writeDoubleBE(source.offset, 13);
  value.writeUInt32BE(topicLength, 21);
  value.writeUInt32BE(versions.length, 25);
  value.writeUInt32BE(campaignBytes.length, 29);
  value.write(source.topic, FIXED);
  value.write(versions, FIXED + topicLength, "latin1");
  campaignBytes.copy(value, textsEnd);
  value.set(match.event, textsEnd + campaignBytes.length);
  return {
    topic,
    partition: playerPartition(match.playerId, partitions),
    key: match.playerId,
    value,
    headers: [],
  };
}

/** Campaign lists read back from candidates, by their version keys; cleared when it grows past this. */
const CAMPAIGN_CACHE_MAX = 10_000;
const campaignCache = new Map<string, Campaign[]>();

/** The campaigns of a JSON list of campaign records; null when it is not one. */
function campaignsOf(versions: string, json: () => string): Campaign[] | null {
  let campaigns: Campaign[] | null | undefined = campaignCache.get(versions);
  if (campaigns === undefined) {
    campaigns = null;
    try {
      const list = JSON.parse(json()) as unknown;
      if (Array.isArray(list)) {
        const parsed = list.map((record) => parseCampaign(record));
        campaigns = parsed.every((p) => p.ok) ? parsed.map((p) => p.campaign) : null;
      }
    } catch {
      campaigns = null;
    }
    if (campaigns && campaigns.map((c) => c.versionKey).join(",") !== versions) campaigns = null;
    // Only what was read right is kept: a damaged record must not spoil the good ones with the same versions.
    if (!campaigns) return null;
    if (campaignCache.size >= CAMPAIGN_CACHE_MAX) campaignCache.clear();
    campaignCache.set(versions, campaigns);
  }
  return campaigns;
}

const NOT_A_MATCH = "not a repartitioned match of this engine (value layout unknown)";

/** The match a candidate record carries, or the reason it carries none (it then goes to the dead letters). */
export function readCandidate(m: ConsumedRecord): { match: RuledMatch } | { reason: string } {
  const value = m.value;
  if (!value || value.length < FIXED || value[0] !== LAYOUT || m.key === null || m.key === undefined)
    return { reason: NOT_A_MATCH };
  const topicEnd = FIXED + value.readUInt32BE(21);
  const versionsEnd = topicEnd + value.readUInt32BE(25);
  const campaignsEnd = versionsEnd + value.readUInt32BE(29);
  if (campaignsEnd > value.length) return { reason: NOT_A_MATCH };
  const versions = value.toString("latin1", topicEnd, versionsEnd);
  const campaigns = campaignsOf(versions, () => value.toString("utf8", versionsEnd, campaignsEnd));
  if (!campaigns) return { reason: "the repartitioned match does not hold a list of valid campaigns" };
  const created = value.readDoubleBE(1);
  return {
    match: {
      playerId: m.key.toString(),
      createdMs: Number.isNaN(created) ? null : created,
      campaigns,
      source: {
        topic: value.toString("utf8", FIXED, topicEnd),
        partition: value.readUInt32BE(9),
        offset: value.readDoubleBE(13),
      },
      event: value.subarray(campaignsEnd),
    },
  };
}
