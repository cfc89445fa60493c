// Matches that need delivery rules, when events are not keyed by player: sent through the repartition topic to the
// partition of their player (sha-256 of the player id, so every instance agrees whatever the producers' partitioner),
// where the rules decide them against that partition's state. The record, keyed by the player, holds in its value
// what the rules need (created_at, where the event was read: trigger ids stay those of the event; the matched
// campaign versions as their JSON, so a version replaced meanwhile is still the one that matched) and then the
// event as consumed. No headers: this client converts each header on the main thread, and four of them (one with
// the campaigns' JSON) cost 25 µs per record, more than the rest of the record's way.
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

interface Meta {
  /** created_at in epoch ms, or null. */
  readonly c: number | null;
  /** topic, partition and offset of the event. */
  readonly s: readonly [string, number, number];
  /** The campaigns' version keys, comma-separated: the cache key of their JSON. */
  readonly v: string;
}

/**
 * Value: the layout byte, then the lengths (uint32) of the meta JSON and of the campaigns' JSON, the two texts,
 * and the event's bytes.
 */
export function candidateRecord(topic: string, partitions: number, match: RuledMatch): OutRecord {
  const { source } = match;
  const meta: Meta = {
    c: match.createdMs,
    s: [source.topic, source.partition, source.offset],
    v: match.campaigns.map((c) => c.versionKey).join(","),
  };
  const metaBytes = Buffer.from(JSON.stringify(meta));
  const campaignBytes = Buffer.from(`[${match.campaigns.map((c) => c.json).join(",")}]`);
  const head = Buffer.allocUnsafe(9);
  head.writeUInt8(LAYOUT, 0);
  head.writeUInt32BE(metaBytes.length, 1);
  head.writeUInt32BE(campaignBytes.length, 5);
  return {
    topic,
    partition: playerPartition(match.playerId, partitions),
    key: match.playerId,
    value: Buffer.concat([head, metaBytes, campaignBytes, match.event]),
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
  if (!value || value.length < 9 || value[0] !== LAYOUT || m.key === null || m.key === undefined)
    return { reason: NOT_A_MATCH };
  const metaEnd = 9 + value.readUInt32BE(1);
  const campaignsEnd = metaEnd + value.readUInt32BE(5);
  if (campaignsEnd > value.length) return { reason: NOT_A_MATCH };
  let meta: Meta;
  try {
    meta = JSON.parse(value.toString("utf8", 9, metaEnd)) as Meta;
  } catch {
    return { reason: NOT_A_MATCH };
  }
  if (!Array.isArray(meta.s) || typeof meta.v !== "string") return { reason: NOT_A_MATCH };
  const campaigns = campaignsOf(meta.v, () => value.toString("utf8", metaEnd, campaignsEnd));
  if (!campaigns) return { reason: "the repartitioned match does not hold a list of valid campaigns" };
  const [topic, partition, offset] = meta.s;
  return {
    match: {
      playerId: m.key.toString(),
      createdMs: meta.c,
      campaigns,
      source: { topic, partition, offset },
      event: value.subarray(campaignsEnd),
    },
  };
}
