// Matches that need delivery rules, when events are not keyed by player: sent through the repartition topic to the
// partition of their player (sha-256 of the player id, so every instance agrees whatever the producers' partitioner),
// where the rules decide them against that partition's state. The record's value is the event as consumed; the
// headers carry the player, the event's created_at, where the event was read (trigger ids stay those of the event)
// and the matched campaign versions as their JSON (a version replaced meanwhile is still the one that matched).
import { createHash } from "node:crypto";
import { parseCampaign, type Campaign } from "../campaigns/campaign.js";
import type { OutRecord } from "../kafka/acking-producer.js";
import type { ConsumedRecord } from "../kafka/event-consumer.js";
import { HEADER_SOURCE, sourceHeader } from "../triggers/trigger.js";
import type { RuledMatch } from "./delivery-stage.js";

export const HEADER_PLAYER = "rtcrm-player";
export const HEADER_CREATED_MS = "rtcrm-created-ms";
export const HEADER_CAMPAIGNS = "rtcrm-campaigns";

/** The state partition of a player, out of `partitions`. */
export function playerPartition(playerId: string, partitions: number): number {
  return createHash("sha256").update(playerId).digest().readUInt32BE(0) % partitions;
}

export function candidateRecord(topic: string, partitions: number, match: RuledMatch): OutRecord {
  return {
    topic,
    partition: playerPartition(match.playerId, partitions),
    key: match.playerId,
    value: Buffer.from(match.event.buffer, match.event.byteOffset, match.event.byteLength),
    headers: [
      { [HEADER_PLAYER]: match.playerId },
      { [HEADER_CREATED_MS]: match.createdMs === null ? "" : String(match.createdMs) },
      { [HEADER_SOURCE]: sourceHeader(match.source) },
      { [HEADER_CAMPAIGNS]: `[${match.campaigns.map((c) => c.json).join(",")}]` },
    ],
  };
}

/** Campaign lists read back from candidates, by their header's text; cleared when it grows past this. */
const CAMPAIGN_CACHE_MAX = 10_000;
const campaignCache = new Map<string, Campaign[] | null>();

/** The campaigns of an rtcrm-campaigns header (a JSON list of campaign records); null when it is not one. */
function campaignsOf(text: string): Campaign[] | null {
  let campaigns = campaignCache.get(text);
  if (campaigns === undefined) {
    campaigns = null;
    try {
      const list = JSON.parse(text) as unknown;
      if (Array.isArray(list)) {
        const parsed = list.map((record) => parseCampaign(record));
        campaigns = parsed.every((p) => p.ok) ? parsed.map((p) => p.campaign) : null;
      }
    } catch {
      campaigns = null;
    }
    if (campaignCache.size >= CAMPAIGN_CACHE_MAX) campaignCache.clear();
    campaignCache.set(text, campaigns);
  }
  return campaigns;
}

function headerText(m: ConsumedRecord, name: string): string | undefined {
  for (const h of m.headers ?? []) {
    const v = h[name];
    if (v !== undefined) return v.toString();
  }
  return undefined;
}

/** The match a candidate record carries, or the reason it carries none (it then goes to the dead letters). */
export function readCandidate(m: ConsumedRecord): { match: RuledMatch } | { reason: string } {
  const playerId = headerText(m, HEADER_PLAYER);
  const source = headerText(m, HEADER_SOURCE)?.split("/");
  const created = headerText(m, HEADER_CREATED_MS);
  const campaignsText = headerText(m, HEADER_CAMPAIGNS);
  if (playerId === undefined || !source || source.length < 3 || created === undefined || !campaignsText)
    return {
      reason: "not a repartitioned match: rtcrm-player/-source/-created-ms/-campaigns headers missing",
    };
  const campaigns = campaignsOf(campaignsText);
  if (!campaigns) return { reason: "rtcrm-campaigns header is not a list of valid campaigns" };
  const offset = Number(source[source.length - 1]);
  const partition = Number(source[source.length - 2]);
  return {
    match: {
      playerId,
      createdMs: created === "" ? null : Number(created),
      campaigns,
      source: { topic: source.slice(0, -2).join("/"), partition, offset },
      event: m.value ?? Buffer.alloc(0),
    },
  };
}
